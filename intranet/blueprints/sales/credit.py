"""Credit-limit applications (rules K1, K2, K4-K6): write, submit, review and follow them.
The GM decides in the management blueprint's queue; both go through workflows.engine.fire."""
from __future__ import annotations

from datetime import date

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from intranet import credit
from intranet.archive import issue
from intranet.blueprints.sales import bp
from intranet.blueprints.sales.forms import CreditApplicationForm, TransitionForm
from intranet.core import audit, clock, i18n, money
from intranet.core.access import customer_scope, scoped_customer_or_404
from intranet.core.errors import abort_with
from intranet.core.forms import options
from intranet.core.http import is_htmx, redirect_to
from intranet.core.pagination import paginate
from intranet.core.querystring import parse_int, text_arg
from intranet.credit import record as credit_record
from intranet.credit.scope import credit_application_scope, scoped_credit_application_or_404
from intranet.customers import ledger, search_fields
from intranet.extensions import db
from intranet.models import CreditApplication, Customer
from intranet.workflows import diagram, engine, steps
from intranet.workflows.credit import CreditFlow, CreditState

EDITABLE = (CreditState.DRAFT, CreditState.RETURNED)


def quarter_choices(today: date | None = None):
    """The quarter being prepared (rule K6: the next one) and the one after it."""
    first = credit.next_quarter_start(today or ledger.today())
    second = credit.next_quarter_start(first)
    return options([(d.isoformat(), credit.quarter_label(d)) for d in (first, second)])


def _user():
    return current_user._get_current_object()


@bp.route("/credit")
def credit_applications():
    query = (select(CreditApplication).where(credit_application_scope(_user()))
             .join(Customer, Customer.id == CreditApplication.customer_id)
             .options(contains_eager(CreditApplication.customer)))
    state = request.args.get("state")
    if state in CreditFlow.STATE_LABELS:
        query = query.where(CreditApplication.state == state)
    q = text_arg("q")
    if q:
        query = query.where(search_fields.matches(q, search_fields.NAME))
    page = paginate(query.order_by(CreditApplication.id.desc()))
    audit.record(audit.Action.VIEW, "credit_list", "", details={
        "page": page.page, "rows": [a.id for a in page.items]})
    return render_template("credit/applications.html", page=page, q=q, state=state,
                           state_labels=i18n.resolved(CreditFlow.STATE_LABELS))


@bp.route("/customers/<int:customer_id>/credit/new", methods=["GET", "POST"])
def credit_new(customer_id: int):
    customer = scoped_customer_or_404(customer_id, "edit")
    if customer.blacklisted:  # rule C8: no credit for a blacklisted customer
        abort_with(409, _("%(name)s is on the blacklist: no credit limit can be applied for.",
                          name=customer.name))
    basis = credit.basis_for([customer])[customer.id]
    grade, limit = credit.suggest(customer, basis)
    form = CreditApplicationForm()
    form.period_start.choices = quarter_choices()
    if request.method == "GET":
        form.grade.data, form.proposed_limit.data = grade, limit
    if form.validate_on_submit() and not _already_open(form, customer):
        user = _user()
        application = CreditApplication(
            customer_id=customer.id, department_id=customer.department_id,
            applicant_id=user.id, state=CreditState.DRAFT.value,
            period_start=date.fromisoformat(form.period_start.data), grade=form.grade.data,
            proposed_limit=form.proposed_limit.data, reason=(form.reason.data or "").strip(),
            **_basis_columns(basis))
        db.session.add(application)
        db.session.flush()
        audit.record(audit.Action.CREATE, "credit_application", application.id, details={
            "customer": customer.id, "grade": application.grade,
            "proposed_limit": application.proposed_limit})
        flash(_("Application saved as a draft. Submit it when it is ready."), "success")
        return redirect(url_for("sales.credit_application", application_id=application.id))
    return render_template("credit/form.html", form=form, customer=customer, basis=basis,
                           suggestion=(grade, limit), grades=credit.GRADE_LABELS), (
        422 if form.errors else 200)


def _already_open(form, customer, exclude_id: int | None = None) -> bool:
    """One application per customer and quarter in progress at a time: a second one is
    refused with the number of the first (it can be withdrawn or edited instead)."""
    from intranet.workflows.credit import OPEN

    query = select(CreditApplication).where(
        CreditApplication.customer_id == customer.id,
        CreditApplication.period_start == date.fromisoformat(form.period_start.data),
        CreditApplication.state.in_([s.value for s in OPEN]))
    if exclude_id is not None:
        query = query.where(CreditApplication.id != exclude_id)
    existing = db.session.scalars(query.limit(1)).first()
    if existing is None:
        return False
    form.period_start.errors = [_(
        "Application %(number)s for this customer and quarter is already in progress.",
        number=existing.number)]
    return True


def _basis_columns(basis: credit.Basis) -> dict:
    return {"annual_sales": basis.annual_sales, "monthly_sales": basis.monthly_sales,
            "payment_method": basis.payment_method, "payment_rate": basis.payment_rate,
            "receivables": basis.receivables}


@bp.route("/credit/<int:application_id>/edit", methods=["GET", "POST"])
def credit_edit(application_id: int):
    application = scoped_credit_application_or_404(application_id)
    if application.applicant_id != current_user.id or application.state not in EDITABLE:
        abort_with(409, _("Only the applicant can change a draft or a returned application."))
    form = CreditApplicationForm(obj=application if request.method == "GET" else None)
    form.period_start.choices = quarter_choices()
    if request.method == "GET":
        form.period_start.data = application.period_start.isoformat()
        if form.period_start.data not in [c.value for c in form.period_start.choices]:
            form.period_start.choices.insert(0, options([(
                form.period_start.data, application.quarter)])[0])
    elif form.validate_on_submit() and not _already_open(form, application.customer,
                                                         application.id):
        basis = credit.basis_for([application.customer])[application.customer_id]
        before = {"grade": application.grade, "proposed_limit": str(application.proposed_limit)}
        application.period_start = date.fromisoformat(form.period_start.data)
        application.grade = form.grade.data
        application.proposed_limit = form.proposed_limit.data
        application.reason = (form.reason.data or "").strip()
        for key, value in _basis_columns(basis).items():
            setattr(application, key, value)
        audit.record(audit.Action.UPDATE, "credit_application", application.id, details={
            "old": before, "new": {"grade": application.grade,
                                   "proposed_limit": str(application.proposed_limit)}})
        flash(_("Application updated."), "success")
        return redirect(url_for("sales.credit_application", application_id=application.id))
    basis = credit.basis_for([application.customer])[application.customer_id]
    return render_template("credit/form.html", form=form, customer=application.customer,
                           basis=basis, application=application,
                           suggestion=credit.suggest(application.customer, basis),
                           grades=credit.GRADE_LABELS), (422 if form.errors else 200)


def workflow_context(application: CreditApplication, form: TransitionForm | None = None):
    """The actions, history and diagram of an application page or PDF."""
    user = _user()
    return {
        "application": application, "grades": credit.GRADE_LABELS,
        "state_labels": CreditFlow.STATE_LABELS, "event_labels": CreditFlow.EVENT_LABELS,
        "events": engine.available_events(application, user),
        "opinions": CreditFlow.OPINIONS,
        "shared": steps.page_actions(application, user),
        "suggested": credit.suggestion_for(application),
        "history": engine.history(application),
        "diagram": diagram.layout(CreditFlow), "current": application.state,
        "transition_form": form or TransitionForm(formdata=None),
        "due": _due(application),
        "editable": application.state in EDITABLE and application.applicant_id == user.id,
    }


def _due(application):
    if application.state != CreditState.RECEIVED or application.due_at is None:
        return None
    from intranet.workflows.calendar import describe
    return describe(application.due_at, clock.now())


@bp.route("/credit/<int:application_id>")
def credit_application(application_id: int):
    application = scoped_credit_application_or_404(application_id)
    audit.record(audit.Action.VIEW, "credit_application", application.id)
    return render_template("credit/application.html", **workflow_context(application))


def apply_transition(application: CreditApplication, form: TransitionForm) -> str | None:
    """Fire the event posted in `form`; returns a field error, or None on success.
    Conflicts and refusals raise (answered 409 by errors.py)."""
    try:
        engine.fire(application, form.event.data, user=_user(),
                    expected_version=parse_int(form.version.data, minimum=0),
                    comment=(form.comment.data or "").strip(), amount=form.amount.data,
                    on_grant=lambda grant: g.__setattr__("grant", grant))
    except engine.InvalidInput as error:
        db.session.rollback()
        return error.field, error.message
    return None


@bp.route("/credit/<int:application_id>/transition", methods=["POST"])
def credit_transition(application_id: int):
    application = scoped_credit_application_or_404(application_id)
    form = TransitionForm()
    if form.validate_on_submit():
        problem = apply_transition(application, form)
    else:
        problem = form.correctable_error() or abort_with(422, _("Choose an action."))
    if problem:
        field, message = problem
        getattr(form, field).errors = [message]
        db.session.refresh(application)
        return render_template("credit/application.html",
                               **workflow_context(application, form)), 422
    label = CreditFlow.STATE_LABELS[application.state]
    message = _("Done: the application is now “%(state)s”.", state=label)
    if is_htmx():
        return redirect_to(url_for("sales.credit_application", application_id=application.id))
    flash(message, "success")
    return redirect(url_for("sales.credit_application", application_id=application.id))


@bp.route("/credit/<int:application_id>/pdf")
def credit_pdf(application_id: int):
    """The signed record 客户资信额度审批表 (application, basis, decision, full history)."""
    application = scoped_credit_application_or_404(application_id, "archive")
    return issue.download(credit_record.RECORD, application)


@bp.route("/credit/review", methods=["GET", "POST"])
def credit_review():
    """Rules K4, K6: the sales manager's quarterly review: an application pre-filled with the
    suggested grade and limit for every active customer of the department, edited and
    submitted (straight to the GM: the manager is the reviewer) in bulk."""
    user = _user()
    target = credit.next_quarter_start(ledger.today())
    customers = db.session.scalars(
        select(Customer).where(customer_scope(user, "edit"), Customer.relation == "customer",
                               Customer.blacklisted.is_(False))
        .order_by(Customer.name_pinyin, Customer.id).limit(500)).all()
    already = set(db.session.scalars(select(CreditApplication.customer_id).where(
        CreditApplication.period_start == target,
        CreditApplication.state.not_in([CreditState.WITHDRAWN.value,
                                        CreditState.REJECTED.value]))))
    todo = [c for c in customers if c.id not in already]
    bases = credit.basis_for(todo)
    rows = []
    for c in todo:
        suggestion = credit.suggest(c, bases[c.id])
        rows.append({"customer": c, "basis": bases[c.id], "suggestion": suggestion,
                     "included": True, "grade": suggestion[0], "limit": suggestion[1]})
    errors: dict[int, str] = {}
    if request.method == "POST":
        chosen = []
        for row in rows:  # what the manager typed and ticked comes back as it was
            cid = row["customer"].id
            row["included"] = request.form.get(f"include-{cid}") == "1"
            row["grade"] = request.form.get(f"grade-{cid}", "")
            row["limit"] = (request.form.get(f"limit-{cid}") or "")[:30]
            if not row["included"]:
                continue
            limit = money.parse_amount(row["limit"])
            if limit is None:
                errors[cid] = _("Enter an amount in yuan, e.g. 200000.")
                continue
            if row["grade"] not in credit.GRADE_LABELS:
                errors[cid] = _("Choose a grade.")
                continue
            row["chosen"] = (row["grade"], limit)
            chosen.append(row)
        if not errors and not chosen:
            errors[0] = _("Tick at least one customer.")
        if not errors:
            for row in chosen:
                customer, (grade, limit) = row["customer"], row["chosen"]
                application = CreditApplication(
                    customer_id=customer.id, department_id=customer.department_id,
                    applicant_id=user.id, state=CreditState.DRAFT.value, period_start=target,
                    grade=grade, proposed_limit=limit, reason=_("Quarterly review"),
                    **_basis_columns(row["basis"]))
                db.session.add(application)
                db.session.flush()
                audit.record(audit.Action.CREATE, "credit_application", application.id,
                             details={"customer": customer.id, "source": "quarterly review"})
                engine.fire(application, "submit", user=user)
            flash(_("%(n)s applications submitted for %(quarter)s.", n=len(chosen),
                    quarter=credit.quarter_label(target)), "success")
            return redirect_to(url_for("sales.credit_applications"))
    return render_template("credit/review.html", rows=rows, errors=errors,
                           quarter=credit.quarter_label(target), grades=credit.GRADE_LABELS,
                           last_month=credit.in_last_month_of_quarter(ledger.today()),
                           done=len(already)), (422 if errors else 200)



