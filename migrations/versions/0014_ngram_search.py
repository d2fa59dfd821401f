"""search: n-gram index of the customer search (issue 12 §1)

Every character and pair of characters of the normalised (NFKC, lower-case) customer name,
region, credit code and contact phone digits, so that a one- or two-character Chinese term is
one index look-up (core/search.py). SQLite: the side table search_gram, kept by triggers in
the writing transaction (they call search_grams(), which the app registers on each
connection) and back-filled here. PostgreSQL: a GIN index per field on the IMMUTABLE function
search_grams(text); the trigram indexes of 0004 served the old ILIKE search and go.

Field numbers are the keys in search_gram and must match intranet/customers/search_fields.py.

Revision ID: 0014_ngram_search
Revises: 0013_sealed_files
"""
from alembic import op

revision = '0014_ngram_search'
down_revision = '0013_sealed_files'
branch_labels = None
depends_on = None

FIELDS = {1: ("customer", "name"), 2: ("customer", "region"), 3: ("customer", "credit_code"),
          4: ("contact", "phone_digits")}
TRIGRAM_INDEXES = {
    "trgm_customer_name": ("customer", "name"),
    "trgm_customer_credit_code": ("customer", "credit_code"),
    "trgm_customer_region": ("customer", "region"),
    "trgm_contact_phone_digits": ("contact", "phone_digits"),
}


def _tables():
    return sorted({table for table, _ in FIELDS.values()})


def _fields(table):
    return [(number, column) for number, (t, column) in FIELDS.items() if t == table]


def _insert(number, column, row="NEW"):
    return (f"INSERT OR IGNORE INTO search_gram (gram, field, id) SELECT value, {number}, "
            f"{row}.id FROM json_each(search_grams({row}.{column}));")


def _delete(number, column):
    return (f"DELETE FROM search_gram WHERE field = {number} AND id = OLD.id AND gram IN "
            f"(SELECT value FROM json_each(search_grams(OLD.{column})));")


def _sqlite_upgrade():
    op.execute("CREATE TABLE search_gram (gram TEXT NOT NULL, field INTEGER NOT NULL, "
               "id INTEGER NOT NULL, PRIMARY KEY (gram, field, id)) WITHOUT ROWID")
    for table in _tables():
        fields = _fields(table)
        inserts = "\n".join(_insert(n, c) for n, c in fields)
        deletes = "\n".join(_delete(n, c) for n, c in fields)
        op.execute(f"CREATE TRIGGER search_{table}_insert AFTER INSERT ON {table} "
                   f"BEGIN\n{inserts}\nEND")
        op.execute(f"CREATE TRIGGER search_{table}_delete AFTER DELETE ON {table} "
                   f"BEGIN\n{deletes}\nEND")
        for number, column in fields:
            op.execute(f"CREATE TRIGGER search_{table}_{column} AFTER UPDATE OF {column} ON "
                       f"{table} WHEN OLD.{column} IS NOT NEW.{column} "
                       f"BEGIN\n{_delete(number, column)}\n{_insert(number, column)}\nEND")
    # In key order, so the back-fill appends to the index instead of inserting at random.
    rows = " UNION ALL ".join(
        f"SELECT value AS gram, {number} AS field, {table}.id AS id FROM {table}, "
        f"json_each(search_grams({table}.{column}))"
        for number, (table, column) in FIELDS.items())
    op.execute(f"INSERT INTO search_gram (gram, field, id) SELECT gram, field, id FROM "
               f"({rows}) ORDER BY gram, field, id")


def _postgresql_upgrade():
    op.execute("""
        CREATE FUNCTION search_norm(t text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT lower(normalize(coalesce(t, ''), NFKC)) $$
    """)
    # Self-contained (no call to search_norm): an index expression must not depend on the
    # search_path, which pg_restore empties. COST: ~100 µs a call; at the default cost the
    # planner computed it for every row of a term in most rows (40 s for 有限公司) instead
    # of reading the index.
    op.execute("""
        CREATE FUNCTION search_grams(t text) RETURNS text[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 1000
        AS $$
            SELECT coalesce(array_agg(DISTINCT substr(s.n, i, k)), '{}')
            FROM (SELECT lower(normalize(coalesce(t, ''), NFKC)) AS n) s,
                 generate_series(1, length(s.n)) AS i, generate_series(1, 2) AS k
            WHERE i + k - 1 <= length(s.n)
        $$
    """)
    for table, column in FIELDS.values():
        op.execute(f"CREATE INDEX search_{table}_{column} ON {table} "
                   f"USING gin (search_grams({column}))")
    for name in TRIGRAM_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        for table in _tables():
            op.execute(f"DROP TRIGGER IF EXISTS search_{table}_insert")
            op.execute(f"DROP TRIGGER IF EXISTS search_{table}_delete")
            for _, column in _fields(table):
                op.execute(f"DROP TRIGGER IF EXISTS search_{table}_{column}")
        op.execute("DROP TABLE search_gram")
        return
    for table, column in FIELDS.values():
        op.execute(f"DROP INDEX IF EXISTS search_{table}_{column}")
    op.execute("DROP FUNCTION IF EXISTS search_grams(text)")
    op.execute("DROP FUNCTION IF EXISTS search_norm(text)")
    for name, (table, column) in TRIGRAM_INDEXES.items():
        op.execute(f"""
            DO $$ BEGIN
                IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
                    CREATE INDEX IF NOT EXISTS {name} ON {table}
                        USING gin ({column} gin_trgm_ops);
                END IF;
            END $$
        """)
