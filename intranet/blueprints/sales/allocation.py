"""The director's allocation pages (rules R7, R8, R9): pool customers and new leads, searchable
and paginated; for one customer, the department's reps ranked with the reasons in words and the
skipped ones with theirs; allocating; and reallocating a customer whose first contact was
missed. The ranking and the allocation live in resources/allocation.py."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import exists, select
from wtforms import HiddenField, StringField

from intranet.blueprints.sales import bp
from intranet.core import audit
from intranet.core.forms import Form, length
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.pagination import paginate
from intranet.core.querystring import parse_int, text_arg
from intranet.customers import search_fields
from intranet.extensions import db
from intranet.models import ContactMiss, Customer, User
from intranet.resources import allocation, first_contact


class AllocateForm(Form):
    rep_id = HiddenField()
    note = StringField(_l("Note (optional)"), validators=[length(200)])


def allocatable_or_404(customer_id: int, department_id: int | None) -> Customer:
    """A customer the manager may allocate (no owner, in the department's reach) or reallocate
    (first contact missed); otherwise 404, as for any record out of scope."""
    scope = allocation.allocatable(department_id) | allocation.reallocatable(department_id)
    customer = db.session.scalar(select(Customer).where(Customer.id == customer_id, scope))
    if customer is None:
        abort(404)
    return customer


@bp.route("/allocation")
def allocation_list():
    department_id = allocation.department_of(current_user)
    q = text_arg("q")
    query = select(Customer).where(allocation.allocatable(department_id))
    if q:
        query = query.where(search_fields.matches(q, search_fields.NAME))
    page = paginate(query.order_by(Customer.created_at.desc(), Customer.id.desc()))
    missed = db.session.execute(
        select(Customer, ContactMiss).join(ContactMiss, ContactMiss.customer_id == Customer.id)
        .where(first_contact.missed_in(department_id))
        .order_by(ContactMiss.missed_at.desc(), ContactMiss.id.desc()).limit(50)).all()
    reps = allocation.suggest(Customer(), department_id)
    audit.record(audit.Action.VIEW, "customer_list", "", details={
        "list": "allocation", "page": page.page, "rows": [c.id for c in page.items],
        "missed": [c.id for c, _m in missed]})
    return render_template("sales/allocation.html", page=page, q=q, missed=missed, reps=reps)


@bp.route("/allocation/<int:lead_id>", methods=["GET", "POST"])
def allocate(lead_id: int):
    """One pool customer or new lead (or a missed first contact to reallocate): the ranking
    and the allocation."""
    department_id = allocation.department_of(current_user)
    customer = allocatable_or_404(lead_id, department_id)
    form = AllocateForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            rep_id = parse_int(form.rep_id.data)
            rep = db.session.get(User, rep_id) if rep_id else None
            try:
                if rep is None:
                    raise allocation.AllocationError(_("Choose a rep of your department."))
                allocation.allocate(customer, rep, current_user, department_id,
                                    form.note.data or "")
            except allocation.AllocationConflict as error:
                flash(str(error), "error")
                status = 409
            except allocation.AllocationError as error:
                form.rep_id.errors = [str(error)]
            else:
                flash(_("%(customer)s allocated to %(rep)s.", customer=customer.name,
                        rep=rep.display_name), "success")
                return redirect(url_for("sales.allocation_list"))
    suggestions = allocation.suggest(customer, department_id)
    missed = db.session.scalar(select(exists().where(
        Customer.id == customer.id, allocation.reallocatable(department_id))))
    audit.record(audit.Action.VIEW, "customer", customer.id, details={
        "page": "allocation", "suggested": [s.rep.id for s in suggestions if s.rank]})
    return render_template("sales/allocate.html", customer=customer, form=form,
                           suggestions=suggestions, missed=missed), status
