"""Sealed periods and access requests to sealed customer files (rule C7, issue 11 §6).

The archive keeps a customer file (客户档案表) per customer per year: the file for year Y is
the customer's card as of the end of Y. Once year Y is sealed, anyone opening a customer's
file for Y needs an approved, unexpired access request of their own."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.core import clock
from intranet.extensions import db
from intranet.models.customer import Customer, _in
from intranet.models.types import UTCDateTime
from intranet.models.user import User
from intranet.workflows.archive_access_states import AccessState


class SealedPeriod(db.Model):
    """A closed year, sealed by an archivist or the GM: who, when, why. Never edited or
    deleted by the application."""

    __table_args__ = (CheckConstraint("year >= 1900 AND year <= 9999", name="year_plausible"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    sealed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    note: Mapped[str] = mapped_column(Text, default="")

    sealed_by: Mapped[User] = relationship()


class ArchiveAccessRequest(db.Model):
    """Someone asks the GM to open one customer's sealed file of one year for some days. An
    approved request is a grant until `expires_at` (approval time + days); the requester alone
    holds it."""

    __tablename__ = "archive_access_request"
    __table_args__ = (
        CheckConstraint(_in("state", tuple(s.value for s in AccessState)), name="state_known"),
        CheckConstraint("days >= 1 AND days <= 365", name="days_range"),
        Index("ix_archive_access_request_grant", "requested_by_id", "customer_id", "year",
              "state"),
        Index("ix_archive_access_request_queue", "state", "created_at"),
        Index("ix_archive_access_request_expiry", "state", "expires_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default=AccessState.REQUESTED.value)
    version: Mapped[int] = mapped_column(default=1)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    year: Mapped[int]
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    days: Mapped[int]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    granted_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    customer: Mapped[Customer] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def number(self) -> str:
        return f"FA-{self.created_at:%Y}-{self.id:06d}"

    def live(self, now: datetime) -> bool:
        """An approved grant still running at `now` (the clock decides, not the state)."""
        return (self.state == AccessState.APPROVED.value and self.expires_at is not None
                and self.expires_at > now)
