"""reclaim due list and archive indexes (issue 12): per scope, an index of every column the
reclaim rules read (R2, R5, R6), so the list of customers returning to the pool counts in the
index alone; the archive's closed records by closing time, so its pages read an index in order

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
    "ix_customer_owner_reclaim": ("customer", ["owner_id", *RECLAIM, "department_id"]),
    "ix_customer_department_reclaim": ("customer", ["department_id", *RECLAIM, "owner_id"]),
    "ix_service_case_closed": ("service_case", ["closed_at", "id"]),
    "ix_service_case_department_closed": ("service_case", ["department_id", "closed_at", "id"]),
    "ix_credit_application_decided": ("credit_application", ["decided_at", "id"]),
    "ix_credit_application_department_decided": ("credit_application",
                                                 ["department_id", "decided_at", "id"]),
    "ix_resource_request_decided": ("resource_request", ["kind", "decided_at", "id"]),
}


def upgrade():
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
