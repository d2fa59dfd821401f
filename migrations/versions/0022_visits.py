"""visits: purpose, channel, who went and satisfaction; visit marks; follow-up tasks (issue 14)

activity gains purpose (V1), satisfaction (V3) and what it counted for (by_head, by_gm,
by_owner: V2), its kinds the channels sms and video; activity_participant holds who else
went. customer gains the day of the last visit of each kind the visit obligations read
(visit_head_on, visit_gm_on, visit_rep_on: intranet/visits/cadence.py). follow_up holds the
follow-up tasks (V3, V4).

Back-fill: activities logged before read as sales contacts without a purpose. A visit on site
counts for a head if its recorder holds a head's role now, and for the owner if its recorder
owns the customer now (the roles and owners of the day are not kept); the marks are the latest
such day in the company's time zone.

Revision ID: 0022_visits
Revises: 0021_pinyin
"""
import warnings
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = '0022_visits'
down_revision = '0021_pinyin'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('phone', 'visit', 'email', 'meeting')"
NEW_KINDS = "kind IN ('phone', 'sms', 'email', 'visit', 'video', 'meeting')"
HEADS = "('sales_manager', 'general_manager')"
GMS = "('general_manager')"
MARK_COLUMNS = ("visit_head_on", "visit_gm_on", "visit_rep_on")


@contextmanager
def _quiet():
    """Rebuilding activity on SQLite reflects the customer table it refers to, whose
    expression indexes SQLAlchemy cannot reflect (and says so; they are not touched)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        yield


def _zone(bind) -> str:
    stored = bind.execute(sa.text("SELECT value FROM setting WHERE key = 'timezone'")).scalar()
    try:
        import json
        return json.loads(stored) if stored else "Asia/Shanghai"
    except ValueError:
        return "Asia/Shanghai"


def upgrade():
    op.create_table('activity_participant',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_activity_participant_activity_id_activity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_activity_participant_user_id_user')),
    sa.PrimaryKeyConstraint('activity_id', 'user_id', name=op.f('pk_activity_participant'))
    )
    with op.batch_alter_table('activity_participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_participant_user_id'), ['user_id'], unique=False)

    op.create_table('follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('after_days', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.Column('done_by_activity_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("reason IN ('next_action', 'first_purchase')", name=op.f('ck_follow_up_reason_known')),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_follow_up_activity_id_activity'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['assignee_id'], ['user.id'], name=op.f('fk_follow_up_assignee_id_user')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_follow_up_customer_id_customer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['done_by_activity_id'], ['activity.id'], name=op.f('fk_follow_up_done_by_activity_id_activity'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up'))
    )
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_open', ['done_at', 'due_on', 'id'], unique=False)
        batch_op.create_index('ix_follow_up_customer_open', ['customer_id', 'done_at', 'due_on'], unique=False)
        batch_op.create_index('ux_follow_up_first_purchase', ['customer_id', 'after_days'], unique=True, sqlite_where=sa.text("reason = 'first_purchase'"), postgresql_where=sa.text("reason = 'first_purchase'"))

    op.create_table('visit_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_visit_plan_customer_id_customer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_visit_plan_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_plan')),
    sa.UniqueConstraint('user_id', 'customer_id', 'planned_on', name='one_visit_a_day')
    )
    with op.batch_alter_table('visit_plan', schema=None) as batch_op:
        batch_op.create_index('ix_visit_plan_customer_day', ['customer_id', 'planned_on'], unique=False)
        batch_op.create_index('ix_visit_plan_day', ['planned_on', 'user_id'], unique=False)

    with _quiet(), op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('satisfaction', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('by_head', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('by_gm', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('by_owner', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index('ix_activity_time', ['occurred_at', 'customer_id', 'satisfaction'], unique=False)
        batch_op.drop_constraint(op.f('ck_activity_kind_known'), type_='check')
        batch_op.create_check_constraint('kind_known', NEW_KINDS)
        batch_op.create_check_constraint(
            'purpose_known', "purpose IS NULL OR purpose IN ('sales', 'upkeep', 'relationship', "
            "'information', 'guidance')")
        batch_op.create_check_constraint(
            'satisfaction_range', "satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5")

    # Plain ALTER TABLE, not a batch: a batch would reflect the customer table (its expression
    # indexes warn) and could rebuild it, dropping its search triggers on SQLite.
    for column in MARK_COLUMNS:
        op.add_column('customer', sa.Column(column, sa.Date(), nullable=True))

    _backfill()


def _backfill():
    bind = op.get_bind()
    holds = ("EXISTS (SELECT 1 FROM user_role r WHERE r.user_id = activity.user_id "
             "AND r.role IN {})")
    op.execute("UPDATE activity SET "
               f"by_head = (kind = 'visit' AND {holds.format(HEADS)}), "
               f"by_gm = (kind = 'visit' AND {holds.format(GMS)}), "
               "by_owner = (user_id = (SELECT owner_id FROM customer c "
               "WHERE c.id = activity.customer_id))")
    zone = _zone(bind)
    if bind.dialect.name == "postgresql":
        day = f"(a.occurred_at AT TIME ZONE 'UTC' AT TIME ZONE '{zone}')::date"
    else:  # SQLite: the zone's offset today (the days of old visits, near enough)
        hours = datetime.now(ZoneInfo(zone)).utcoffset().total_seconds() / 3600
        day = f"date(a.occurred_at, '{hours:+.2f} hours')"
    for flag, column in (("by_head", "visit_head_on"), ("by_gm", "visit_gm_on"),
                         ("by_owner", "visit_rep_on")):
        op.execute(f"UPDATE customer SET {column} = (SELECT max({day}) FROM activity a "
                   f"WHERE a.customer_id = customer.id AND a.{flag}) "
                   f"WHERE EXISTS (SELECT 1 FROM activity a WHERE a.customer_id = customer.id "
                   f"AND a.{flag})")


def downgrade():
    for column in MARK_COLUMNS:  # SQLite 3.35+ drops a column in place, triggers kept
        op.execute(f"ALTER TABLE customer DROP COLUMN {column}")

    op.execute("DELETE FROM activity WHERE kind IN ('sms', 'video')")
    with _quiet(), op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_activity_satisfaction_range'), type_='check')
        batch_op.drop_constraint(op.f('ck_activity_purpose_known'), type_='check')
        batch_op.drop_constraint(op.f('ck_activity_kind_known'), type_='check')
        batch_op.create_check_constraint('kind_known', OLD_KINDS)
        batch_op.drop_index('ix_activity_time')
        batch_op.drop_column('by_owner')
        batch_op.drop_column('by_gm')
        batch_op.drop_column('by_head')
        batch_op.drop_column('satisfaction')
        batch_op.drop_column('purpose')

    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ux_follow_up_first_purchase', sqlite_where=sa.text("reason = 'first_purchase'"), postgresql_where=sa.text("reason = 'first_purchase'"))
        batch_op.drop_index('ix_follow_up_customer_open')
        batch_op.drop_index('ix_follow_up_open')

    op.drop_table('follow_up')
    op.drop_table('visit_plan')
    with op.batch_alter_table('activity_participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_participant_user_id'))

    op.drop_table('activity_participant')
