"""The figures of the dashboards and reports (rules Q2, V2), each a chart with its table,
computed in SQL for what the reader may see (C6): `scope` is a condition on the customer (a
manager's department, every customer for the GM), `user` decides the cases (complaints'
own scope). Each function is a constant number of statements, whatever the data's size."""
from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select

from intranet.complaints import KIND_LABELS
from intranet.complaints import ledger as case_ledger
from intranet.complaints.scope import case_scope
from intranet.core.access import sees_everything
from intranet.core.charts import Chart
from intranet.core.i18n import lazy_gettext as _l
from intranet.customers.labels import TIER_LABELS
from intranet.extensions import db
from intranet.models import Activity, CreditBreach, Customer, Order, ServiceCase
from intranet.models.customer import TIERS
from intranet.visits import cadence

MONTHS = 12
QUARTERS = 4
TOP = 10


def _scoped(stmt, column, scope):
    """`stmt` limited to the customers of `scope` through `column` (a customer id)."""
    if sees_everything(scope):
        return stmt
    return stmt.where(select(Customer.id).where(Customer.id == column, scope).exists()
                      .correlate_except(Customer))


REMEMBERED_SECONDS = 900
REMEMBERED_KEPT = 512


def _scope_key(scope) -> str:
    compiled = scope.compile()
    return f"{compiled}|{sorted((k, str(v)) for k, v in compiled.params.items())}"


def remembered(key: tuple, compute):
    """The figure of a closed period (a past quarter or month) for a scope, kept per worker
    for a quarter of an hour: it changes only when a visit or order is entered late, and
    recomputing it reads a year of activity on every dashboard (2 s at 100,000 customers)."""
    kept = current_app.extensions.setdefault("report_figures", {})
    now = time.monotonic()
    found = kept.get(key)
    if found is not None and found[0] > now:
        return found[1]
    value = compute()
    if len(kept) >= REMEMBERED_KEPT:
        kept.clear()
    kept[key] = (now + REMEMBERED_SECONDS, value)
    return value


def tiers(scope) -> Chart:
    counts = dict(db.session.execute(
        select(cadence.effective_tier(), func.count()).where(scope)
        .group_by(cadence.effective_tier())).all())
    return Chart("tiers", _l("Customers by tier"), [TIER_LABELS[t] for t in TIERS],
                 [(_l("Number of customers"), [counts.get(t, 0) for t in TIERS])])


def month_starts(today: date, months: int = MONTHS) -> list[date]:
    first = today.replace(day=1)
    return [cadence.shift(first, n - months + 1, 1) for n in range(months)]


def _month(column):
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def sales_trend(scope, today: date) -> Chart:
    """Orders taken per month over the last twelve months (cancelled ones left out)."""
    months = month_starts(today)
    month = _month(Order.ordered_on)

    def sums_from(first: date, before: date | None = None) -> dict:
        stmt = select(month, func.sum(Order.amount)).where(  # the (status, day) index
            Order.status.in_(("open", "shipped")), Order.ordered_on >= first).group_by(month)
        if before is not None:
            stmt = stmt.where(Order.ordered_on < before)
        return {key: Decimal(value or 0) for key, value in db.session.execute(
            _scoped(stmt, Order.customer_id, scope))}
    # the closed months remembered, the running one read each time
    sums = {**remembered(("sales", _scope_key(scope), months[0], months[-1]),
                         lambda: sums_from(months[0], months[-1])), **sums_from(months[-1])}
    labels = [f"{m:%Y-%m}" for m in months]
    return Chart("sales", _l("Sales by month (orders)"), labels,
                 [(_l("Orders (yuan)"), [sums.get(label, Decimal(0)) for label in labels])],
                 kind="line", money=True)


def over_limit(scope) -> Chart:
    """Rule K3: the customers over their credit limit now, the largest receivables first."""
    stmt = _scoped(select(Customer.name, CreditBreach.receivables, CreditBreach.credit_limit)
                   .join(Customer, Customer.id == CreditBreach.customer_id)
                   .where(CreditBreach.ended_at.is_(None)), CreditBreach.customer_id, scope)
    rows = db.session.execute(stmt.order_by(CreditBreach.receivables.desc(),
                                            CreditBreach.id).limit(TOP)).all()
    count = db.session.scalar(_scoped(select(func.count()).select_from(CreditBreach).where(
        CreditBreach.ended_at.is_(None)), CreditBreach.customer_id, scope))
    return Chart("over_limit", _l("Receivables against credit limits (over the limit)"),
                 [name for name, _, _ in rows],
                 [(_l("Receivables"), [r for _, r, _ in rows]),
                  (_l("Credit limit"), [limit for _, _, limit in rows])],
                 kind="hbar", money=True,
                 note=str(_l("%(n)s customers over their limit; the %(top)s largest shown.",
                             n=count, top=min(count, TOP))) if count else
                 str(_l("No customer is over its credit limit.")))


def complaints(user, today: date) -> Chart:
    """Rule P8's figures over the last twelve months: cases by type, deadlines kept."""
    since = case_ledger.local_midnight(cadence.shift(today.replace(day=1), 1 - MONTHS, 1))
    figures = case_ledger.figures(select(ServiceCase).where(
        case_scope(user), ServiceCase.received_at >= since))
    kinds = list(KIND_LABELS)
    kept = figures.within_deadline_percent
    return Chart("complaints", _l("Service cases by type, last 12 months"),
                 [KIND_LABELS[k] for k in kinds],
                 [(_l("Number of cases"), [figures.by_kind.get(k, 0) for k in kinds])],
                 note=str(_l("Deadlines kept: %(p)s.", p="—" if kept is None else f"{kept}%")))


def quarter_starts(today: date, quarters: int = QUARTERS) -> list[date]:
    first = cadence.period_start(today, 3)
    return [cadence.shift(first, n - quarters + 1, 3) for n in range(quarters)]


def quarter_name(start: date) -> str:
    return f"{start.year} Q{(start.month - 1) // 3 + 1}"


def visit_coverage(scope, today: date) -> Chart:
    """Rule V2: the share of important customers visited in each of the last four quarters,
    with the visits' average satisfaction (V3)."""
    labels, shares, visited_col, total_col, satisfaction = [], [], [], [], []
    def figures_of(start: date, end: date):
        visited, total = cadence.coverage(scope, start, end)
        mean = db.session.scalar(_scoped(select(func.avg(Activity.satisfaction)).where(
            Activity.occurred_at >= cadence.local_midnight_utc(start),
            Activity.occurred_at < cadence.local_midnight_utc(end + timedelta(days=1))),
            Activity.customer_id, scope))
        return visited, total, mean

    for start in quarter_starts(today):
        end = cadence.period_end(start, 3)
        visited, total, mean = figures_of(start, end) if end >= today else remembered(
            ("visits", _scope_key(scope), start), lambda: figures_of(start, end))  # noqa: B023
        labels.append(quarter_name(start))
        shares.append(round(100 * visited / total, 1) if total else None)
        visited_col.append(visited)
        total_col.append(total)
        satisfaction.append("—" if mean is None else f"{float(mean):.1f}")
    return Chart("visits", _l("Important customers visited per quarter"), labels,
                 [(_l("Visited (%)"), shares)], percent=True,
                 columns=[(_l("Visited"), visited_col), (_l("Important customers"), total_col),
                          (_l("Average satisfaction"), satisfaction)])


def dashboard(user, scope, today: date) -> list[Chart]:
    return [tiers(scope), sales_trend(scope, today), over_limit(scope),
            complaints(user, today), visit_coverage(scope, today)]
