"""The sections of a periodic report (rule Q2), each a chart with its table, for one period and
one department (None: the whole company). Each is a constant number of statements. Tiers and
credit exposure are as of today (a report is written in the days after its period); the rest
counts what happened within the period."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select, true

from intranet.complaints import KIND_LABELS as CASE_KIND_LABELS
from intranet.complaints import ledger as case_ledger
from intranet.core.access import sees_everything
from intranet.core.charts import Chart
from intranet.core.i18n import lazy_gettext as _l
from intranet.customers.labels import ACTIVITY_LABELS, TIER_LABELS
from intranet.extensions import db
from intranet.models import (
    Activity,
    Customer,
    Department,
    FollowUp,
    Order,
    OwnershipRecord,
    Payment,
    ServiceCase,
    Shipment,
    TierChange,
    User,
)
from intranet.models.customer import TIERS
from intranet.reports import figures
from intranet.visits import PURPOSE_LABELS, cadence

TOP = 10
SOLD = ("open", "shipped")  # orders that count as sales (cancelled ones do not)


def _scoped(stmt, column, scope):
    """`stmt` limited to the customers of `scope` through `column` (a customer id), as
    `column IN (the scope's customers)`: a department's orders or shipments are then read
    through the (customer, day) indexes, 3 to 6 times faster on SQLite at 100,000 customers
    than probing each row's customer (bench/reports.py)."""
    if sees_everything(scope):
        return stmt
    return stmt.where(column.in_(select(Customer.id).where(scope)))


def _scope(department_id):
    return true() if department_id is None else Customer.department_id == department_id


def _within(column, start: date, end: date):
    """A timestamp column within the local days start..end."""
    return (column >= cadence.local_midnight_utc(start),
            column < cadence.local_midnight_utc(end + timedelta(days=1)))


def _months(start: date, end: date) -> list[date]:
    months, month = [], start
    while month <= end:
        months.append(month)
        month = cadence.shift(month, 1, 1)
    return months


def tiers(scope, start, end) -> Chart:
    return figures.tiers(scope)


def tier_moves(scope, start, end) -> Chart:
    """Customers whose tier moved within the period, from their first tier in it to their
    last (a customer that moved and moved back did not move)."""
    rows = db.session.execute(_scoped(
        select(TierChange.customer_id, TierChange.from_tier, TierChange.to_tier)
        .where(*_within(TierChange.changed_at, start, end))
        .order_by(TierChange.customer_id, TierChange.changed_at, TierChange.id),
        TierChange.customer_id, scope)).all()
    first, last = {}, {}
    for customer_id, old, new in rows:
        first.setdefault(customer_id, old)
        last[customer_id] = new
    moves = Counter((first[c], last[c]) for c in first if first[c] != last[c])
    order = {t: i for i, t in enumerate(TIERS)}
    pairs = sorted(moves, key=lambda p: (order[p[0]], order[p[1]]))
    up = sum(n for (old, new), n in moves.items() if order[new] < order[old])
    return Chart("tier_moves", _l("Tier movements"),
                 [f"{TIER_LABELS[old]} → {TIER_LABELS[new]}" for old, new in pairs],
                 [(_l("Number of customers"), [moves[p] for p in pairs])], kind="hbar",
                 note=str(_l("%(up)s customers moved up, %(down)s down.", up=up,
                             down=sum(moves.values()) - up)) if moves else
                 str(_l("No customer changed tier in this period.")))


def _previous_start(start: date, end: date) -> date:
    months = len(_months(start, end))
    return cadence.shift(start, -1, months)


def growth(scope, start, end) -> Chart:
    """The customers whose orders grew most against the period before."""
    before = _previous_start(start, end)
    now_sum = func.sum(case((Order.ordered_on >= start, Order.amount), else_=0))
    then_sum = func.sum(case((Order.ordered_on < start, Order.amount), else_=0))
    grown = (now_sum - then_sum).label("grown")
    rows = db.session.execute(_scoped(
        select(Order.customer_id, now_sum, then_sum, grown)
        .where(Order.status.in_(SOLD), Order.ordered_on >= before, Order.ordered_on <= end)
        .group_by(Order.customer_id).having(now_sum > then_sum)
        .order_by(grown.desc(), Order.customer_id).limit(TOP),
        Order.customer_id, scope)).all()
    names = dict(db.session.execute(select(Customer.id, Customer.name).where(
        Customer.id.in_([r[0] for r in rows]))).all())
    money = [(Decimal(now or 0), Decimal(then or 0)) for _, now, then, _ in rows]
    return Chart("growth", _l("Growth ranking (orders against the period before)"),
                 [names.get(r[0], "—") for r in rows],
                 [(_l("Growth (yuan)"), [now - then for now, then in money])],
                 kind="hbar", money=True,
                 columns=[(_l("This period"), [f"¥{now:,.2f}" for now, _ in money]),
                          (_l("Period before"), [f"¥{then:,.2f}" for _, then in money]),
                          (_l("Growth (%)"), [f"{100 * (now - then) / then:.1f}%" if then
                                              else "—" for now, then in money])],
                 note="" if rows else str(_l("No customer's orders grew in this period.")))


def _sales_by(column, names: dict, key: str, title, scope, start, end) -> Chart:
    rows = db.session.execute(_scoped(
        select(column, func.sum(Order.amount), func.count(func.distinct(Order.customer_id)))
        .join(Customer, Customer.id == Order.customer_id)
        .where(Order.status.in_(SOLD), Order.ordered_on >= start, Order.ordered_on <= end)
        .group_by(column).order_by(func.sum(Order.amount).desc(), column),
        Order.customer_id, scope)).all()
    return Chart(key, title, [names.get(who, "—") if who else str(_l("Unassigned (shared pool)"))
                              for who, _, _ in rows],
                 [(_l("Orders (yuan)"), [Decimal(total or 0) for _, total, _ in rows])],
                 kind="hbar", money=True,
                 columns=[(_l("Customers ordering"), [n for _, _, n in rows])],
                 note="" if rows else str(_l("No orders in this period.")))


def sales_by_rep(scope, start, end) -> Chart:
    """By the customer's owner today."""
    names = dict(db.session.execute(select(User.id, User.display_name)).all())
    return _sales_by(Customer.owner_id, names, "sales_by_rep", _l("Sales by rep"),
                     scope, start, end)


def sales_by_department(scope, start, end) -> Chart:
    from flask_babel import get_locale

    locale = str(get_locale() or "zh")
    names = {d.id: d.name(locale) for d in db.session.scalars(select(Department))}
    return _sales_by(Customer.department_id, names, "sales_by_department",
                     _l("Sales by department"), scope, start, end)


def receivables(scope, start, end) -> Chart:
    """Shipped (invoiced) and paid per month of the period, the payment rate, and what the
    customers owed at the period's end."""
    months = _months(start, end)
    # one expression object in the select and the group by: PostgreSQL must see the same
    # bound format in both
    ship_month, pay_month = figures._month(Shipment.shipped_on), figures._month(
        Payment.received_on)
    shipped = dict(db.session.execute(_scoped(
        select(ship_month, func.sum(Shipment.amount))
        .where(Shipment.shipped_on >= start, Shipment.shipped_on <= end)
        .group_by(ship_month), Shipment.customer_id, scope)).all())
    paid = dict(db.session.execute(_scoped(
        select(pay_month, func.sum(Payment.amount))
        .where(Payment.received_on >= start, Payment.received_on <= end)
        .group_by(pay_month), Payment.customer_id, scope)).all())
    owed = (Decimal(db.session.scalar(_scoped(
        select(func.coalesce(func.sum(Shipment.amount), 0)).where(Shipment.shipped_on <= end),
        Shipment.customer_id, scope)) or 0) - Decimal(db.session.scalar(_scoped(
            select(func.coalesce(func.sum(Payment.amount), 0))
            .where(Payment.received_on <= end), Payment.customer_id, scope)) or 0))
    labels = [f"{m:%Y-%m}" for m in months]
    s = [Decimal(shipped.get(label) or 0) for label in labels]
    p = [Decimal(paid.get(label) or 0) for label in labels]
    total_s, total_p = sum(s, Decimal(0)), sum(p, Decimal(0))
    rate = f"{100 * total_p / total_s:.1f}%" if total_s else "—"
    return Chart("receivables", _l("Invoiced and paid"), labels,
                 [(_l("Invoiced (yuan)"), s), (_l("Paid (yuan)"), p)], money=True,
                 columns=[(_l("Payment rate"), [f"{100 * b / a:.1f}%" if a else "—"
                                                for a, b in zip(s, p, strict=True)])],
                 note=str(_l("Payment rate in the period: %(rate)s. Receivables at its end: "
                             "%(owed)s.", rate=rate, owed=f"¥{owed:,.2f}")))


def over_limit(scope, start, end) -> Chart:
    return figures.over_limit(scope)


def complaints(scope, start, end) -> Chart:
    """Rule P8's figures for the cases received in the period (a company report counts the
    cases about no customer too)."""
    found = case_ledger.figures(_scoped(
        select(ServiceCase).where(*_within(ServiceCase.received_at, start, end)),
        ServiceCase.customer_id, scope))
    kinds = list(CASE_KIND_LABELS)
    kept = found.within_deadline_percent
    return Chart("complaints", _l("Service cases by type"),
                 [CASE_KIND_LABELS[k] for k in kinds],
                 [(_l("Number of cases"), [found.by_kind.get(k, 0) for k in kinds])],
                 note=str(_l("Deadlines kept: %(p)s.", p="—" if kept is None else f"{kept}%"))
                 if found.total else str(_l("No service case in this period.")))


def visits(scope, start, end) -> Chart:
    """Rules V2, V3: contacts by channel, the important customers visited and satisfaction."""
    rows = dict(db.session.execute(_scoped(
        select(Activity.kind, func.count()).where(*_within(Activity.occurred_at, start, end))
        .group_by(Activity.kind), Activity.customer_id, scope)).all())
    mean = db.session.scalar(_scoped(
        select(func.avg(Activity.satisfaction)).where(*_within(Activity.occurred_at, start, end)),
        Activity.customer_id, scope))
    visited, total = cadence.coverage(scope, start, end)
    share = f"{100 * visited / total:.1f}%" if total else "—"
    kinds = [k for k in ACTIVITY_LABELS if rows.get(k)]
    rated = str(_l("none yet")) if mean is None else f"{float(mean):.1f}"
    return Chart("visits", _l("Visits and contacts by channel"),
                 [ACTIVITY_LABELS[k] for k in kinds],
                 [(_l("Number of contacts"), [rows[k] for k in kinds])],
                 note=str(_l("Important customers visited: %(visited)s of %(total)s (%(share)s). "
                             "Average satisfaction: %(mean)s.", visited=visited, total=total,
                             share=share, mean=rated)))


def visit_purposes(scope, start, end) -> Chart:
    rows = db.session.execute(_scoped(
        select(Activity.purpose, func.count(), func.avg(Activity.satisfaction))
        .where(*_within(Activity.occurred_at, start, end), Activity.purpose.is_not(None))
        .group_by(Activity.purpose), Activity.customer_id, scope)).all()
    found = {purpose: (n, mean) for purpose, n, mean in rows}
    purposes = [p for p in PURPOSE_LABELS if p in found]
    return Chart("visit_purposes", _l("Visits by purpose"),
                 [PURPOSE_LABELS[p] for p in purposes],
                 [(_l("Number of visits"), [found[p][0] for p in purposes])],
                 columns=[(_l("Average satisfaction"), [
                     "—" if found[p][1] is None else f"{float(found[p][1]):.1f}"
                     for p in purposes])])


def archive(scope, start, end) -> Chart:
    """The archive's upkeep in the period: customers registered, changes of owner (transfers,
    reclaims to the pool, claims), tier changes, follow-ups done and customers gone quiet."""
    registered = db.session.scalar(select(func.count()).select_from(Customer).where(
        scope, *_within(Customer.created_at, start, end)))
    owners = db.session.scalar(_scoped(
        select(func.count()).select_from(OwnershipRecord).where(
            *_within(OwnershipRecord.at, start, end),
            OwnershipRecord.kind.not_in(("registered", "import"))),
        OwnershipRecord.customer_id, scope))
    tiers_ = db.session.scalar(_scoped(
        select(func.count(func.distinct(TierChange.customer_id)))
        .where(*_within(TierChange.changed_at, start, end)), TierChange.customer_id, scope))
    follow_ups = db.session.scalar(_scoped(
        select(func.count()).select_from(FollowUp).where(
            *_within(FollowUp.done_at, start, end)), FollowUp.customer_id, scope))
    quiet = db.session.scalar(select(func.count()).select_from(Customer).where(
        scope, Customer.owner_id.is_not(None),
        func.coalesce(Customer.last_activity_at, Customer.created_at)
        < cadence.local_midnight_utc(start)))
    labels = [_l("Customers registered"), _l("Changes of owner"), _l("Tier changes"),
              _l("Follow-ups completed"), _l("Owned customers not contacted in the period")]
    return Chart("archive", _l("Archive maintenance"), labels,
                 [(_l("Count"), [registered or 0, owners or 0, tiers_ or 0, follow_ups or 0,
                                  quiet or 0])], kind="hbar")


SECTIONS = {f.__name__: f for f in (tiers, tier_moves, growth, sales_by_rep, sales_by_department,
                                    receivables, over_limit, complaints, visits, visit_purposes,
                                    archive)}


def charts(keys, department_id, start: date, end: date) -> list[Chart]:
    scope = _scope(department_id)
    return [SECTIONS[key](scope, start, end) for key in keys]
