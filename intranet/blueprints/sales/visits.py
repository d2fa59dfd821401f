"""Visits due (rule V2): the customers in the reader's scope (C6) whose visit obligations are
overdue or fall due within a week, with what each is owed; the share of important customers
visited this quarter. Due days are derived in SQL from the last visits (visits/cadence.py)."""
from __future__ import annotations

from datetime import timedelta

from flask import render_template, request
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from intranet.blueprints.sales import bp
from intranet.blueprints.sales.customers import _owner_choices
from intranet.core import audit, i18n
from intranet.core.access import customer_scope
from intranet.core.pagination import Key, paginate
from intranet.core.querystring import int_arg
from intranet.core.roles import Role
from intranet.customers import ledger
from intranet.customers.labels import TIER_LABELS
from intranet.models import Customer, FollowUp, User
from intranet.models.user import user_name
from intranet.visits import cadence, tasks

SOON_DAYS = 7
WHEN = ("overdue", "soon", "period")


@bp.route("/visits")
def visits_due():
    user = current_user._get_current_object()
    today = ledger.today()
    when = request.args.get("when") if request.args.get("when") in WHEN else "overdue"
    key = request.args.get("obligation")
    chosen = (cadence.BY_KEY[key],) if key in cadence.BY_KEY else cadence.OBLIGATIONS
    # The day each obligation must fall due before to be listed.
    limits = {o.key: today if when == "overdue" else today + timedelta(days=SOON_DAYS + 1)
              if when == "soon" else cadence.period_end(today, cadence.check_months(o))
              + timedelta(days=1) for o in chosen}
    due = or_(*[cadence.due_between(o, today, SOON_DAYS) if when == "soon"  # not overdue yet
                else cadence.due_before(o, limits[o.key]) for o in chosen])
    scope = customer_scope(user)
    query = (select(Customer).where(scope, due)
             .options(selectinload(Customer.owner).lazyload(User.role_rows))
             .order_by(Customer.name_pinyin, Customer.id))
    owner = int_arg("owner")
    if owner:
        query = query.where(Customer.owner_id == owner)
    page = paginate(query, keyset=(Key(Customer.name_pinyin), Key(Customer.id)))
    rows = [(c, [s for s in cadence.statuses(c, today) if s.obligation in chosen
                 and s.due_on < limits[s.obligation.key]
                 and (when != "soon" or not s.overdue(today))])
            for c in page.items]
    start, end = cadence.quarter_bounds(today)
    visited, important = cadence.coverage(scope, start, end)
    audit.record(audit.Action.VIEW, "customer_list", "", details={
        "list": "visits_due", "when": when, "page": page.page,
        "rows": [c.id for c in page.items]})
    return render_template(
        "sales/visits_due.html", page=page, rows=rows, when=when, obligation=key,
        obligations=cadence.OBLIGATIONS, owners=_owner_choices(), today=today,
        tiers=i18n.resolved(TIER_LABELS), soon=SOON_DAYS, quarter=(start, end),
        visited=visited, important=important,
        is_gm=Role.GENERAL_MANAGER in user.roles)


@bp.route("/follow-ups")
def follow_ups():
    """Follow-up tasks (rules V3, V4) of the reader's customers (C6): open ones by due day,
    or the latest done."""
    done = request.args.get("status") == "done"
    query = (select(FollowUp.id, FollowUp.customer_id, FollowUp.due_on, FollowUp.reason,
                    FollowUp.after_days, FollowUp.done_at, Customer.name,
                    user_name(Customer.owner_id).label("owner_name"))
             .join(Customer, Customer.id == FollowUp.customer_id)
             .where(tasks.visible(current_user._get_current_object()),
                    FollowUp.done_at.is_not(None) if done else tasks.open_tasks()))
    query = query.order_by(FollowUp.done_at.desc(), FollowUp.id.desc()) if done else \
        query.order_by(FollowUp.due_on, FollowUp.id)
    page = paginate(query, tuples=True)
    audit.record(audit.Action.VIEW, "customer_list", "", details={
        "list": "follow_ups", "done": done, "page": page.page,
        "rows": [r.customer_id for r in page.items]})
    return render_template("sales/follow_ups.html", page=page, done=done,
                           today=ledger.today())
