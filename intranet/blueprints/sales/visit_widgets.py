"""Home-page figures of visits (rules V2-V4): follow-ups due this week, visits overdue, and the
VIP customers the GM owes a visit this period."""
from datetime import timedelta

from flask import url_for
from sqlalchemy import or_, select

from intranet.core.access import customer_scope
from intranet.core.home import Widget, home_widget
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.pagination import capped_count, count_label
from intranet.core.roles import Role
from intranet.customers import ledger
from intranet.models import Customer
from intranet.visits import cadence, tasks


@home_widget(Role.SALES_REP, Role.SALES_MANAGER)
def follow_ups_due(user):
    count, first = tasks.due_soon(user)
    today = ledger.today()
    items = [(f"{row.name}: {row.due_on.isoformat()}"
              + (f" ({_l('overdue')})" if row.due_on < today else ""),
              url_for("sales.customer", customer_id=row.customer_id)) for row in first]
    return Widget(_l("Follow-ups due this week"), count, items, url_for("sales.follow_ups"),
                  _l("No follow-up is due this week."))


@home_widget(Role.SALES_REP, Role.SALES_MANAGER)
def visits_overdue(user):
    today = ledger.today()
    overdue = or_(*[cadence.due_before(o, today) for o in cadence.OBLIGATIONS])
    count, more = capped_count(select(Customer.id).where(customer_scope(user), overdue))
    return Widget(_l("Customers with a visit overdue"), count_label(count, more), [],
                  url_for("sales.visits_due"), _l("No visit is overdue."))


@home_widget(Role.GENERAL_MANAGER)
def vip_visits_owed(user):
    obligation = cadence.BY_KEY["vip_gm"]
    today = ledger.today()
    end = cadence.period_end(today, cadence.check_months(obligation))
    count, more = capped_count(select(Customer.id).where(cadence.due_before(
        obligation, end + timedelta(days=1))))
    return Widget(_l("VIP customers I owe a visit"), count_label(count, more), [],
                  url_for("sales.visits_due", obligation="vip_gm", when="period"),
                  _l("No VIP customer is owed your visit this period."))
