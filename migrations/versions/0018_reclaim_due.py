"""reclaim due list (issue 12): per scope, an index of every column the reclaim rules read
(R2, R5, R6), so the list of customers returning to the pool counts in the index alone

Revision ID: 0018_reclaim_due
Revises: 0017_settings_version
Create Date: 2026-11-29 18:00:00

"""
from alembic import op


revision = '0018_reclaim_due'
down_revision = '0017_settings_version'
branch_labels = None
depends_on = None

RECLAIM = ["last_activity_at", "relation", "owned_since", "created_at", "tier", "tier_override"]
INDEXES = {
    "ix_customer_owner_reclaim": ["owner_id", *RECLAIM, "department_id"],
    "ix_customer_department_reclaim": ["department_id", *RECLAIM, "owner_id"],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, "customer", columns, unique=False)


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name="customer")
