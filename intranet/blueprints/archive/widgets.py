"""The archivist's home (issue 11 §6): records closed since the last batch export (those not
yet in any export), by kind, each a link into the archive browser."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import url_for
from sqlalchemy import func, select

from intranet.archive.records import closed
from intranet.blueprints.archive.browser import browsable
from intranet.core import settings
from intranet.core.home import Widget, home_widget
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.pagination import capped_count, count_label
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import ArchiveExport


def last_exported_day():
    """The last day a finished batch export covered (any archivist's), or None."""
    return db.session.scalar(select(func.max(ArchiveExport.period_end)).where(
        ArchiveExport.state == "done"))


@home_widget(Role.ARCHIVIST, Role.GENERAL_MANAGER)
def closed_since_last_export(user):
    last = last_exported_day()
    first = last + timedelta(days=1) if last else None
    since = datetime.combine(first, time(), settings.tz()) if first else None
    items, total, more = [], 0, False
    for key, rt in browsable().items():  # each counted up to the cap (issue 12)
        n, over = capped_count(closed(rt, since))
        total, more = total + n, more or over
        if n:
            query = {"type": key, **({"from": first.isoformat()} if first else {})}
            items.append((f"{rt.label} {count_label(n, over)}",
                          url_for("archive.records", **query)))
    title = (_l("Closed since the last export (%(day)s)", day=last.isoformat()) if last
             else _l("Closed records not yet exported"))
    return Widget(title, count_label(total, more), items, url_for("archive.exports"),
                  _l("Every closed record is in an export."))
