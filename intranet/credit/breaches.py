"""Rule K3: a customer whose outstanding receivables exceed its effective limit is flagged for
investigation and collection; its owner and finance are told once per breach.

A breach is a stored period (opened when found, closed when receivables fall back within the
limit), so a second run of the check notifies nobody again.
"""
from __future__ import annotations

from flask import url_for
from sqlalchemy import bindparam, insert, select

from intranet.core import clock, notifications
from intranet.core.roles import Role
from intranet.credit import effective_limits
from intranet.customers import ledger
from intranet.extensions import db
from intranet.models import CreditBreach, Customer

_OPEN = select(CreditBreach).where(CreditBreach.ended_at.is_(None))
_OPEN_FOR = _OPEN.where(CreditBreach.customer_id.in_(bindparam("ids", expanding=True)))


def open_breaches(customer_ids=None) -> dict[int, CreditBreach]:
    found = db.session.scalars(_OPEN) if customer_ids is None else \
        db.session.scalars(_OPEN_FOR, {"ids": list(customer_ids)})
    return {b.customer_id: b for b in found}


def check(customers: list[Customer]) -> tuple[int, int]:
    """Open or close breaches for these customers; returns (opened, closed)."""
    ids = [c.id for c in customers]
    limits = effective_limits(ids)
    figures = ledger.figures(ids)
    current = open_breaches(ids)
    opened = closed = 0
    finance, found, notes = None, [], []
    for customer in customers:
        application = limits.get(customer.id)
        receivable = figures[customer.id].receivable
        over = application is not None and receivable > application.approved_limit
        breach = current.get(customer.id)
        if over and breach is None:
            if finance is None:  # finance staff and their deputies, looked up once
                finance = notifications.role_holders(Role.FINANCE)
            found.append({"customer_id": customer.id, "started_at": clock.now(),
                          "credit_limit": application.approved_limit, "receivables": receivable})
            link = url_for("sales.customer", customer_id=customer.id)
            params = {"customer": customer.name, "receivables": f"{receivable:,.2f}",
                      "limit": f"{application.approved_limit:,.2f}"}
            notes += [notifications.Note(user_id, "credit_over_limit", link, params)
                      for user_id in sorted({customer.owner_id, *finance} - {None})]
            opened += 1
        elif not over and breach is not None:
            breach.ended_at = clock.now()
            closed += 1
    if found:  # one INSERT each for the breaches and the notices, however many (issue 12)
        db.session.execute(insert(CreditBreach), found)
        notifications.notify_many(notes)
    return opened, closed
