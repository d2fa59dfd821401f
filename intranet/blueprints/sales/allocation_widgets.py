"""Home-page widgets of allocation (rule R8): the rep sees the first contacts due on fresh
allocations, minutes left; the sales manager sees the first contacts missed in the
department, which they may reallocate."""
from flask import url_for
from sqlalchemy import func, select

from intranet.core import clock
from intranet.core.home import Widget, home_widget
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import ContactMiss, Customer
from intranet.resources import allocation, first_contact


def minutes_text(due, now) -> str:
    minutes = int((due - now).total_seconds() // 60)
    if minutes >= 0:
        return str(_l("first contact due in %(n)s minutes", n=minutes))
    return str(_l("first contact overdue by %(n)s minutes", n=-minutes))


@home_widget(Role.SALES_REP)
def first_contacts_due(user):
    now = clock.now()
    rows = first_contact.running_for(user.id)
    items = [(f"{name}: {minutes_text(due, now)}", url_for("sales.customer", customer_id=cid))
             for cid, name, due in rows]
    return Widget(_l("Fresh allocations: first contact"), len(rows), items,
                  url_for("sales.rep", rep_id=user.id),
                  _l("No fresh allocation waits for your first contact."))


@home_widget(Role.SALES_MANAGER)
def missed_first_contacts(user):
    department_id = allocation.department_of(user)
    where = first_contact.missed_in(department_id)
    count = db.session.scalar(select(func.count()).select_from(ContactMiss)
                              .join(Customer, Customer.id == ContactMiss.customer_id)
                              .where(where)) or 0
    rows = db.session.execute(
        select(Customer.id, Customer.name).join(ContactMiss, ContactMiss.customer_id == Customer.id)
        .where(where).order_by(ContactMiss.missed_at.desc()).limit(5)).all()
    items = [(str(_l("%(customer)s: reallocate", customer=name)),
              url_for("sales.allocate", lead_id=cid)) for cid, name in rows]
    return Widget(_l("Missed first contacts"), count, items,
                  url_for("sales.allocation_list"),
                  _l("No first contact was missed in your department."))
