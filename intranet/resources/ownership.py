"""Every change of a customer's owner goes through `change_owner` (rules R1, R3, R4): it moves
the customer, keeps `owned_since` and the pool right, and writes one ownership record and one
audit row in the same transaction. Sales are attributed by date from these records
(`owner_on`)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import aliased

from intranet.core import audit, clock
from intranet.extensions import db
from intranet.models import Customer, CustomerPool, OwnershipRecord, User


def change_owner(customer: Customer, to_user: User | None, kind: str, *, actor: User | None,
                 reason: str = "", pool_id: int | None = None, approved_by: User | None = None,
                 object_type: str = "", object_id: int | None = None) -> OwnershipRecord:
    """Give `customer` to `to_user` (None: to the pool `pool_id`)."""
    now = clock.now()
    record = OwnershipRecord(
        customer_id=customer.id, kind=kind, from_user_id=customer.owner_id,
        to_user_id=to_user.id if to_user else None, pool_id=None if to_user else pool_id,
        reason=reason, object_type=object_type, object_id=object_id,
        actor_id=actor.id if actor else None,
        approved_by_id=approved_by.id if approved_by else None, at=now)
    db.session.add(record)
    customer.owner_id = to_user.id if to_user else None
    customer.owned_since = now if to_user else None
    customer.pool_id = None if to_user else pool_id
    if to_user is not None and to_user.department_id:
        customer.department_id = to_user.department_id
    audit.record(audit.Action.UPDATE, "customer", customer.id, user=actor, reason=reason,
                 details={"owner": {"from": record.from_user_id, "to": record.to_user_id},
                          "kind": kind, "pool": record.pool_id})
    return record


def first_owner(customer: Customer, kind: str, actor: User | None) -> OwnershipRecord:
    """The record of a new customer's first owner (registration or import, rule R3)."""
    record = OwnershipRecord(customer_id=customer.id, kind=kind, from_user_id=None,
                             to_user_id=customer.owner_id, actor_id=actor.id if actor else None,
                             at=clock.now())
    customer.owned_since = record.at
    db.session.add(record)
    return record


_FROM, _TO, _APPROVER = aliased(User), aliased(User), aliased(User)
_HISTORY = (
    select(OwnershipRecord.at, OwnershipRecord.kind, OwnershipRecord.from_user_id,
           OwnershipRecord.to_user_id, OwnershipRecord.approved_by_id,
           _FROM.display_name.label("from_name"),
           _TO.display_name.label("to_name"), CustomerPool.name.label("pool_name"),
           _APPROVER.display_name.label("approved_by_name"))
    .outerjoin(_FROM, _FROM.id == OwnershipRecord.from_user_id)
    .outerjoin(_TO, _TO.id == OwnershipRecord.to_user_id)
    .outerjoin(_APPROVER, _APPROVER.id == OwnershipRecord.approved_by_id)
    .outerjoin(CustomerPool, CustomerPool.id == OwnershipRecord.pool_id)
    .where(OwnershipRecord.customer_id == bindparam("customer_id"))
    .order_by(OwnershipRecord.at, OwnershipRecord.id))


def history(customer_id: int) -> list[OwnershipRecord]:
    return list(db.session.scalars(
        select(OwnershipRecord).where(OwnershipRecord.customer_id == customer_id)
        .order_by(OwnershipRecord.at, OwnershipRecord.id)))


def history_table(customer_id: int):
    """`history` as the customer page shows it: rows (at, kind, the three users' ids,
    from_name, to_name, pool_name, approved_by_name), in one statement built once."""
    return db.session.execute(_HISTORY, {"customer_id": customer_id}).all()


def owner_on(customer_id: int, moment: datetime) -> int | None:
    """Rule R1: whose sale a transaction of this date is — the owner by the records then."""
    return db.session.scalar(
        select(OwnershipRecord.to_user_id).where(OwnershipRecord.customer_id == customer_id,
                                                 OwnershipRecord.at <= moment)
        .order_by(OwnershipRecord.at.desc(), OwnershipRecord.id.desc()).limit(1))


def load(user_id: int | None) -> int:
    """How many customers `user_id` owns now (rules R5-R7: the cap and the workload)."""
    return db.session.scalar(select(func.count()).select_from(Customer)
                             .where(Customer.owner_id == user_id)) or 0
