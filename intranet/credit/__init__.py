"""Credit management (rules K1-K7): quarters, the basis of a limit, the suggested limit, the
effective limit of each customer and the exposure check before an order or a shipment.

The suggested limit (K2, the quarterly review) is documented here and its parameters are
settings:

    monthly sales  = shipments of the last 12 months / 12
    grade (K1)     = 一级 if the 12-month payment rate ≥ grade-1 threshold (95%),
                     二级 if ≥ grade-2 threshold (80%), else 三级;
                     三级 for a customer without shipments or on the blacklist (C8)
    limit          = monthly sales × months of sales (2) × the grade's share
                     (一级 100%, 二级 60%, 三级 30%), rounded down to ¥1,000;
                     0 for a blacklisted customer
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from functools import cache

from sqlalchemy import bindparam, func, select

from intranet.core import settings
from intranet.core.i18n import lazy_gettext as _l
from intranet.customers import ledger
from intranet.extensions import db
from intranet.models import CreditApplication, Customer

ZERO = Decimal("0.00")
GRADE_LABELS = {"1": _l("Grade 1 (一级)"), "2": _l("Grade 2 (二级)"), "3": _l("Grade 3 (三级)")}


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def next_quarter_start(day: date) -> date:
    start = quarter_start(day)
    return date(start.year + (start.month == 10), (start.month + 2) % 12 + 1, 1)


def in_last_month_of_quarter(day: date) -> bool:
    """Rule K6: next quarter's applications are prepared in the last month of a quarter."""
    return day.month % 3 == 0


def quarter_label(start: date) -> str:
    return f"{start.year} Q{(start.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class Basis:
    """Rule K2: what a limit is set from."""

    annual_sales: Decimal
    monthly_sales: Decimal
    payment_method: str
    payment_rate: Decimal | None  # percent
    receivables: Decimal
    open_orders: Decimal


def basis_for(customers: list[Customer]) -> dict[int, Basis]:
    figures = ledger.figures([c.id for c in customers])
    result = {}
    for customer in customers:
        fig = figures[customer.id]
        rate = fig.payment_rate
        result[customer.id] = Basis(
            annual_sales=fig.sales_12m,
            monthly_sales=(fig.sales_12m / 12).quantize(Decimal("0.01")),
            payment_method=customer.payment_method,
            payment_rate=None if rate is None else (rate * 100).quantize(Decimal("0.01")),
            receivables=fig.receivable, open_orders=fig.open_orders)
    return result


def suggest(customer: Customer, basis: Basis) -> tuple[str, Decimal]:
    """(grade, limit) by the documented formula above."""
    return suggest_for_basis(basis, blacklisted=customer.blacklisted)


def suggest_for_basis(basis: Basis, blacklisted: bool) -> tuple[str, Decimal]:
    rate = basis.payment_rate
    if blacklisted:
        return "3", ZERO
    if rate is not None and rate >= settings.get("credit_grade1_min_payment_percent"):
        grade, share = "1", Decimal(100)
    elif rate is not None and rate >= settings.get("credit_grade2_min_payment_percent"):
        grade, share = "2", Decimal(settings.get("credit_grade2_share_percent"))
    else:
        grade, share = "3", Decimal(settings.get("credit_grade3_share_percent"))
    full = basis.monthly_sales * settings.get("credit_months_of_sales") * share / 100
    limit = (full / 1000).to_integral_value(ROUND_DOWN) * 1000
    return grade, Decimal(limit).quantize(Decimal("0.01"))


def suggestion_for(application, blacklisted: bool | None = None) -> tuple[str, Decimal]:
    """The formula's grade and limit from the basis stored on an application, shown to the
    manager and the GM beside what was asked for. `application`: the record, or a row of its
    columns with `blacklisted` (the customer's) given."""
    basis = Basis(application.annual_sales, application.monthly_sales,
                  application.payment_method, application.payment_rate,
                  application.receivables, ZERO)
    if blacklisted is None:
        blacklisted = application.customer.blacklisted
    return suggest_for_basis(basis, blacklisted)


def effective_limits(customer_ids, on: date | None = None) -> dict[int, CreditApplication]:
    """Rule K6/K7: per customer, the approved application in force on `on`: the latest
    quarter that has started, and within it the latest decision. Derived in SQL from the
    approvals themselves, so it is right whether or not the activation job has run."""
    ids = list(customer_ids)
    if not ids:
        return {}
    rows = db.session.scalars(_in_force_statement(), {"ids": ids, "on": on or ledger.today()})
    return {row.customer_id: row for row in rows}


@cache
def _in_force_statement():
    """Built once per process (issue 12: building it cost more than running it)."""
    from intranet.workflows.credit import IN_FORCE

    ranked = (
        select(CreditApplication.id,
               func.row_number().over(
                   partition_by=CreditApplication.customer_id,
                   order_by=(CreditApplication.period_start.desc(),
                             CreditApplication.decided_at.desc(),
                             CreditApplication.id.desc())).label("rank"))
        .where(CreditApplication.customer_id.in_(bindparam("ids", expanding=True)),
               CreditApplication.state.in_([s.value for s in IN_FORCE]),
               CreditApplication.period_start <= bindparam("on"))
        .subquery())
    return (select(CreditApplication).join(ranked, ranked.c.id == CreditApplication.id)
            .where(ranked.c.rank == 1))


def init_app(app) -> None:
    """What the platform needs from credit management: its scheduled jobs, notification texts
    and the labels and questions templates use."""
    import intranet.credit.jobs  # noqa: F401  (registers the credit jobs)
    import intranet.credit.record  # noqa: F401  (registers the archive record type)
    from intranet.core import audit, notifications
    from intranet.credit.notices import KINDS
    from intranet.credit.scope import in_archive
    from intranet.workflows.credit import CreditFlow

    notifications.register_kinds(KINDS)
    audit.register_object_labels({
        "credit_application": _l("Credit-limit application"),
        "credit_list": _l("Credit-limit applications"), "credit_queue": _l("Approval queue"),
        "order": _l("Order"), "order_blocked": _l("Order refused over the limit"),
        "order_list": _l("Orders"), "over_limit_list": _l("Customers over their limit"),
        "shipment": _l("Shipment"), "shipment_blocked": _l("Shipment refused over the limit")})
    from intranet.models import Order
    order_numbers = audit.column_names(Order.id, Order.number)
    for kind in ("order", "shipment", "shipment_blocked"):  # their ids are the order's
        audit.register_object_names(kind, order_numbers)
    audit.register_object_names("order_blocked", audit.OBJECT_NAMES["customer"])
    notifications.register_link(CreditFlow.object_type, "sales.credit_application",
                                "application_id")
    app.jinja_env.globals["credit_grades"] = GRADE_LABELS
    app.jinja_env.globals["credit_states"] = CreditFlow.STATE_LABELS
    app.jinja_env.globals["credit_in_archive"] = in_archive
