"""Allocation of pool customers and new leads to the reps of a department (rule R7), the
ranking and its reasons in words, and who is skipped and why (rules R8, R9).

`suggest(customer, department_id, now)` ranks the department's active reps:

1. deal class against experience (A → senior, B → intermediate, C and D → new hire); a
   mismatch ranks lower by how far the levels are apart, but is not forbidden;
2. region: the rep already has customers in the customer's region;
3. who collected the file: the rep registered or classified the customer;
4. load against the cap (setting `resources_max_customers`), in tenths of the cap;
5. fairness: fewest allocations in the last 30 days, then the lighter load.

Skipped, with the reason shown: reps suspended by a penalty (R9), with a missed first contact
whose skip is not used yet (R8), marked away, without a login for the settable number of days,
or at the cap. The bulk handover of a leaving rep reuses `suggest` customer by customer.

`allocate` gives the customer to a rep through ownership.change_owner (kind "allocation",
approved by the allocating manager) and starts the first-contact clock (first_contact.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import url_for
from flask_babel import format_datetime, gettext
from sqlalchemy import and_, exists, func, or_, select, update

from intranet.core import clock, notifications, settings
from intranet.core.access import valid_delegations
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import ContactMiss, Customer, CustomerPool, OwnershipRecord, User, UserRole
from intranet.resources import EXPERIENCE_LABELS, first_contact, ownership, suspensions
from intranet.resources.settings import ABSENT_DAYS, MAX_CUSTOMERS

WANTED = {"A": "senior", "B": "intermediate", "C": "new", "D": "new"}
LEVELS = {"new": 0, "intermediate": 1, "senior": 2}
FAIRNESS_DAYS = 30


class AllocationError(ValueError):
    """The allocation is refused; the message says why."""


class AllocationConflict(AllocationError):
    """Someone else moved the customer meanwhile."""


@dataclass
class Suggestion:
    rep: User
    load: int
    cap: int
    deal_class: str | None
    region: str
    region_count: int = 0
    collected: bool = False
    recent: int = 0
    skipped: str = ""  # why the rep is skipped; empty: ranked
    rank: int | None = None
    facts: dict = field(default_factory=dict)

    @property
    def gap(self) -> int:
        """How far the rep's experience is from what the deal class asks (0: a match)."""
        if not self.deal_class:
            return 0
        return abs(LEVELS.get(self.rep.experience, 0) - LEVELS[WANTED[self.deal_class]])

    def key(self):
        return (self.gap, self.region_count == 0, not self.collected,
                self.load * 10 // max(self.cap, 1), self.recent, self.load, self.rep.id)

    @property
    def why(self) -> str:
        """The reasons in words, in the reader's language."""
        level = str(EXPERIENCE_LABELS.get(self.rep.experience, self.rep.experience))
        if not self.deal_class:
            parts = [gettext("%(level)s; the customer has no deal class", level=level)]
        elif self.gap == 0:
            parts = [gettext("%(level)s, matches a class %(cls)s resource", level=level,
                             cls=self.deal_class)]
        else:
            parts = [gettext("%(level)s; a class %(cls)s resource suits a %(wanted)s",
                             level=level, cls=self.deal_class,
                             wanted=str(EXPERIENCE_LABELS[WANTED[self.deal_class]]))]
        if self.region:
            parts.append(gettext("%(n)s customers in the same region already",
                                 n=self.region_count) if self.region_count
                         else gettext("no customer in this region yet"))
        if self.collected:
            parts.append(gettext("collected this customer's file"))
        parts.append(gettext("now %(load)s/%(cap)s customers", load=self.load, cap=self.cap))
        parts.append(gettext("%(n)s allocations in the last %(days)s days", n=self.recent,
                             days=FAIRNESS_DAYS))
        return gettext("; ").join(parts)


def department_of(user) -> int | None:
    """The department a sales manager allocates for (their own, or the one of the manager
    they stand in for)."""
    if Role.SALES_MANAGER in user.roles:
        return user.department_id
    for delegation in valid_delegations(user):
        if delegation.role == Role.SALES_MANAGER.value:
            return delegation.principal.department_id
    return None


def allocatable(department_id: int | None):
    """SQL: customers without an owner the department's manager may allocate: those in the
    department's pools and the shared pools, and new leads (in no pool) of the department or of
    none."""
    if department_id is None:
        return Customer.id.is_(None)
    pools = select(CustomerPool.id).where(or_(CustomerPool.department_id == department_id,
                                              CustomerPool.department_id.is_(None)))
    return and_(Customer.owner_id.is_(None), or_(
        Customer.pool_id.in_(pools),
        and_(Customer.pool_id.is_(None), or_(Customer.department_id.is_(None),
                                             Customer.department_id == department_id))))


def reallocatable(department_id: int | None):
    """SQL: customers of the department whose first contact was missed by the rep who still
    owns them (rule R8): the director may reallocate them."""
    return exists().where(ContactMiss.customer_id == Customer.id,
                          first_contact.missed_in(department_id))


def reps_of(department_id: int | None) -> list[User]:
    if department_id is None:
        return []
    return list(db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(User.active, User.department_id == department_id,
               UserRole.role == Role.SALES_REP.value).order_by(User.id)))


def _counts(column, *where) -> dict[int, int]:
    return dict(db.session.execute(select(column, func.count()).where(*where)
                                   .group_by(column)).all())


def loads(ids) -> dict[int, int]:
    return _counts(Customer.owner_id, Customer.owner_id.in_(ids))


def _local(moment: datetime) -> str:
    return format_datetime(moment, "yyyy-MM-dd HH:mm")


def suggest(customer: Customer, department_id: int | None,
            now: datetime | None = None) -> list[Suggestion]:
    """The department's reps for this customer: ranked ones first (rank 1 is the best), then
    the skipped ones with their reason. A fixed number of queries whatever the size."""
    now = now or clock.now()
    reps = [r for r in reps_of(department_id) if r.id != customer.owner_id]
    ids = [r.id for r in reps]
    if not ids:
        return []
    cap = settings.get(MAX_CUSTOMERS)
    load = loads(ids)
    region = (customer.region or "").strip()
    in_region = _counts(Customer.owner_id, Customer.owner_id.in_(ids),
                        Customer.region == region, Customer.id != customer.id) if region else {}
    recent = _counts(OwnershipRecord.to_user_id, OwnershipRecord.to_user_id.in_(ids),
                     OwnershipRecord.kind == "allocation",
                     OwnershipRecord.at >= now - timedelta(days=FAIRNESS_DAYS))
    suspended = suspensions.suspended_until(ids, now)
    skips = first_contact.pending_skips(ids)
    absent_days = settings.get(ABSENT_DAYS)
    found = []
    for rep in reps:
        s = Suggestion(rep=rep, load=load.get(rep.id, 0), cap=cap,
                       deal_class=customer.deal_class, region=region,
                       region_count=in_region.get(rep.id, 0),
                       collected=rep.id in (customer.created_by_id, customer.classified_by_id),
                       recent=recent.get(rep.id, 0))
        last_seen = rep.last_login_at or rep.created_at
        if rep.id in suspended:
            s.skipped = gettext("Suspended until %(until)s", until=_local(suspended[rep.id]))
        elif rep.id in skips:
            s.skipped = gettext("Missed the first contact of %(customer)s; sits out this "
                                "allocation", customer=skips[rep.id].customer.name)
        elif rep.away:
            s.skipped = gettext("Marked away")
        elif last_seen is None or last_seen < now - timedelta(days=absent_days):
            s.skipped = gettext("No login for %(n)s days or more", n=absent_days)
        elif s.load >= cap:
            s.skipped = gettext("Has reached the cap of %(cap)s customers", cap=cap)
        found.append(s)
    ranked = sorted((s for s in found if not s.skipped), key=Suggestion.key)
    for number, s in enumerate(ranked, 1):
        s.rank = number
    return ranked + [s for s in found if s.skipped]


def allocate(customer: Customer, rep: User, manager: User, department_id: int | None,
             reason: str = "") -> OwnershipRecord:
    """Give the customer to `rep` (rule R7) and start the first-contact clock (R8). A customer
    without an owner must be allocatable by the department; one with an owner must be a missed
    first contact, which this reallocates. Raises AllocationError (skipped rep, wrong customer)
    or AllocationConflict (moved meanwhile)."""
    now = clock.now()
    previous = customer.owner_id
    scope = reallocatable(department_id) if previous is not None \
        else allocatable(department_id)
    if not db.session.scalar(select(exists().where(Customer.id == customer.id, scope))):
        raise AllocationError(gettext("This customer cannot be allocated by you now."))
    miss = None
    if previous is not None:
        miss = db.session.scalar(select(ContactMiss).where(
            ContactMiss.customer_id == customer.id, ContactMiss.user_id == previous)
            .order_by(ContactMiss.id.desc()).limit(1))
    choice = next((s for s in suggest(customer, department_id, now) if s.rep.id == rep.id), None)
    if choice is None:
        raise AllocationError(gettext("Choose a rep of your department."))
    if choice.skipped:
        raise AllocationError(choice.skipped)
    owner_now = Customer.owner_id.is_(None) if previous is None else \
        Customer.owner_id == previous
    moved = db.session.execute(update(Customer).where(Customer.id == customer.id, owner_now)
                               .values(owner_id=rep.id)
                               .execution_options(synchronize_session=False)).rowcount
    if not moved:
        raise AllocationConflict(gettext("Someone else has just moved this customer."))
    record = ownership.change_owner(
        customer, rep, "allocation", actor=manager, approved_by=manager, reason=reason.strip(),
        object_type="contact_miss" if miss else "", object_id=miss.id if miss else None)
    db.session.flush()
    deadline = first_contact.start(record)
    first_contact.use_skips(department_id, record)
    notifications.notify(rep.id, "allocated", url_for("sales.customer", customer_id=customer.id),
                         customer=customer.name, due=_local(deadline.due_at))
    return record
