"""Automatic reclaim to the pool, by rules stored as data (rules R2, R5, R6).

A rule's customers are those with an owner, of its tiers and department. Each type says when
their time is up, `days` after a start that SQL compares with one cutoff (no date arithmetic
in the database, so it reads the same on SQLite and PostgreSQL):

- no_activity (R2): no activity logged and no order since the allocation or the last
  activity, whichever is later;
- prospect (R5): a prospect not converted within `days` of ownership;
- former (R6): a former customer with no order for `days` (and owned that long).

`flask jobs run` reclaims what is due in two statements per rule and batch (an INSERT … SELECT
… LIMIT … RETURNING of the ownership records, an UPDATE of those customers), so a second run
finds nothing. The customer page and the owner's warnings read the same conditions:
`due(rule, moment)`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import (
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    update,
)

from intranet.core import clock, settings
from intranet.extensions import db
from intranet.models import Customer, Order, OwnershipRecord, ReclaimRule
from intranet.models.types import UTCDateTime

SINCE = func.coalesce(Customer.owned_since, Customer.created_at)


def local_date(moment: datetime) -> date:
    return moment.astimezone(settings.tz()).date()


def applies(rule: ReclaimRule):
    clauses = [Customer.owner_id.is_not(None)]
    if rule.tier_list:
        clauses.append(func.coalesce(Customer.tier_override, Customer.tier).in_(rule.tier_list))
    if rule.department_id:
        clauses.append(Customer.department_id == rule.department_id)
    if rule.kind == "prospect":
        clauses.append(Customer.relation == "prospect")
    elif rule.kind == "former":
        clauses.append(Customer.relation == "former")
    return and_(*clauses)


def due(rule: ReclaimRule, moment: datetime):
    """SQL: the rule's customers whose time is up at `moment` (now, or a date ahead)."""
    cutoff = moment - timedelta(days=rule.days)
    no_order = ~exists().where(Order.customer_id == Customer.id,
                               Order.ordered_on > local_date(cutoff))
    condition = [applies(rule), SINCE <= cutoff]
    if rule.kind == "no_activity":
        condition += [(Customer.last_activity_at.is_(None))
                      | (Customer.last_activity_at <= cutoff), no_order]
    elif rule.kind == "former":
        condition.append(no_order)
    return and_(*condition)


DEFAULT_POOL = "公海"
DEFAULT_RULES = (("no_activity", 60, "7 1"), ("prospect", 365, "30 7"), ("former", 365, "30 7"))


def ensure_defaults() -> None:
    """The default pool and the three rules of R2, R5 and R6 (switched off), if a database has
    none yet: the migration writes them, and this keeps them for a database emptied since."""
    from intranet.models import CustomerPool

    if db.session.scalar(select(func.count()).select_from(ReclaimRule)):
        return
    pool = db.session.scalar(select(CustomerPool).order_by(CustomerPool.id).limit(1))
    if pool is None:
        pool = CustomerPool(name=DEFAULT_POOL)
        db.session.add(pool)
        db.session.flush()
    db.session.add_all(ReclaimRule(kind=kind, days=days, tiers="", pool_id=pool.id,
                                   warn_days=warn, enabled=False, updated_at=clock.now())
                       for kind, days, warn in DEFAULT_RULES)
    db.session.flush()


_ALL = select(ReclaimRule).order_by(ReclaimRule.id)
_ENABLED = _ALL.where(ReclaimRule.enabled)


def all_rules() -> list[ReclaimRule]:
    return list(db.session.scalars(_ALL))


def enabled_rules() -> list[ReclaimRule]:
    return list(db.session.scalars(_ENABLED))


def preview(rule: ReclaimRule, limit: int = 20) -> tuple[int, list[Customer]]:
    """How many customers the rule would reclaim now, and the first of them by name."""
    now = clock.now()
    count = db.session.scalar(select(func.count()).select_from(Customer)
                              .where(due(rule, now))) or 0
    sample = db.session.scalars(select(Customer).where(due(rule, now))
                                .order_by(Customer.name_pinyin, Customer.id).limit(limit)).all()
    return count, sample


def reclaim(rule: ReclaimRule, now: datetime, limit: int, after: int = 0) -> list[int]:
    """Rule R2/R5/R6 as two set-based statements for at most `limit` customers past id `after`
    (in id order: a batch reads on from where the last one stopped rather than walking the
    customers moved before it again); returns the ids of the customers moved, ascending."""
    reason = f"reclaim_rule:{rule.id}"
    chosen = select(Customer.id, literal("reclaim"), Customer.owner_id, null(),
                    literal(rule.pool_id), literal(reason), literal("reclaim_rule"),
                    literal(rule.id), null(), null(), literal(now, UTCDateTime())).where(
        due(rule, now), Customer.id > after).order_by(Customer.id).limit(limit)
    # RETURNING names the batch (the INSERT … SELECT's rowcount is -1 on PostgreSQL), so the
    # UPDATE looks up at most `limit` ids, not every record of the run so far.
    recorded = db.session.scalars(insert(OwnershipRecord).from_select(
        ["customer_id", "kind", "from_user_id", "to_user_id", "pool_id", "reason",
         "object_type", "object_id", "actor_id", "approved_by_id", "at"], chosen)
        .returning(OwnershipRecord.customer_id)).all()
    if not recorded:
        return []
    table = Customer.__table__
    return sorted(db.session.scalars(
        update(table).where(table.c.owner_id.is_not(None), table.c.id.in_(recorded))
        .values(owner_id=None, owned_since=None, pool_id=rule.pool_id)
        .returning(table.c.id)))


ASK = object()  # returns_on's last order when the caller does not know it


@dataclass(frozen=True)
class Return:
    on: date
    rule: ReclaimRule


def returns_on(customer: Customer, rules: list[ReclaimRule] | None = None,
               last_order: date | None | object = ASK) -> Return | None:
    """When (and by which rule) this customer returns to the pool, as things stand: what the
    customer page shows, updated the moment an activity or order is recorded. `last_order`:
    the date of the customer's last order (None: no order) when the caller knows it."""
    if customer.owner_id is None:
        return None
    rules = [rule for rule in (enabled_rules() if rules is None else rules)
             if applies_to(rule, customer)]
    if not rules:
        return None
    if last_order is ASK:
        last_order = db.session.scalar(_LAST_ORDER, {"customer_id": customer.id})
    return min((return_by(customer, rule, last_order) for rule in rules),
               key=lambda r: (r.on, r.rule.id))


_LAST_ORDER = select(func.max(Order.ordered_on)).where(
    Order.customer_id == bindparam("customer_id"))


def applies_to(rule: ReclaimRule, customer: Customer) -> bool:
    """`applies(rule)` asked of one loaded customer in Python: the customer page asks it of
    every rule, and building the SQL for that cost more than the page's other queries (issue
    12). tests/test_reclaim.py keeps the two equal."""
    if customer.owner_id is None:
        return False
    if rule.tier_list and (customer.tier_override or customer.tier) not in rule.tier_list:
        return False
    if rule.department_id and customer.department_id != rule.department_id:
        return False
    if rule.kind in ("prospect", "former"):
        return customer.relation == rule.kind
    return True


def returns_on_many(customers: list[Customer],
                    rules: list[ReclaimRule]) -> dict[int, Return | None]:
    """`returns_on` for a page of customers: one query for the last orders and one per rule,
    whatever the page's size."""
    ids = [c.id for c in customers if c.owner_id is not None]
    if not ids:
        return {c.id: None for c in customers}
    orders = last_orders(ids)
    covered = {rule.id: set(db.session.scalars(select(Customer.id).where(
        Customer.id.in_(ids), applies(rule)))) for rule in rules}
    found = {}
    for customer in customers:
        candidates = [return_by(customer, rule, orders.get(customer.id)) for rule in rules
                      if customer.id in covered[rule.id]]
        found[customer.id] = min(candidates, key=lambda r: (r.on, r.rule.id)) \
            if candidates else None
    return found


def return_by(customer: Customer, rule: ReclaimRule, last_order: date | None) -> Return:
    """When `rule` returns this customer of its own, given the date of its last order."""
    since = customer.owned_since or customer.created_at
    order_moment = _midnight(last_order) if last_order else None
    starts = [since]
    if rule.kind == "no_activity":
        starts += [customer.last_activity_at, order_moment]
    elif rule.kind == "former":
        starts.append(order_moment)
    start = max(s for s in starts if s is not None)
    return Return(local_date(start + timedelta(days=rule.days)), rule)


def return_day(rule: ReclaimRule, first: date, last: date, since, active, last_order):
    """SQL: `return_by(...).on` as 'YYYY-MM-DD' for a customer whose return falls from `first`
    to `last` (NULL outside), given its start columns: `since` (owned since or created),
    `active` (last activity) and `last_order` (date of the last order). So the warnings job can
    match the dedupe keys of the warnings already sent without loading the customers.

    return_by's start is the latest of these (the order as its local midnight); the customer
    returns on day D when start + days falls before the midnight that ends D. One WHEN per
    day, first match wins, each comparing the columns with cutoffs computed here as due() does
    (no date arithmetic in the database)."""
    span, whens, day = timedelta(days=rule.days), [], first
    while day <= last:
        bound = _midnight(day + timedelta(days=1)) - span  # start < bound: returns by `day`
        starts_before = [since < bound]
        if rule.kind == "no_activity":
            starts_before.append(or_(active.is_(None), active < bound))
        if rule.kind in ("no_activity", "former"):
            starts_before.append(or_(last_order.is_(None), last_order < _first_day_from(bound)))
        whens.append((and_(*starts_before), day.isoformat()))
        day += timedelta(days=1)
    return case(*whens, else_=null()) if whens else null()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), settings.tz())


def _first_day_from(moment: datetime) -> date:
    """The first date whose local midnight is at or after `moment`: an order's midnight is
    before `moment` exactly when its date is before this one."""
    day = local_date(moment)
    return day if _midnight(day) >= moment else day + timedelta(days=1)


def last_orders(customer_ids: list[int], chunk: int = 500) -> dict[int, date]:
    """The date of each customer's last order, one query per `chunk` customers."""
    found: dict[int, date] = {}
    for i in range(0, len(customer_ids), chunk):
        found.update(db.session.execute(
            select(Order.customer_id, func.max(Order.ordered_on))
            .where(Order.customer_id.in_(customer_ids[i:i + chunk]))
            .group_by(Order.customer_id)).all())
    return found
