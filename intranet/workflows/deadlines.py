"""Deadlines of workflow records (rules P5, P6; DESIGN.md "Workflows"): each is a stored row
(models.WorkflowDeadline) with the time its clock started and the time it falls due, computed
once from the business calendar. Overdue is derived in SQL, so it is right whether or not a job
ran. A record may run several clocks at once (a complaint's same-day investigation, its reply,
every date promised to the customer); only a pausable clock can be paused, and resuming moves
its due time on by the time paused. A record with a `next_due_at` column keeps the nearest
running deadline there, so its queue sorts and filters on one indexed column."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from intranet.core import clock, settings
from intranet.extensions import db
from intranet.models import WorkflowDeadline


def _object_type(row) -> str:
    from intranet.workflows.engine import machine_class

    return machine_class(row).object_type


def for_row(row) -> list[WorkflowDeadline]:
    """Stored and not yet flushed: callbacks run inside engine.fire's no-autoflush block, where
    a flush would write the row's version check too early."""
    object_type = _object_type(row)
    with db.session.no_autoflush:
        stored = list(db.session.scalars(select(WorkflowDeadline).where(
            WorkflowDeadline.object_type == object_type,
            WorkflowDeadline.object_id == row.id).order_by(WorkflowDeadline.id)))
    pending = [d for d in db.session.new if isinstance(d, WorkflowDeadline)
               and d.object_type == object_type and d.object_id == row.id]
    return stored + pending


def running(row) -> list[WorkflowDeadline]:
    return [d for d in for_row(row) if d.met_at is None]


def start(row, kind: str, due_at: datetime, *, pausable: bool = False, note: str = "",
          started_at: datetime | None = None) -> WorkflowDeadline:
    deadline = WorkflowDeadline(object_type=_object_type(row), object_id=row.id, kind=kind,
                                started_at=started_at or clock.now(), due_at=due_at,
                                pausable=pausable, note=note, warned_percent=0,
                                paused_seconds=0, escalation=0)
    deadline.next_warning_at = warning_time(deadline)
    db.session.add(deadline)
    refresh(row)
    return deadline


def meet(row, *kinds: str) -> None:
    """Stop the running clocks of these kinds (all of them without kinds) as met now."""
    now = clock.now()
    for deadline in running(row):
        if not kinds or deadline.kind in kinds:
            if deadline.paused_at is not None:
                _unpause(deadline, now)
            deadline.met_at = now
    refresh(row)


def can_pause(row) -> bool:
    return any(d.pausable and d.paused_at is None for d in running(row))


def is_paused(row) -> bool:
    return any(d.paused_at is not None for d in running(row))


def pause(row, reason: str) -> None:
    """Only pausable clocks stop (a first-response clock never does)."""
    now = clock.now()
    for deadline in running(row):
        if deadline.pausable and deadline.paused_at is None:
            deadline.paused_at, deadline.pause_reason = now, reason
    refresh(row)


def resume(row) -> None:
    now = clock.now()
    for deadline in running(row):
        if deadline.paused_at is not None:
            _unpause(deadline, now)
    refresh(row)


def warning_fractions() -> list[int]:
    """The settable shares of a deadline's time at which its holder is warned (50 %, 80 %)."""
    return sorted({settings.get("deadline_warn_first_percent"),
                   settings.get("deadline_warn_second_percent")})


def active_span(deadline: WorkflowDeadline):
    """The deadline's own time, paused time left out."""
    return deadline.due_at - deadline.started_at - _paused(deadline)


def elapsed(deadline: WorkflowDeadline, now: datetime):
    """Time gone on the clock: paused time does not count."""
    return now - deadline.started_at - _paused(deadline)


def warning_time(deadline: WorkflowDeadline) -> datetime | None:
    """When the next warning not yet given falls due (None: all given). Paused time does not
    count: the due time has moved on by it."""
    span = active_span(deadline)
    for percent in warning_fractions():
        if percent > deadline.warned_percent:
            return deadline.started_at + _paused(deadline) + span * percent / 100
    return None


def _paused(deadline: WorkflowDeadline):
    from datetime import timedelta

    return timedelta(seconds=deadline.paused_seconds or 0)


def _unpause(deadline: WorkflowDeadline, now: datetime) -> None:
    paused = now - deadline.paused_at
    deadline.due_at = deadline.due_at + paused
    deadline.paused_seconds += int(paused.total_seconds())
    deadline.paused_at = None
    deadline.next_warning_at = warning_time(deadline)


def paused_seconds(row) -> int:
    """Time the record's clocks stood still, the running pause included."""
    now = clock.now()
    total = 0
    for deadline in for_row(row):
        total += deadline.paused_seconds
        if deadline.paused_at is not None and deadline.met_at is None:
            total += int((now - deadline.paused_at).total_seconds())
    return total


def refresh(row) -> None:
    if not hasattr(row, "next_due_at"):
        return
    times = [d.due_at for d in running(row) if d.paused_at is None]
    nearest = min(times) if times else None
    if row.next_due_at != nearest:
        row.next_due_at = nearest
