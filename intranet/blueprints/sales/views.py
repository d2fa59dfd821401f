"""Customers (minimal until the customer-archive issue): scoped lists, audited reads (rule C6)."""
import csv
import io

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from intranet import audit, credit_code
from intranet.access import customer_scope, scoped_customer_or_404
from intranet.blueprints.sales import bp
from intranet.blueprints.sales.forms import BlacklistForm, CustomerForm, NewCustomerForm
from intranet.customers import ledger
from intranet.customers.dedupe import find_duplicate
from intranet.customers.labels import RELATIONSHIP_LABELS, TIER_LABELS
from intranet.extensions import db
from intranet.forms import ConfirmForm
from intranet.http import is_htmx
from intranet.models import Contact, Customer
from intranet.models.customer import RELATIONSHIPS, TIERS
from intranet.pagination import paginate
from intranet.search import contains

GROWTH = (Customer.sales_12m - Customer.sales_prev_12m) / func.nullif(Customer.sales_prev_12m, 0)
SORTS = {  # rule C5: "growth" ranks by year-on-year growth
    "name": (Customer.name,),
    "sales": (Customer.sales_12m.desc(),),
    "growth": (GROWTH.is_(None), GROWTH.desc()),
    "newest": (Customer.created_at.desc(),),
}


def _customer_query():
    """The visible customers (C6) filtered and sorted as the list's query string asks."""
    args = request.args
    query = (select(Customer).options(joinedload(Customer.owner))
             .where(customer_scope(current_user)))
    q = (args.get("q") or "").strip()[:100]
    if q:
        query = query.where(or_(contains(Customer.name, q), contains(Customer.region, q),
                                contains(Customer.credit_code, q)))
    if args.get("tier") in TIERS:
        query = query.where(func.coalesce(Customer.tier_override, Customer.tier) == args["tier"])
    if args.get("status") in RELATIONSHIPS:
        query = query.where(Customer.relation == args["status"])
    if args.get("blacklisted") in ("0", "1"):
        query = query.where(Customer.blacklisted.is_(args["blacklisted"] == "1"))
    owner = args.get("owner", type=int)
    if owner:
        query = query.where(Customer.owner_id == owner)
    sort = args.get("sort") if args.get("sort") in SORTS else "name"
    return query.order_by(*SORTS[sort], Customer.id), q


@bp.route("/customers")
def customers():
    query, q = _customer_query()
    page = paginate(query)
    # Rule C6: reading a list of customers is an access to customer data too.
    audit.record(audit.Action.VIEW, "customer_list", "", details={
        "q": q, "page": page.page, "rows": [c.id for c in page.items]})
    template = "sales/_customer_rows.html" if is_htmx() and request.headers.get(
        "HX-Target") == "customer-rows" else "sales/customers.html"
    return render_template(template, page=page, q=q, tiers=TIER_LABELS,
                           statuses=RELATIONSHIP_LABELS)


@bp.route("/customers/export.csv")
def customers_export():
    query, q = _customer_query()
    rows = db.session.scalars(query).all()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("Company name"), _("Region"), _("Owner")])
    for c in rows:
        writer.writerow([_csv_safe(c.name), _csv_safe(c.region),
                         _csv_safe(c.owner.display_name if c.owner else "")])
    audit.record(audit.Action.EXPORT, "customer_list", "", details={"q": q, "rows": len(rows)})
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=customers.csv"})


def _csv_safe(value: str) -> str:
    """Neutralise spreadsheet formulas in exported cells."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@bp.route("/customers/new", methods=["GET", "POST"])
def customer_new():
    form = NewCustomerForm()
    duplicate = None
    if form.validate_on_submit():
        code = credit_code.normalise(form.credit_code.data or "") or None
        phones = [form.contact_phone.data] if form.contact_phone.data else []
        found = find_duplicate(form.name.data, code, phones)
        if found:  # rule C2: register first; whoever registered first owns it
            duplicate = {"customer": found[0], "reason": found[1]}
            audit.record(audit.Action.VIEW, "customer_duplicate", found[0].id,
                         details={"attempted": form.name.data, "matched_on": found[1]})
        else:
            user = current_user._get_current_object()
            record = Customer(name=form.name.data.strip(), credit_code=code,
                              region=(form.region.data or "").strip(), owner_id=user.id,
                              department_id=user.department_id, created_by_id=user.id)
            if form.contact_name.data or form.contact_phone.data:
                record.contacts.append(Contact(name=(form.contact_name.data or "").strip(),
                                               phone=(form.contact_phone.data or "").strip()))
            db.session.add(record)
            db.session.flush()
            audit.record(audit.Action.CREATE, "customer", record.id,
                         details={"name": record.name, "credit_code": code})
            flash(_("Customer registered."), "success")
            return redirect(url_for("sales.customer", customer_id=record.id))
    return render_template("sales/customer_new.html", form=form, duplicate=duplicate), (
        409 if duplicate else 200)


@bp.route("/customers/<int:customer_id>")
def customer(customer_id: int):
    record = scoped_customer_or_404(customer_id)
    audit.record(audit.Action.VIEW, "customer", record.id)
    figures = ledger.figures([record.id])[record.id]
    return render_template("sales/customer.html", customer=record, figures=figures,
                           confirm=ConfirmForm(), blacklist_form=BlacklistForm(),
                           tiers=TIER_LABELS)


@bp.route("/customers/<int:customer_id>/edit", methods=["GET", "POST"])
def customer_edit(customer_id: int):
    record = scoped_customer_or_404(customer_id, "edit")
    form = CustomerForm(obj=record)
    if form.validate_on_submit():
        before = {"name": record.name, "region": record.region}
        record.name = form.name.data.strip()
        record.region = (form.region.data or "").strip()
        after = {"name": record.name, "region": record.region}
        audit.record(audit.Action.UPDATE, "customer", record.id, details={
            k: {"old": before[k], "new": after[k]} for k in before if before[k] != after[k]})
        flash(_("Changes saved."), "success")
        return redirect(url_for("sales.customer", customer_id=record.id))
    if request.method == "GET":
        audit.record(audit.Action.VIEW, "customer", record.id)
    return render_template("sales/customer_form.html", form=form, customer=record)


@bp.route("/customers/<int:customer_id>/blacklist", methods=["POST"])
def customer_blacklist(customer_id: int):
    """Rule C8: a sales manager puts a customer on the blacklist, or takes it off, with a
    reason; blacklisted customers get no credit and no new orders."""
    record = scoped_customer_or_404(customer_id, "edit")
    form = BlacklistForm()
    if not form.validate_on_submit():
        for error in form.reason.errors:
            flash(error, "error")
        return redirect(url_for("sales.customer", customer_id=record.id))
    record.blacklisted = not record.blacklisted
    record.blacklist_reason = form.reason.data.strip() if record.blacklisted else ""
    audit.record(audit.Action.UPDATE, "customer", record.id, reason=form.reason.data.strip(),
                 details={"blacklisted": record.blacklisted})
    flash(_("Customer put on the blacklist.") if record.blacklisted
          else _("Customer taken off the blacklist."), "success")
    return redirect(url_for("sales.customer", customer_id=record.id))


@bp.route("/customers/<int:customer_id>/delete", methods=["POST"])
def customer_delete(customer_id: int):
    record = scoped_customer_or_404(customer_id, "edit")
    if ConfirmForm().validate_on_submit():
        audit.record(audit.Action.DELETE, "customer", record.id, details={"name": record.name})
        db.session.delete(record)
        flash(_("Customer deleted."), "success")
    return redirect(url_for("sales.customers"))
