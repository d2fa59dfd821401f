"""reports: the periodic report package and the tier movements it counts (issue 14 §5)

report holds one report per kind, period and (for a department's report) sales department,
with its author's analysis, its figures frozen at submission and its workflow state (rule Q1).
tier_change keeps each change of a customer's effective tier from now on (rule Q2's tier
movements); earlier changes were not kept, so nothing is back-filled.

Revision ID: 0023_reports
Revises: 0022_visits
"""
import sqlalchemy as sa
from alembic import op

revision = '0023_reports'
down_revision = '0022_visits'
branch_labels = None
depends_on = None

STATES = "state IN ('draft', 'submitted', 'returned', 'accepted')"
KINDS = "kind IN ('credit_sales', 'consolidated', 'visit_market', 'archive_visit')"
TIERS = "('vip', 'key', 'general', 'reserve')"


def upgrade():
    op.create_table('report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('figures', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_comment', sa.Text(), nullable=False),
    sa.CheckConstraint(STATES, name=op.f('ck_report_state_known')),
    sa.CheckConstraint(KINDS, name=op.f('ck_report_kind_known')),
    sa.CheckConstraint('months IN (1, 3)', name=op.f('ck_report_months_known')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_report_department_id_department')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['user.id'], name=op.f('fk_report_submitted_by_id_user')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_report_decided_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report'))
    )
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index('ux_report_department', ['kind', 'period_start', 'department_id'], unique=True)
        batch_op.create_index('ux_report_company', ['kind', 'period_start'], unique=True, sqlite_where=sa.text('department_id IS NULL'), postgresql_where=sa.text('department_id IS NULL'))
        batch_op.create_index('ix_report_state_due', ['state', 'due_on', 'id'], unique=False)
        batch_op.create_index('ix_report_period', ['period_start', 'id'], unique=False)

    op.create_table('tier_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('from_tier', sa.String(length=10), nullable=False),
    sa.Column('to_tier', sa.String(length=10), nullable=False),
    sa.CheckConstraint(f"from_tier IN {TIERS}", name=op.f('ck_tier_change_from_tier_known')),
    sa.CheckConstraint(f"to_tier IN {TIERS}", name=op.f('ck_tier_change_to_tier_known')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_tier_change_customer_id_customer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tier_change'))
    )
    with op.batch_alter_table('tier_change', schema=None) as batch_op:
        batch_op.create_index('ix_tier_change_time', ['changed_at', 'customer_id'], unique=False)
        batch_op.create_index('ix_tier_change_customer', ['customer_id', 'changed_at'], unique=False)


def downgrade():
    op.drop_table('tier_change')
    op.drop_table('report')
