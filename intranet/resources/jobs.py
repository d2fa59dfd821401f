"""Reclaim jobs for `flask jobs run` (rules R2, R5, R6): the owners' warnings at each rule's
lead times, then the reclaim itself. SQL picks the customers (the warnings only those within
a lead time not yet warned about the day they return on); a second run changes nothing:
reclaimed customers have no owner, and each warning has a dedupe key naming the customer,
rule, lead time and the date it is about. Both work in batches, each committed with its
notifications and audit entry (issue 12)."""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from flask import url_for
from sqlalchemy import String, cast, exists, func, literal, select

from intranet.core import audit, clock, notifications
from intranet.core.jobs import Pace, batches, job
from intranet.core.notifications import Note
from intranet.extensions import db
from intranet.models import Customer, Notification, Order, OwnershipRecord
from intranet.resources import reclaim


@job("reclaim_warnings")
def warn() -> int:
    """Per rule and lead time, SQL picks the customers due by then (not yet now) that have no
    warning yet about the day they return on (their dedupe key, built in SQL with
    reclaim.return_day), a bounded batch at a time: a run with nothing to send is one SELECT
    per rule and lead time, however many customers are in the window."""
    now, sent = clock.now(), 0
    for rule in reclaim.enabled_rules():
        for lead in rule.lead_days:
            for batch in batches(_unwarned(rule, lead, now), key=lambda row: row.id):
                sent += notifications.notify_many([
                    Note(row.owner_id, "reclaim_warning",
                         url_for("sales.customer", customer_id=row.id),
                         {"customer": row.name, "on": row.on}, _key(rule, row.id, lead, row.on))
                    for row in batch])
    return sent


def _key(rule, customer_id, lead: int, on) -> str:
    return f"reclaim:{rule.id}:{customer_id}:{lead}:{on}"


def _unwarned(rule, lead: int, now):
    ahead = now + timedelta(days=lead)
    last_order = select(func.max(Order.ordered_on)).where(
        Order.customer_id == Customer.id).correlate(Customer).scalar_subquery()
    # The customers in the window, each with its last order read once: materialised, as
    # otherwise the database copies that subquery into every day of return_day's CASE.
    window = select(Customer.id, Customer.owner_id, reclaim.SINCE.label("since"),
                    Customer.last_activity_at, last_order.label("last_order")).where(
        reclaim.due(rule, ahead), ~reclaim.due(rule, now)).cte("reclaim_window")
    window = window.prefix_with("MATERIALIZED")
    on = reclaim.return_day(rule, reclaim.local_date(now), reclaim.local_date(ahead),
                            window.c.since, window.c.last_activity_at,
                            window.c.last_order).label("on")
    key = literal(f"reclaim:{rule.id}:") + cast(window.c.id, String) + literal(f":{lead}:") + on

    def pick(after, limit):
        return db.session.execute(
            select(window.c.id, window.c.owner_id, Customer.name, on)
            .join(Customer, Customer.id == window.c.id)
            .where(window.c.id > after,
                   ~exists().where(Notification.user_id == window.c.owner_id,
                                   Notification.dedupe_key == key))
            .order_by(window.c.id).limit(limit)).all()
    return pick


@job("reclaim")
def run() -> int:
    """Batches of at most batch_size() customers over the rules in order (a customer two rules
    would take goes by the first), each committed with one audit entry per rule and one notice
    per former owner; a run of one batch reads as before the batching. Each rule reads on from
    the last customer it moved, and a rule that found fewer than it could take has none left
    (the moment is the run's), so no batch walks again what an earlier one read."""
    now, moved, pace = clock.now(), 0, Pace()
    rules = reclaim.enabled_rules()
    after = {rule.id: 0 for rule in rules}
    while True:
        batch: list[int] = []
        size = pace.size
        for rule in rules:
            if len(batch) >= size:
                break
            if after[rule.id] is None:
                continue
            wanted = size - len(batch)
            ids = reclaim.reclaim(rule, now, limit=wanted, after=after[rule.id])
            after[rule.id] = ids[-1] if len(ids) == wanted else None
            if ids:
                audit.record(audit.Action.UPDATE, "reclaim_rule", rule.id, user=None,
                             details={"reclaimed": len(ids), "pool": rule.pool_id})
            batch += ids
        if batch:
            _tell_former_owners(now, batch)
        db.session.commit()
        moved += len(batch)
        if not pace.done(len(batch)):  # every rule found fewer than it could take: none left
            return moved


def _tell_former_owners(now, customer_ids: list[int]) -> None:
    rows = db.session.execute(
        select(OwnershipRecord.from_user_id, Customer.name)
        .join(Customer, Customer.id == OwnershipRecord.customer_id)
        .where(OwnershipRecord.kind == "reclaim", OwnershipRecord.at == now,
               OwnershipRecord.customer_id.in_(customer_ids))
        .order_by(Customer.name_pinyin, Customer.id)).all()
    names = defaultdict(list)
    for user_id, name in rows:
        names[user_id].append(name)
    notifications.notify_many([
        Note(user_id, "reclaimed", url_for("sales.customers"),
             {"n": len(customers), "names": "、".join(customers[:10])})
        for user_id, customers in names.items()])
