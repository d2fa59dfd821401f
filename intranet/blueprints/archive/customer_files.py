"""Customer file cards in the archive (issue 11 §2): find a customer, open the file as it
stood at the end of a year (or now), print it signed. Every open audited."""
from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user
from sqlalchemy import select

from intranet.archive import issue, sealing
from intranet.blueprints.archive import bp, file_card
from intranet.blueprints.archive.browser import _departments
from intranet.core import audit, clock, settings
from intranet.core.pagination import paginate
from intranet.core.querystring import int_arg, text_arg
from intranet.customers import search_fields
from intranet.extensions import db
from intranet.models import Customer


@bp.route("/customers")
def customer_files():
    department_id, q = int_arg("department"), text_arg("q")
    query = select(Customer)
    if department_id:
        query = query.where(Customer.department_id == department_id)
    if q:
        query = query.where(search_fields.matches(q, search_fields.NAME))
    page = paginate(query.order_by(Customer.name_pinyin, Customer.id))
    audit.record(audit.Action.VIEW, "customer_list", "", details={
        "list": "archive_customer_files", "page": page.page,
        "rows": [c.id for c in page.items]})
    return render_template("archive/customers.html", page=page, q=q,
                           department_id=department_id, departments=_departments())


def _customer_and_year(customer_id: int):
    """The customer and the year asked for; a sealed year's file only with a grant (rule C7:
    SealedFileRefused explains and links to the request form; an opening is logged)."""
    customer = db.session.get(Customer, customer_id) or abort(404)
    this_year = clock.now().astimezone(settings.tz()).year
    first = customer.created_at.astimezone(settings.tz()).year
    year = int_arg("year", minimum=first, maximum=this_year) or this_year
    sealing.open_sealed_file(current_user, customer.id, year)
    return customer, year, list(range(this_year, first - 1, -1))


@bp.route("/customers/<int:customer_id>")
def customer_file(customer_id: int):
    customer, year, years = _customer_and_year(customer_id)
    doc = file_card.document(customer, year)
    audit.record(audit.Action.VIEW, "customer", customer.id, details={
        "archive": True, "file": doc.number})
    return render_template("archive/customer_file.html", customer=customer, year=year,
                           years=years, doc=doc, sealed=sealing.sealed_years())


@bp.route("/customers/<int:customer_id>/pdf")
def customer_file_pdf(customer_id: int):
    customer, year, _ = _customer_and_year(customer_id)
    return issue.hand_out(file_card.document(customer, year), details={"year": year})


