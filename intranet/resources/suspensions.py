"""Penalties and suspensions (rule R9): a sales manager records a penalty on a rep with a
reason; the rep then receives no allocations for 7, 15 or 30 days (settings) by how many
penalties they have had — first, second, third and later; lifted penalties do not count.

A suspension runs by whole days of the company's time zone: from the moment it is recorded to
the end of its last day (a first penalty on a Monday afternoon suspends through Sunday, the
seventh day, and allocation resumes on the eighth). Calendar days, not working days: it is a
period of sanction, not a deadline to meet. Lifting a penalty ends its suspension at once and
keeps the row, with who lifted it, when and why."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from intranet.core import audit, clock, settings
from intranet.extensions import db
from intranet.models import Penalty, User
from intranet.resources.settings import SUSPENSION_DAYS


class PenaltyError(ValueError):
    pass


def in_force(moment: datetime):
    """SQL: the penalties suspending their rep at `moment`."""
    return (Penalty.lifted_at.is_(None)) & (Penalty.starts_at <= moment) & \
        (Penalty.ends_at > moment)


def suspension_days(number: int) -> int:
    return settings.get(SUSPENSION_DAYS[min(number, 3) - 1])


def _end_of_day(moment: datetime, days: int) -> datetime:
    """The start of the local day `days` days after `moment`'s (i.e. the end of its last
    day), in UTC."""
    zone = settings.tz()
    day = moment.astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(day, time(), zone).astimezone(moment.tzinfo)


def record(rep: User, reason: str, by: User) -> Penalty:
    reason = (reason or "").strip()
    if not reason:
        raise PenaltyError("reason")
    now = clock.now()
    before = db.session.scalar(select(func.count()).select_from(Penalty).where(
        Penalty.user_id == rep.id, Penalty.lifted_at.is_(None))) or 0
    number = before + 1
    penalty = Penalty(user_id=rep.id, number=number, reason=reason, recorded_by_id=by.id,
                      recorded_at=now, starts_at=now,
                      ends_at=_end_of_day(now, suspension_days(number)), lift_reason="")
    db.session.add(penalty)
    db.session.flush()
    audit.record(audit.Action.CREATE, "penalty", penalty.id, reason=reason, details={
        "rep": rep.id, "number": number, "until": penalty.ends_at.isoformat()})
    return penalty


def lift(penalty: Penalty, reason: str, by: User) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise PenaltyError("reason")
    if penalty.lifted_at is not None:
        raise PenaltyError("lifted")
    penalty.lifted_at, penalty.lifted_by_id, penalty.lift_reason = clock.now(), by.id, reason
    audit.record(audit.Action.UPDATE, "penalty", penalty.id, reason=reason,
                 details={"rep": penalty.user_id, "lifted": True})


def suspended_until(user_ids, moment: datetime | None = None) -> dict[int, datetime]:
    """{rep: end of the suspension in force} for the reps of `user_ids` suspended now."""
    moment = moment or clock.now()
    ids = list(user_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(Penalty.user_id, func.max(Penalty.ends_at))
                              .where(Penalty.user_id.in_(ids), in_force(moment))
                              .group_by(Penalty.user_id)).all()
    return dict(rows)


def of_rep(rep_id: int) -> list[Penalty]:
    return list(db.session.scalars(select(Penalty).where(Penalty.user_id == rep_id)
                                   .order_by(Penalty.recorded_at.desc(), Penalty.id.desc())))
