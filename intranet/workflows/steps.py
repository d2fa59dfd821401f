"""Steps every workflow shares beside its machine's events (issue 13 §2), recorded in the
record's history like any step, so the timeline shows them:

- urge (催办): whoever started a record reminds the people it waits for, at most once per
  `urge_interval_hours` (a setting); they get a notification.
- hand on (转交): the person a step is with passes it, with a reason, to a colleague who holds
  the same role in the same scope (`HandOn`, declared per machine: which column names the
  holder, in which states, among which roles).

Who a record waits for is the machine's `holders(row)`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from intranet.core import audit, clock, notifications, settings
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.roles import Role
from intranet.core.settings import SettingDef, register
from intranet.extensions import db
from intranet.models import User, WorkflowHistory
from intranet.workflows.engine import InvalidInput, NotAllowed, machine_class

URGE, HAND_ON = "urge", "hand_on"
LABELS = {URGE: _l("Urged"), HAND_ON: _l("Handed on")}
KINDS = {"urged": _l("%(by)s is waiting on you: %(workflow)s %(number)s (%(state)s)."),
         "handed_on": _l("%(by)s handed %(workflow)s %(number)s (%(state)s) on to you: "
                         "%(why)s")}
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class HandOn:
    """In `states`, the person in `column` may pass the step to a colleague holding the same
    one of `roles` (a sales manager: of the same department)."""

    column: str
    roles: frozenset
    states: frozenset

register(
    SettingDef("urge_interval_hours", "int", 4, _l("Urging: at most once every (hours)"),
               _l("Whoever started a record may remind the people it waits for once in this "
                  "time."), minimum=1, maximum=168),
)


def started_by(row) -> int | None:
    spec = machine_class(row).INBOX
    return getattr(row, spec.started_by.key) if spec is not None else None


def is_open(row) -> bool:
    return not any(s.final and s.value == row.state for s in machine_class(row).states)


def _last(row, event: str) -> WorkflowHistory | None:
    cls = machine_class(row)
    return db.session.scalar(
        select(WorkflowHistory).where(WorkflowHistory.object_type == cls.object_type,
                                      WorkflowHistory.object_id == row.id,
                                      WorkflowHistory.event == event)
        .order_by(WorkflowHistory.id.desc()).limit(1))


def urge_refusal(row, user):
    """Why `user` may not urge now (a message), or None. Only the one who started it urges."""
    if user is None or started_by(row) != user.id:
        return _l("Only the one who started it can urge.")
    if not is_open(row) or not (machine_class(row).holders(row) - {user.id}):
        return _l("It is not waiting for anyone else now.")
    last = _last(row, URGE)
    if last is not None:
        again = last.at + timedelta(hours=settings.get("urge_interval_hours"))
        if clock.now() < again:
            return _l("Already urged at %(time)s; you can urge again from %(again)s.",
                      time=last.at.astimezone(settings.tz()).strftime("%m-%d %H:%M"),
                      again=again.astimezone(settings.tz()).strftime("%m-%d %H:%M"))
    return None


def urge(row, user) -> set[int]:
    """Remind the record's holders; returns whom. NotAllowed if `urge_refusal` objects."""
    if urge_refusal(row, user) is not None:
        raise NotAllowed(row, event=URGE)
    cls = machine_class(row)
    holders = cls.holders(row) - {user.id}
    db.session.add(WorkflowHistory(
        object_type=cls.object_type, object_id=row.id, event=URGE, from_state=row.state,
        to_state=row.state, user_id=user.id, role="", at=clock.now(), comment=""))
    audit.record(audit.Action.UPDATE, cls.object_type, row.id, user=user,
                 details={"event": URGE, "to": sorted(holders)})
    link = notifications.link_for(cls.object_type, row.id)
    params = {"number": getattr(row, "number", ""), **cls.notice_params(row),
              "workflow": cls.object_type, "state": row.state, "by": user.display_name}
    for user_id in sorted(holders - cls.never_told(row)):
        notifications.notify(user_id, "urged", link, **params)
    return holders


def hand_on_spec(row, user) -> HandOn | None:
    """The step `user` holds on `row` and may hand on, if any."""
    if user is None:
        return None
    for spec in machine_class(row).HAND_ON:
        if row.state in spec.states and getattr(row, spec.column) == user.id:
            return spec
    return None


def _same_scope(spec: HandOn, holder, colleague) -> bool:
    for role in spec.roles & holder.roles & colleague.roles:
        if role != Role.SALES_MANAGER or holder.department_id == colleague.department_id:
            return True
    return False


def colleagues(row, user) -> list:
    """Whom `user` may hand the step on to: active, the same role in the same scope, not
    kept out of the record (e.g. recused from a complaint)."""
    spec = hand_on_spec(row, user)
    if spec is None:
        return []
    from sqlalchemy.orm import selectinload

    from intranet.models import UserRole

    excluded = machine_class(row).never_told(row) | {user.id}
    roles = sorted(r.value for r in spec.roles & user.roles)
    candidates = db.session.scalars(
        select(User).where(User.active, User.id.not_in(sorted(excluded)), User.id.in_(
            select(UserRole.user_id).where(UserRole.role.in_(roles))))
        .options(selectinload(User.role_rows)).order_by(User.display_name, User.id))
    return [c for c in candidates if _same_scope(spec, user, c)]


def hand_on(row, user, to_id, reason: str) -> User:
    """Pass the step `user` holds to colleague `to_id`; NotAllowed if they hold none,
    InvalidInput for a missing reason or a colleague outside the role and scope."""
    spec = hand_on_spec(row, user)
    if spec is None:
        raise NotAllowed(row, event=HAND_ON)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("comment", _l("Please give a reason: the colleague will read it."))
    allowed = {c.id: c for c in colleagues(row, user)}
    if not isinstance(to_id, int) or not 0 < to_id <= MAX_ID or to_id not in allowed:
        raise InvalidInput("to_id", _l("Choose a colleague who holds the same role."))
    colleague = allowed[to_id]
    cls = machine_class(row)
    setattr(row, spec.column, colleague.id)
    db.session.add(WorkflowHistory(
        object_type=cls.object_type, object_id=row.id, event=HAND_ON, from_state=row.state,
        to_state=row.state, user_id=user.id, role="", at=clock.now(),
        comment=f"{colleague.display_name}：{reason}"))
    audit.record(audit.Action.UPDATE, cls.object_type, row.id, user=user, details={
        "event": HAND_ON, spec.column: {"old": user.id, "new": colleague.id}})
    notifications.notify(colleague.id, "handed_on", notifications.link_for(cls.object_type,
                                                                           row.id),
                         **{"number": getattr(row, "number", ""), **cls.notice_params(row),
                            "workflow": cls.object_type, "state": row.state,
                            "by": user.display_name, "why": reason})
    return colleague
