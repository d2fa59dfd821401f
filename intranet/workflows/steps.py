"""Steps every workflow shares beside its machine's events (issue 13 §2), recorded in the
record's history like any step, so the timeline shows them:

- urge (催办): whoever started a record reminds the people it waits for, at most once per
  `urge_interval_hours` (a setting); they get a notification.
- hand on (转交): the person a step is with passes it, with a reason, to a colleague who holds
  the same role in the same scope (`HandOn`, declared per machine: which column names the
  holder, in which states, among which roles).
- copy (抄送): whoever started a record or took a step on it copies colleagues in; each may
  then read that record's summary and timeline (home/inbox.py, audited), nothing more.

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

URGE, HAND_ON, COPY = "urge", "hand_on", "copy"
LABELS = {URGE: _l("Urged"), HAND_ON: _l("Handed on"), COPY: _l("Copied in")}
MAX_COPIES = 20  # people copied in at once
KINDS = {"urged": _l("%(by)s is waiting on you: %(workflow)s %(number)s (%(state)s)."),
         "handed_on": _l("%(by)s handed %(workflow)s %(number)s (%(state)s) on to you: "
                         "%(why)s"),
         "copied": _l("%(by)s copied you in on %(workflow)s %(number)s (%(state)s).")}
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


_UNREAD = object()


def urge_refusal(row, user, last_urged=_UNREAD):
    """Why `user` may not urge now (a message), or None. Only the one who started it urges.
    `last_urged`: when it was last urged, if the caller read it already (`last_urges`)."""
    if user is None or started_by(row) != user.id:
        return _l("Only the one who started it can urge.")
    if not is_open(row) or not (machine_class(row).holders(row) - {user.id}):
        return _l("It is not waiting for anyone else now.")
    if last_urged is _UNREAD:
        last = _last(row, URGE)
        last_urged = last.at if last is not None else None
    if last_urged is not None:
        again = last_urged + timedelta(hours=settings.get("urge_interval_hours"))
        if clock.now() < again:
            return _l("Already urged at %(time)s; you can urge again from %(again)s.",
                      time=last_urged.astimezone(settings.tz()).strftime("%m-%d %H:%M"),
                      again=again.astimezone(settings.tz()).strftime("%m-%d %H:%M"))
    return None


def last_urges(records) -> dict[tuple[str, int], object]:
    """{(object_type, id): when it was last urged} for (object_type, id) pairs, in one
    statement (a list page's urge buttons)."""
    from sqlalchemy import func, or_

    by_kind: dict[str, list[int]] = {}
    for kind, id_ in records:
        by_kind.setdefault(kind, []).append(id_)
    if not by_kind:
        return {}
    H = WorkflowHistory
    rows = db.session.execute(
        select(H.object_type, H.object_id, func.max(H.at)).where(H.event == URGE, or_(*(
            (H.object_type == kind) & H.object_id.in_(ids) for kind, ids in by_kind.items())))
        .group_by(H.object_type, H.object_id))
    return {(kind, id_): at for kind, id_, at in rows}


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
        .options(selectinload(User.role_rows)).order_by(User.name_pinyin, User.id))
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


def may_copy(row, user) -> bool:
    """The one who started the record, or anyone who took a step on it."""
    if user is None:
        return False
    if started_by(row) == user.id:
        return True
    cls = machine_class(row)
    return db.session.scalar(select(WorkflowHistory.id).where(
        WorkflowHistory.object_type == cls.object_type, WorkflowHistory.object_id == row.id,
        WorkflowHistory.user_id == user.id).limit(1)) is not None


def copy_choices(row, user) -> list:
    """Whom `user` may copy in: active colleagues not yet copied, not kept out of the record."""
    from intranet.models import WorkflowCopy

    cls = machine_class(row)
    already = select(WorkflowCopy.user_id).where(WorkflowCopy.object_type == cls.object_type,
                                                 WorkflowCopy.object_id == row.id)
    excluded = cls.never_told(row) | {user.id}
    return list(db.session.scalars(select(User).where(
        User.active, User.id.not_in(sorted(excluded)), User.id.not_in(already))
        .order_by(User.name_pinyin, User.id)))


def copy(row, user, user_ids) -> list:
    """Copy colleagues in; returns them. NotAllowed unless `may_copy`; InvalidInput for
    nobody or anyone not among `copy_choices`."""
    from intranet.models import WorkflowCopy

    if not may_copy(row, user):
        raise NotAllowed(row, event=COPY)
    choices = {c.id: c for c in copy_choices(row, user)}
    wanted = [i for i in dict.fromkeys(user_ids or ())]
    if not wanted or len(wanted) > MAX_COPIES \
            or any(not isinstance(i, int) or i not in choices for i in wanted):
        raise InvalidInput("user_ids", _l("Choose up to %(n)s colleagues to copy in.",
                                          n=MAX_COPIES))
    cls, now = machine_class(row), clock.now()
    people = [choices[i] for i in wanted]
    for person in people:
        db.session.add(WorkflowCopy(object_type=cls.object_type, object_id=row.id,
                                    user_id=person.id, copied_by_id=user.id, at=now))
    db.session.add(WorkflowHistory(
        object_type=cls.object_type, object_id=row.id, event=COPY, from_state=row.state,
        to_state=row.state, user_id=user.id, role="", at=now,
        comment="、".join(p.display_name for p in people)))
    audit.record(audit.Action.UPDATE, cls.object_type, row.id, user=user,
                 details={"event": COPY, "to": [p.id for p in people]})
    params = {"number": getattr(row, "number", ""), **cls.notice_params(row),
              "workflow": cls.object_type, "state": row.state, "by": user.display_name}
    for person in people:
        notifications.notify(person.id, "copied", copy_link(cls.object_type, row.id), **params)
    return people


def copy_link(object_type: str, object_id: int) -> str:
    from flask import url_for
    return url_for("home.copied_record", kind=object_type, record_id=object_id)


def is_copied(row, user) -> bool:
    from intranet.models import WorkflowCopy

    cls = machine_class(row)
    return user is not None and db.session.scalar(select(WorkflowCopy.id).where(
        WorkflowCopy.object_type == cls.object_type, WorkflowCopy.object_id == row.id,
        WorkflowCopy.user_id == user.id)) is not None


def page_actions(row, user) -> dict:
    """What a record's page offers `user` beside the machine's events (workflows/_steps.html):
    催办 to the one who started it while it waits for someone else (with the reason when it
    is too soon), 转交 to the step's holder, 抄送 to whoever started it or took a step. A page
    that keeps a reader out of the record (a recused handler) does not call this."""
    cls = machine_class(row)
    waits_on_others = (user is not None and started_by(row) == user.id and is_open(row)
                       and bool(cls.holders(row) - {user.id}))
    return {"kind": cls.object_type, "may_urge": waits_on_others,
            "urge_refusal": urge_refusal(row, user) if waits_on_others else None,
            "colleagues": colleagues(row, user),
            "copy_choices": copy_choices(row, user) if may_copy(row, user) else []}
