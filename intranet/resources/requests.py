"""Starting transfers and pool claims, and the director's own moves (rules R1, R4-R6): each
checks what the rules demand before the request exists, then the machine
(workflows/transfer.py) takes over. Refusals are `FieldError`s naming the form field."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select

from intranet.core import clock, settings
from intranet.core.errors import FieldError
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import (
    Customer,
    CustomerPool,
    OwnershipRecord,
    PoolClaim,
    ResourceRequest,
    TransferRequest,
    User,
    UserRole,
)
from intranet.resources import allocation, handover, ownership
from intranet.workflows import engine
from intranet.workflows.resource_states import OPEN_STATES


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise FieldError("reason", _l("Please give a reason."))
    return reason


def colleagues(department_id: int | None, *, exclude: set[int] = frozenset()) -> list[User]:
    """The active reps of a department a customer may go to (transfers stay in the
    department whose director approves them)."""
    if department_id is None:
        return []
    return list(db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(User.active, User.department_id == department_id,
               UserRole.role == Role.SALES_REP.value, User.id.not_in(exclude or {0}))
        .order_by(User.name_pinyin, User.id)))


def open_request(customer_id: int, kind: type[ResourceRequest]) -> ResourceRequest | None:
    return db.session.scalars(select(kind).where(
        kind.customer_id == customer_id, kind.state.in_(OPEN_STATES)).limit(1)).first()


def request_transfer(customer: Customer, to_user: User | None, *, requested_by: User,
                     reason: str) -> TransferRequest:
    """Rule R1: the owner offers a customer to a colleague, or a colleague asks for it; the
    other must agree and the director approve. Nobody moves it privately."""
    reason = _reason(reason)
    if customer.owner_id is None:
        raise FieldError("to_user_id", _l("This customer is in the shared pool: claim it "
                                          "there instead."))
    if to_user is None or to_user.id == customer.owner_id or to_user not in colleagues(
            customer.department_id):
        raise FieldError("to_user_id", _l("Choose a rep of the customer's department other "
                                          "than its owner."))
    if requested_by.id not in (customer.owner_id, to_user.id):
        raise FieldError("to_user_id", _l("Only the owner or the rep taking the customer "
                                          "over may ask for a transfer."))
    existing = open_request(customer.id, TransferRequest)
    if existing is not None:
        raise FieldError("to_user_id", _l("Transfer %(number)s of this customer is already "
                                          "in progress.", number=existing.number))
    row = TransferRequest(customer=customer, department_id=customer.department_id,
                          requested_by_id=requested_by.id, from_user_id=customer.owner_id,
                          to_user_id=to_user.id, reason=reason)
    engine.start(row, user=requested_by, role=Role.SALES_REP, comment=reason)
    return row


def visible_pools(user: User):
    """Rule R5: the shared pools (no department) and the user's own department's pools."""
    return or_(CustomerPool.department_id.is_(None),
               CustomerPool.department_id == user.department_id)


def pool_customer_or_none(customer_id: int, user: User) -> Customer | None:
    return db.session.scalars(
        select(Customer).join(CustomerPool, CustomerPool.id == Customer.pool_id)
        .where(Customer.id == customer_id, Customer.owner_id.is_(None),
               visible_pools(user))).first()


def claim(customer: Customer, user: User, reason: str) -> PoolClaim:
    """Rules R5, R6: a rep asks for a pool customer, within the company's limits."""
    reason = _reason(reason)
    now = clock.now()
    if ownership.load(user.id) >= settings.get("resources_max_customers"):
        raise FieldError("reason", _l("You already own %(n)s customers, the most allowed.",
                                      n=settings.get("resources_max_customers")))
    day_start = now - timedelta(days=1)
    today = db.session.scalar(select(func.count()).select_from(PoolClaim).where(
        PoolClaim.requested_by_id == user.id, PoolClaim.created_at > day_start)) or 0
    if today >= settings.get("resources_claims_per_day"):
        raise FieldError("reason", _l("You have made %(n)s claims in the last 24 hours, the "
                                      "most allowed.", n=today))
    wait = settings.get("resources_reclaim_wait_days")
    if wait and db.session.scalar(select(OwnershipRecord.id).where(
            OwnershipRecord.customer_id == customer.id, OwnershipRecord.to_user_id.is_(None),
            OwnershipRecord.from_user_id == user.id,
            OwnershipRecord.at > now - timedelta(days=wait)).limit(1)):
        raise FieldError("reason", _l("This customer left you less than %(n)s days ago: "
                                      "you may claim it again after that.", n=wait))
    if db.session.scalar(select(PoolClaim.id).where(
            PoolClaim.customer_id == customer.id, PoolClaim.requested_by_id == user.id,
            PoolClaim.state.in_(OPEN_STATES)).limit(1)):
        raise FieldError("reason", _l("You have already claimed this customer; the director "
                                      "has not decided yet."))
    row = PoolClaim(customer=customer, department_id=_claim_department(customer, user),
                    requested_by_id=user.id, to_user_id=user.id, pool_id=customer.pool_id,
                    reason=reason)
    engine.start(row, user=user, role=Role.SALES_REP, comment=reason)
    return row


def _claim_department(customer: Customer, user: User) -> int | None:
    """The claim goes to the claimant's director: the customer joins that department."""
    return user.department_id or customer.department_id


def settle_rivals(claim_row: PoolClaim, director: User) -> int:
    """Once a claim is approved, the other open claims on the customer are answered."""
    rivals = db.session.scalars(select(PoolClaim).where(
        PoolClaim.customer_id == claim_row.customer_id, PoolClaim.id != claim_row.id,
        PoolClaim.state.in_(OPEN_STATES))).all()
    for rival in rivals:
        if "reject" in engine.available_events(rival, director):
            engine.fire(rival, "reject", user=director,
                        comment=str(_l("Another rep's claim was approved.")))
    return len(rivals)


def reassign(customer: Customer, to_user: User | None, *, director: User,
             reason: str) -> OwnershipRecord:
    """Rule R4: the director moves a customer alone, after an incident, with the reason."""
    reason = _reason(reason)
    if to_user is None or to_user.id == customer.owner_id or to_user not in colleagues(
            customer.department_id):
        raise FieldError("to_user_id", _l("Choose a rep of the customer's department other "
                                          "than its owner."))
    from_user_id = customer.owner_id
    record = ownership.change_owner(customer, to_user, "reassignment", actor=director,
                                    approved_by=director, reason=reason)
    handover.follow_owner(customer, from_user_id, to_user, actor=director)
    return record


def hand_over_all(from_user: User | None, to_user: User | None, *, director: User,
                  reason: str, spread: bool = False) -> int:
    """Rules R1, R4: every customer of a rep who leaves goes to a colleague — one chosen, or
    for each customer the first the allocation ranking suggests (rule R7) — each as an
    ordinary reassignment record with the reason."""
    reason = _reason(reason)
    department = allocation.department_of(director)  # a deputy acts for the principal's
    reps = colleagues(department)
    if from_user is None or from_user not in reps:
        raise FieldError("from_user_id", _l("Choose a rep of your department."))
    if not spread and (to_user is None or to_user not in reps or to_user.id == from_user.id):
        raise FieldError("to_user_id", _l("Choose another rep of your department."))
    customers = db.session.scalars(select(Customer).where(
        Customer.owner_id == from_user.id, Customer.department_id == department)
        .order_by(Customer.id)).all()
    for customer in customers:
        target = _suggested(customer, department, from_user) if spread else to_user
        ownership.change_owner(customer, target, "reassignment", actor=director,
                               approved_by=director, reason=reason)
        handover.follow_owner(customer, from_user.id, target, actor=director)
    return len(customers)


def _suggested(customer: Customer, department: int | None, leaving: User) -> User:
    ranked = [s for s in allocation.suggest(customer, department)
              if s.rank and s.rep.id != leaving.id]
    if not ranked:
        raise FieldError("to_user_id", _l("No colleague can take %(name)s now (all suspended, "
                                          "away or at the cap): choose one.",
                                          name=customer.name))
    return ranked[0].rep
