"""The to-do inbox 待办中心 (issue 13 §1): every workflow's records in one list per user.

- waiting: what waits for the user, from each machine's `waiting_for` (workflows/waiting.py),
  by deadline;
- started: what the user started, open ones first, with the step each is at;
- done: what the user acted on (their history rows), latest first.

One UNION ALL statement per page over the machines that declare an `INBOX`, then one
statement per workflow on the page for its rows: the count of statements does not grow with
the rows."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    String,
    case,
    false,
    func,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import selectinload

from intranet.core import clock, notifications
from intranet.extensions import db
from intranet.models import WorkflowHistory
from intranet.workflows import calendar, steps
from intranet.workflows.engine import REGISTRY, START, Workflow
from intranet.workflows.waiting import Actor

TABS = ("waiting", "started", "done", "copied")


def machines() -> list[type[Workflow]]:
    return [cls for cls in REGISTRY.values() if cls.INBOX is not None]


def machine(object_type: str | None) -> type[Workflow] | None:
    cls = REGISTRY.get(object_type or "")
    return cls if cls is not None and cls.INBOX is not None else None


def _rows(cls: type[Workflow], where, overdue: bool):
    spec, model = cls.INBOX, cls.model_class
    started_type = spec.started_at.type
    due = spec.due if spec.due is not None else type_coerce(null(), started_type)
    stmt = select(literal_column(f"'{cls.object_type}'", String).label("kind"),
                  model.id.label("id"), due.label("due_at"),
                  type_coerce(spec.started_at, started_type).label("started_at"),
                  model.state.label("state")).where(where)
    if overdue:  # only what has a deadline can be late
        stmt = stmt.where(spec.due < clock.now() if spec.due is not None else false())
    return stmt


def _union(parts, *order):
    rows = union_all(*parts).subquery("inbox") if len(parts) > 1 else parts[0].subquery("inbox")
    return select(rows).order_by(*(o(rows.c) for o in order), rows.c.kind, rows.c.id)


def waiting(user, object_type: str | None = None, overdue: bool = False):
    """SQL: the records waiting for `user`, nearest deadline first (none last), then oldest."""
    actor = Actor(user)
    chosen = [machine(object_type)] if machine(object_type) else machines()
    return _union([_rows(cls, cls.waiting_for(actor), overdue) for cls in chosen],
                  lambda c: case((c.due_at.is_(None), 1), else_=0), lambda c: c.due_at,
                  lambda c: c.started_at)


def started(user, object_type: str | None = None, overdue: bool = False):
    """SQL: the records `user` started, open ones first, latest first."""
    chosen = [machine(object_type)] if machine(object_type) else machines()
    parts = []
    for cls in chosen:
        final = [s.value for s in cls.states if s.final]
        parts.append(_rows(cls, cls.INBOX.started_by == user.id, overdue).add_columns(
            case((cls.model_class.state.in_(final), 1), else_=0).label("closed")))
    return _union(parts, lambda c: c.closed, lambda c: c.started_at.desc())


def done(user, object_type: str | None = None):
    """SQL: the records `user` took a step on (not counting starting them), latest first."""
    types = [object_type] if machine(object_type) else [cls.object_type for cls in machines()]
    latest = func.max(WorkflowHistory.id)
    return (select(WorkflowHistory.object_type.label("kind"),
                   WorkflowHistory.object_id.label("id"), func.max(WorkflowHistory.at)
                   .label("acted_at"))
            .where(WorkflowHistory.user_id == user.id, WorkflowHistory.event != START,
                   WorkflowHistory.object_type.in_(types))
            .group_by(WorkflowHistory.object_type, WorkflowHistory.object_id)
            .order_by(latest.desc()))


def copied(user, object_type: str | None = None):
    """SQL: the records `user` was copied in on, latest first."""
    from intranet.models import WorkflowCopy

    types = [object_type] if machine(object_type) else [cls.object_type for cls in machines()]
    return (select(WorkflowCopy.object_type.label("kind"), WorkflowCopy.object_id.label("id"),
                   WorkflowCopy.at.label("acted_at"))
            .where(WorkflowCopy.user_id == user.id, WorkflowCopy.object_type.in_(types))
            .order_by(WorkflowCopy.at.desc(), WorkflowCopy.id.desc()))


@dataclass
class Item:
    machine: type[Workflow]
    row: object
    due_at: datetime | None = None
    acted_at: datetime | None = None
    summary_only: bool = False  # a party who may not open the record's page (readable_ids)

    @property
    def kind(self) -> str:
        return self.machine.object_type

    @property
    def step(self):
        return self.machine.STATE_LABELS.get(self.row.state, self.row.state)

    @property
    def is_open(self) -> bool:
        return not any(s.final and s.value == self.row.state for s in self.machine.states)

    @property
    def time_left(self):
        """(overdue, days, hours) for _macros.html's time_left; None without a deadline."""
        if not self.is_open or self.due_at is None:
            return None
        return calendar.describe(self.due_at, clock.now())

    @property
    def link(self) -> str:
        if self.summary_only:
            return steps.copy_link(self.kind, self.row.id)
        return notifications.link_for(self.kind, self.row.id)

    @property
    def customer(self) -> str:
        customer = getattr(self.row, "customer", None)
        return customer.name if customer is not None else getattr(self.row, "who", "")


def mark_summary_only(items_: list[Item], user) -> None:
    """Send `user` to the summary of the records they are a party to but may not open on
    their own page (Workflow.readable_ids): one statement per workflow that narrows it."""
    by_kind: dict[str, list[Item]] = defaultdict(list)
    for item in items_:
        by_kind[item.kind].append(item)
    for kind, group in by_kind.items():
        readable = REGISTRY[kind].readable_ids(user, [i.row.id for i in group])
        if readable is not None:
            for item in group:
                item.summary_only = item.row.id not in readable


def items(rows) -> list[Item]:
    """The page's records, loaded with one statement per workflow, in the page's order."""
    wanted: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        wanted[row.kind].append(row.id)
    loaded = {}
    for kind, ids in wanted.items():
        cls = REGISTRY[kind]
        model = cls.model_class
        # the customer's name on each row; a case's parties (who holds it leaves out the
        # recused, 我发起的)
        options = [selectinload(getattr(model, name)) for name in ("customer", "people")
                   if hasattr(model, name)]
        for record in db.session.scalars(select(model).where(model.id.in_(ids))
                                         .options(*options)):
            loaded[kind, record.id] = record
    return [Item(REGISTRY[r.kind], loaded[r.kind, r.id], due_at=getattr(r, "due_at", None),
                 acted_at=getattr(r, "acted_at", None))
            for r in rows if (r.kind, r.id) in loaded]
