"""Follow-up tasks (rules V3, V4). A visit's "next follow-up on" becomes a task for the
customer's rep; a new customer's first order becomes one task per follow-up day (3, 30 and 60
days by default). Logging any contact with the customer completes its open tasks due up to the
window (a week by default) after it. Open and overdue are read in SQL from the stored day."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, func, select, update

from intranet.core import clock, settings
from intranet.extensions import db
from intranet.models import Activity, Customer, FollowUp, Order

SOON_DAYS = 7  # the home page and the inbox show the tasks due within a week


def open_tasks():
    return FollowUp.done_at.is_(None)


def visible(user):
    """The tasks of the customers `user` may see (C6): a rep's own, a manager's department's,
    every task for the GM."""
    from intranet.core.access import customer_id_scope

    return customer_id_scope(FollowUp.customer_id, user)


def due_soon(user, limit: int = 5):
    """(count, the first `limit`) of the open tasks due within a week, overdue ones first."""
    today = clock.now().astimezone(settings.tz()).date()
    where = (open_tasks(), FollowUp.due_on <= today + timedelta(days=SOON_DAYS), visible(user))
    count = db.session.scalar(select(func.count()).select_from(FollowUp).where(*where)) or 0
    first = db.session.execute(
        select(FollowUp.id, FollowUp.customer_id, FollowUp.due_on, FollowUp.reason,
               FollowUp.after_days, Customer.name)
        .join(Customer, Customer.id == FollowUp.customer_id).where(*where)
        .order_by(FollowUp.due_on, FollowUp.id).limit(limit)).all() if count else []
    return count, first


def complete(customer_id: int, activity: Activity, day: date) -> list[int]:
    """The customer's open tasks due by `day` plus the window, completed by `activity`."""
    window = timedelta(days=settings.get("follow_up_window_days"))
    ids = list(db.session.scalars(select(FollowUp.id).where(
        FollowUp.customer_id == customer_id, open_tasks(), FollowUp.due_on <= day + window)))
    if ids:
        db.session.execute(update(FollowUp).where(FollowUp.id.in_(ids)).values(
            done_at=clock.now(), done_by_activity_id=activity.id))
    return ids


def ask(customer: Customer, activity: Activity, recorder) -> int:
    """The next follow-up a visit asked for: the rep's task (the recorder's, if the customer
    has no rep)."""
    task = FollowUp(customer_id=customer.id, assignee_id=customer.owner_id or recorder.id,
                    reason="next_action", due_on=activity.next_action_on,
                    activity_id=activity.id)
    db.session.add(task)
    db.session.flush()
    return task.id


def first_purchase(customer_ids) -> int:
    """Rule V4: for each of these customers whose first order is recent (its last follow-up
    still ahead) and who has a rep, one task per follow-up day, once. Set-based: the orders
    just written decide, however they came in (order form, import)."""
    days = tuple(settings.get("follow_up_days"))
    ids = sorted(set(customer_ids))
    if not days or not ids:
        return 0
    today = clock.now().astimezone(settings.tz()).date()
    first = (select(Order.customer_id, func.min(Order.ordered_on).label("on"))
             .where(Order.customer_id.in_(ids)).group_by(Order.customer_id).subquery())
    rows = db.session.execute(
        select(first.c.customer_id, first.c.on, Customer.owner_id)
        .join(Customer, Customer.id == first.c.customer_id)
        .where(Customer.owner_id.is_not(None),
               first.c.on >= today - timedelta(days=max(days)),
               ~select(FollowUp.id).where(and_(FollowUp.customer_id == first.c.customer_id,
                                               FollowUp.reason == "first_purchase"))
               .exists())).all()
    # A first order entered late gets only the follow-ups still ahead of it.
    db.session.add_all(FollowUp(customer_id=customer_id, assignee_id=owner_id,
                                reason="first_purchase", after_days=n,
                                due_on=on + timedelta(days=n))
                       for customer_id, on, owner_id in rows for n in days
                       if on + timedelta(days=n) >= today)
    db.session.flush()
    return len(rows)
