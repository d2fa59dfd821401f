"""Home-page widgets of the platform itself; workflow blueprints add their own queues."""
from flask import url_for
from flask_babel import format_datetime
from sqlalchemy import func, select

from intranet.core import notifications
from intranet.core.access import customer_scope
from intranet.core.home import Widget, home_widget
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.pagination import capped_count, count_label
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import Customer, Notification, User


@home_widget()
def unread_notifications(user):
    unread = notifications.unread_count(user.id)
    latest = db.session.scalars(
        select(Notification).where(Notification.user_id == user.id,
                                   Notification.read_at.is_(None))
        .order_by(Notification.id.desc()).limit(5)
    ).all()
    return Widget(_l("Unread notifications"), unread,
                  [(notifications.text_of(n), n.link or None) for n in latest],
                  url_for("home.notifications"), _l("Nothing new. You are all caught up."))


@home_widget()
def acting_for(user):
    delegations = user.active_delegations()
    items = [(str(_l("%(principal)s · %(role)s · until %(end)s",
                     principal=d.principal.display_name, role=Role(d.role).label,
                     end=format_datetime(d.ends_at, "yyyy-MM-dd HH:mm"))), None)
             for d in delegations]
    return Widget(_l("You are deputy for"), len(items), items, None,
                  _l("You are not acting for anyone at present."))


@home_widget(Role.SALES_REP, Role.SALES_MANAGER, Role.GENERAL_MANAGER)
def my_customers(user):
    count = count_label(*capped_count(select(Customer.id).where(customer_scope(user))))
    return Widget(_l("Customers I can see"), count, [], url_for("sales.customers"),
                  _l("No customers yet."))


@home_widget(Role.ADMIN)
def user_accounts(user):
    active = db.session.scalar(select(func.count()).select_from(User).where(User.active)) or 0
    disabled = db.session.scalar(
        select(func.count()).select_from(User).where(User.active.is_(False))) or 0
    return Widget(_l("User accounts"), active,
                  [(str(_l("%(n)s disabled", n=disabled)), None)] if disabled else [],
                  url_for("admin.users"))
