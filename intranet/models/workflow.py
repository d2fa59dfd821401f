from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.core import clock
from intranet.extensions import db
from intranet.models.types import UTCDateTime
from intranet.models.user import User


class WorkflowHistory(db.Model):
    """One row per transition of any workflow, written in the transaction of the transition
    (workflows/engine.py). The PDF records print it; it is never edited."""

    __table_args__ = (Index("ix_workflow_history_object", "object_type", "object_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int]
    event: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    role: Mapped[str] = mapped_column(String(32), default="")
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    comment: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    on_behalf_of: Mapped[User | None] = relationship(foreign_keys=[on_behalf_of_id])


class WorkflowDeadline(db.Model):
    """One deadline of a workflow record (rules P5, P6, K6): when its clock started, when it
    falls due (from the business calendar), when it was met. Overdue is derived in SQL
    (`met_at IS NULL AND paused_at IS NULL AND due_at < now`); the warning and escalation
    markers make `flask jobs run` idempotent. Only a pausable clock may be paused, and a
    pause moves the due time on by the time paused (workflows/deadlines.py)."""

    __table_args__ = (
        Index("ix_workflow_deadline_object", "object_type", "object_id"),
        Index("ix_workflow_deadline_open", "met_at", "due_at"),
        Index("ix_workflow_deadline_warning", "met_at", "next_warning_at"),
        # one kind's running clocks by due date (a rep's first contacts on the home page):
        # (met_at, due_at) alone walked every open clock of every kind (issue 12: 45 ms)
        Index("ix_workflow_deadline_kind_open", "kind", "met_at", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")  # what was promised, for "promised"
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pausable: Mapped[bool] = mapped_column(default=False)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str] = mapped_column(Text, default="")
    paused_seconds: Mapped[int] = mapped_column(default=0)
    warned_percent: Mapped[int] = mapped_column(default=0)
    next_warning_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation: Mapped[int] = mapped_column(default=0)  # 1: manager told, 2: GM told


class WorkflowCopy(db.Model):
    """抄送 (issue 13 §2): someone copied in on a workflow record by whoever started it or took a
    step on it. The copied user may read that record's summary and timeline (audited) and sees
    it under 抄送我的; nothing else is opened to them."""

    __table_args__ = (
        UniqueConstraint("object_type", "object_id", "user_id", name="uq_workflow_copy"),
        Index("ix_workflow_copy_user", "user_id", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    copied_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    copied_by: Mapped[User] = relationship(foreign_keys=[copied_by_id])
