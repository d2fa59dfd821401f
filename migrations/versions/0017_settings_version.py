"""settings version: one row changed with every setting, so each worker's in-memory settings
notice a change at the next request (issue 12)

Revision ID: 0017_settings_version
Revises: 0016_job_indexes
Create Date: 2026-11-29 13:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_settings_version'
down_revision = '0016_job_indexes'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('settings_version',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_settings_version_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settings_version'))
    )
    op.bulk_insert(table, [{'id': 1, 'version': 'initial'}])


def downgrade():
    op.drop_table('settings_version')
