"""A user's batch export of archive records (issue 11): the record of the request and of its
progress. The queue itself is Huey's (intranet/core/queue.py); this row is what the page shows,
what a restarted consumer resumes from, and what a download is checked against."""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.core import clock
from intranet.extensions import db
from intranet.models.customer import _in
from intranet.models.types import UTCDateTime
from intranet.models.user import Department, User

EXPORT_STATES = ("queued", "running", "done", "failed", "expired")


class ArchiveExport(db.Model):
    """Who asked for which record types of which period (closed from period_start through
    period_end, local dates) and department; the state, progress (done of total) and the
    attempt that owns the job (a restarted job is a new attempt; an older one stops itself at
    its next heartbeat); the finished ZIP (file name under EXPORT_DIR, size, SHA-256)."""

    __table_args__ = (
        CheckConstraint(_in("state", EXPORT_STATES), name="state_known"),
        Index("ix_archive_export_requested", "requested_by_id", "id"),
        Index("ix_archive_export_state_heartbeat", "state", "heartbeat_at"),
        Index("ix_archive_export_state_expires", "state", "expires_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    record_types: Mapped[str] = mapped_column(String(400))  # keys, comma-separated
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    state: Mapped[str] = mapped_column(String(10), default="queued")
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    attempt: Mapped[int] = mapped_column(default=0)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(String(40), default="")  # a key of export.ERRORS
    error_detail: Mapped[str] = mapped_column(String(200), default="")  # e.g. a record number
    file_name: Mapped[str] = mapped_column(String(200), default="")
    size: Mapped[int | None]
    sha256: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requested_by: Mapped[User] = relationship()
    department: Mapped[Department | None] = relationship()

    @property
    def type_keys(self) -> list[str]:
        return [key for key in self.record_types.split(",") if key]

    @property
    def number(self) -> str:
        return f"DC-{self.created_at:%Y%m%d}-{self.id:05d}"

    @property
    def percent(self) -> int:
        return 100 if self.state == "done" else (100 * self.done // self.total if self.total
                                                 else 0)
