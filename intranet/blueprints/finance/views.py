"""Finance: transactions (rule C9), shipment release against the credit limit (K7) and the
over-limit list (K3)."""
from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from intranet.blueprints.finance import bp
from intranet.blueprints.finance.forms import ReleaseForm
from intranet.core import audit, notifications
from intranet.core.access import customer_id_scope
from intranet.core.errors import abort_with
from intranet.core.http import is_htmx, toast
from intranet.core.pagination import paginate
from intranet.core.querystring import text_arg
from intranet.core.roles import Role
from intranet.core.search import contains
from intranet.core.uploads import import_page
from intranet.credit import breaches, exposure
from intranet.customers import ledger, search_fields
from intranet.customers.importer import import_transactions
from intranet.extensions import db
from intranet.models import CreditBreach, Customer, Order, Shipment
from intranet.visits import tasks


@bp.route("/transactions/import", methods=["GET", "POST"])
def transactions_import():
    """Orders, shipments and payments from a file, all or nothing; tiers follow (C3)."""

    def refresh_and_audit(records):
        customer_ids = sorted({r.customer_id for r in records})
        ledger.refresh(db.session.scalars(
            db.select(Customer).where(Customer.id.in_(customer_ids))).all())
        audit.record(audit.Action.CREATE, "transactions", "", details={
            "rows": len(records), "customers": customer_ids})
        breaches.check(db.session.scalars(  # rule K3 as soon as receivables change
            db.select(Customer).where(Customer.id.in_(customer_ids))).all())
        tasks.first_purchase({r.customer_id for r in records if isinstance(r, Order)})  # V4
    return import_page(import_transactions, refresh_and_audit, _("Import transactions"),
                       "import/transactions.csv")


@bp.route("/orders")
def orders():
    """Open orders waiting for shipment release (rule K7)."""
    query = (select(Order).join(Customer, Customer.id == Order.customer_id)
             .options(joinedload(Order.customer)).where(Order.status == "open"))
    q = text_arg("q")
    if q:
        query = query.where(or_(search_fields.matches(q, search_fields.NAME),
                                 contains(Order.number, q)))
    page = paginate(query.order_by(Order.ordered_on, Order.id))
    audit.record(audit.Action.VIEW, "order_list", "", details={
        "page": page.page, "rows": [o.id for o in page.items]})
    return render_template("finance/orders.html", page=page, q=q, form=ReleaseForm(formdata=None))


@bp.route("/orders/<int:order_id>/release", methods=["POST"])
def order_release(order_id: int):
    """Rule K7: ship an open order only within the customer's effective limit. Over it, only
    the GM may force the release, with a reason; the override names the responsible rep and
    manager, who are told."""
    # FOR UPDATE: two finance clerks releasing the same order at once ship it once.
    order = db.session.scalar(select(Order).where(Order.id == order_id)
                              .with_for_update()) or abort(404)
    if order.status != "open":
        abort_with(409, _("Order %(number)s is no longer open.", number=order.number))
    form = ReleaseForm()
    if not form.validate_on_submit():
        abort_with(422, _("The reason is too long."))
    customer = db.session.get(Customer, order.customer_id)
    check = exposure.check(customer, order.amount, order=order)
    user = current_user._get_current_object()
    forced = None
    if not check.allowed:
        is_gm = g.grant is not None and g.grant.role == Role.GENERAL_MANAGER
        reason = (form.reason.data or "").strip()
        if not (is_gm and form.force.data):
            return _release_refused(order, check, form)
        if check.problem == exposure.BLACKLISTED or not reason:
            form.reason.errors = [_("Give the reason for releasing over the limit.")] \
                if not reason else [check.message()]
            return _release_refused(order, check, form)
        forced = exposure.record_override(order, check, reason, user, g.grant)
    order.status = "shipped"
    db.session.add(Shipment(customer_id=customer.id, order_id=order.id,
                            shipped_on=ledger.today(), amount=order.amount))
    db.session.flush()
    audit.record(audit.Action.CREATE, "shipment", order.id, reason=forced.reason if forced else "",
                 details={"order": order.number, "amount": order.amount,
                          "exposure": check.total, "limit": check.limit,
                          "forced": bool(forced)})
    if forced:
        for user_id in {forced.responsible_rep_id, forced.responsible_manager_id} - {None}:
            notifications.notify(user_id, "shipment_forced",
                                 url_for("sales.customer", customer_id=customer.id),
                                 order=order.number, customer=customer.name)
    ledger.refresh([customer])
    breaches.check([customer])  # rule K3 right away, not only at the next job run
    message = _("Order %(number)s released for shipment.", number=order.number)
    if is_htmx():
        return render_template("finance/_order_released.html", order=order,
                               forced=forced), 200, toast(message)
    flash(message, "success")
    return redirect(url_for("finance.orders"))


def _release_refused(order, check, form):
    """The row again, with the numbers that block it. A 200, not an error: the refusal is the
    rule working, and its audit row must be kept."""
    audit.record(audit.Action.VIEW, "shipment_blocked", order.id, details={
        "amount": order.amount, "exposure": check.total, "limit": check.limit,
        "problem": check.problem})
    return render_template("finance/_order_row.html", order=order, check=check, form=form)


@bp.route("/over-limit")
def over_limit():
    """Rule K3: customers whose receivables exceed their effective limit (open breaches)."""
    query = (select(CreditBreach).options(joinedload(CreditBreach.customer))
             .where(CreditBreach.ended_at.is_(None))
             .order_by(CreditBreach.started_at, CreditBreach.id))
    if not current_user.roles & {Role.FINANCE, Role.GENERAL_MANAGER}:
        # a sales manager sees the department's customers only (rule C6)
        query = query.where(customer_id_scope(CreditBreach.customer_id, current_user))
    page = paginate(query)
    audit.record(audit.Action.VIEW, "over_limit_list", "", details={
        "rows": [b.customer_id for b in page.items]})
    return render_template("finance/over_limit.html", page=page)
