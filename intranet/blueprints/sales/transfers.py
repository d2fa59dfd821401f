"""Transfers between reps, the requests list and record, and the director's own moves (rules
R1, R4): thin views over resources/requests.py and the machines in workflows/transfer.py."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from intranet.archive import issue
from intranet.blueprints.sales import bp
from intranet.blueprints.sales.forms import TransitionForm
from intranet.blueprints.sales.resource_forms import (
    HandoverForm,
    ReassignForm,
    TakeOverForm,
    TransferForm,
)
from intranet.core import audit, i18n
from intranet.core.access import customer_scope, scoped_customer_or_404
from intranet.core.errors import FieldError, abort_with
from intranet.core.http import is_htmx, redirect_to
from intranet.core.pagination import paginate
from intranet.core.querystring import parse_int, text_arg, url_pattern
from intranet.customers import search_fields
from intranet.customers.dedupe import find_duplicate
from intranet.extensions import db
from intranet.models import Customer, ResourceRequest
from intranet.models.customer import customer_column
from intranet.models.user import user_name
from intranet.resources import REQUEST_KIND_LABELS, allocation, handover, requests
from intranet.resources.record import record_for
from intranet.resources.scope import (
    OWN_KINDS,
    request_scope,
    scoped_request_or_404,
    waiting_on,
)
from intranet.workflows import engine, steps
from intranet.workflows.resource_states import OPEN_STATES, RequestKind

SPREAD = -1  # the handover's "to": each customer to the rep the allocation ranking puts first


def _user():
    return current_user._get_current_object()


def _refuse(form, error: FieldError, field: str | None = None):
    db.session.rollback()
    getattr(form, field or error.field).errors = [str(error.message)]


# A row of the requests list as plain columns, not an entity with its customer and two reps
# (issue 12); the names are subqueries, so the capped count reads none of them.
REQUEST_COLUMNS = (
    ResourceRequest.id, ResourceRequest.kind, ResourceRequest.state,
    ResourceRequest.created_at,
    customer_column(Customer.name, ResourceRequest.customer_id).label("customer_name"),
    user_name(ResourceRequest.from_user_id).label("from_name"),
    user_name(ResourceRequest.to_user_id).label("to_name"))


@bp.route("/requests")
def resource_requests():
    """Transfers and claims the user is a party to or decides, newest first."""
    kind = request.args.get("kind", "")
    status = request.args.get("status", "open")
    query = select(*REQUEST_COLUMNS).where(
        request_scope(_user()), ResourceRequest.kind.in_(OWN_KINDS))
    if kind in OWN_KINDS:
        query = query.where(ResourceRequest.kind == kind)
    if status == "open":
        query = query.where(ResourceRequest.state.in_(OPEN_STATES))
    elif status == "closed":
        query = query.where(ResourceRequest.state.not_in(OPEN_STATES))
    q = text_arg("q")
    if q:
        query = query.where(search_fields.matches(q, search_fields.NAME,
                                                  on=ResourceRequest.customer_id))
    waiting = request.args.get("waiting") == "1"
    if waiting:
        query = query.where(waiting_on(_user()))
    page = paginate(query.order_by(ResourceRequest.created_at.desc(), ResourceRequest.id.desc()),
                    tuples=True)
    audit.record(audit.Action.VIEW, "resource_request", "", details={
        "list": "requests", "page": page.page, "rows": [r.id for r in page.items]})
    labels = _labels()
    return render_template(
        "sales/requests.html", page=page, kind=kind, status=status, q=q, waiting=waiting,
        labels=labels, kinds=i18n.resolved(REQUEST_KIND_LABELS),
        states={code: i18n.resolved(flow.STATE_LABELS) for code, flow in labels.items()},
        request_url=url_pattern("sales.resource_request", "request_id"))


def _labels() -> dict:
    return {cls.model_class.__mapper__.polymorphic_identity: cls
            for cls in engine.REGISTRY.values()
            if issubclass(cls.model_class, ResourceRequest)
            and cls.model_class.__mapper__.polymorphic_identity in OWN_KINDS}


def request_context(row: ResourceRequest, form: TransitionForm | None = None) -> dict:
    flow = engine.machine_class(row)
    return {"row": row, "flow": flow, "state_labels": flow.STATE_LABELS,
            "event_labels": flow.EVENT_LABELS,
            "events": engine.available_events(row, _user()),
            "history": engine.history(row), "followed": handover.followed(row.handed_over),
            "followed_labels": audit.OBJECT_LABELS,
            "customer_link": _may_open(row.customer_id),
            "shared": steps.page_actions(row, _user()),
            "transition_form": form or TransitionForm(formdata=None)}


def _may_open(customer_id: int) -> bool:
    return db.session.scalar(select(Customer.id).where(
        Customer.id == customer_id, customer_scope(_user(), roles=frozenset(_user().roles))
    )) is not None


@bp.route("/requests/<int:request_id>")
def resource_request(request_id: int):
    row = scoped_request_or_404(request_id)
    audit.record(audit.Action.VIEW, engine.machine_class(row).object_type, row.id)
    return render_template("sales/request.html", **request_context(row))


@bp.route("/requests/<int:request_id>/transition", methods=["POST"])
def resource_request_transition(request_id: int):
    row = scoped_request_or_404(request_id)
    form = TransitionForm()
    problem = None
    if form.validate_on_submit():
        try:
            engine.fire(row, form.event.data, user=_user(),
                        expected_version=parse_int(form.version.data, minimum=0),
                        comment=(form.comment.data or "").strip(),
                        on_grant=lambda grant: g.__setattr__("grant", grant))
            if row.kind == RequestKind.CLAIM and row.state == "approved":
                requests.settle_rivals(row, _user())
        except engine.InvalidInput as error:
            db.session.rollback()
            problem = error.field, error.message
    else:
        problem = form.correctable_error() or abort_with(422, _("Choose an action."))
    if problem:
        field, message = problem
        getattr(form, field).errors = [str(message)]
        db.session.refresh(row)
        return render_template("sales/request.html", **request_context(row, form)), 422
    label = engine.machine_class(row).STATE_LABELS[row.state]
    target = url_for("sales.resource_request", request_id=row.id)
    if is_htmx():
        return redirect_to(target)
    flash(_("Done: the request is now “%(state)s”.", state=label), "success")
    return redirect(target)


@bp.route("/requests/<int:request_id>/pdf")
def resource_request_pdf(request_id: int):
    """The signed record 客户资源调配记录: who, from, to, why, approvals and the history."""
    row = scoped_request_or_404(request_id)
    return issue.download(record_for(row), row)


@bp.route("/customers/<int:customer_id>/transfer", methods=["GET", "POST"])
def transfer_new(customer_id: int):
    """Rule R1: the owner offers the customer to a colleague."""
    customer = scoped_customer_or_404(customer_id, "edit")
    if customer.owner_id != _user().id:
        abort_with(409, _("Only the customer's owner can offer it to a colleague."))
    form = TransferForm()
    form.to_user_id.choices = [(0, "—")] + [
        (u.id, u.display_name) for u in requests.colleagues(customer.department_id,
                                                           exclude={_user().id})]
    if form.validate_on_submit():
        try:
            row = requests.request_transfer(
                customer, db.session.get(type(_user()), form.to_user_id.data),
                requested_by=_user(), reason=form.reason.data)
        except FieldError as error:
            _refuse(form, error)
        else:
            flash(_("Transfer requested: %(name)s must agree, then the director decides.",
                    name=row.to_user.display_name), "success")
            return redirect(url_for("sales.resource_request", request_id=row.id))
    return render_template("sales/transfer_form.html", form=form, customer=customer), (
        422 if form.errors else 200)


@bp.route("/transfers/take-over", methods=["GET", "POST"])
def transfer_take_over():
    """Rule R1: a rep asks to take over a colleague's customer, named exactly; the page shows
    no more of it than registration's duplicate check does (rule C6)."""
    form = TakeOverForm()
    if form.validate_on_submit():
        q = form.q.data.strip()
        found = find_duplicate(q, credit_code=q, phones=[q])
        if found is None or found[0].owner_id is None:
            form.q.errors = [_("No customer owned by a colleague matches exactly. Pool "
                               "customers are claimed on the pool page.")]
        else:
            try:
                row = requests.request_transfer(found[0], _user(), requested_by=_user(),
                                                reason=form.reason.data)
            except FieldError as error:
                _refuse(form, error, "reason" if error.field == "reason" else "q")
            else:
                flash(_("Transfer requested: the owner must agree, then the director "
                        "decides."), "success")
                return redirect(url_for("sales.resource_request", request_id=row.id))
    return render_template("sales/take_over.html", form=form), (422 if form.errors else 200)


@bp.route("/customers/<int:customer_id>/reassign", methods=["GET", "POST"])
def customer_reassign(customer_id: int):
    """Rule R4: the director reassigns alone, with the reason recorded."""
    customer = scoped_customer_or_404(customer_id, "edit")
    if customer.owner_id is None:
        abort(404)
    form = ReassignForm()
    form.to_user_id.choices = [(0, "—")] + [
        (u.id, u.display_name) for u in requests.colleagues(customer.department_id,
                                                           exclude={customer.owner_id})]
    if form.validate_on_submit():
        try:
            requests.reassign(customer, db.session.get(type(_user()), form.to_user_id.data),
                              director=_user(), reason=form.reason.data)
        except FieldError as error:
            _refuse(form, error)
        else:
            flash(_("%(name)s now belongs to %(owner)s.", name=customer.name,
                    owner=customer.owner.display_name), "success")
            return redirect(url_for("sales.customer", customer_id=customer.id))
    return render_template("sales/reassign.html", form=form, customer=customer), (
        422 if form.errors else 200)


@bp.route("/handover", methods=["GET", "POST"], endpoint="handover")
def handover_page():
    """Rule R1/R4: a rep who leaves — the director hands all their customers over at once."""
    director = _user()
    reps = requests.colleagues(allocation.department_of(director))
    form = HandoverForm()
    form.from_user_id.choices = [(0, "—")] + [(u.id, u.display_name) for u in reps]
    form.to_user_id.choices = [(0, "—"), (SPREAD, _("Spread by the allocation ranking"))] + [
        (u.id, u.display_name) for u in reps]
    counts = allocation.loads([u.id for u in reps])
    if form.validate_on_submit():
        try:
            moved = requests.hand_over_all(
                db.session.get(type(director), form.from_user_id.data),
                db.session.get(type(director), form.to_user_id.data),
                director=director, reason=form.reason.data,
                spread=form.to_user_id.data == SPREAD)
        except FieldError as error:
            _refuse(form, error)
        else:
            flash(_("%(n)s customers handed over.", n=moved), "success")
            return redirect(url_for("sales.resource_requests"))
    return render_template("sales/handover.html", form=form, counts=counts), (
        422 if form.errors else 200)
