"""Writes of service cases and their consequences in one place (DESIGN.md "Writes and their
consequences"): the ledger number, the first response and the clocks at intake, contacts,
corrective actions and attachments, each with its audit row. Views parse, call and render."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import exists, select

from intranet.core import audit, clock, settings
from intranet.core.i18n import lazy_gettext as _l
from intranet.customers import attachments
from intranet.extensions import db
from intranet.models import (
    CaseAttachment,
    CaseContact,
    CasePerson,
    CorrectiveAction,
    Customer,
    LedgerCounter,
    ServiceCase,
    User,
)
from intranet.workflows import deadlines, engine
from intranet.workflows.complaint import start_complaint_clocks
from intranet.workflows.complaint_states import CaseKind, CaseState
from intranet.workflows.engine import InvalidInput

LEDGER_PREFIX = "TS"
PRIORITY_FIRST = 0  # rule P6: severe cases and VIP / key customers' cases


def next_number(year: int) -> int:
    """Rule P1: the next ledger number of the year, taken under a row lock, never reused."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(LedgerCounter).values(prefix=LEDGER_PREFIX, year=year, last=0)
                       .on_conflict_do_nothing())
    counter = db.session.scalar(select(LedgerCounter).where(
        LedgerCounter.prefix == LEDGER_PREFIX, LedgerCounter.year == year)
        .with_for_update().execution_options(populate_existing=True))
    counter.last += 1
    return counter.last


@dataclass
class Intake:
    """What the first responder records (P1, P7)."""

    kind: str
    channel: str
    received_at: datetime
    description: str
    severity: str = "general"
    customer: Customer | None = None
    complainant_name: str = ""
    complainant_phone: str = ""
    department_id: int | None = None
    subject_ids: list[int] = field(default_factory=list)
    first_answer: str = ""
    plan: str = ""
    promised_on: date | None = None
    handler_id: int | None = None


def end_of(day: date) -> datetime:
    """A date promised to a customer is kept if met by the end of that day, local time."""
    zone = settings.tz()
    return datetime.combine(day + timedelta(days=1), time(0), zone) - timedelta(microseconds=1)


PROMISE_HORIZON = timedelta(days=366)
RECEIVED_HORIZON = timedelta(days=31)


def check_promise(promised_on: date | None) -> None:
    """A date promised to a customer: given, not past, and within a year."""
    if promised_on is None:
        raise InvalidInput("promised_on", _l("Enter the date promised to the customer."))
    today = clock.now().astimezone(settings.tz()).date()
    if promised_on < today:
        raise InvalidInput("promised_on", _l("The promised date cannot be in the past."))
    if promised_on > today + PROMISE_HORIZON:
        raise InvalidInput("promised_on", _l("Promise a date within a year."))


def check(intake: Intake) -> None:
    """Rule P7: the first responder records the answer given on the spot or the plan and the
    date promised; rule P1: an authority's referral goes straight to a handler."""
    if intake.channel == "authority" and intake.kind != CaseKind.COMPLAINT:
        raise InvalidInput("kind", _l("A referral from an authority is registered as a "
                                      "complaint."))
    if clock.now() - intake.received_at > RECEIVED_HORIZON:
        raise InvalidInput("received_at", _l("A case is registered within a month of its "
                                             "receipt."))
    if intake.kind == CaseKind.CONSULTATION and intake.first_answer.strip():
        return
    if not intake.plan.strip():
        raise InvalidInput("plan", _l("Record the answer given on the spot, or the plan told "
                                      "to the customer.") if intake.kind == CaseKind.CONSULTATION
                           else _l("Record the plan told to the customer."))
    check_promise(intake.promised_on)
    if intake.kind == CaseKind.COMPLAINT and intake.channel == "authority" \
            and intake.handler_id is None:
        raise InvalidInput("handler_id", _l("A referral from an authority goes straight to a "
                                            "complaint handler: choose one."))


def register(intake: Intake, user: User) -> ServiceCase:
    check(intake)
    received = intake.received_at
    customer = intake.customer
    case = ServiceCase(
        year=received.astimezone(settings.tz()).year, kind=intake.kind, channel=intake.channel,
        severity=intake.severity, state=CaseState.REGISTERED.value, received_at=received,
        customer_id=customer.id if customer else None,
        complainant_name=intake.complainant_name, complainant_phone=intake.complainant_phone,
        department_id=intake.department_id or _department_of(customer, intake.subject_ids),
        description=intake.description, registered_by_id=user.id,
        first_answer=intake.first_answer, plan=intake.plan, promised_on=intake.promised_on)
    case.seq = next_number(case.year)
    case.repeat = _is_repeat(case)
    case.priority = _priority(case, customer)
    case.people = [CasePerson(user_id=uid, relation="subject")
                   for uid in sorted(set(intake.subject_ids))]
    db.session.add(case)
    db.session.flush()
    audit.record(audit.Action.CREATE, "service_case", case.id, details={
        "number": case.number, "kind": case.kind, "channel": case.channel,
        "customer": case.customer_id, "subjects": sorted(set(intake.subject_ids))})
    _start_clocks(case, intake)
    if intake.kind == CaseKind.CONSULTATION and intake.first_answer.strip():
        _follow_up(case, "answer", user, comment=intake.first_answer)
    elif intake.kind == CaseKind.COMPLAINT and intake.handler_id is not None:
        _follow_up(case, "assign", user, handler_id=intake.handler_id)
    return case


def _follow_up(case: ServiceCase, event: str, user: User, **data) -> None:
    """The step that follows the intake at once, if the registering user may take it (P2: a
    desk agent named in the case registers it and leaves the rest to a colleague)."""
    if event in engine.available_events(case, user):
        engine.fire(case, event, user=user, **data)


def _start_clocks(case: ServiceCase, intake: Intake) -> None:
    """Rule P5: each kind's deadline, and every date promised to the customer as its own."""
    received = case.received_at
    if case.kind == CaseKind.CONSULTATION:
        hours = settings.get("consultation_answer_hours")
        deadlines.start(case, "answer", received + timedelta(hours=hours), started_at=received)
    elif case.kind == CaseKind.COMPLAINT:
        start_complaint_clocks(case, received)
    if intake.promised_on is not None:
        deadlines.start(case, "promised", end_of(intake.promised_on), note=intake.plan,
                        started_at=received)


def _department_of(customer: Customer | None, subject_ids) -> int | None:
    if customer is not None and customer.department_id:
        return customer.department_id
    for uid in subject_ids:
        person = db.session.get(User, uid)
        if person is not None and person.department_id:
            return person.department_id
    return None


def _is_repeat(case: ServiceCase) -> bool:
    """Rule P6: the customer complained within the last N days (a setting)."""
    if case.customer_id is None or case.kind != CaseKind.COMPLAINT:
        return False
    since = case.received_at - timedelta(days=settings.get("complaint_repeat_days"))
    return bool(db.session.scalar(select(exists().where(
        ServiceCase.customer_id == case.customer_id, ServiceCase.kind == CaseKind.COMPLAINT,
        ServiceCase.received_at >= since, ServiceCase.received_at <= case.received_at))))


def _priority(case: ServiceCase, customer: Customer | None) -> int:
    important = customer is not None and customer.effective_tier in ("vip", "key")
    return PRIORITY_FIRST if case.severity == "severe" or important else 1


# --- contacts, corrective actions, attachments (no state change) ---------------------------

AFTER_DECISION = {CaseState.DECIDED, CaseState.IMPLEMENTED, CaseState.REPLIED,
                  CaseState.FOLLOWED_UP, CaseState.CONSIDERED}


def add_contact(case: ServiceCase, kind: str, note: str, user: User,
                promised_on: date | None = None) -> CaseContact:
    """Rule P4: every contact is logged; no promise is given before the decision. Rule P5: a
    promise carries its date, which runs as its own deadline."""
    if case.state == CaseState.CLOSED:
        raise InvalidInput("note", _l("The case is closed."))
    if kind == "promise" and case.state not in AFTER_DECISION:
        raise InvalidInput("kind", _l("No promise can be made to the customer before the "
                                      "decision."))
    if kind == "promise":
        check_promise(promised_on)
        deadlines.start(case, "promised", end_of(promised_on), note=note)
    contact = CaseContact(case_id=case.id, kind=kind, note=note, user_id=user.id,
                          at=clock.now())
    db.session.add(contact)
    db.session.flush()
    audit.record(audit.Action.CREATE, "case_contact", contact.id,
                 details={"case": case.id, "kind": kind})
    return contact


def add_action(case: ServiceCase, what: str, owner: User, due_on: date,
               user: User) -> CorrectiveAction:
    """Rule P8: corrective actions are recorded once the case is decided."""
    if case.state not in AFTER_DECISION:
        raise InvalidInput("what", _l("Corrective actions are recorded once the case is "
                                      "decided."))
    action = CorrectiveAction(case_id=case.id, what=what, owner_id=owner.id, due_on=due_on,
                              created_by_id=user.id)
    db.session.add(action)
    db.session.flush()
    audit.record(audit.Action.CREATE, "corrective_action", action.id,
                 details={"case": case.id, "owner": owner.id, "due_on": due_on})
    return action


def verify_action(case: ServiceCase, action: CorrectiveAction, user: User) -> None:
    """Rule P8 with P2: the verifier is not someone complained about in the case."""
    from intranet.workflows.complaint_rules import recused_ids

    if user.id in recused_ids(case):
        raise InvalidInput("action", _l("A person complained about cannot verify the case."))
    if action.verified_at is not None:
        raise InvalidInput("action", _l("This action is already verified."))
    action.verified_by_id, action.verified_at = user.id, clock.now()
    audit.record(audit.Action.UPDATE, "corrective_action", action.id,
                 details={"case": case.id, "verified": True})


def add_attachment(case: ServiceCase, filename: str, data: bytes, user: User):
    if case.state == CaseState.CLOSED:
        raise InvalidInput("file", _l("The case is closed."))
    problem = attachments.problem(data)
    if problem:
        raise InvalidInput("file", problem)
    item = CaseAttachment(case_id=case.id, filename=attachments.secure_name(filename),
                          size=len(data), kind=attachments.kind_of(data), data=data,
                          uploaded_by_id=user.id)
    db.session.add(item)
    db.session.flush()
    audit.record(audit.Action.CREATE, "case_attachment", item.id,
                 details={"case": case.id, "name": item.filename, "size": item.size})
    return item

