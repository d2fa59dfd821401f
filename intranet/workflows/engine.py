"""The shared workflow engine (DESIGN.md "Workflows"): every workflow is a python-statemachine
`StateMachine` over an ORM row with a string `state` column and a `version` column
(SQLAlchemy's version_id_col). This module knows nothing of Flask.

- `fire()` is the only way a row changes state. It checks the version the user saw, sends the
  event with the acting user as a keyword argument, and lets `HistoryWriter` append one
  `WorkflowHistory` row (and one audit entry) in the same transaction. A concurrent change
  surfaces as `Conflict`; an event the machine refuses as `NotAllowed` (both answered 409).
- Who may fire an event is declared per machine in `PERMISSIONS` and checked by the `permitted`
  guard, a `cond=` on every transition, so `available_events()` (the buttons) never offers
  what the machine would refuse. Deputies act for their principal (access.Permission).
- What a transition tells people is declared per machine in `NOTICES` (`Notice`: on entering
  which state, which notification kind, to whom); `NoticeWriter`, a second listener beside the
  history, posts them, so a transition fired by a page or by `flask jobs run` notifies alike.
- `REGISTRY` holds every machine; tests/test_workflow_conventions.py checks them all.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from statemachine import StateMachine
from statemachine.exceptions import TransitionNotAllowed

from intranet.core import audit, clock, notifications
from intranet.core.access import Grant, Permission
from intranet.core.errors import FieldError, RecordStateError
from intranet.extensions import db
from intranet.models import WorkflowHistory

SYSTEM = "system"  # the role of `flask jobs run` (reminders, activation, reclaim)

REGISTRY: dict[str, type[Workflow]] = {}


class WorkflowError(RecordStateError):
    @property
    def object_type(self) -> str:
        return machine_class(self.row).object_type

    def state_label(self):
        labels = machine_class(self.row).STATE_LABELS
        return labels.get(self.row.state, self.row.state)


class Conflict(WorkflowError):
    """Someone changed the row since the user loaded it (stale or concurrent version)."""

    stale = True


class NotAllowed(WorkflowError):
    """The machine refuses this event in the row's state, or for this user."""


class InvalidInput(FieldError):
    """A validator refused the data sent with an event; `field` names the form field."""


def withdrawal_reason(comment: str = "", **kwargs) -> None:
    """撤回 with a reason (issue 13 §2): whoever the record waits for reads why it is gone."""
    from intranet.core.i18n import lazy_gettext as _l

    if not (comment or "").strip():
        raise InvalidInput("comment", _l("Please say why you withdraw it: the others will "
                                         "read it."))


def grant_for(machine_cls: type[Workflow], event: str, user) -> Grant | None:
    """The role in which `user` may fire `event` (own role first, then a deputy's), or None.
    `user=None` is the system itself."""
    roles = machine_cls.PERMISSIONS.get(event, frozenset())
    if user is None:
        return Grant(None) if SYSTEM in roles else None
    return Permission(roles=frozenset(r for r in roles if r != SYSTEM)).grant_for(user)


def permitted(machine, event, user=None, **kwargs) -> bool:
    """The permission guard every transition carries (convention test)."""
    return grant_for(type(machine), str(event), user) is not None


@dataclass(frozen=True)
class Notice:
    """On entering `state` (a state value; optionally only by `event`), notify `to(row)` (user
    ids) with the notification `kind`; its parameters are the machine's `notice_params(row)`,
    its link the record page the domain registered (notifications.register_link)."""

    state: str
    kind: str
    to: Callable[[object], Iterable[int]]
    event: str | None = None


class Workflow(StateMachine):
    """Base of every workflow machine."""

    object_type: ClassVar[str] = ""
    model_class: ClassVar[type] = object
    PERMISSIONS: ClassVar[dict[str, frozenset]] = {}
    STATE_LABELS: ClassVar[dict[str, object]] = {}
    EVENT_LABELS: ClassVar[dict[str, object]] = {}
    NOTICES: ClassVar[tuple[Notice, ...]] = ()
    # The to-do inbox (workflows/inbox.py): what the machine's records are called there, the
    # columns they show, and the events that never make a record wait for whoever may take
    # them (the applicant's withdrawal, pausing a clock). `waiting_for(actor)` is the SQL twin
    # of the guards of every other event (workflows/waiting.py).
    LABEL: ClassVar[object] = ""
    INBOX: ClassVar[object | None] = None
    ASIDE: ClassVar[frozenset[str]] = frozenset({"withdraw"})
    # The opinion (意见) box of each step that has one: True where it is required (refusing,
    # returning: the validators insist, tests/test_workflow_conventions.py checks they do).
    OPINIONS: ClassVar[dict[str, bool]] = {}
    # Steps the person holding them may pass to a colleague (workflows/steps.HandOn).
    HAND_ON: ClassVar[tuple] = ()

    @classmethod
    def waiting_for(cls, actor):
        from sqlalchemy import false
        return false()

    @classmethod
    def notice_params(cls, row) -> dict:
        return {}

    @classmethod
    def record_numbers(cls, ids) -> dict:
        """{id: record number} (the audit trail names records by them)."""
        model = cls.model_class
        return {row.id: row.number for row in db.session.scalars(
            db.select(model).where(model.id.in_(ids)))}

    @classmethod
    def readable_ids(cls, user, ids) -> set[int] | None:
        """Which of `ids` `user` may open on the record's own page, when that page is scoped
        more narrowly than "a party to it" (None: every one). The inbox sends a party who
        may not (an applicant whose customer moved on) to the record's summary instead."""
        return None

    @classmethod
    def holders(cls, row) -> set[int]:
        """Who the record waits for at its step (an urge reminds them): by default those the
        machine tells when the record enters that step."""
        people: set[int] = set()
        for notice in cls.NOTICES:
            if notice.state == row.state and notice.event is None:
                people |= set(notice.to(row))
        return people - {None} - cls.never_told(row)

    @classmethod
    def never_told(cls, row) -> set[int]:
        """Users no notice of this record may reach (e.g. those recused from it)."""
        return set()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.object_type:
            if cls.object_type in REGISTRY and REGISTRY[cls.object_type] is not cls:
                raise ValueError(f"two workflows for {cls.object_type!r}")
            REGISTRY[cls.object_type] = cls
            notifications.STATE_LABELS[cls.object_type] = cls.STATE_LABELS
            notifications.PARAM_LABELS.setdefault("workflow", {})[cls.object_type] = cls.LABEL
            audit.register_object_names(cls.object_type, cls.record_numbers)


class HistoryWriter:
    """Listener: one history row and one audit entry per transition, in the same session."""

    def __init__(self, machine_cls, row, user, comment: str, on_grant=None):
        self.machine_cls, self.row, self.user, self.comment = machine_cls, row, user, comment
        self.on_grant = on_grant

    def after_transition(self, event, source, target, **kwargs):
        grant = grant_for(self.machine_cls, str(event), self.user) or Grant(None)
        if self.on_grant:
            self.on_grant(grant)
        principal = grant.on_behalf_of
        db.session.add(WorkflowHistory(
            object_type=self.machine_cls.object_type, object_id=self.row.id, event=str(event),
            from_state=source.value, to_state=target.value,
            user_id=self.user.id if self.user else None,
            role=grant.role.value if grant.role else ("" if self.user else SYSTEM),
            on_behalf_of_id=principal.id if principal else None,
            at=clock.now(), comment=self.comment or ""))
        audit.record(audit.Action.UPDATE, self.machine_cls.object_type, self.row.id,
                     details={"event": str(event), "from": source.value, "to": target.value},
                     user=self.user)


class NoticeWriter:
    """Listener: the notifications the machine declares for the state just entered."""

    def __init__(self, machine_cls, row):
        self.machine_cls, self.row = machine_cls, row

    def after_transition(self, event, source, target, **kwargs):
        self.post(str(event), target.value)

    def post(self, event: str, state: str) -> None:
        due = [n for n in self.machine_cls.NOTICES
               if n.state == state and n.event in (None, event)]
        if not due:
            return
        cls, row = self.machine_cls, self.row
        params = {"workflow": cls.object_type, "state": state, **cls.notice_params(row)}
        link = notifications.link_for(cls.object_type, row.id)
        excluded = cls.never_told(row)
        for notice in due:
            for user_id in sorted(set(notice.to(row)) - excluded - {None}):
                notifications.notify(user_id, notice.kind, link, **params)


START = "created"  # the history's event for a record created in its machine's initial state


def start(row, *, user, role=None, comment: str = "", details: dict | None = None) -> None:
    """Record that `row`, new, starts in its machine's initial state: the first history row
    (event "created"), an audit entry and the notices declared for that state — a request is
    announced the way every later step is."""
    cls = machine_class(row)
    row.state = cls.initial_state.value
    db.session.add(row)
    db.session.flush()
    db.session.add(WorkflowHistory(
        object_type=cls.object_type, object_id=row.id, event=START, from_state="",
        to_state=row.state, user_id=user.id if user else None,
        role=str(role or "") if user else SYSTEM,
        at=clock.now(), comment=comment or ""))
    audit.record(audit.Action.CREATE, cls.object_type, row.id, user=user,
                 details={"state": row.state, **(details or {})})
    NoticeWriter(cls, row).post(START, row.state)


def machine(row, user=None, listeners=()) -> Workflow:
    cls = machine_class(row)
    return cls(model=row, state_field="state", listeners=list(listeners))


def machine_class(row) -> type[Workflow]:
    for cls in REGISTRY.values():
        if isinstance(row, cls.model_class):
            return cls
    raise LookupError(f"no workflow for {type(row).__name__}")


def available_events(row, user) -> list[str]:
    """The events `user` may fire now: the action buttons, derived from the machine."""
    return [e.id for e in machine(row).enabled_events(user=user)]


def fire(row, event: str, *, user, expected_version: int | None = None, comment: str = "",
         on_grant=None, **data) -> None:
    """Move `row` by `event` as `user`; see the module docstring for the guarantees."""
    if expected_version is not None and row.version != expected_version:
        raise Conflict(row)
    cls = machine_class(row)
    if event not in cls.PERMISSIONS:  # only declared events reach the machine
        raise NotAllowed(row, event=str(event)[:40])
    writer = HistoryWriter(cls, row, user, comment, on_grant)
    flow = cls(model=row, state_field="state", listeners=[writer, NoticeWriter(cls, row)])
    # The guards decide before any validator speaks: someone who may not take the step is
    # refused as such (409), never told what the step's form is missing (python-statemachine
    # runs validators first).
    if event not in {e.id for e in flow.enabled_events(user=user, comment=comment, **data)}:
        raise NotAllowed(row, event=event)
    try:
        with db.session.no_autoflush:  # one UPDATE ... WHERE version = ?, at the flush below
            flow.send(event, user=user, comment=comment, **data)
    except TransitionNotAllowed:
        raise NotAllowed(row, event=event) from None
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(row) from None


def history(row) -> list[WorkflowHistory]:
    cls = machine_class(row)
    return list(db.session.scalars(
        db.select(WorkflowHistory)
        .options(selectinload(WorkflowHistory.user), selectinload(WorkflowHistory.on_behalf_of))
        .where(WorkflowHistory.object_type == cls.object_type,
               WorkflowHistory.object_id == row.id)
        .order_by(WorkflowHistory.id)))
