"""Home-page queues of customer resources (rules R1, R5): transfers waiting for the other
rep's agreement, and transfers and claims waiting for the director."""
from flask import url_for
from sqlalchemy import func, select

from intranet.core.home import Widget, home_widget
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import ResourceRequest
from intranet.resources.scope import waiting_on


@home_widget(Role.SALES_REP, Role.SALES_MANAGER)
def requests_waiting(user):
    count = db.session.scalar(select(func.count()).select_from(ResourceRequest)
                              .where(waiting_on(user))) or 0
    return Widget(_l("Transfers and claims waiting for you"), count, [],
                  url_for("sales.resource_requests", waiting=1),
                  _l("No transfer or claim waits for you."))
