"""Leads at the service desk (rule C4): the deal-size class from the expected deal value, the
registration of a lead into the shared pool (no owner until the director allocates it), and
the pause of a desk agent whose classifications were found wrong too often.

A "wrong classification" mark is an approved re-classification request naming the agent who
classified the customer (ResourceRequest.classified_by_id). An agent with
`intake_wrong_class_limit` marks decided within one calendar month (company time zone) is
paused from intake for `intake_pause_days` days from the mark that reached the limit. The
pause is derived from the marks whenever it is asked, so nothing has to run for it to start
or end.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from intranet.core import audit, clock, settings
from intranet.customers.credit_code import normalise as normalise_code
from intranet.customers.dedupe import find_duplicate
from intranet.extensions import db
from intranet.models import Contact, Customer, CustomerPool, Reclassification, User
from intranet.resources.intake_settings import CLASS_MINIMUMS
from intranet.resources.reclaim import DEFAULT_POOL, ensure_defaults
from intranet.workflows.resource_states import RequestState


def deal_class(value: Decimal | int | None) -> str | None:
    """Rule C4: A ≥ ¥800,000, B ≥ ¥400,000, C ≥ ¥200,000, D below (the settings' figures)."""
    if value is None:
        return None
    for name in ("A", "B", "C"):
        if value >= settings.get(CLASS_MINIMUMS[name]):
            return name
    return "D"


def thresholds() -> list[tuple[str, int]]:
    return [(name, settings.get(key)) for name, key in CLASS_MINIMUMS.items()]


def default_pool() -> CustomerPool:
    ensure_defaults()
    pool = db.session.scalar(select(CustomerPool).where(CustomerPool.name == DEFAULT_POOL))
    return pool or db.session.scalar(select(CustomerPool).order_by(CustomerPool.id).limit(1))


@dataclass(frozen=True)
class Lead:
    name: str
    credit_code: str | None = None
    contact_name: str = ""
    contact_phone: str = ""
    region: str = ""
    deal_value: Decimal | None = None
    deal_class: str | None = None  # the desk's override; None: computed from the value


class Duplicate(Exception):
    """Rule C2: the lead matches a registered customer."""

    def __init__(self, customer: Customer, reason: str):
        super().__init__(reason)
        self.customer, self.reason = customer, reason


class Paused(Exception):
    """Rule C4: the agent is paused from intake until `until`."""

    def __init__(self, until: datetime):
        super().__init__(until.isoformat())
        self.until = until


def register_lead(lead: Lead, agent: User) -> Customer:
    """A new lead in the default pool, classified by `agent`. No owner and so no ownership
    record yet: the first one is written when the director allocates it; the audit trail
    records the registration and the class."""
    until = paused_until(agent)
    if until is not None:
        raise Paused(until)
    code = normalise_code(lead.credit_code or "") or None
    phones = [lead.contact_phone] if lead.contact_phone else []
    found = find_duplicate(lead.name, code, phones)
    if found:
        audit.record(audit.Action.VIEW, "customer_duplicate", found[0].id,
                     details={"attempted": lead.name, "matched_on": found[1]})
        raise Duplicate(*found)
    computed = deal_class(lead.deal_value)
    chosen = lead.deal_class or computed
    now = clock.now()
    customer = Customer(name=lead.name.strip(), credit_code=code, region=lead.region.strip(),
                        relation="prospect", owner_id=None, pool_id=default_pool().id,
                        department_id=None, created_by_id=agent.id, deal_value=lead.deal_value,
                        deal_class=chosen, classified_by_id=agent.id, classified_at=now)
    if lead.contact_name or lead.contact_phone:
        customer.contacts.append(Contact(name=lead.contact_name.strip(),
                                         phone=lead.contact_phone.strip()))
    db.session.add(customer)
    db.session.flush()
    audit.record(audit.Action.CREATE, "customer", customer.id, user=agent, details={
        "name": customer.name, "credit_code": code, "source": "lead_intake",
        "deal_value": str(lead.deal_value) if lead.deal_value is not None else None,
        "deal_class": chosen, "computed_class": computed,
        "overridden": bool(lead.deal_class and lead.deal_class != computed)})
    return customer


def _local_month(moment: datetime) -> tuple[int, int]:
    local = moment.astimezone(settings.tz())
    return local.year, local.month


def marks(agent_id: int, since: datetime) -> list[datetime]:
    """When the agent's wrong-classification marks were given (approvals since `since`)."""
    return list(db.session.scalars(
        select(Reclassification.decided_at).where(
            Reclassification.classified_by_id == agent_id,
            Reclassification.state == RequestState.APPROVED.value,
            Reclassification.decided_at >= since)
        .order_by(Reclassification.decided_at)))


def marks_this_month(agent_id: int) -> int:
    now = clock.now()
    month = _local_month(now)
    return sum(1 for at in marks(agent_id, now - timedelta(days=32))
               if _local_month(at) == month)


def paused_until(agent: User, now: datetime | None = None) -> datetime | None:
    """Rule C4: the end of the agent's intake pause in force at `now`, or None."""
    now = now or clock.now()
    limit, days = settings.get("intake_wrong_class_limit"), settings.get("intake_pause_days")
    by_month: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    for at in marks(agent.id, now - timedelta(days=days + 32)):
        by_month[_local_month(at)].append(at)
    ends = [times[limit - 1] + timedelta(days=days) for times in by_month.values()
            if len(times) >= limit and times[limit - 1] <= now]
    ends = [end for end in ends if end > now]
    return max(ends) if ends else None


def leads_of(agent_id: int):
    """SQL: the leads this agent registered (the desk's own list)."""
    return select(Customer).where(Customer.created_by_id == agent_id,
                                  Customer.classified_by_id.is_not(None))


def lead_count(agent_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(leads_of(agent_id).subquery()))
