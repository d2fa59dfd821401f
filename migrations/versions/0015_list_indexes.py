"""list indexes (issue 12): one index per list filter and sort, so a page reads its rows in
index order (customer list per scope × sort; the GM's credit queue, open orders, open
over-limit breaches, notifications, reclaim batches)

Revision ID: 0015_list_indexes
Revises: 0014_ngram_search
Create Date: 2026-11-29 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0015_list_indexes'
down_revision = '0014_ngram_search'
branch_labels = None
depends_on = None


def _sorts():
    """The list's sort keys. Growth is models/customer.py GROWTH compiled by this database's
    dialect, as the list's query is: an expression index serves only the identical
    expression (SQLite spells the division "/ (… + 0.0)", PostgreSQL "/ CAST(… AS NUMERIC)")."""
    dialect = op.get_bind().dialect
    sales, prev = sa.column("sales_12m", sa.Numeric(14, 2)), sa.column("sales_prev_12m",
                                                                       sa.Numeric(14, 2))
    growth = (sales - prev) / sa.func.nullif(prev, sa.literal_column("0"))

    def sql(expression):  # PostgreSQL wants an index expression in parentheses
        return f"({expression.compile(dialect=dialect)})"
    return {
        "name": ["name", "id"],
        "sales": [sa.text("sales_12m DESC"), "id"],
        "newest": [sa.text("created_at DESC"), "id"],
        "growth": [sa.text(sql(growth.is_(None))), sa.text(f"{sql(growth)} DESC"), "id"],
    }


# indexes that were the prefixes of the new ones (and (name) becomes (name, id))
REPLACED = {"ix_customer_name": ["name"], "ix_customer_owner_name": ["owner_id", "name"],
            "ix_customer_owner_id": ["owner_id"],
            "ix_customer_department_id": ["department_id"]}
OTHERS = [
    ("ix_order_status_date", "sales_order", ["status", "ordered_on", "id"]),
    ("ix_notification_user_list", "notification", ["user_id", "created_at", "id"]),
    ("ix_ownership_record_batch", "ownership_record",
     ["kind", "object_type", "at", "object_id", "customer_id"]),
]


def _customer_indexes():
    for sort, key in _sorts().items():
        yield ("ix_customer_name" if sort == "name" else f"ix_customer_{sort}"), key
        yield f"ix_customer_owner_{sort}", ["owner_id", *key]
        yield f"ix_customer_department_{sort}", ["department_id", *key]


def upgrade():
    for name in REPLACED:
        op.drop_index(name, table_name="customer")
    for name, columns in _customer_indexes():
        op.create_index(name, "customer", columns)
    op.drop_index("ix_credit_application_state_due", table_name="credit_application")
    op.create_index("ix_credit_application_state_due", "credit_application",
                    ["state", "due_at", "id"])
    for name, table, columns in OTHERS:
        op.create_index(name, table, columns)
    open_only = sa.text("ended_at IS NULL")  # the over-limit list reads open breaches only
    op.create_index("ix_credit_breach_list", "credit_breach", ["started_at", "id"],
                    sqlite_where=open_only, postgresql_where=open_only)


def downgrade():
    op.drop_index("ix_credit_breach_list", table_name="credit_breach")
    for name, table, _columns in OTHERS:
        op.drop_index(name, table_name=table)
    op.drop_index("ix_credit_application_state_due", table_name="credit_application")
    op.create_index("ix_credit_application_state_due", "credit_application",
                    ["state", "due_at"])
    for name, _columns in _customer_indexes():
        op.drop_index(name, table_name="customer")
    for name, columns in REPLACED.items():
        op.create_index(name, "customer", columns)
