"""case queue indexes (issue 12): the queue's "mine" reads the open cases of a handler,
leader or registrar from an index that also holds the sort keys; they replace the single
column indexes that were their prefixes

Revision ID: 0018_case_queue_indexes
Revises: 0017_settings_version
Create Date: 2026-11-29 17:30:00

"""
from alembic import op


revision = '0018_case_queue_indexes'
down_revision = '0017_settings_version'
branch_labels = None
depends_on = None

SORT = ["state", "priority", "next_due_at", "id"]
NEW = {"ix_service_case_handler_queue": ["handler_id", *SORT],
       "ix_service_case_leader_queue": ["leader_id", *SORT],
       "ix_service_case_registered_queue": ["registered_by_id", "handler_id", *SORT]}
OLD = {"ix_service_case_handler_id": ["handler_id"], "ix_service_case_leader_id": ["leader_id"],
       "ix_service_case_registered_by_id": ["registered_by_id"]}


def upgrade():
    for name, columns in NEW.items():
        op.create_index(name, "service_case", columns, unique=False)
    for name in OLD:
        op.drop_index(name, table_name="service_case")


def downgrade():
    for name, columns in OLD.items():
        op.create_index(name, "service_case", columns, unique=False)
    for name in NEW:
        op.drop_index(name, table_name="service_case")
