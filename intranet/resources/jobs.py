"""Reclaim jobs for `flask jobs run` (rules R2, R5, R6): the owners' warnings at each rule's
lead times, then the reclaim itself. SQL picks the customers (the warnings load only those
within a lead time); a second run changes nothing: reclaimed customers have no owner, and each
warning has a dedupe key naming the customer, rule, lead time and the date it is about."""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from flask import url_for
from sqlalchemy import select

from intranet.core import audit, clock, notifications
from intranet.core.jobs import job
from intranet.extensions import db
from intranet.models import Customer, Notification, OwnershipRecord
from intranet.resources import reclaim


@job("reclaim_warnings")
def warn() -> int:
    """Per rule and lead time: the customers due by then (not yet now), their last orders in
    one query per 500, and the warnings already sent in one query per 500 keys — so a day's
    second run, and the customers warned on earlier days, cost no query each."""
    now, sent = clock.now(), 0
    for rule in reclaim.enabled_rules():
        for lead in rule.lead_days:
            ahead = now + timedelta(days=lead)
            soon = db.session.scalars(select(Customer).where(
                reclaim.due(rule, ahead), ~reclaim.due(rule, now))).all()
            orders = reclaim.last_orders([c.id for c in soon])
            # due() selects only the rule's customers (applies()): no check per customer
            on = {c.id: reclaim.return_by(c, rule, orders.get(c.id)).on for c in soon}
            keys = {c.id: f"reclaim:{rule.id}:{c.id}:{lead}:{on[c.id]}" for c in soon}
            done = _already_sent(list(keys.values()))
            for customer in soon:
                if (customer.owner_id, keys[customer.id]) in done:
                    continue
                sent += notifications.notify_once(
                    customer.owner_id, keys[customer.id], "reclaim_warning",
                    url_for("sales.customer", customer_id=customer.id),
                    customer=customer.name, on=on[customer.id].isoformat())
    return sent


def _already_sent(keys: list[str], chunk: int = 500) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    for i in range(0, len(keys), chunk):
        found.update(db.session.execute(select(Notification.user_id, Notification.dedupe_key)
                                        .where(Notification.dedupe_key.in_(keys[i:i + chunk]))
                                        ).all())
    return found


@job("reclaim")
def run() -> int:
    now, moved = clock.now(), 0
    for rule in reclaim.enabled_rules():
        count = reclaim.reclaim(rule, now)
        if count:
            audit.record(audit.Action.UPDATE, "reclaim_rule", rule.id, user=None,
                         details={"reclaimed": count, "pool": rule.pool_id})
        moved += count
    if moved:
        _tell_former_owners(now)
    return moved


def _tell_former_owners(now) -> None:
    rows = db.session.execute(
        select(OwnershipRecord.from_user_id, Customer.name)
        .join(Customer, Customer.id == OwnershipRecord.customer_id)
        .where(OwnershipRecord.kind == "reclaim", OwnershipRecord.at == now)
        .order_by(Customer.name)).all()
    names = defaultdict(list)
    for user_id, name in rows:
        names[user_id].append(name)
    for user_id, customers in names.items():
        notifications.notify(user_id, "reclaimed", url_for("sales.customers"),
                             n=len(customers), names="、".join(customers[:10]))
