"""archive: batch exports (the user's request and its progress; the queue is Huey's)

Revision ID: 0012_archive_export
Revises: 0011_archive
Create Date: 2026-11-29 10:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012_archive_export'
down_revision = '0011_archive'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('archive_export',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('record_types', sa.String(length=400), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.Column('error', sa.String(length=40), nullable=False),
    sa.Column('error_detail', sa.String(length=200), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed', 'expired')", name=op.f('ck_archive_export_state_known')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_archive_export_department_id_department')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_archive_export_requested_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_export'))
    )
    with op.batch_alter_table('archive_export', schema=None) as batch_op:
        batch_op.create_index('ix_archive_export_requested', ['requested_by_id', 'id'], unique=False)
        batch_op.create_index('ix_archive_export_state_expires', ['state', 'expires_at'], unique=False)
        batch_op.create_index('ix_archive_export_state_heartbeat', ['state', 'heartbeat_at'], unique=False)


def downgrade():
    with op.batch_alter_table('archive_export', schema=None) as batch_op:
        batch_op.drop_index('ix_archive_export_state_heartbeat')
        batch_op.drop_index('ix_archive_export_state_expires')
        batch_op.drop_index('ix_archive_export_requested')
    op.drop_table('archive_export')
