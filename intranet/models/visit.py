"""Follow-up tasks (rules V3, V4): the next contact a visit asked for, and the follow-ups after a
customer's first purchase. Open until a contact with the customer is logged (visits/tasks.py)."""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.core import clock
from intranet.extensions import db
from intranet.models.customer import Customer
from intranet.models.types import UTCDateTime

FOLLOW_UP_REASONS = ("next_action", "first_purchase")


class FollowUp(db.Model):
    __tablename__ = "follow_up"
    __table_args__ = (
        CheckConstraint("reason IN ('next_action', 'first_purchase')", name="reason_known"),
        # A first purchase gets each of its follow-ups once, however often it is looked at.
        Index("ux_follow_up_first_purchase", "customer_id", "after_days", unique=True,
              sqlite_where=db.text("reason = 'first_purchase'"),
              postgresql_where=db.text("reason = 'first_purchase'")),
        # Open tasks by due day (the lists, for whom sees every customer); a customer's open
        # tasks (the customer page; a rep's or manager's lists through their customers).
        Index("ix_follow_up_open", "done_at", "due_on", "id"),
        Index("ix_follow_up_customer_open", "customer_id", "done_at", "due_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    # Who was asked (the rep of the day); the lists follow the customer's owner of today.
    assignee_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str] = mapped_column(String(20))
    after_days: Mapped[int | None]  # first_purchase: 3, 30 or 60 days after the order
    due_on: Mapped[date] = mapped_column(Date)
    activity_id: Mapped[int | None] = mapped_column(  # the visit that asked for it
        ForeignKey("activity.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activity.id", ondelete="SET NULL"))

    customer: Mapped[Customer] = relationship()


class VisitPlan(db.Model):
    """A visit a rep plans (issue 14 §4): which customer, which day. The month's plan is read
    against the visit obligations (visits/cadence.py) for what stays uncovered."""

    __tablename__ = "visit_plan"
    __table_args__ = (
        UniqueConstraint("user_id", "customer_id", "planned_on", name="one_visit_a_day"),
        Index("ix_visit_plan_day", "planned_on", "user_id"),
        Index("ix_visit_plan_customer_day", "customer_id", "planned_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    planned_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    customer: Mapped[Customer] = relationship()
