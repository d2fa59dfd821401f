"""The general manager's approval queue (rules K5, K6): pending credit applications sorted by
time left, decided one by one or in bulk with htmx, by the GM or the GM's deputy."""
from __future__ import annotations

from flask import g, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from intranet import credit
from intranet.blueprints.management import bp
from intranet.blueprints.sales.credit import apply_transition
from intranet.blueprints.sales.forms import TransitionForm
from intranet.core import audit, clock, i18n, money
from intranet.core.errors import abort_with
from intranet.core.http import is_htmx, toast
from intranet.core.pagination import paginate
from intranet.core.querystring import int_arg, parse_int, url_pattern
from intranet.credit.scope import scoped_credit_application_or_404
from intranet.extensions import db
from intranet.models import CreditApplication, Customer, Department
from intranet.models.credit import application_number, quarter_label
from intranet.models.customer import customer_column
from intranet.models.user import user_name
from intranet.workflows import engine
from intranet.workflows.calendar import describe
from intranet.workflows.credit import CreditFlow, CreditState

DECISIONS = ("approve", "reject", "return_for_revision")


# A row of the queue as plain columns, not an application entity with its customer, applicant
# and department (loading those was a sixth of the page, issue 12). The names are subqueries,
# so the capped count still reads the (state, due_at, id) index alone: every application has
# its customer and applicant (foreign keys).
A = CreditApplication
QUEUE_COLUMNS = (
    A.id, A.version, A.period_start, A.grade, A.proposed_limit, A.annual_sales,
    A.monthly_sales, A.payment_method, A.payment_rate, A.receivables, A.due_at, A.state,
    A.department_id,
    customer_column(Customer.name, A.customer_id).label("customer_name"),
    customer_column(Customer.blacklisted, A.customer_id).label("blacklisted"),
    user_name(A.applicant_id).label("applicant_name"))


def _queue_query():
    """Pending applications, most urgent first. Overdue is derived here in SQL (due_at < now),
    so it is right whether or not `flask jobs run` ran."""
    query = select(*QUEUE_COLUMNS).where(A.state == CreditState.RECEIVED.value)
    args = request.args
    department = int_arg("department")
    if department:
        query = query.where(A.department_id == department)
    if args.get("grade") in credit.GRADE_LABELS:
        query = query.where(A.grade == args["grade"])
    for key, op in (("min", "__ge__"), ("max", "__le__")):
        value = money.parse_amount(args.get(key) or "")
        if value is not None:  # a filter that is not an amount is ignored
            query = query.where(getattr(A.proposed_limit, op)(value))
    if args.get("overdue") == "1":
        query = query.where(A.overdue)
    return query.order_by(A.due_at, A.id)


def _pending_departments() -> list[Department]:
    """The departments with pending applications: per department a look-up in its own index,
    not a scan of every pending application."""
    return db.session.scalars(select(Department).where(
        select(A.id).where(A.department_id == Department.id,
                           A.state == CreditState.RECEIVED.value).exists())
        .order_by(Department.code)).all()


def _rows(page_items, departments):
    """What each row (QUEUE_COLUMNS) shows, worked out here once per page rather than per row
    in the template (issue 12): the translated formats and the two links' patterns are looked
    up once, the rest is plain string formatting. `departments`: {id: Department}."""
    now = clock.now()
    locale = str(get_locale())
    grades = i18n.resolved(credit.GRADE_LABELS)
    time_left = _time_left_formatter()
    basis = Markup(_("sales ¥%(s)s/yr · paid %(p)s · owed ¥%(r)s"))
    formula = Markup(_("formula: %(grade)s, ¥%(limit)s"))
    show = url_pattern("sales.credit_application", "application_id")
    decide = url_pattern("management.credit_decide", "application_id")
    rows = []
    for a in page_items:
        due = describe(a.due_at, now)
        overdue = a.state == CreditState.RECEIVED.value and a.due_at is not None \
            and a.due_at < now
        suggested = credit.suggestion_for(a, blacklisted=a.blacklisted)
        department = departments.get(a.department_id)
        rows.append({
            "application": a, "overdue": overdue, "due": due, "suggested": suggested,
            "number": application_number(a.period_start, a.id),
            "quarter": quarter_label(a.period_start),
            "department": department.name(locale) if department else "—",
            "due_class": "overdue" if overdue else ("due-soon" if due[1] < 1 else ""),
            "time_left": time_left(due), "show_url": show % a.id,
            "decide_url": decide % a.id, "limit": f"{a.proposed_limit:,.2f}",
            "basis": basis % {
                "s": f"{a.annual_sales:,.0f}", "r": f"{a.receivables:,.0f}",
                "p": "—" if a.payment_rate is None else f"{a.payment_rate:.0f}%"},
            "formula": formula % {"grade": grades[suggested[0]],
                                  "limit": f"{suggested[1]:,.0f}"} if suggested else None,
        })
    return rows


def _time_left_formatter():
    """_macros.html's time_left in Python: "due in 5 h" / "overdue by 1 d 3 h" from
    calendar.describe()'s (overdue, days, hours), with the formats translated once."""
    both, days, hours = (Markup(_("%(d)s d %(h)s h")), Markup(_("%(d)s d")),
                         Markup(_("%(h)s h")))
    under = Markup(_("under an hour"))
    overdue, pending = Markup(_("overdue by %(span)s")), Markup(_("due in %(span)s"))

    def time_left(due):
        late, d, h = due
        span = (both % {"d": d, "h": h} if d and h else days % {"d": d} if d
                else hours % {"h": h} if h else under)
        return (overdue if late else pending) % {"span": span}
    return time_left


@bp.route("/credit")
def credit_queue():
    page = paginate(_queue_query(), tuples=True)
    departments = _pending_departments()
    rows = _rows(page.items, {d.id: d for d in departments})
    audit.record(audit.Action.VIEW, "credit_queue", "", details={
        "page": page.page, "rows": [r["application"].id for r in rows]})
    template = ("management/_queue_rows.html" if is_htmx()
                and request.headers.get("HX-Target") == "queue-rows"
                else "management/credit_queue.html")
    filtered = any(request.args.get(k) for k in ("department", "grade", "min", "max",
                                                 "overdue"))
    return render_template(template, page=page, rows=rows,
                           grades=i18n.resolved(credit.GRADE_LABELS),
                           departments=departments, filtered=filtered)


@bp.route("/credit/<int:application_id>/decide", methods=["POST"])
def credit_decide(application_id: int):
    """One decision from the queue; answers the updated row (htmx) or the queue page."""
    application = scoped_credit_application_or_404(application_id)
    form = TransitionForm()
    refused = _("Choose approve, reject or return.")
    if form.event.data not in DECISIONS:
        abort_with(422, refused)
    if form.validate_on_submit():
        problem = apply_transition(application, form)
    else:
        problem = form.correctable_error() or abort_with(422, refused)
    if problem:
        field, message = problem
        db.session.refresh(application)
        [row] = _rows(db.session.execute(select(*QUEUE_COLUMNS).where(A.id == application.id)),
                      {application.department_id: application.department})
        return render_template("management/_queue_row.html", row=row, form=form,
                               error=(field, message), grades=credit.GRADE_LABELS), 422
    label = CreditFlow.STATE_LABELS[application.state]
    message = _("%(number)s: %(state)s.", number=application.number, state=label)
    return render_template("management/_decided_row.html", application=application,
                           label=label), 200, toast(message)


@bp.route("/credit/bulk", methods=["POST"])
def credit_bulk():
    """Approve the ticked applications at their proposed limits, each in its own check of
    version and permission; any refusal leaves all of them undecided."""
    chosen = []
    for value in request.form.getlist("ids")[:200]:  # "<id>:<version>", as the rows send them
        application_id, _colon, version = value.partition(":")
        chosen.append((parse_int(application_id), parse_int(version, minimum=0)))
    if not chosen or any(None in pair for pair in chosen):
        abort_with(422, _("Tick at least one application."))
    user = current_user._get_current_object()
    for application_id, version in chosen:
        application = scoped_credit_application_or_404(application_id)
        engine.fire(application, "approve", user=user, expected_version=version,
                    comment=_("Approved in bulk"),
                    on_grant=lambda grant: g.__setattr__("grant", grant))
    message = _("%(n)s applications approved.", n=len(chosen))
    page = paginate(_queue_query(), tuples=True)
    rows = _rows(page.items, {d.id: d for d in _pending_departments()})
    return render_template("management/_queue_rows.html", page=page, rows=rows,
                           grades=credit.GRADE_LABELS), 200, toast(message)


@bp.route("/dashboard")
def dashboard():
    """Rules Q2, V2: the GM's (every customer) or a manager's (the department's, C6) figures
    as charts, each with its table."""
    from intranet.core.access import customer_scope
    from intranet.customers import ledger
    from intranet.reports import figures

    user = current_user._get_current_object()
    today = ledger.today()
    charts = figures.dashboard(user, customer_scope(user), today)
    audit.record(audit.Action.VIEW, "dashboard", "", details={
        "charts": [c.key for c in charts]})
    return render_template("management/dashboard.html", charts=charts, today=today)

