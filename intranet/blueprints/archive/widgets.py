"""The archivist's home (issue 11 §6): records closed lately, by kind, each a link into the
archive browser; the archive itself for the GM."""
from __future__ import annotations

from datetime import timedelta

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from intranet.archive.records import closed
from intranet.blueprints.archive.browser import browsable
from intranet.core import clock
from intranet.core.home import Widget, home_widget
from intranet.core.roles import Role
from intranet.extensions import db

RECENT_DAYS = 30


@home_widget(Role.ARCHIVIST, Role.GENERAL_MANAGER)
def recently_closed(user):
    since = clock.now() - timedelta(days=RECENT_DAYS)
    start = (clock.now() - timedelta(days=RECENT_DAYS)).date().isoformat()
    items, total = [], 0
    for key, rt in browsable().items():
        n = db.session.scalar(closed(rt, since).with_only_columns(func.count())
                              .order_by(None)) or 0
        total += n
        if n:
            items.append((f"{rt.label} {n}", url_for("archive.records", type=key, **{
                "from": start})))
    return Widget(_l("Records closed in the last %(n)s days", n=RECENT_DAYS), total, items,
                  url_for("archive.records"), _l("No record closed lately."))


