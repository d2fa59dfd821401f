"""The archive browser (issue 11 §1): closed records of every registered type, filtered by
type, period, department and customer, read-only; every list, open and download audited.
Archivists and the GM read every closed record; a type may refuse a reader (recusal)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import abort, render_template, request
from flask_login import current_user
from sqlalchemy import select

from intranet.archive import issue, sealing
from intranet.archive.records import RECORD_TYPES, closed, record_type
from intranet.blueprints.archive import bp
from intranet.core import audit, settings
from intranet.core.pagination import paginate
from intranet.core.querystring import int_arg, text_arg
from intranet.customers import search_fields
from intranet.extensions import db
from intranet.models import Customer, Department

DEFAULT_TYPE = "credit_application"


def _day(name: str) -> date | None:
    try:
        day = date.fromisoformat((request.args.get(name) or "").strip()[:10])
    except ValueError:
        return None
    return day if date(2000, 1, 1) <= day <= date(2100, 1, 1) else None


def _moment(day: date | None) -> datetime | None:
    return datetime.combine(day, time(), settings.tz()) if day else None


def browsable() -> dict:
    """The record types the browser lists (the customer file has its own page)."""
    return {key: rt for key, rt in RECORD_TYPES.items() if key != "customer_file"}


def readable_or_404(kind: str, record_id: int):
    rt = record_type(kind)
    if rt is None or kind not in browsable():
        abort(404)
    row = rt.get(record_id)
    if row is None or (rt.readable is not None and not rt.readable(row, current_user)):
        abort(404)
    customer_id = getattr(row, rt.customer_id.key)
    if customer_id is not None:  # rule C7: a record of a sealed year is part of its file
        sealing.open_sealed_file(current_user, customer_id,
                                 sealing.year_of(getattr(row, rt.closed_at.key)))
    return rt, row


@bp.route("/")
def records():
    kinds = browsable()
    kind = request.args.get("type") if request.args.get("type") in kinds else DEFAULT_TYPE
    rt = kinds[kind]
    start, end = _day("from"), _day("to")
    department_id, q = int_arg("department"), text_arg("q")
    query = closed(rt, _moment(start), _moment(end + timedelta(days=1)) if end else None,
                   department_id=department_id).where(
        rt.customer_id.is_(None)  # rule C7: records of a sealed year are part of its files
        | sealing.sealed_at_filter(current_user, rt.customer_id, rt.closed_at))
    if q:
        query = query.where(search_fields.matches(q, search_fields.NAME, on=rt.customer_id))
    page = paginate(query.order_by(rt.closed_at.desc(), rt.model.id.desc()))
    names = dict(db.session.execute(select(Customer.id, Customer.name).where(
        Customer.id.in_({_customer_of(rt, row) for row in page.items} - {None}))).all())
    rows = [{"row": row, "number": rt.number(row), "closed_at": getattr(row, rt.closed_at.key),
             "customer": names.get(_customer_of(rt, row), "—")} for row in page.items]
    audit.record(audit.Action.VIEW, "archive", kind, details={
        "list": "archive", "page": page.page, "rows": [r["row"].id for r in rows],
        "filters": request.args.to_dict()})
    return render_template("archive/records.html", kinds=kinds, kind=kind, rt=rt, rows=rows,
                           page=page, departments=_departments(), start=start, end=end,
                           department_id=department_id, q=q)


def _customer_of(rt, row):
    return getattr(row, rt.customer_id.key)


def _departments():
    return db.session.scalars(select(Department).order_by(Department.id)).all()


@bp.route("/records/<kind>/<int:record_id>")
def record(kind: str, record_id: int):
    rt, row = readable_or_404(kind, record_id)
    audit.record(audit.Action.VIEW, kind, row.id, details={"archive": True})
    doc = issue.document(rt, row)
    return render_template("archive/record.html", rt=rt, row=row, doc=doc, kind=kind)


@bp.route("/records/<kind>/<int:record_id>/pdf")
def record_pdf(kind: str, record_id: int):
    rt, row = readable_or_404(kind, record_id)
    return issue.download(rt, row)
