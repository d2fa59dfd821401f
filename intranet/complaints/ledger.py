"""The case ledger (台帐, rules P1, P5, P6): filters, the queue order, figures and the rows of
its exports. Every filter a user can send is read here and anything unreadable is ignored."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import median

from sqlalchemy import and_, bindparam, extract, func, nulls_last, or_, select
from sqlalchemy.orm import selectinload

from intranet.complaints import CHANNEL_LABELS, KIND_LABELS, SEVERITY_LABELS
from intranet.complaints.scope import case_scope
from intranet.core import clock, settings
from intranet.core.querystring import parse_int
from intranet.core.search import contains
from intranet.customers import search_fields
from intranet.extensions import db
from intranet.models import CasePerson, Customer, ServiceCase, User, WorkflowDeadline
from intranet.models.customer import customer_column
from intranet.models.user import user_name
from intranet.workflows.complaint import ComplaintFlow
from intranet.workflows.complaint_states import OPEN_CASE_STATES

FILTERS = ("q", "kind", "channel", "state", "severity", "department", "handler", "subject",
           "overdue", "open", "mine", "since", "until")


YEARS = range(2000, 2101)  # a filter outside these is not a date anyone means


def _date(text) -> date | None:
    try:
        day = date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        return None
    return day if day.year in YEARS else None


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), settings.tz())


@dataclass
class Filters:
    values: dict

    def __getitem__(self, key):
        return self.values.get(key)

    @property
    def active(self) -> bool:
        return any(self.values.get(k) for k in FILTERS if k not in ("open", "mine"))


def read_filters(args, user) -> Filters:
    values = {}
    for key in ("kind", "channel", "state", "severity"):
        labels = {"kind": KIND_LABELS, "channel": CHANNEL_LABELS, "severity": SEVERITY_LABELS,
                  "state": ComplaintFlow.STATE_LABELS}[key]
        values[key] = args.get(key) if args.get(key) in labels else ""
    for key in ("department", "handler", "subject"):
        values[key] = parse_int(args.get(key), minimum=1)
    if values["subject"] == user.id:  # rule P2: nobody looks up the cases against them
        values["subject"] = None
    for key in ("overdue", "open", "mine"):
        values[key] = args.get(key) == "1"
    values["since"], values["until"] = _date(args.get("since")), _date(args.get("until"))
    values["q"] = (args.get("q") or "").strip()[:100]
    return Filters(values)


# A row of the case list as plain columns, not a case entity with its customer and handler
# (loading those was a quarter of the queue page, issue 12). The names are subqueries, so the
# capped count reads no customer or user.
ROW_COLUMNS = (
    ServiceCase.id, ServiceCase.year, ServiceCase.seq, ServiceCase.kind, ServiceCase.severity,
    ServiceCase.state, ServiceCase.priority, ServiceCase.repeat, ServiceCase.next_due_at,
    func.coalesce(customer_column(Customer.name, ServiceCase.customer_id),
                  ServiceCase.complainant_name).label("who"),
    user_name(ServiceCase.handler_id).label("handler_name"))


def query(filters: Filters, user, columns=None):
    """The cases the filters select in the user's scope: as entities with the customer's and
    the handler's names (the export and the PDF), or as rows of `columns` (the list)."""
    stmt = select(*columns) if columns else select(ServiceCase).options(
        selectinload(ServiceCase.customer).load_only(Customer.name),
        selectinload(ServiceCase.handler).load_only(User.display_name)
        .lazyload(User.role_rows))
    stmt = stmt.where(case_scope(user))
    for key in ("kind", "channel", "state", "severity"):
        if filters[key]:
            stmt = stmt.where(getattr(ServiceCase, key) == filters[key])
    if filters["department"]:
        stmt = stmt.where(ServiceCase.department_id == filters["department"])
    if filters["handler"]:
        stmt = stmt.where(ServiceCase.handler_id == filters["handler"])
    if filters["subject"]:
        stmt = stmt.where(ServiceCase.id.in_(select(CasePerson.case_id).where(
            CasePerson.user_id == filters["subject"], CasePerson.relation == "subject")))
    if filters["open"]:
        stmt = stmt.where(ServiceCase.state.in_([s.value for s in OPEN_CASE_STATES]))
    if filters["overdue"]:
        stmt = stmt.where(ServiceCase.next_due_at < clock.now())
    if filters["mine"]:
        stmt = stmt.where(waiting_on(user))
    if filters["since"]:
        stmt = stmt.where(ServiceCase.received_at >= local_midnight(filters["since"]))
    if filters["until"]:
        stmt = stmt.where(ServiceCase.received_at < local_midnight(filters["until"]
                                                                   + timedelta(days=1)))
    if filters["q"]:
        text = filters["q"]
        stmt = stmt.where(or_(
            search_fields.matches(text, search_fields.NAME, on=ServiceCase.customer_id),
            contains(ServiceCase.complainant_name, text), *_number_match(text)))
    return stmt


def waiting_on(user):
    """The cases at a step this user takes (the queue's "mine"): handled or led by them,
    registered by them and not yet with a handler, awaiting their decision as the manager of
    the department concerned, or escalated to them as the GM (who also decides the cases that
    concern no department)."""
    from intranet.core.roles import Role

    # The user's id as a literal, not a parameter: once psycopg has prepared the queue's
    # count, PostgreSQL tries a plan for any user, and for the average one it scanned every
    # case until a thousand matched (3 → 33-70 ms from the tenth request of a handler with
    # 1,100 open cases). Each user's statement is planned for that user; the id is an int.
    me = bindparam("me", int(user.id), literal_execute=True)
    clauses = [ServiceCase.handler_id == me, ServiceCase.leader_id == me,
               and_(ServiceCase.registered_by_id == me, ServiceCase.handler_id.is_(None))]
    if Role.SALES_MANAGER in user.roles and user.department_id:
        clauses.append(and_(ServiceCase.state == "awaiting_decision",
                            ServiceCase.department_id == user.department_id))
    if Role.GENERAL_MANAGER in user.roles:
        clauses.append(or_(ServiceCase.state == "escalated",
                           and_(ServiceCase.state == "awaiting_decision",
                                ServiceCase.department_id.is_(None))))
    return or_(*clauses)


def _number_match(text: str) -> list:
    """TS-2026-000123, 2026-123 or 123 find that case."""
    digits = [p for p in text.upper().removeprefix("TS-").split("-") if p.isdigit()]
    if len(digits) == 2 and len(digits[0]) == 4 and len(digits[1]) <= 9:
        return [and_(ServiceCase.year == int(digits[0]), ServiceCase.seq == int(digits[1]))]
    if len(digits) == 1 and len(digits[0]) <= 9:
        return [ServiceCase.seq == int(digits[0])]
    return []


def queue_order(stmt):
    """Rule P6: severe and VIP / key customers' cases first, then by the nearest deadline."""
    return stmt.order_by(ServiceCase.priority, nulls_last(ServiceCase.next_due_at.asc()),
                         ServiceCase.id)


def ledger_order(stmt):
    return stmt.order_by(ServiceCase.year.desc(), ServiceCase.seq.desc())


# --- figures ----------------------------------------------------------------------------------

@dataclass
class Figures:
    total: int
    by_kind: dict
    by_channel: dict
    by_state: dict
    repeats: int
    median_first_answer_hours: float | None
    median_reply_hours: float | None
    within_deadline_percent: float | None


def figures(stmt) -> Figures:
    """The figures of the cases `stmt` selects, in a constant four statements whatever their
    number: counts grouped in SQL, the deadlines kept counted in SQL, and each median read as
    the middle row(s) of its spans sorted in SQL (no row of the ledger is loaded)."""
    cases = stmt.order_by(None)
    counts = db.session.execute(cases.with_only_columns(
        ServiceCase.kind, ServiceCase.channel, ServiceCase.state, ServiceCase.repeat,
        func.count()).group_by(ServiceCase.kind, ServiceCase.channel, ServiceCase.state,
                               ServiceCase.repeat)).all()
    by_kind, by_channel, by_state = Counter(), Counter(), Counter()
    repeats = 0
    for kind, channel, state, repeat, n in counts:
        by_kind[kind] += n
        by_channel[channel] += n
        by_state[state] += n
        repeats += n if repeat else 0

    deadline = WorkflowDeadline
    clocks = (deadline.object_type == ComplaintFlow.object_type,
              deadline.object_id.in_(cases.with_only_columns(ServiceCase.id)))
    met = deadline.met_at.is_not(None)
    first = (met, deadline.kind.in_(FIRST_ANSWER_CLOCKS))
    reply = (met, deadline.kind == "reply")
    kept, met_total, missed_running, firsts, replies = db.session.execute(select(
        func.count().filter(met, deadline.met_at <= deadline.due_at),
        func.count().filter(met),
        func.count().filter(deadline.met_at.is_(None), deadline.paused_at.is_(None),
                            deadline.due_at < clock.now()),
        func.count().filter(*first), func.count().filter(*reply)).where(*clocks)).one()
    judged = met_total + missed_running
    return Figures(
        total=sum(by_kind.values()), by_kind=dict(by_kind), by_channel=dict(by_channel),
        by_state=dict(by_state), repeats=repeats,
        median_first_answer_hours=_median_hours(firsts, *clocks, *first),
        median_reply_hours=_median_hours(replies, *clocks, *reply),
        within_deadline_percent=round(100 * kept / judged, 1) if judged else None)


FIRST_ANSWER_CLOCKS = ("answer", "investigation")


def _met_after():
    """Seconds from a clock's start to the time it was met, in SQL: to the millisecond on
    SQLite (julianday keeps milliseconds), exact on PostgreSQL."""
    deadline = WorkflowDeadline
    if db.session.get_bind().dialect.name == "sqlite":
        return func.round((func.julianday(deadline.met_at) - func.julianday(
            deadline.started_at)) * 86_400_000) / 1000
    return extract("epoch", deadline.met_at - deadline.started_at)


def _median_hours(count: int, *where) -> float | None:
    """The median of `count` spans in hours, rounded to 0.1: the middle one or two, sorted
    and picked in SQL."""
    if not count:
        return None
    span = _met_after()
    middle = [float(seconds) / 3600 for seconds in db.session.scalars(
        select(span).where(*where).order_by(span).offset((count - 1) // 2)
        .limit(2 - count % 2))]
    return round(median(middle), 1) if middle else None


def month_bounds(month: str | None) -> tuple[date, date]:
    """"2026-11" → (2026-11-01, 2026-12-01); anything else is the current month."""
    try:
        year, number = (int(p) for p in (month or "").split("-"))
        if year not in YEARS:
            raise ValueError(year)
        first = date(year, number, 1)
    except ValueError:
        first = clock.now().astimezone(settings.tz()).date().replace(day=1)
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, following
