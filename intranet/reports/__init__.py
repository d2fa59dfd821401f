"""Dashboards and reports (rules Q1, Q2, V2): the figures, computed from the data for a reader's
scope (C6) as charts with their tables (figures.py)."""
from __future__ import annotations

from intranet.core.i18n import lazy_gettext as _l


def init_app(app) -> None:
    from intranet.core import audit

    audit.register_object_labels({"dashboard": _l("Dashboard")})
