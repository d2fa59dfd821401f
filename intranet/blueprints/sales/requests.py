"""Re-classification requests (rule C4, 资源重新申请表) and conflict claims (rule C2): the rep
files them (from the customer page, from a refused registration), the sales manager decides on
the record page; both go through workflows.engine.fire. Filing and scoping are in
resources/disputes.py."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Optional, ValidationError

from intranet.blueprints.sales import bp
from intranet.core import audit
from intranet.core.access import customer_scope, scoped_customer_or_404
from intranet.core.errors import abort_with
from intranet.core.forms import REQUIRED, Form, length, options
from intranet.core.home import Widget, home_widget
from intranet.core.http import is_htmx, redirect_to
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.pagination import paginate
from intranet.core.querystring import parse_int
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import ConflictClaim, Customer, Reclassification
from intranet.resources import disputes as filing
from intranet.workflows import diagram, engine, steps
from intranet.workflows.conflict import ConflictFlow
from intranet.workflows.reclassification import ReclassificationFlow
from intranet.workflows.resource_states import DEAL_CLASSES, RequestState

MATCH_LABELS = {"credit_code": _l("credit code"), "name": _l("company name"),
                "phone": _l("contact phone")}


class ReclassificationForm(Form):
    proposed_class = SelectField(_l("Proposed class"), choices=lambda: options(
        [(c, c) for c in DEAL_CLASSES]))
    reason = TextAreaField(_l("Why the class is wrong"), validators=[REQUIRED,
                                                                       length(2000, 2)])


class ConflictClaimForm(Form):
    """What the rep typed when registering (the customer is found again from it) and why."""

    name = StringField(_l("Company name"), validators=[REQUIRED, length(200)])
    credit_code = StringField(_l("Unified social credit code"), validators=[length(30)])
    contact_phone = StringField(_l("Contact phone"), validators=[length(30)])
    reason = TextAreaField(_l("Why this customer should be yours"),
                           validators=[REQUIRED, length(2000, 2)])


class RequestTransitionForm(Form):
    event = StringField(validators=[REQUIRED, length(40)])
    version = StringField(validators=[REQUIRED, length(12)])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), length(2000)])

    def validate_version(self, field):
        if parse_int(field.data, minimum=0) is None:  # the page sent it: not for people
            raise ValidationError(_l("Reload the page and try again."))


@dataclass(frozen=True)
class Kind:
    model: type
    flow: type
    name: str  # endpoint prefix
    argument: str
    title: object
    empty: object


KINDS = {
    "reclassification": Kind(Reclassification, ReclassificationFlow, "reclassification",
                             "reclassification_id", _l("Re-classification requests"),
                             _l("No re-classification request here.")),
    "conflict": Kind(ConflictClaim, ConflictFlow, "conflict", "conflict_id",
                     _l("Conflict claims"), _l("No conflict claim here.")),
}


def _user():
    return current_user._get_current_object()


def _list(kind: Kind):
    model = kind.model
    query = (select(model).where(filing.request_scope(_user(), model))
             .options(selectinload(model.customer), selectinload(model.requested_by)))
    state = request.args.get("state", "")
    if state in kind.flow.STATE_LABELS:
        query = query.where(model.state == state)
    page = paginate(query.order_by(model.created_at.desc(), model.id.desc()))
    audit.record(audit.Action.VIEW, "request_list", kind.name, details={
        "page": page.page, "rows": [r.id for r in page.items]})
    return render_template("sales/disputes.html", page=page, kind=kind, state=state,
                           state_labels=kind.flow.STATE_LABELS, kinds=KINDS)


@bp.route("/reclassifications")
def reclassification_list():
    return _list(KINDS["reclassification"])


@bp.route("/conflicts")
def conflict_list():
    return _list(KINDS["conflict"])


def _scoped(kind: Kind, row_id: int):
    row = db.session.scalar(select(kind.model).where(
        kind.model.id == row_id, filing.request_scope(_user(), kind.model)))
    return row or abort(404)


def _context(kind: Kind, row, form: RequestTransitionForm | None = None) -> dict:
    user = _user()
    readers = frozenset({Role.SALES_REP, Role.SALES_MANAGER, Role.GENERAL_MANAGER})
    visible = db.session.scalar(select(Customer.id).where(
        Customer.id == row.customer_id, customer_scope(user, "view", readers))) is not None
    return {"row": row, "kind": kind, "events": engine.available_events(row, user),
            "event_labels": {**kind.flow.EVENT_LABELS, filing.FILED: _("Filed")},
            "state_labels": kind.flow.STATE_LABELS, "history": engine.history(row),
            "diagram": diagram.layout(kind.flow), "current": row.state,
            "customer_visible": visible, "shared": steps.page_actions(row, user),
            "transition_form": form or RequestTransitionForm(formdata=None)}


def _record(kind: Kind, row_id: int):
    row = _scoped(kind, row_id)
    audit.record(audit.Action.VIEW, kind.flow.object_type, row.id)
    return render_template("sales/dispute.html", **_context(kind, row))


def _transition(kind: Kind, row_id: int):
    row = _scoped(kind, row_id)
    form = RequestTransitionForm()
    if not form.validate_on_submit():
        if set(form.errors) - {"comment"}:
            abort_with(422, _("Choose an action."))
        problem = ("comment", form.comment.errors[0])
    else:
        problem = None
        try:
            engine.fire(row, form.event.data, user=_user(),
                        expected_version=parse_int(form.version.data, minimum=0),
                        comment=(form.comment.data or "").strip(),
                        on_grant=lambda grant: g.__setattr__("grant", grant))
        except engine.InvalidInput as error:
            db.session.rollback()
            problem = (error.field, error.message)
    if problem:
        getattr(form, problem[0]).errors = [problem[1]]
        db.session.refresh(row)
        return render_template("sales/dispute.html", **_context(kind, row, form)), 422
    target = url_for(f"sales.{kind.name}", **{kind.argument: row.id})
    if is_htmx():
        return redirect_to(target)
    flash(_("Done: the request is now “%(state)s”.",
            state=kind.flow.STATE_LABELS[row.state]), "success")
    return redirect(target)


@bp.route("/reclassifications/<int:reclassification_id>")
def reclassification(reclassification_id: int):
    return _record(KINDS["reclassification"], reclassification_id)


@bp.route("/reclassifications/<int:reclassification_id>/transition", methods=["POST"])
def reclassification_transition(reclassification_id: int):
    return _transition(KINDS["reclassification"], reclassification_id)


@bp.route("/conflicts/<int:conflict_id>")
def conflict(conflict_id: int):
    return _record(KINDS["conflict"], conflict_id)


@bp.route("/conflicts/<int:conflict_id>/transition", methods=["POST"])
def conflict_transition(conflict_id: int):
    return _transition(KINDS["conflict"], conflict_id)


@bp.route("/customers/<int:customer_id>/reclassification", methods=["GET", "POST"])
def reclassification_new(customer_id: int):
    """Rule C4: the owner of a classified customer asks the sales manager to change it."""
    customer = scoped_customer_or_404(customer_id, "edit")
    user = _user()
    allowed = customer.owner_id == user.id and customer.deal_class is not None
    form = ReclassificationForm()
    if request.method == "POST" and not allowed:
        abort_with(409, _("Only the owner of a customer with a deal class can ask for it "
                          "to change."))
    if allowed and form.validate_on_submit():
        try:
            row = filing.file_reclassification(customer, user, form.proposed_class.data,
                                               form.reason.data or "")
        except engine.InvalidInput as error:
            db.session.rollback()
            getattr(form, error.field).errors = [error.message]
        else:
            flash(_("Request %(number)s sent to the sales manager.", number=row.number),
                  "success")
            return redirect(url_for("sales.reclassification", reclassification_id=row.id))
    if request.method == "GET":
        audit.record(audit.Action.VIEW, "customer", customer.id)
    return render_template("sales/reclassification_new.html", form=form, customer=customer,
                           allowed=allowed), 422 if form.errors else 200


@bp.route("/conflicts/new", methods=["GET", "POST"])
def conflict_new():
    """Rule C2: after a refused registration, claim the registered customer. The customer is
    found again from what was typed; the page shows only what the refusal showed (C6)."""
    user = _user()
    form = ConflictClaimForm(formdata=request.form if request.method == "POST"
                             else request.args)
    if request.method == "POST" and form.validate_on_submit():
        try:
            row = filing.file_conflict_claim(user, form.name.data, form.credit_code.data or "",
                                             form.contact_phone.data or "",
                                             form.reason.data or "")
        except engine.InvalidInput as error:
            db.session.rollback()
            form.reason.errors = [error.message]
        else:
            flash(_("Claim %(number)s sent to the sales manager.", number=row.number),
                  "success")
            return redirect(url_for("sales.conflict", conflict_id=row.id))
    found = filing.claimable(user, form.name.data or "", form.credit_code.data or "",
                             form.contact_phone.data or "") if form.name.data else None
    if found:
        audit.record(audit.Action.VIEW, "customer_duplicate", found[0].id,
                     details={"attempted": form.name.data, "matched_on": found[1]})
    if request.method == "GET":
        form.reason.errors = []
    duplicate = {"customer": found[0], "reason": found[1]} if found else None
    return render_template("sales/conflict_new.html", form=form, duplicate=duplicate,
                           own=bool(found and found[0].owner_id == user.id)), (
        422 if request.method == "POST" else 200)


@home_widget(Role.SALES_MANAGER)
def requests_to_decide(user):
    """Rules C2, C4: what waits for the department's sales manager."""
    items, total = [], 0
    for key, kind in KINDS.items():
        count = db.session.scalar(select(db.func.count()).select_from(
            filing.open_for_decision(user, kind.model).subquery())) or 0
        total += count
        if count:
            items.append((f"{kind.title}: {count}",
                          url_for(f"sales.{key}_list", state=RequestState.REQUESTED.value)))
    return Widget(_l("Requests awaiting your decision"), total, items,
                  url_for("sales.conflict_list", state=RequestState.REQUESTED.value),
                  _l("No request waits for your decision."))
