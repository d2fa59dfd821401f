"""The shared pool (公海, rules R5, R6): owner-less customers with what a new owner needs to
know, and the rep's claim that the director decides."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import aliased, load_only

from intranet.blueprints.sales import bp
from intranet.blueprints.sales.resource_forms import ClaimForm
from intranet.core import audit, i18n
from intranet.core.errors import FieldError
from intranet.core.pagination import paginate
from intranet.core.querystring import text_arg, url_pattern
from intranet.customers import search_fields
from intranet.extensions import db
from intranet.models import Customer, CustomerPool, Order, OwnershipRecord, User
from intranet.resources import KIND_LABELS, RECLAIM_LABELS, reclaim, requests


def _user():
    return current_user._get_current_object()


_GIVER, _TAKER = aliased(User), aliased(User)
_IDS = bindparam("ids", expanding=True)
# Built once: building these joins per page cost more than running them (issue 12).
_RECORDS = (
    select(OwnershipRecord.customer_id, OwnershipRecord.to_user_id, OwnershipRecord.kind,
           OwnershipRecord.at, OwnershipRecord.reason, _GIVER.display_name,
           _TAKER.display_name)
    .outerjoin(_GIVER, _GIVER.id == OwnershipRecord.from_user_id)
    .outerjoin(_TAKER, _TAKER.id == OwnershipRecord.to_user_id)
    .where(OwnershipRecord.customer_id.in_(_IDS))
    .order_by(OwnershipRecord.at, OwnershipRecord.id))
_ORDERS = (select(Order.customer_id, func.count(), func.coalesce(func.sum(Order.amount), 0))
           .where(Order.customer_id.in_(_IDS), Order.status != "cancelled")
           .group_by(Order.customer_id))


def pool_facts(customer_ids: list[int]) -> dict[int, dict]:
    """Past owners, why and when each customer last returned, and its past orders — three
    queries for the whole page."""
    facts = {cid: {"owners": [], "returned": None, "orders": 0, "ordered": 0}
             for cid in customer_ids}
    if not customer_ids:
        return facts
    records = db.session.execute(_RECORDS, {"ids": customer_ids})
    rules = {f"reclaim_rule:{rule.id}": rule.kind for rule in reclaim.all_rules()}
    for customer_id, to_user_id, kind, at, reason, from_name, to_name in records:
        entry = facts[customer_id]
        if to_user_id is None:
            entry["returned"] = (kind, at, rules.get(reason))
        for name in (from_name, to_name):
            if name and name not in entry["owners"]:
                entry["owners"].append(name)
    for customer_id, count, total in db.session.execute(_ORDERS, {"ids": customer_ids}):
        facts[customer_id]["orders"], facts[customer_id]["ordered"] = count, total
    return facts


@bp.route("/pool")
def pool():
    user = _user()
    # the pools as a list, not a join: the capped count then reads the (pool_id, owner_id)
    # index alone instead of a thousand customer rows (issue 12); the rows bring what the
    # table shows
    query = (select(Customer)
             .options(load_only(Customer.name, Customer.deal_class, Customer.region,
                                Customer.pool_id, Customer.last_activity_at))
             .where(Customer.owner_id.is_(None), Customer.pool_id.in_(
                 select(CustomerPool.id).where(requests.visible_pools(user)))))
    q = text_arg("q")
    if q:
        query = query.where(search_fields.matches(q, search_fields.NAME))
    page = paginate(query.order_by(Customer.name_pinyin, Customer.id))
    ids = [c.id for c in page.items]
    audit.record(audit.Action.VIEW, "customer_list", "", details={
        "list": "pool", "page": page.page, "rows": ids})
    pools = dict(db.session.execute(select(CustomerPool.id, CustomerPool.name)).all())
    return render_template("sales/pool.html", page=page, q=q, facts=pool_facts(ids),
                           pools=pools, reclaim_kinds=i18n.resolved(RECLAIM_LABELS),
                           ownership_kinds=i18n.resolved(KIND_LABELS),
                           claim_url=url_pattern("sales.pool_claim", "customer_id"))


@bp.route("/pool/<int:customer_id>/claim", methods=["GET", "POST"])
def pool_claim(customer_id: int):
    user = _user()
    customer = requests.pool_customer_or_none(customer_id, user)
    if customer is None:
        abort(404)
    form = ClaimForm()
    if form.validate_on_submit():
        try:
            row = requests.claim(customer, user, form.reason.data)
        except FieldError as error:
            db.session.rollback()
            getattr(form, error.field).errors = [str(error.message)]
        else:
            flash(_("Claim sent: the director approves or rejects it."), "success")
            return redirect(url_for("sales.resource_request", request_id=row.id))
    audit.record(audit.Action.VIEW, "customer", customer.id, details={"page": "pool_claim"})
    return render_template("sales/pool_claim.html", form=form, customer=customer,
                           facts=pool_facts([customer.id])[customer.id]), (
        422 if form.errors else 200)
