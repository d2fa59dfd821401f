"""The report package (rules Q1, Q2): the reports the reader may see, a report's page with its
figures (charts and tables), the author's text box, the steps of workflows/report.py, and the
signed PDF. Who sees which report: the general manager and the archive room every one, a sales
manager their department's (C6); a company report shows the whole company's figures, so it is
not a manager's."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import false, select, true
from sqlalchemy.orm import selectinload
from wtforms import StringField, TextAreaField
from wtforms.validators import Optional, ValidationError

from intranet.archive import issue
from intranet.blueprints.management import bp
from intranet.core import audit, clock
from intranet.core.errors import abort_with
from intranet.core.forms import REQUIRED, Form, length
from intranet.core.http import is_htmx, redirect_to
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.pagination import paginate
from intranet.core.permissions import Permission
from intranet.core.querystring import int_arg, parse_int
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import Department, Report
from intranet.reports import package
from intranet.reports.kinds import KINDS
from intranet.workflows import diagram, engine, steps
from intranet.workflows.report import ReportFlow
from intranet.workflows.report_states import OPEN_STATES
from intranet.workflows.waiting import Actor

TEXT_MAX = 5000
READ_ALL = Permission(roles=frozenset({Role.GENERAL_MANAGER, Role.ARCHIVIST}))


class ReportTextForm(Form):
    text = TextAreaField(_l("Analysis"), validators=[Optional(), length(TEXT_MAX)])


class ReportTransitionForm(Form):
    event = StringField(validators=[REQUIRED, length(40)])
    version = StringField(validators=[REQUIRED, length(12)])
    comment = TextAreaField(validators=[Optional(), length(2000)])
    text = TextAreaField(validators=[Optional(), length(TEXT_MAX)])

    def validate_version(self, field):
        if parse_int(field.data, minimum=0) is None:  # the page sent it: not for people
            raise ValidationError(_("Reload the page and try again."))


DONE = {"submit": lambda: _("Submitted: it waits for the general manager's review."),
        "send_back": lambda: _("Sent back to its author."),
        "accept": lambda: _("Accepted.")}


def _user():
    return current_user._get_current_object()


def report_scope(user):
    """SQL: the reports `user` may read."""
    if READ_ALL.grant_for(user) is not None:
        return true()
    departments = Actor(user).managed_departments()
    if departments:
        return Report.department_id.in_(sorted(departments))
    return false()


def _scoped(report_id: int) -> Report:
    return db.session.scalar(select(Report).options(selectinload(Report.department)).where(
        Report.id == report_id, report_scope(_user()))) or abort(404)


@bp.route("/reports")
def reports():
    """The reports the reader may see, newest period first, open ones first within it."""
    user = _user()
    query = select(Report).options(selectinload(Report.department)).where(report_scope(user))
    args = request.args
    if args.get("kind") in KINDS:
        query = query.where(Report.kind == args["kind"])
    if args.get("state") == "open":
        query = query.where(Report.state.in_(OPEN_STATES))
    elif args.get("state") in ReportFlow.STATE_LABELS:
        query = query.where(Report.state == args["state"])
    department = int_arg("department")
    if department:
        query = query.where(Report.department_id == department)
    elif args.get("department") == "company":  # the company's reports, of no department
        query = query.where(Report.department_id.is_(None))
    page = paginate(query.order_by(Report.period_start.desc(), Report.due_on, Report.kind,
                                   Report.department_id, Report.id))
    audit.record(audit.Action.VIEW, "report_list", "", details={
        "list": "reports", "page": page.page, "rows": [r.id for r in page.items]})
    locale = str(get_locale() or "zh")
    departments = [(d.id, d.name(locale)) for d in db.session.scalars(
        select(Department).where(Department.id.in_(
            select(Report.department_id).where(report_scope(user)))).order_by(Department.id))]
    kinds = {key: kind.label for key, kind in KINDS.items()
             if kind.per_department or READ_ALL.grant_for(user) is not None}
    return render_template("management/reports.html", page=page, departments=departments,
                           kinds=kinds, company=READ_ALL.grant_for(user) is not None,
                           states=ReportFlow.STATE_LABELS, now=clock.now())


def _context(row: Report, text_form=None, form=None) -> dict:
    user = _user()
    events = engine.available_events(row, user)
    return {"row": row, "events": events, "charts": package.charts(row),
            "writable": row.state in OPEN_STATES and "submit" in events,
            "event_labels": ReportFlow.EVENT_LABELS, "state_labels": ReportFlow.STATE_LABELS,
            "history": engine.history(row), "diagram": diagram.layout(ReportFlow),
            "current": row.state, "shared": steps.page_actions(row, user),
            "text_form": text_form or ReportTextForm(formdata=None, text=row.text),
            "transition_form": form or ReportTransitionForm(formdata=None)}


@bp.route("/reports/<int:report_id>")
def report(report_id: int):
    row = _scoped(report_id)
    audit.record(audit.Action.VIEW, ReportFlow.object_type, row.id)
    return render_template("management/report.html", **_context(row))


@bp.route("/reports/<int:report_id>/text", methods=["POST"])
def report_text(report_id: int):
    """The author saves the analysis without submitting it."""
    row = _scoped(report_id)
    if "submit" not in engine.available_events(row, _user()):
        abort_with(409, _("This report is not yours to write at this stage."))
    form = ReportTextForm()
    if not form.validate_on_submit():
        return render_template("management/report.html", **_context(row, text_form=form)), 422
    old, row.text = row.text, (form.text.data or "").strip()
    audit.record(audit.Action.UPDATE, ReportFlow.object_type, row.id,
                 details={"text": {"old_length": len(old or ""), "new_length": len(row.text)}})
    flash(_("The analysis is saved; submit the report when it is ready."), "success")
    return redirect(url_for("management.report", report_id=row.id))


@bp.route("/reports/<int:report_id>/transition", methods=["POST"])
def report_transition(report_id: int):
    row = _scoped(report_id)
    form = ReportTransitionForm()
    if not form.validate_on_submit():
        if set(form.errors) - {"comment", "text"}:
            abort_with(422, _("Choose an action."))
        field = "comment" if form.comment.errors else "text"
        problem = (field, getattr(form, field).errors[0])
    else:
        problem = None
        data = {"text": form.text.data.strip()} if form.event.data == "submit" else {}
        try:
            engine.fire(row, form.event.data, user=_user(),
                        expected_version=parse_int(form.version.data, minimum=0),
                        comment=(form.comment.data or "").strip(),
                        on_grant=lambda grant: g.__setattr__("grant", grant), **data)
        except engine.InvalidInput as error:
            db.session.rollback()
            problem = (error.field, error.message)
    if problem:
        db.session.refresh(row)
        text_form = ReportTextForm(formdata=None, text=form.text.data
                                   if form.event.data == "submit" else row.text)
        if problem[0] == "text":
            text_form.text.errors = [problem[1]]
        else:
            form.comment.errors = [problem[1]]
        return render_template("management/report.html",
                               **_context(row, text_form, form)), 422
    target = url_for("management.report", report_id=row.id)
    if is_htmx():
        return redirect_to(target)
    flash(DONE[form.event.data](), "success")
    return redirect(target)


@bp.route("/reports/<int:report_id>/pdf")
def report_pdf(report_id: int):
    """The report as a signed record, with its charts (drawn as SVG, their labels as text)."""
    row = _scoped(report_id)
    charts = package.charts(row)
    history = engine.history(row)
    body = render_template("pdf/report.html", row=row, charts=charts,
                           report_states=ReportFlow.STATE_LABELS)
    signed = [("submit", _("Written by")), ("accept", _("Accepted by"))]
    signatures = []
    for event, label in signed:
        step = next((h for h in reversed(history) if h.event == event), None)
        signatures.append({"label": label,
                           "name": step.user.display_name if step and step.user else "",
                           "on_behalf_of": step.on_behalf_of.display_name
                           if step and step.on_behalf_of else "",
                           "at": step.at if step else None})
    data = {"kind": row.kind, "period_start": row.period_start, "period_end": row.period_end,
            "department_id": row.department_id, "state": row.state, "text": row.text,
            "figures": [{"key": c.key, "labels": c.labels, "header": c.header, "rows": c.rows,
                         "note": c.note} for c in charts]}
    return issue.hand_out(issue.Document(
        key=ReportFlow.object_type, record_id=row.id, number=row.number, version=row.version,
        title=row.title, body=body, data=data, signatures=signatures, file_prefix="report"))
