"""Rule C9: sales, receivables and payment record derived from orders, shipments and payments;
rule C3 tiers and rule C5 growth computed from them. Money is Decimal throughout."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Date, bindparam, case, func, literal, select, union_all

from intranet.core import clock, settings
from intranet.extensions import db
from intranet.models import Customer, Order, Payment, Shipment

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Figures:
    sales_12m: Decimal = ZERO
    sales_prev_12m: Decimal = ZERO
    payments_12m: Decimal = ZERO
    shipped_total: Decimal = ZERO
    paid_total: Decimal = ZERO
    open_orders: Decimal = ZERO
    transactions: int = 0
    last_order_on: date | None = None

    @property
    def receivable(self) -> Decimal:
        return self.shipped_total - self.paid_total

    @property
    def payment_rate(self) -> Decimal | None:
        """回款率 over the last 12 months: payments / shipments, None without shipments."""
        if not self.sales_12m:
            return None
        return min(self.payments_12m / self.sales_12m, Decimal("1")).quantize(Decimal("0.0001"))

    @property
    def growth(self) -> Decimal | None:
        """Year-on-year growth of sales (rule C5); None without last year's sales."""
        if not self.sales_prev_12m:
            return None
        return ((self.sales_12m - self.sales_prev_12m) / self.sales_prev_12m).quantize(
            Decimal("0.0001"))


def today() -> date:
    return clock.now().astimezone(settings.tz()).date()


def local_now() -> datetime:
    """Now in the company's time zone, naive, to the minute (for datetime-local inputs)."""
    return clock.now().astimezone(settings.tz()).replace(second=0, microsecond=0, tzinfo=None)


# Built once: constructing these CASE expressions for every call cost ~1 ms of CPU per
# statement, three times what running them does (issue 12); the dates and ids are parameters.
_IDS = bindparam("ids", expanding=True)
_ON, _YEAR_AGO, _TWO_YEARS_AGO = bindparam("on"), bindparam("year_ago"), bindparam("two_years_ago")
_NO_DATE = literal(None, Date)
# One statement for the three tables (a round trip each on PostgreSQL): per customer, a row of
# shipments, one of payments and one of orders, told apart by `kind`.
_FIGURES = union_all(
    select(
        literal("shipped").label("kind"), Shipment.customer_id,
        func.sum(case(((Shipment.shipped_on > _YEAR_AGO) & (Shipment.shipped_on <= _ON),
                       Shipment.amount), else_=0)).label("last"),
        func.sum(case(((Shipment.shipped_on > _TWO_YEARS_AGO)
                       & (Shipment.shipped_on <= _YEAR_AGO), Shipment.amount),
                      else_=0)).label("prev"),
        func.sum(case((Shipment.shipped_on <= _ON, Shipment.amount), else_=0)).label("all"),
        func.count().label("n"), _NO_DATE.label("last_on"),
    ).where(Shipment.customer_id.in_(_IDS)).group_by(Shipment.customer_id),
    select(
        literal("paid"), Payment.customer_id,
        func.sum(case(((Payment.received_on > _YEAR_AGO) & (Payment.received_on <= _ON),
                       Payment.amount), else_=0)),
        literal(0),
        func.sum(case((Payment.received_on <= _ON, Payment.amount), else_=0)),
        func.count(), _NO_DATE,
    ).where(Payment.customer_id.in_(_IDS)).group_by(Payment.customer_id),
    select(
        literal("ordered"), Order.customer_id,
        func.sum(case((Order.status == "open", Order.amount), else_=0)),
        literal(0), literal(0), func.count(), func.max(Order.ordered_on),
    ).where(Order.customer_id.in_(_IDS)).group_by(Order.customer_id),
)


def figures(customer_ids, on: date | None = None) -> dict[int, Figures]:
    """Figures for many customers in one query, whatever their number."""
    ids = list(customer_ids)
    if not ids:
        return {}
    on = on or today()
    params = {"ids": ids, "on": on, "year_ago": on - timedelta(days=365),
              "two_years_ago": on - timedelta(days=730)}
    found = {"shipped": {}, "paid": {}, "ordered": {}}
    for row in db.session.execute(_FIGURES, params):
        found[row.kind][row.customer_id] = row
    shipped, paid, ordered = found["shipped"], found["paid"], found["ordered"]

    result = {}
    for cid in ids:
        s, p, o = shipped.get(cid), paid.get(cid), ordered.get(cid)
        result[cid] = Figures(
            sales_12m=_money(s.last if s else 0), sales_prev_12m=_money(s.prev if s else 0),
            payments_12m=_money(p.last if p else 0), shipped_total=_money(s.all if s else 0),
            paid_total=_money(p.all if p else 0), open_orders=_money(o.last if o else 0),
            transactions=(s.n if s else 0) + (p.n if p else 0) + (o.n if o else 0),
            last_order_on=o.last_on if o else None)
    return result


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def tier_for(fig: Figures) -> str:
    """Rule C3: VIP ≥ vip threshold with a good payment record; key ≥ key threshold;
    general below; reserve without any transaction (a prospect)."""
    if fig.transactions == 0:
        return "reserve"
    vip_min = Decimal(settings.get("tier_vip_min_yuan"))
    key_min = Decimal(settings.get("tier_key_min_yuan"))
    good_rate = Decimal(settings.get("tier_vip_min_payment_percent")) / 100
    rate = fig.payment_rate
    if fig.sales_12m >= vip_min and rate is not None and rate >= good_rate:
        return "vip"
    if fig.sales_12m >= key_min:
        return "key"
    return "general"


def refresh(customers: list[Customer], on: date | None = None) -> None:
    """Store the trailing figures and the computed tier on each customer (overrides stay)."""
    computed = figures([c.id for c in customers], on)
    for customer in customers:
        fig = computed[customer.id]
        customer.sales_12m = fig.sales_12m
        customer.sales_prev_12m = fig.sales_prev_12m
        before = customer.effective_tier
        customer.tier = tier_for(fig)
        note_tier_change(customer, before)


def note_tier_change(customer: Customer, before: str | None) -> None:
    """Keep the movement of the customer's effective tier (the reports' tier movements, rule
    Q2); a customer not yet stored has no movement."""
    from intranet.models import TierChange

    after = customer.effective_tier
    if customer.id is not None and before and after != before:
        db.session.add(TierChange(customer_id=customer.id, from_tier=before, to_tier=after))
