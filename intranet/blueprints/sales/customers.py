"""Customers: the scoped list with search, export and import; registration, the customer
page, editing and deletion; audited reads (rule C6). The parts of a file (contacts, activities,
attachments, tier, blacklist) are in customer_file.py."""
import csv
import io

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Float, bindparam, false, func, literal, select, true, type_coerce, union_all
from sqlalchemy.orm import joinedload, selectinload

from intranet.blueprints.sales import bp
from intranet.blueprints.sales.forms import (
    AccessReasonForm,
    ActivityForm,
    AttachmentForm,
    BlacklistForm,
    ContactForm,
    CustomerForm,
    NewCustomerForm,
    TierOverrideForm,
)
from intranet.blueprints.sales.requests import ConflictClaimForm
from intranet.core import audit, i18n
from intranet.core.access import (
    customer_scope,
    grant_reason_access,
    needs_reason,
    scoped_customer_or_404,
)
from intranet.core.forms import ConfirmForm
from intranet.core.http import download_disposition, is_htmx
from intranet.core.pagination import Key, paginate
from intranet.core.querystring import int_arg, text_arg
from intranet.core.roles import Role
from intranet.core.spreadsheets import XLSX_MIME, xlsx_bytes
from intranet.core.uploads import import_page
from intranet.customers import credit_code, ledger, search_fields
from intranet.customers.dedupe import find_duplicate
from intranet.customers.importer import import_customers
from intranet.customers.labels import (
    ACTIVITY_LABELS,
    PAYMENT_LABELS,
    RELATIONSHIP_LABELS,
    SIZE_LABELS,
    SOURCE_LABELS,
    TIER_LABELS,
)
from intranet.extensions import db
from intranet.models import (
    Activity,
    Attachment,
    Contact,
    CreditApplication,
    Customer,
    FollowUp,
    Order,
    Payment,
    Shipment,
    User,
    UserRole,
)
from intranet.models.customer import GROWTH, RELATIONSHIPS, TIERS
from intranet.models.user import user_name
from intranet.resources import ownership, reclaim
from intranet.visits import cadence
from intranet.visits import operations as visits

EXPORT_LIMIT = 50_000
SORTS = {  # rule C5: "growth" ranks by year-on-year growth
    "name": (Customer.name_pinyin,),
    "sales": (Customer.sales_12m.desc(),),
    "growth": (GROWTH.is_(None), GROWTH.desc()),
    "newest": (Customer.created_at.desc(),),
}
# Each sort with the id as tie-breaker is the key of an index per scope (models/customer.py:
# department, owner, all), so a page reads 26 index entries instead of sorting every visible
# customer; the column sorts also page by key (?after=), growth by offset in its index.
KEYSETS = {
    "name": (Key(Customer.name_pinyin), Key(Customer.id)),
    "sales": (Key(Customer.sales_12m, descending=True), Key(Customer.id)),
    "growth": None,
    "newest": (Key(Customer.created_at, descending=True), Key(Customer.id)),
}

# A row of the list as plain columns, not an entity with its owner (ORM loading was a sixth
# of the page); the owner's name is a subquery, so the count still reads no user.
LIST_COLUMNS = (
    Customer.id, Customer.name, Customer.name_pinyin, Customer.blacklisted,
    Customer.tier_override,
    func.coalesce(Customer.tier_override, Customer.tier).label("effective_tier"),
    Customer.region, Customer.sales_12m, Customer.created_at,
    type_coerce(GROWTH, Float).label("growth"),  # not Numeric(14, 2)'s two places
    user_name(Customer.owner_id).label("owner_name"))


def _customer_query(columns=()):
    """The visible customers (C6) filtered and sorted as the list's query string asks: as
    entities, or as rows of `columns`; with the search term and sort, and the way to count
    the search's matches (core/search.Match.count_drive, None without one).

    Staff outside sales (rule C6 "others") only look a company up by name or code: they see
    matches once they type two characters, and open a file only after giving a reason."""
    args = request.args
    q = text_arg("q")
    lookup = needs_reason(current_user)
    scope = (true() if len(q) >= 2 else false()) if lookup else customer_scope(current_user)
    query = select(*columns).where(scope) if columns else (
        select(Customer).options(selectinload(Customer.owner).lazyload(User.role_rows))
        .where(scope))
    count_drive = None
    if q:  # name, region, credit code, or a contact's phone typed with or without separators
        found = search_fields.match(q)
        query, count_drive = query.where(found.condition), found.count_drive
    if args.get("tier") in TIERS:
        query = query.where(func.coalesce(Customer.tier_override, Customer.tier) == args["tier"])
    if args.get("status") in RELATIONSHIPS:
        query = query.where(Customer.relation == args["status"])
    if args.get("blacklisted") in ("0", "1"):
        query = query.where(Customer.blacklisted.is_(args["blacklisted"] == "1"))
    owner = int_arg("owner")
    if owner:
        query = query.where(Customer.owner_id == owner)
    sort = args.get("sort") if args.get("sort") in SORTS else "name"
    return query.order_by(*SORTS[sort], Customer.id), q, sort, count_drive


@bp.route("/customers")
def customers():
    query, q, sort, count_drive = _customer_query(LIST_COLUMNS)
    page = paginate(query, keyset=KEYSETS[sort], tuples=True, count_drive=count_drive)
    # Rule C6: reading a list of customers is an access to customer data too.
    audit.record(audit.Action.VIEW, "customer_list", "", details={
        "q": q, "page": page.page, "rows": [c.id for c in page.items]})
    template = "sales/_customer_rows.html" if is_htmx() and request.headers.get(
        "HX-Target") == "customer-rows" else "sales/customers.html"
    return render_template(template, page=page, q=q, tiers=i18n.resolved(TIER_LABELS),
                           owners=_owner_choices(), lookup=needs_reason(current_user),
                           statuses=i18n.resolved(RELATIONSHIP_LABELS))


def _owner_choices():
    """Reps whose customers the user may see: the department's for a manager, all for the
    GM (read from the small user tables, never by scanning customers)."""
    try:
        roles = current_user.roles
    except Exception:  # fail closed: no choices rather than an error page
        return []
    if not roles & {Role.SALES_MANAGER, Role.GENERAL_MANAGER}:
        return []
    query = (select(User.id, User.display_name).join(UserRole, UserRole.user_id == User.id)
             .where(UserRole.role == Role.SALES_REP.value).order_by(User.name_pinyin, User.id))
    if Role.GENERAL_MANAGER not in roles:
        query = query.where(User.department_id == current_user.department_id)
    return db.session.execute(query).all()



@bp.route("/customers/export")
def customers_export():
    """The filtered list as XLSX (default) or CSV; audited (rule C6)."""
    query, q, _sort, _drive = _customer_query()
    rows = db.session.scalars(query.limit(EXPORT_LIMIT)).all()
    header = [_("Company name"), _("Unified social credit code"), _("Tier"), _("Region"),
              _("Owner"), _("Sales, last 12 months")]
    table = [[c.name, c.credit_code or "", str(TIER_LABELS[c.effective_tier]), c.region,
              c.owner.display_name if c.owner else "", c.sales_12m] for c in rows]
    audit.record(audit.Action.EXPORT, "customer_list", "", details={
        "filters": {k: v for k, v in request.args.items()}, "rows": len(rows)})
    if request.args.get("format") == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows([[_csv_safe(str(v)) for v in row] for row in table])
        return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv", headers={
            "Content-Disposition": download_disposition(_("Customer list"), "csv",
                                                        "customers")})
    return Response(xlsx_bytes(header, table), mimetype=XLSX_MIME, headers={
        "Content-Disposition": download_disposition(_("Customer list"), "xlsx", "customers")})


def _csv_safe(value: str) -> str:
    """Neutralise spreadsheet formulas in exported cells."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@bp.route("/customers/import", methods=["GET", "POST"])
def customers_import():
    """Rules C1, C2: a whole file of customers, all or nothing, with a per-row report."""
    user = current_user._get_current_object()

    def audit_created(customers):
        for customer in customers:
            ownership.first_owner(customer, "import", user)  # rule R3
            audit.record(audit.Action.CREATE, "customer", customer.id,
                         details={"name": customer.name, "source": "import"})
    return import_page(
        lambda table, report: import_customers(table, user, Role.SALES_MANAGER in user.roles,
                                               report),
        audit_created, _("Import customers"), "import/customers.csv")


@bp.route("/customers/<int:customer_id>/access", methods=["GET", "POST"])
def customer_access(customer_id: int):
    """Rule C6: before opening a file that is not theirs, staff outside sales say why."""
    record = db.session.get(Customer, customer_id) or abort(404)
    form = AccessReasonForm()
    if form.validate_on_submit():
        reason = form.reason.data.strip()
        grant_reason_access(record.id, reason)
        audit.record(audit.Action.CREATE, "file_access", record.id, reason=reason)
        return redirect(url_for("sales.customer", customer_id=record.id))
    return render_template("sales/customer_access.html", form=form, customer=record)


@bp.route("/customers/new", methods=["GET", "POST"])
def customer_new():
    form = NewCustomerForm()
    duplicate = claim_form = None
    if form.validate_on_submit():
        code = credit_code.normalise(form.credit_code.data or "") or None
        phones = [form.contact_phone.data] if form.contact_phone.data else []
        found = find_duplicate(form.name.data, code, phones)
        if found:  # rule C2: register first; whoever registered first owns it
            duplicate = {"customer": found[0], "reason": found[1]}
            audit.record(audit.Action.VIEW, "customer_duplicate", found[0].id,
                         details={"attempted": form.name.data, "matched_on": found[1]})
            if found[0].owner_id != current_user.id:  # rule C2: the manager may decide
                claim_form = ConflictClaimForm(formdata=None, name=form.name.data,
                                               credit_code=form.credit_code.data,
                                               contact_phone=form.contact_phone.data)
        else:
            user = current_user._get_current_object()
            record = Customer(owner_id=user.id, department_id=user.department_id,
                              created_by_id=user.id)
            apply_file_fields(record, form, code)
            if form.contact_name.data or form.contact_phone.data:
                record.contacts.append(Contact(name=(form.contact_name.data or "").strip(),
                                               phone=(form.contact_phone.data or "").strip()))
            db.session.add(record)
            db.session.flush()
            ownership.first_owner(record, "registered", user)  # rule R3
            audit.record(audit.Action.CREATE, "customer", record.id,
                         details={"name": record.name, "credit_code": code})
            flash(_("Customer registered."), "success")
            return redirect(url_for("sales.customer", customer_id=record.id))
    return render_template("sales/customer_new.html", form=form, duplicate=duplicate,
                           claim_form=claim_form), 409 if duplicate else 200


@bp.route("/customers/<int:customer_id>")
def customer(customer_id: int):
    record = scoped_customer_or_404(customer_id)
    audit.record(audit.Action.VIEW, "customer", record.id)
    return render_template("sales/customer.html", **customer_page_context(record))


def customer_page_context(record: Customer, **forms) -> dict:
    """Everything the customer page shows, in a fixed number of queries, each built once per
    process (issue 12: building a statement cost as much as running it)."""
    from intranet.credit import breaches, effective_limits

    params = {"customer_id": record.id}
    transactions = {"order": [], "shipment": [], "payment": []}
    for row in db.session.execute(_LATEST_TRANSACTIONS, params):
        transactions[row.kind].append(row)
    figures = ledger.figures([record.id])[record.id]
    activity_form = forms.get("activity_form") or ActivityForm(formdata=None)
    if activity_form.occurred_at.data is None:
        activity_form.occurred_at.data = ledger.local_now()
    if activity_form.participants.choices is None:
        activity_form.fill_choices(visits.visitors(), exclude=current_user.id)
    today = ledger.today()
    return {
        "customer": record, "figures": figures,
        "tiers": TIER_LABELS,
        "labels": {"size": SIZE_LABELS, "payment_method": PAYMENT_LABELS,
                   "source_channel": SOURCE_LABELS, "relation": RELATIONSHIP_LABELS},
        "owner_name": db.session.scalar(_USER_NAME, {"user_id": record.owner_id})
        if record.owner_id else None,
        "transactions": transactions,
        "activities": _activities(record), "activity_labels": ACTIVITY_LABELS,
        "attachments": db.session.execute(_ATTACHMENTS, params).all(),
        "attachment_form": AttachmentForm(formdata=None),
        "confirm": ConfirmForm(), "blacklist_form": BlacklistForm(),
        "tier_form": TierOverrideForm(formdata=None, tier=record.tier_override or ""),
        "contact_form": forms.get("contact_form") or ContactForm(formdata=None),
        "activity_form": activity_form,
        # Rules K3, K7: the limit in force and an open over-limit breach
        "credit_in_force": effective_limits([record.id]).get(record.id),
        "breach": breaches.open_breaches([record.id]).get(record.id),
        "credit_applications": db.session.scalars(_RECENT_APPLICATIONS, params).all(),
        # Rules R1-R6: the owners over time, and when the customer returns to the pool
        "owners": ownership.history_table(record.id),
        "returning": reclaim.returns_on(record, last_order=figures.last_order_on),
        # Rules V2-V4: the visits the customer is owed and its open follow-ups
        "visit_statuses": cadence.statuses(record, today),
        "follow_ups": db.session.scalars(_OPEN_FOLLOW_UPS, params).all(),
        "today": today,
    }


def _latest(model, kind: str, on):
    return (select(literal(kind).label("kind"), on.label("on"), model.amount)
            .where(model.customer_id == bindparam("customer_id"))
            .order_by(on.desc(), model.id.desc()).limit(10).subquery().select())


# The ten latest orders, shipments and payments, in one statement.
_LATEST_TRANSACTIONS = union_all(_latest(Order, "order", Order.ordered_on),
                                 _latest(Shipment, "shipment", Shipment.shipped_on),
                                 _latest(Payment, "payment", Payment.received_on))
_USER_NAME = select(User.display_name).where(User.id == bindparam("user_id"))
_ATTACHMENTS = (select(Attachment.id, Attachment.filename, Attachment.size,
                       Attachment.uploaded_at)
                .where(Attachment.customer_id == bindparam("customer_id"))
                .order_by(Attachment.id))
_RECENT_APPLICATIONS = (select(CreditApplication)
                        .where(CreditApplication.customer_id == bindparam("customer_id"))
                        .order_by(CreditApplication.id.desc()).limit(5))
_ACTIVITIES = (select(Activity).options(joinedload(Activity.user).lazyload(User.role_rows))
               .where(Activity.customer_id == bindparam("customer_id"))
               .order_by(Activity.occurred_at.desc(), Activity.id.desc())
               .limit(bindparam("limit")))


_OPEN_FOLLOW_UPS = (select(FollowUp).where(FollowUp.customer_id == bindparam("customer_id"),
                                            FollowUp.done_at.is_(None))
                    .order_by(FollowUp.due_on, FollowUp.id).limit(20))


def _activities(record: Customer, limit: int = 20):
    return db.session.scalars(_ACTIVITIES, {"customer_id": record.id, "limit": limit}).all()


@bp.route("/customers/<int:customer_id>/edit", methods=["GET", "POST"])
def customer_edit(customer_id: int):
    record = scoped_customer_or_404(customer_id, "edit")
    form = CustomerForm(obj=record)
    duplicate = None
    if form.validate_on_submit():
        code = credit_code.normalise(form.credit_code.data or "") or None
        found = find_duplicate(form.name.data, code, exclude_id=record.id)
        if found:  # rule C2 holds for edits too: no renaming into another registration
            duplicate = {"customer": found[0], "reason": found[1]}
        else:
            changes = apply_file_fields(record, form, code)
            if changes:
                audit.record(audit.Action.UPDATE, "customer", record.id, details=changes)
            flash(_("Changes saved."), "success")
            return redirect(url_for("sales.customer", customer_id=record.id))
    if request.method == "GET":
        audit.record(audit.Action.VIEW, "customer", record.id)
    return render_template("sales/customer_form.html", form=form, customer=record,
                           duplicate=duplicate), 409 if duplicate else 200


def apply_file_fields(record: Customer, form: CustomerForm, code: str | None) -> dict:
    """Copy the form's file fields onto the customer; return {field: {old, new}} changed."""
    wanted = {name: (getattr(form, name).data or "").strip() for name in form.TEXT_FIELDS}
    wanted["credit_code"] = code
    wanted["registered_capital"] = form.registered_capital.data
    changes = {}
    for name, value in wanted.items():
        old = getattr(record, name)
        if old != value:
            changes[name] = {"old": old, "new": value}
            setattr(record, name, value)
    return changes


@bp.route("/customers/<int:customer_id>/delete", methods=["POST"])
def customer_delete(customer_id: int):
    record = scoped_customer_or_404(customer_id, "edit")
    if ConfirmForm().validate_on_submit():
        audit.record(audit.Action.DELETE, "customer", record.id, details={"name": record.name})
        db.session.delete(record)
        flash(_("Customer deleted."), "success")
    return redirect(url_for("sales.customers"))
