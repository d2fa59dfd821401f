"""Home-page queues of the credit workflow (rules K3, K6)."""
from flask import url_for
from sqlalchemy import func, select

from intranet.core.access import customer_id_scope
from intranet.core.home import Widget, home_widget
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import CreditApplication, CreditBreach, Customer


@home_widget(Role.GENERAL_MANAGER)
def credit_queue(user):
    """Rule K6: what waits for the GM, and how much of it is overdue (derived in SQL)."""
    pending, overdue = db.session.execute(
        select(func.count(), func.count().filter(CreditApplication.overdue))
        .where(CreditApplication.state == "received")).one()
    items = [(str(_l("%(n)s overdue", n=overdue)), url_for("management.credit_queue",
                                                             overdue=1))] if overdue else []
    return Widget(_l("Credit limits awaiting your decision"), pending, items,
                  url_for("management.credit_queue"), _l("Nothing is waiting for your decision."))


@home_widget(Role.SALES_MANAGER)
def credit_reviews(user):
    count = db.session.scalar(
        select(func.count()).select_from(CreditApplication)
        .where(CreditApplication.state == "submitted",
               CreditApplication.department_id == user.department_id)) or 0
    return Widget(_l("Credit applications to review"), count, [],
                  url_for("sales.credit_applications", state="submitted"),
                  _l("No application waits for your review."))


@home_widget(Role.SALES_REP, Role.SALES_MANAGER)
def over_limit_customers(user):
    """Rule K3: the owner's home shows customers over their limit."""
    # the customers looked up from the open breaches (few), each tested against the scope:
    # a join filtered by the scope walked a department's customers in name order looking
    # for one (issue 12: 5.8 -> 0.1 ms on 20,000 customers without a breach)
    breached = select(CreditBreach.customer_id).where(
        CreditBreach.ended_at.is_(None),
        customer_id_scope(CreditBreach.customer_id, user, "edit"))
    rows = db.session.execute(
        select(Customer.id, Customer.name).where(Customer.id.in_(breached))
        .order_by(Customer.name_pinyin, Customer.id).limit(10)).all()
    return Widget(_l("Customers over their credit limit"), len(rows),
                  [(name, url_for("sales.customer", customer_id=cid)) for cid, name in rows],
                  None, _l("No customer of yours is over its limit."))
