"""list page indexes (issue 12): the case queue's "mine" reads the open cases of a
handler, leader or registrar from an index that also holds the sort keys, a department's
cases in a state are counted from (department_id, state, next_due_at); the shared pool's
count reads (pool_id, owner_id) alone (each of these replaces the index that was its
prefix); a rep's running first-contact clocks are read by (kind, met_at, due_at)

Revision ID: 0019_list_page_indexes
Revises: 0018_reclaim_due
Create Date: 2026-11-29 17:30:00

"""
from alembic import op


revision = '0019_list_page_indexes'
down_revision = '0018_reclaim_due'
branch_labels = None
depends_on = None

SORT = ["state", "priority", "next_due_at", "id"]
NEW = {"ix_service_case_handler_queue": ["handler_id", *SORT],
       "ix_service_case_leader_queue": ["leader_id", *SORT],
       "ix_service_case_registered_queue": ["registered_by_id", "handler_id", *SORT],
       "ix_service_case_department_state": ["department_id", "state", "next_due_at"]}
OLD = {"ix_service_case_handler_id": ["handler_id"], "ix_service_case_leader_id": ["leader_id"],
       "ix_service_case_registered_by_id": ["registered_by_id"],
       "ix_service_case_department_id": ["department_id"]}
POOL_NEW, POOL_OLD = ("ix_customer_pool_owner", ["pool_id", "owner_id"]), (
    "ix_customer_pool_id", ["pool_id"])
DEADLINE = ("ix_workflow_deadline_kind_open", ["kind", "met_at", "due_at"])


def upgrade():
    for name, columns in NEW.items():
        op.create_index(name, "service_case", columns, unique=False)
    for name in OLD:
        op.drop_index(name, table_name="service_case")
    op.create_index(POOL_NEW[0], "customer", POOL_NEW[1], unique=False)
    op.drop_index(POOL_OLD[0], table_name="customer")
    op.create_index(DEADLINE[0], "workflow_deadline", DEADLINE[1], unique=False)


def downgrade():
    op.drop_index(DEADLINE[0], table_name="workflow_deadline")
    for name, columns in OLD.items():
        op.create_index(name, "service_case", columns, unique=False)
    for name in NEW:
        op.drop_index(name, table_name="service_case")
    op.create_index(POOL_OLD[0], "customer", POOL_OLD[1], unique=False)
    op.drop_index(POOL_NEW[0], table_name="customer")
