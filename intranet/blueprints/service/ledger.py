"""The case queue and the ledger (台帐, rules P1, P5, P6): filters, figures, the XLSX export
and the monthly ledger PDF."""
from __future__ import annotations

from flask import Response, g, render_template, request
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func

from intranet.archive import issue
from intranet.blueprints.service import bp
from intranet.blueprints.service.forms import departments, people
from intranet.complaints import CHANNEL_LABELS, KIND_LABELS, SEVERITY_LABELS
from intranet.complaints import ledger as case_ledger
from intranet.complaints.scope import recused_case_ids
from intranet.core import audit, clock, i18n, settings
from intranet.core.http import download_disposition, is_htmx
from intranet.core.pagination import paginate
from intranet.core.querystring import parse_int, url_pattern
from intranet.core.roles import Role
from intranet.core.spreadsheets import xlsx_bytes
from intranet.extensions import db
from intranet.models import ServiceCase
from intranet.workflows.complaint import ComplaintFlow

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_LIMIT = 50_000
MONTHLY_PART = 1_000  # cases per PDF: a part renders well inside the PDF time limit


def _user():
    return current_user._get_current_object()


def _choices():
    """The filters' choices and what each row looks up: labels as plain strings and the
    case link as a pattern, resolved once per page (issue 12)."""
    me = current_user.id
    return {"recused": g.get("recused", set()), "departments": departments(),
            "handlers": people(Role.COMPLAINT_HANDLER),
            "staff": [(uid, name) for uid, name in people() if uid != me],
            "kinds": i18n.resolved(KIND_LABELS), "channels": i18n.resolved(CHANNEL_LABELS),
            "severities": i18n.resolved(SEVERITY_LABELS),
            "states": i18n.resolved(ComplaintFlow.STATE_LABELS),
            "case_url": url_pattern("service.case", "case_id"), "now": clock.now()}


def _list_page(endpoint: str, order, **defaults):
    args = {**defaults, **request.args.to_dict()}
    filters = case_ledger.read_filters(args, _user())
    query = case_ledger.query(filters, _user(), columns=case_ledger.ROW_COLUMNS)
    page = paginate(order(query), tuples=True)
    audit.record(audit.Action.VIEW, endpoint.split(".")[1], "", details={
        "page": page.page, "rows": [c.id for c in page.items]})
    rows_only = is_htmx() and request.headers.get("HX-Target") == "case-rows"
    g.recused = recused_case_ids(_user(), [c.id for c in page.items])
    return page, filters, query, rows_only


@bp.route("/queue")
def queue():
    """Rule P6: the open cases waiting on the user first, most urgent first."""
    page, filters, _query, rows_only = _list_page(
        "service.queue", case_ledger.queue_order, open="1",
        mine="1" if request.args.get("all") != "1" else "")
    template = "service/_case_rows.html" if rows_only else "service/queue.html"
    return render_template(template, page=page, filters=filters, endpoint="service.queue",
                           **_choices())


@bp.route("/ledger")
def ledger():
    page, filters, query, rows_only = _list_page(
        "service.ledger", case_ledger.ledger_order)
    if rows_only:
        return render_template("service/_case_rows.html", page=page, filters=filters,
                               endpoint="service.ledger", **_choices())
    this_month = clock.now().astimezone(settings.tz()).strftime("%Y-%m")
    return render_template("service/ledger.html", page=page, filters=filters,
                           endpoint="service.ledger", this_month=this_month, **_choices())


@bp.route("/ledger/figures")
def ledger_figures():
    """The ledger's figures for its filters, loaded after the rows (they read every case the
    filters select, so the list does not wait for them)."""
    filters = case_ledger.read_filters(request.args, _user())
    figures = case_ledger.figures(case_ledger.query(filters, _user()))
    audit.record(audit.Action.VIEW, "case_figures", "", details={
        "filters": request.args.to_dict()})
    template = "service/_figures.html" if is_htmx() else "service/figures.html"
    return render_template(template, figures=figures, filters=filters,
                           endpoint="service.ledger_figures", **_choices())


def _table(cases, recused=frozenset()):
    header = [_("Number"), _("Type"), _("Channel"), _("Received at"), _("Customer"),
              _("Severity"), _("Status"), _("Handler"), _("Repeat"), _("Description"),
              _("Reply")]
    rows = [[c.number, str(KIND_LABELS[c.kind]), str(CHANNEL_LABELS[c.channel]),
             format_datetime(c.received_at, "yyyy-MM-dd HH:mm"), c.who,
             str(SEVERITY_LABELS[c.severity]), str(ComplaintFlow.STATE_LABELS[c.state]),
             c.handler.display_name if c.handler and c.id not in recused else "",
             _("Yes") if c.repeat else "", c.description,
             "" if c.id in recused else c.reply] for c in cases]
    return header, rows


@bp.route("/ledger/export")
def ledger_export():
    """The filtered ledger as XLSX; formula-like text stays text; audited."""
    filters = case_ledger.read_filters(request.args, _user())
    cases = db.session.scalars(case_ledger.ledger_order(
        case_ledger.query(filters, _user())).limit(EXPORT_LIMIT)).all()
    header, rows = _table(cases, recused_case_ids(_user()))
    audit.record(audit.Action.EXPORT, "case_ledger", "", details={
        "filters": request.args.to_dict(), "rows": len(rows)})
    return Response(xlsx_bytes(header, rows), mimetype=XLSX_MIME, headers={
        "Content-Disposition": download_disposition(_("Case ledger"), "xlsx", "case-ledger")})


@bp.route("/ledger/monthly.pdf")
def ledger_pdf():
    """The monthly ledger (台帐) as a signed PDF with the month's figures, in parts of
    MONTHLY_PART cases (?part=2 for the second) so that each renders in reasonable time."""
    first, following = case_ledger.month_bounds(request.args.get("month"))
    filters = case_ledger.read_filters({"since": first.isoformat()}, _user())
    query = case_ledger.query(filters, _user()).where(
        ServiceCase.received_at < case_ledger.local_midnight(following))
    total = db.session.scalar(query.with_only_columns(func.count()).order_by(None))
    parts = max(1, -(-total // MONTHLY_PART))
    part = min(parse_int(request.args.get("part"), minimum=1) or 1, parts)
    cases = db.session.scalars(query.order_by(ServiceCase.year, ServiceCase.seq)
                               .offset((part - 1) * MONTHLY_PART).limit(MONTHLY_PART)).all()
    month = f"{first:%Y-%m}"
    number = f"TS-{month}" if parts == 1 else f"TS-{month}-{part}/{parts}"
    body = render_template("pdf/case_ledger.html", cases=cases, month=month,
                           figures=case_ledger.figures(query), part=part, parts=parts,
                           kinds=KIND_LABELS, channels=CHANNEL_LABELS,
                           severities=SEVERITY_LABELS, states=ComplaintFlow.STATE_LABELS)
    data = {"month": month, "part": part, "parts": parts, "cases": [
        {"id": c.id, "number": c.number, "state": c.state, "kind": c.kind,
         "received_at": c.received_at} for c in cases]}
    return issue.hand_out(issue.Document(
        key="case_ledger", record_id=first.year * 100_000 + first.month * 1_000 + part,
        number=number, version=1, title=str(_("Case ledger")), body=body, data=data,
        file_prefix="case-ledger"), details={"part": part, "rows": [c.id for c in cases]})
