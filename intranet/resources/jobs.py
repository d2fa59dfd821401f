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
from intranet.models import Customer, OwnershipRecord
from intranet.resources import reclaim


@job("reclaim_warnings")
def warn() -> int:
    now, sent = clock.now(), 0
    rules = reclaim.enabled_rules()
    for rule in rules:
        for lead in rule.lead_days:
            ahead = now + timedelta(days=lead)
            soon = db.session.scalars(select(Customer).where(
                reclaim.due(rule, ahead), ~reclaim.due(rule, now))).all()
            for customer in soon:
                returning = reclaim.returns_on(customer, [rule])
                if returning is None:
                    continue
                sent += notifications.notify_once(
                    customer.owner_id, f"reclaim:{rule.id}:{customer.id}:{lead}:{returning.on}",
                    "reclaim_warning", url_for("sales.customer", customer_id=customer.id),
                    customer=customer.name, on=returning.on.isoformat())
    return sent


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
