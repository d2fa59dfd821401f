"""Reclaim jobs for `flask jobs run` (rules R2, R5, R6): the owners' warnings at each rule's
lead times, then the reclaim itself. SQL picks the customers (the warnings load only those
within a lead time); a second run changes nothing: reclaimed customers have no owner, and each
warning has a dedupe key naming the customer, rule, lead time and the date it is about. Both
work in keyset batches, each committed with its notifications and audit entry (issue 12)."""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from flask import url_for
from sqlalchemy import select

from intranet.core import audit, clock, notifications
from intranet.core.jobs import batch_size, batches, job
from intranet.core.notifications import Note
from intranet.extensions import db
from intranet.models import Customer, Notification, OwnershipRecord
from intranet.resources import reclaim


@job("reclaim_warnings")
def warn() -> int:
    """Per rule and lead time: the customers due by then (not yet now), a batch at a time with
    their last orders in one query and the warnings already sent in one query — so a day's
    second run, and the customers warned on earlier days, cost no query each."""
    now, sent = clock.now(), 0
    for rule in reclaim.enabled_rules():
        for lead in rule.lead_days:
            ahead = now + timedelta(days=lead)

            def pick(after, limit, rule=rule, ahead=ahead):
                return db.session.scalars(select(Customer).where(
                    reclaim.due(rule, ahead), ~reclaim.due(rule, now), Customer.id > after)
                    .order_by(Customer.id).limit(limit)).all()

            for soon in batches(pick, key=lambda customer: customer.id):
                sent += _warn(rule, lead, soon)
    return sent


def _warn(rule, lead: int, soon: list[Customer]) -> int:
    orders = reclaim.last_orders([c.id for c in soon])
    # due() selects only the rule's customers (applies()): no check per customer
    on = {c.id: reclaim.return_by(c, rule, orders.get(c.id)).on for c in soon}
    keys = {c.id: f"reclaim:{rule.id}:{c.id}:{lead}:{on[c.id]}" for c in soon}
    done = _already_sent(list(keys.values()))
    return notifications.notify_many([
        Note(customer.owner_id, "reclaim_warning",
             url_for("sales.customer", customer_id=customer.id),
             {"customer": customer.name, "on": on[customer.id].isoformat()}, keys[customer.id])
        for customer in soon if (customer.owner_id, keys[customer.id]) not in done])


def _already_sent(keys: list[str], chunk: int = 500) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    for i in range(0, len(keys), chunk):
        found.update(db.session.execute(select(Notification.user_id, Notification.dedupe_key)
                                        .where(Notification.dedupe_key.in_(keys[i:i + chunk]))
                                        ).all())
    return found


@job("reclaim")
def run() -> int:
    """Batches of at most batch_size() customers over the rules in order (a customer two rules
    would take goes by the first), each committed with one audit entry per rule and one notice
    per former owner; a run of one batch reads as before the batching."""
    now, moved, size = clock.now(), 0, batch_size()
    rules = reclaim.enabled_rules()
    while True:
        batch: list[int] = []
        for rule in rules:
            if len(batch) >= size:
                break
            ids = reclaim.reclaim(rule, now, limit=size - len(batch))
            if ids:
                audit.record(audit.Action.UPDATE, "reclaim_rule", rule.id, user=None,
                             details={"reclaimed": len(ids), "pool": rule.pool_id})
            batch += ids
        if batch:
            _tell_former_owners(now, batch)
        db.session.commit()
        moved += len(batch)
        if len(batch) < size:  # every rule found fewer than it could take: none is left
            return moved


def _tell_former_owners(now, customer_ids: list[int]) -> None:
    rows = db.session.execute(
        select(OwnershipRecord.from_user_id, Customer.name)
        .join(Customer, Customer.id == OwnershipRecord.customer_id)
        .where(OwnershipRecord.kind == "reclaim", OwnershipRecord.at == now,
               OwnershipRecord.customer_id.in_(customer_ids))
        .order_by(Customer.name)).all()
    names = defaultdict(list)
    for user_id, name in rows:
        names[user_id].append(name)
    notifications.notify_many([
        Note(user_id, "reclaimed", url_for("sales.customers"),
             {"n": len(customers), "names": "、".join(customers[:10])})
        for user_id, customers in names.items()])
