"""Allocation sanctions (rules R8, R9): a penalty suspends a rep from allocations for a while;
a missed first contact makes the rep sit out their next allocation."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.core import clock
from intranet.extensions import db
from intranet.models.customer import Customer
from intranet.models.types import UTCDateTime
from intranet.models.user import User


class Penalty(db.Model):
    """A penalty a sales manager records on a rep (rule R9): no allocations in
    [starts_at, ends_at), a period fixed when it is recorded from how many penalties the rep
    had before (lifted ones do not count). Lifting keeps the row, with who, when and why."""

    __table_args__ = (CheckConstraint("ends_at > starts_at", name="period_positive"),
                      CheckConstraint("number > 0", name="number_positive"),
                      Index("ix_penalty_user", "user_id", "ends_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    number: Mapped[int]  # 1st, 2nd, 3rd… penalty of this rep
    reason: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    lift_reason: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    lifted_by: Mapped[User | None] = relationship(foreign_keys=[lifted_by_id])


class ContactMiss(db.Model):
    """A first contact not logged in time after an allocation (rule R8), written by
    `flask jobs run` once per deadline (the unique deadline id makes the job idempotent). While
    `skip_used_at` is empty the rep is skipped by the allocation ranking; the next allocation
    in the department uses the skip up."""

    __table_args__ = (Index("ix_contact_miss_user", "user_id", "skip_used_at"),
                      Index("ix_contact_miss_department", "department_id", "missed_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("workflow_deadline.id"), unique=True)
    ownership_record_id: Mapped[int] = mapped_column(ForeignKey("ownership_record.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"),
                                             index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    missed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    skip_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    skip_used_record_id: Mapped[int | None] = mapped_column(ForeignKey("ownership_record.id"))

    customer: Mapped[Customer] = relationship()
    user: Mapped[User] = relationship()
