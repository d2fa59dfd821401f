"""set-based jobs (issue 12 §5): ownership records by moment, for the reclaim job's batches

Revision ID: 0016_job_indexes
Revises: 0015_list_indexes
Create Date: 2026-11-29 14:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016_job_indexes'
down_revision = '0015_list_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ownership_record', schema=None) as batch_op:
        batch_op.create_index('ix_ownership_record_at', ['at'], unique=False)


def downgrade():
    with op.batch_alter_table('ownership_record', schema=None) as batch_op:
        batch_op.drop_index('ix_ownership_record_at')
