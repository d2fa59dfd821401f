"""search: trigram indexes for substring search on PostgreSQL

The customer search matches any part of a name, credit code, region or phone
(ILIKE '%…%'); pg_trgm GIN indexes serve that on PostgreSQL. SQLite has no equivalent and
scans. The extension needs the right to create it: when the role lacks it, the migration
leaves a notice and the search still works, only slower.

Revision ID: 0004_search_trgm
Revises: 0003_attachments
"""
from alembic import op

revision = '0004_search_trgm'
down_revision = '0003_attachments'
branch_labels = None
depends_on = None

INDEXES = {
    "trgm_customer_name": ("customer", "name"),
    "trgm_customer_credit_code": ("customer", "credit_code"),
    "trgm_customer_region": ("customer", "region"),
    "trgm_contact_phone_digits": ("contact", "phone_digits"),
}


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        DO $$ BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pg_trgm unavailable: customer search will scan';
        END $$
    """)
    for name, (table, column) in INDEXES.items():
        op.execute(f"""
            DO $$ BEGIN
                IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
                    CREATE INDEX IF NOT EXISTS {name} ON {table}
                        USING gin ({column} gin_trgm_ops);
                END IF;
            END $$
        """)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
