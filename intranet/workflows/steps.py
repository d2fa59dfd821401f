"""Steps every workflow shares beside its machine's events (issue 13 §2), recorded in the
record's history like any step, so the timeline shows them:

- urge (催办): whoever started a record reminds the people it waits for, at most once per
  `urge_interval_hours` (a setting); they get a notification.

Who a record waits for is the machine's `holders(row)`."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from intranet.core import audit, clock, notifications, settings
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.settings import SettingDef, register
from intranet.extensions import db
from intranet.models import WorkflowHistory
from intranet.workflows.engine import NotAllowed, machine_class

URGE = "urge"
LABELS = {URGE: _l("Urged")}
KINDS = {"urged": _l("%(who)s is waiting on you: %(workflow)s %(number)s (%(state)s).")}

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
    params = {"workflow": cls.object_type, "state": row.state, "who": user.display_name,
              **cls.notice_params(row)}
    params.setdefault("number", getattr(row, "number", ""))
    for user_id in sorted(holders - cls.never_told(row)):
        notifications.notify(user_id, "urged", link, **params)
    return holders
