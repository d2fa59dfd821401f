"""Dashboards and reports (rules Q1, Q2, V2): the figures, computed from the data for a reader's
scope (C6) as charts with their tables (figures.py); the periodic report package, its kinds
and calendar (package.py), sections (sections.py) and jobs (jobs.py)."""
from __future__ import annotations

from intranet.core.i18n import lazy_gettext as _l


def init_app(app) -> None:
    import intranet.reports.jobs  # noqa: F401  (registers the report jobs)
    from intranet.core import audit, notifications
    from intranet.reports.kinds import KIND_LABELS
    from intranet.reports.notices import KINDS
    from intranet.workflows.report import ReportFlow

    notifications.register_kinds(KINDS)
    notifications.register_link(ReportFlow.object_type, "management.report", "report_id")
    audit.register_object_labels({"dashboard": _l("Dashboard"), "report": _l("Report"),
                                  "report_list": _l("Reports")})
    app.jinja_env.globals["report_kinds"] = KIND_LABELS
