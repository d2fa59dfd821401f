"""Order entry from the customer page, checked against the credit limit (rule K7)."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from intranet.blueprints.sales import bp
from intranet.blueprints.sales.forms import OrderForm
from intranet.core import audit
from intranet.core.access import scoped_customer_or_404
from intranet.credit import exposure
from intranet.extensions import db
from intranet.models import Order
from intranet.visits import tasks


@bp.route("/customers/<int:customer_id>/orders/new", methods=["GET", "POST"])
def order_new(customer_id: int):
    customer = scoped_customer_or_404(customer_id, "edit")
    form = OrderForm()
    check = None
    if form.validate_on_submit():
        number = form.number.data.strip()
        if db.session.scalar(select(Order.id).where(Order.number == number)):
            form.number.errors = [_("This order number is already used.")]
        else:
            check = exposure.check(customer, form.amount.data)
            if check.allowed:
                order = Order(customer_id=customer.id, number=number,
                              ordered_on=form.ordered_on.data, amount=form.amount.data,
                              status="open")
                db.session.add(order)
                db.session.flush()
                tasks.first_purchase([customer.id])  # rule V4
                audit.record(audit.Action.CREATE, "order", order.id, details={
                    "customer": customer.id, "amount": order.amount,
                    "exposure": check.total, "limit": check.limit})
                flash(_("Order %(number)s taken. %(check)s", number=number,
                        check=check.message()), "success")
                return redirect(url_for("sales.customer", customer_id=customer.id))
            audit.record(audit.Action.VIEW, "order_blocked", customer.id, details={
                "amount": form.amount.data, "exposure": check.total, "limit": check.limit,
                "problem": check.problem})
    return render_template("credit/order_form.html", form=form, customer=customer,
                           check=check), (422 if form.errors else 200)
