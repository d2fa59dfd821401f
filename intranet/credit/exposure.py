"""Rule K7: no order or shipment that takes a customer's exposure over its effective limit.

exposure = outstanding receivables + open orders + this one. Blacklisted customers (C8) and
customers without an effective limit are blocked as well. Only the GM may force a shipment
release; the override names the responsible rep and manager (they bear the loss).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import select

from intranet.core import clock
from intranet.core.roles import Role
from intranet.credit import effective_limits
from intranet.customers import ledger
from intranet.extensions import db
from intranet.models import CreditOverride, Customer, Order, User, UserRole

BLACKLISTED, NO_LIMIT, OVER_LIMIT = "blacklisted", "no_limit", "over_limit"


@dataclass(frozen=True)
class Exposure:
    customer: Customer
    receivables: Decimal
    open_orders: Decimal  # other open orders, this one excluded
    amount: Decimal
    limit: Decimal | None
    problem: str | None  # None: within the limit

    @property
    def total(self) -> Decimal:
        return self.receivables + self.open_orders + self.amount

    @property
    def allowed(self) -> bool:
        return self.problem is None

    def message(self) -> str:
        def money(value):
            return "¥" + format_decimal(value, format="#,##0.00")
        if self.problem == BLACKLISTED:
            return _("%(name)s is on the blacklist: no orders or shipments.",
                     name=self.customer.name)
        if self.problem == NO_LIMIT:
            return _("%(name)s has no approved credit limit in force: apply for one first.",
                     name=self.customer.name)
        numbers = _("receivables %(r)s + open orders %(o)s + this %(a)s = %(t)s",
                    r=money(self.receivables), o=money(self.open_orders),
                    a=money(self.amount), t=money(self.total))
        if self.problem == OVER_LIMIT:
            return _("Blocked by the credit limit: %(numbers)s, over the approved "
                     "limit of %(limit)s by %(over)s.", numbers=numbers,
                     limit=money(self.limit), over=money(self.total - self.limit))
        return _("Within the credit limit: %(numbers)s of %(limit)s.", numbers=numbers,
                 limit=money(self.limit))


def check(customer: Customer, amount: Decimal, order: Order | None = None) -> Exposure:
    fig = ledger.figures([customer.id])[customer.id]
    open_orders = fig.open_orders
    if order is not None and order.status == "open":
        open_orders -= order.amount  # counted once, as "this one"
    application = effective_limits([customer.id]).get(customer.id)
    limit = application.approved_limit if application else None
    total = fig.receivable + open_orders + amount
    if customer.blacklisted:
        problem = BLACKLISTED
    elif limit is None:
        problem = NO_LIMIT
    elif total > limit:
        problem = OVER_LIMIT
    else:
        problem = None
    return Exposure(customer, fig.receivable, open_orders, amount, limit, problem)


def responsible_manager(customer: Customer) -> User | None:
    """The sales manager of the customer's department (the first one, if several)."""
    if customer.department_id is None:
        return None
    return db.session.scalar(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(User.department_id == customer.department_id, User.active,
               UserRole.role == Role.SALES_MANAGER.value).order_by(User.id).limit(1))


def record_override(order: Order, exposure: Exposure, reason: str, user, grant) -> CreditOverride:
    manager = responsible_manager(exposure.customer)
    override = CreditOverride(
        customer_id=exposure.customer.id, order_id=order.id, amount=exposure.amount,
        exposure=exposure.total, credit_limit=exposure.limit, reason=reason,
        forced_by_id=user.id,
        on_behalf_of_id=grant.on_behalf_of.id if grant and grant.on_behalf_of else None,
        responsible_rep_id=exposure.customer.owner_id,
        responsible_manager_id=manager.id if manager else None, at=clock.now())
    db.session.add(override)
    return override
