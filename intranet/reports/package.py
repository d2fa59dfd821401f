"""The report package (rule Q1): which reports a period asks for, by when, and who writes them.

After each period (a quarter, or a month where the company sets so) `flask jobs run` prepares
each kind of report: a department's report for every sales department with a manager to write
it, a company report once. Its due day is a setting (the 6th, 8th, 10th and 15th of the month
after the period by default). Its figures (reports/sections.py) are read from the data while
the report is open and frozen into it when it is submitted, so the general manager reads, and
the PDF prints, what the author sent."""
from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import intranet.reports.settings  # noqa: F401  (registers the settings)
from intranet.core import settings
from intranet.core.charts import Chart
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import Customer, Report, User, UserRole
from intranet.reports.kinds import KINDS, Kind
from intranet.visits import cadence


def cycle_months() -> int:
    return int(settings.get("report_cycle"))


def last_closed_period(today: date, months: int) -> tuple[date, date]:
    start = cadence.shift(cadence.period_start(today, months), -1, months)
    return start, cadence.period_end(start, months)


def due_on(kind: Kind, period_end: date) -> date:
    """Rule Q1: the set day of the month after the period."""
    return (period_end + timedelta(days=1)).replace(day=int(settings.get(kind.due_setting)))


def authoring_departments() -> list[int]:
    """Sales departments: those with customers, and an active sales manager to write their
    reports (a manager's role held in another office, e.g. a deputy's, makes no report)."""
    return list(db.session.scalars(
        select(User.department_id).join(UserRole, UserRole.user_id == User.id)
        .where(User.active, UserRole.role == Role.SALES_MANAGER.value,
               select(Customer.id).where(Customer.department_id == User.department_id)
               .exists())
        .distinct().order_by(User.department_id)))


def prepare(today: date) -> list[Report]:
    """The reports of the period that closed last, those not yet prepared (idempotent: a
    second run, or a second process, adds nothing)."""
    from intranet.workflows import engine

    months = cycle_months()
    start, end = last_closed_period(today, months)
    existing = {(kind, department) for kind, department in db.session.execute(
        select(Report.kind, Report.department_id).where(Report.period_start == start))}
    departments = authoring_departments()
    made = []
    for kind in KINDS.values():
        for department_id in (departments if kind.per_department else [None]):
            if (kind.key, department_id) in existing:
                continue
            due = due_on(kind, end)
            row = Report(kind=kind.key, period_start=start, period_end=end, months=months,
                         department_id=department_id, due_on=due,
                         due_at=cadence.local_midnight_utc(due + timedelta(days=1)))
            try:
                with db.session.begin_nested():
                    engine.start(row, user=None, details={"kind": kind.key,
                                                          "period": start.isoformat()})
            except IntegrityError:  # another process prepared it meanwhile
                continue
            made.append(row)
    return made


# --- figures: live while open, frozen at submission -------------------------------------------

def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    return value


def _chart_data(chart: Chart) -> dict:
    return {"key": chart.key, "title": str(chart.title), "labels": [str(x) for x in chart.labels],
            "series": [[str(name), [_plain(v) for v in values]] for name, values in chart.series],
            "kind": chart.kind, "money": chart.money, "percent": chart.percent,
            "columns": [[str(name), [str(v) for v in values]] for name, values in chart.columns],
            "note": str(chart.note or "")}


def _chart_of(data: dict) -> Chart:
    def value(v):
        if v is None:
            return None
        if data["money"]:
            return Decimal(v)
        return float(v) if data["percent"] else int(v)
    return Chart(data["key"], data["title"], data["labels"],
                 [(name, [value(v) for v in values]) for name, values in data["series"]],
                 kind=data["kind"], money=data["money"], percent=data["percent"],
                 columns=[(name, values) for name, values in data["columns"]],
                 note=data["note"])


def compute(report: Report) -> list[Chart]:
    from intranet.reports import sections

    return sections.charts(KINDS[report.kind].sections, report.department_id,
                           report.period_start, report.period_end)


def freeze(report: Report) -> str:
    return json.dumps([_chart_data(c) for c in compute(report)], ensure_ascii=False)


def charts(report: Report) -> list[Chart]:
    """What the report shows: its frozen figures once submitted, the data's until then. A
    report's period is closed, so its figures change only when something is entered late:
    they are kept per worker for a quarter of an hour (reports/figures.remembered), as its
    department's figures take a second or two at 100,000 customers (bench/reports.py).
    Submitting computes them afresh (`freeze`)."""
    if report.figures:
        return [_chart_of(d) for d in json.loads(report.figures)]
    from flask_babel import get_locale

    from intranet.reports.figures import remembered

    return remembered(("report", report.id, str(get_locale())), lambda: compute(report))
