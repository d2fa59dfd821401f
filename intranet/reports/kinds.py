"""The kinds of periodic report (rule Q1): what each is called, its due-day setting, whether
each sales department writes one or the company one, and its sections (reports/sections.py);
and how a report is named. Nothing here reads the database."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import has_request_context

from intranet.core.i18n import lazy_gettext as _l


@dataclass(frozen=True)
class Kind:
    key: str
    label: object
    due_setting: str
    per_department: bool  # one per sales department; otherwise one for the company
    sections: tuple[str, ...]


KINDS = {k.key: k for k in (
    Kind("credit_sales", _l("Credit and sales analysis"), "report_due_credit_sales", True,
         ("tiers", "tier_moves", "growth", "sales_by_rep", "receivables", "over_limit")),
    Kind("consolidated", _l("Consolidated analysis"), "report_due_consolidated", False,
         ("tiers", "tier_moves", "sales_by_department", "growth", "receivables", "over_limit",
          "complaints")),
    Kind("visit_market", _l("Visit records and market analysis"), "report_due_visit_market",
         True, ("visits", "visit_purposes", "complaints", "growth")),
    Kind("archive_visit", _l("Archive maintenance and visit analysis"),
         "report_due_archive_visit", False,
         ("archive", "tier_moves", "visits", "visit_purposes")),
)}
KIND_LABELS = {key: kind.label for key, kind in KINDS.items()}


def period_name(start: date, months: int) -> str:
    from flask_babel import gettext as _

    if months == 3:
        return _("%(year)s Q%(quarter)s", year=start.year, quarter=(start.month - 1) // 3 + 1)
    return _("%(year)s-%(month)02d", year=start.year, month=start.month)


def title_of(report) -> str:
    parts = [period_name(report.period_start, report.months), str(KIND_LABELS[report.kind])]
    if report.department is not None:
        from flask_babel import get_locale

        locale = str(get_locale() or "zh") if has_request_context() else "zh"
        parts.append(report.department.name(locale))
    return " · ".join(parts)
