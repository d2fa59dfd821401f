"""Service cases at the desk and with the handler (rules P1-P8): intake, the case page with the
steps the machine allows this user, and each step fired through workflows.engine.fire."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from intranet.blueprints.service import bp
from intranet.blueprints.service.forms import (
    CaseAttachmentForm,
    CaseTransitionForm,
    ContactLogForm,
    CorrectiveActionForm,
    IntakeForm,
    people,
)
from intranet.complaints import operations
from intranet.complaints.scope import reads_notes, scoped_case_or_404
from intranet.core import audit, clock, settings
from intranet.core.access import customer_scope, needs_reason
from intranet.core.errors import abort_with
from intranet.core.http import is_htmx, redirect_to
from intranet.core.querystring import parse_int, text_arg
from intranet.core.roles import Role
from intranet.customers import ledger, search_fields
from intranet.extensions import db
from intranet.models import (
    CaseAttachment,
    CaseContact,
    CorrectiveAction,
    Customer,
    ServiceCase,
)
from intranet.workflows import deadlines, diagram, engine, steps
from intranet.workflows.complaint import ComplaintFlow
from intranet.workflows.complaint_rules import recused_ids
from intranet.workflows.engine import InvalidInput


def _user():
    return current_user._get_current_object()


@bp.route("/cases/new", methods=["GET", "POST"])
def case_new():
    form = IntakeForm().fill_choices()
    if request.method == "GET":
        form.received_at.data = ledger.local_now()
    customer = _chosen_customer(form)
    if form.validate_on_submit() and _who_is_known(form, customer):
        try:
            case = operations.register(_intake(form, customer), _user())
            if form.file.data and form.file.data.filename:
                data = form.file.data.read(operations.attachments.MAX_BYTES + 1)
                operations.add_attachment(case, form.file.data.filename, data, _user())
        except InvalidInput as error:
            db.session.rollback()
            getattr(form, error.field).errors = [str(error.message)]
        else:
            flash(_("Case %(number)s registered.", number=case.number), "success")
            return redirect(url_for("service.case", case_id=case.id))
    return render_template("service/case_new.html", form=form, customer=customer), (
        422 if form.errors else 200)


def _chosen_customer(form) -> Customer | None:
    customer_id = parse_int(form.customer_id.data, minimum=1)
    return db.session.get(Customer, customer_id) if customer_id else None


def _who_is_known(form, customer) -> bool:
    if customer is None and form.customer_id.data:
        form.customer_id.errors = [_("Choose the customer from the search results.")]
        return False
    if customer is None and not (form.complainant_name.data or "").strip():
        form.complainant_name.errors = [_("Choose a registered customer or enter the "
                                          "complainant's name.")]
        return False
    return True


def _intake(form, customer) -> operations.Intake:
    zone = settings.tz()
    return operations.Intake(
        kind=form.kind.data, channel=form.channel.data, severity=form.severity.data,
        received_at=form.received_at.data.replace(tzinfo=zone),
        description=form.description.data.strip(), customer=customer,
        complainant_name=(form.complainant_name.data or "").strip(),
        complainant_phone=(form.complainant_phone.data or "").strip(),
        department_id=form.department_id.data or None,
        subject_ids=[i for i in form.subject_ids.data or [] if i],
        first_answer=(form.first_answer.data or "").strip(),
        plan=(form.plan.data or "").strip(), promised_on=form.promised_on.data,
        handler_id=form.handler_id.data or None)


@bp.route("/customer-lookup")
def customer_lookup():
    """The live search of the intake form: names only, the minimum the desk needs (C6)."""
    q = text_arg("q")
    rows = []
    if len(q) >= 2:
        query = select(Customer.id, Customer.name, Customer.region).where(
            search_fields.matches(q, search_fields.NAME))
        if not needs_reason(_user()):
            query = query.where(customer_scope(_user()))
        rows = db.session.execute(query.order_by(Customer.name_pinyin, Customer.id).limit(10)).all()
        audit.record(audit.Action.VIEW, "customer_lookup", "", details={
            "q": q, "rows": [r.id for r in rows]})
    return render_template("service/_customer_choices.html", rows=rows, q=q)


def case_context(case: ServiceCase, form: CaseTransitionForm | None = None, **forms):
    user = _user()
    notes = reads_notes(case, user)
    context = {
        "case": case, "notes": notes, "recused": not notes, "recused_ids": recused_ids(case),
        "events": engine.available_events(case, user),
        "event_labels": ComplaintFlow.EVENT_LABELS, "state_labels": ComplaintFlow.STATE_LABELS,
        "history": engine.history(case) if notes else [],
        "deadlines": deadlines.for_row(case), "paused_seconds": deadlines.paused_seconds(case),
        "now": clock.now(),
        "subjects": [p.user for p in case.people if p.relation == "subject"],
        "attendees": [p.user for p in case.people if p.relation == "attendee"],
        "contacts": _rows(CaseContact, case, CaseContact.at) if notes else [],
        "actions": _rows(CorrectiveAction, case, CorrectiveAction.id) if notes else [],
        "attachments": _rows(CaseAttachment, case, CaseAttachment.id) if notes else [],
        "diagram": diagram.layout(ComplaintFlow), "current": case.state,
        "transition_form": form or CaseTransitionForm(formdata=None),
        "contact_form": forms.get("contact_form") or ContactLogForm(formdata=None),
        "action_form": forms.get("action_form")
        or CorrectiveActionForm(formdata=None).fill_choices(),
        "attachment_form": forms.get("attachment_form") or CaseAttachmentForm(formdata=None),
        # 转交: the step this user holds, to a colleague of the same role (issue 13 §2)
        "shared": steps.page_actions(case, user) if notes else {},
    }
    if context["events"]:
        context["handlers"] = people(Role.COMPLAINT_HANDLER)
        context["leaders"] = people(Role.SALES_MANAGER, Role.GENERAL_MANAGER)
        context["staff"] = people()
    return context


def _rows(model, case, order):
    return db.session.scalars(select(model).where(model.case_id == case.id)
                              .order_by(order)).all()


@bp.route("/cases/<int:case_id>")
def case(case_id: int):
    record = scoped_case_or_404(case_id)
    audit.record(audit.Action.VIEW, "service_case", record.id)
    return render_template("service/case.html", **case_context(record))


@bp.route("/cases/<int:case_id>/transition", methods=["POST"])
def case_transition(case_id: int):
    record = scoped_case_or_404(case_id)
    form = CaseTransitionForm()
    problem = None
    if form.validate_on_submit():
        try:
            engine.fire(record, form.event.data, user=_user(),
                        expected_version=parse_int(form.version.data, minimum=0),
                        comment=(form.comment.data or "").strip(),
                        on_grant=lambda grant: g.__setattr__("grant", grant),
                        **form.event_data())
        except InvalidInput as error:
            db.session.rollback()
            problem = error.field, error.message
    else:
        problem = form.correctable_error() or abort_with(422, _("Choose an action."))
    if problem:
        field, message = problem
        getattr(form, field).errors = [str(message)]
        db.session.refresh(record)
        return render_template("service/case.html", **case_context(record, form)), 422
    label = ComplaintFlow.STATE_LABELS[record.state]
    if not is_htmx():
        flash(_("Done: the case is now “%(state)s”.", state=label), "success")
    # "#top": the page opens at its head (the new state), not at the form's #actions
    return redirect_to(url_for("service.case", case_id=record.id) + "#top")
