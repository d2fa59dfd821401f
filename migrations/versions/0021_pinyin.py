"""pinyin: customers found by pinyin and initials, lists sorted A→Z by pinyin (issue 13 §7)

customer.name_pinyin / name_initials and user.name_pinyin, back-filled here from the names
with pypinyin (intranet/customers/names.py, as the app keeps them). The customer list's
name-sorted indexes now read the pinyin. The two customer columns join the n-gram search as
fields 5 and 6 (intranet/customers/search_fields.py), indexed by their pairs and triples of
letters (search_grams_latin; over 26 letters every pair is common): SQLite's triggers are
recreated with them and their grams back-filled; PostgreSQL gets the function and a GIN
index on each (as migration 0014 did for the others).

Revision ID: 0021_pinyin
Revises: 0020_workflow_copies
"""
import sqlalchemy as sa
from alembic import op

from intranet.customers.names import name_pinyin

revision = '0021_pinyin'
down_revision = '0020_workflow_copies'
branch_labels = None
depends_on = None

OLD_FIELDS = {1: "name", 2: "region", 3: "credit_code"}  # the customer's fields of 0014
NEW_FIELDS = {5: "name_pinyin", 6: "name_initials"}
SORT_INDEXES = {"ix_customer_name": [], "ix_customer_owner_name": ["owner_id"],
                "ix_customer_department_name": ["department_id"]}
BATCH = 5_000


def _function(number):
    return "search_grams_latin" if number in NEW_FIELDS else "search_grams"


def _insert(number, column):
    return (f"INSERT OR IGNORE INTO search_gram (gram, field, id) SELECT value, {number}, "
            f"NEW.id FROM json_each({_function(number)}(NEW.{column}));")


def _delete(number, column):
    return (f"DELETE FROM search_gram WHERE field = {number} AND id = OLD.id AND gram IN "
            f"(SELECT value FROM json_each({_function(number)}(OLD.{column})));")


def _sqlite_triggers(fields):
    op.execute("DROP TRIGGER IF EXISTS search_customer_insert")
    op.execute("DROP TRIGGER IF EXISTS search_customer_delete")
    inserts = "\n".join(_insert(n, c) for n, c in fields.items())
    deletes = "\n".join(_delete(n, c) for n, c in fields.items())
    op.execute(f"CREATE TRIGGER search_customer_insert AFTER INSERT ON customer "
               f"BEGIN\n{inserts}\nEND")
    op.execute(f"CREATE TRIGGER search_customer_delete AFTER DELETE ON customer "
               f"BEGIN\n{deletes}\nEND")


def _back_fill(table, name_column, columns):
    """Each row's pinyin from its name, in batches of BATCH rows by id."""
    bind = op.get_bind()
    meta = sa.table(table, sa.column("id"), sa.column(name_column),
                    *(sa.column(c) for c in columns))
    last = 0
    while True:
        rows = bind.execute(sa.select(meta.c.id, meta.c[name_column]).where(meta.c.id > last)
                            .order_by(meta.c.id).limit(BATCH)).all()
        if not rows:
            return
        values = []
        for id_, name in rows:
            reading = name_pinyin(name)
            values.append({"key": id_, **{c: reading[i] for i, c in enumerate(columns)}})
        bind.execute(sa.update(meta).where(meta.c.id == sa.bindparam("key"))
                     .values({c: sa.bindparam(c) for c in columns}), values)
        last = rows[-1][0]


def upgrade():
    bind = op.get_bind()
    op.add_column("customer", sa.Column("name_pinyin", sa.String(1000), server_default="",
                                        nullable=False))
    op.add_column("customer", sa.Column("name_initials", sa.String(200), server_default="",
                                        nullable=False))
    op.add_column("user", sa.Column("name_pinyin", sa.String(600), server_default="",
                                    nullable=False))
    _back_fill("customer", "name", ["name_pinyin", "name_initials"])
    _back_fill("user", "display_name", ["name_pinyin"])
    for name, prefix in SORT_INDEXES.items():
        op.drop_index(name, table_name="customer")
        # with the initials, so a pinyin search tests rows in the index alone
        op.create_index(name, "customer", [*prefix, "name_pinyin", "id", "name_initials"])
    if bind.dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION search_grams_latin(t text) RETURNS text[]
            LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 1000
            AS $$
                SELECT coalesce(array_agg(DISTINCT substr(s.n, i, k)), '{}')
                FROM (SELECT coalesce(t, '') AS n) s,
                     generate_series(1, length(s.n)) AS i, generate_series(2, 3) AS k
                WHERE i + k - 1 <= length(s.n)
            $$
        """)
        for column in NEW_FIELDS.values():
            op.execute(f"CREATE INDEX search_customer_{column} ON customer "
                       f"USING gin (search_grams_latin({column}))")
        return
    _sqlite_triggers({**OLD_FIELDS, **NEW_FIELDS})
    for number, column in NEW_FIELDS.items():
        op.execute(f"CREATE TRIGGER search_customer_{column} AFTER UPDATE OF {column} ON "
                   f"customer WHEN OLD.{column} IS NOT NEW.{column} "
                   f"BEGIN\n{_delete(number, column)}\n{_insert(number, column)}\nEND")
    rows = " UNION ALL ".join(
        f"SELECT value AS gram, {number} AS field, customer.id AS id FROM customer, "
        f"json_each(search_grams_latin(customer.{column}))"
        for number, column in NEW_FIELDS.items())
    op.execute(f"INSERT INTO search_gram (gram, field, id) SELECT gram, field, id FROM "
               f"({rows}) ORDER BY gram, field, id")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for column in NEW_FIELDS.values():
            op.execute(f"DROP INDEX IF EXISTS search_customer_{column}")
        op.execute("DROP FUNCTION IF EXISTS search_grams_latin(text)")
    else:
        for number, column in NEW_FIELDS.items():
            op.execute(f"DROP TRIGGER IF EXISTS search_customer_{column}")
            op.execute(f"DELETE FROM search_gram WHERE field = {number}")
        _sqlite_triggers(OLD_FIELDS)
    for name, prefix in SORT_INDEXES.items():
        op.drop_index(name, table_name="customer")
        op.create_index(name, "customer", [*prefix, "name", "id"])
    op.drop_column("user", "name_pinyin")
    op.drop_column("customer", "name_initials")
    op.drop_column("customer", "name_pinyin")
