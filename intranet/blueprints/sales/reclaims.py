"""Reclaim batches (rules R2, R5, R6): each run of a rule that returned customers to the pool,
with its signed record 客户资源调配记录 — which customers, from whom, why and when."""
from __future__ import annotations

from flask import abort, render_template
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from intranet.archive import issue
from intranet.blueprints.sales import bp
from intranet.core import audit, i18n
from intranet.core.access import customer_id_scope
from intranet.core.pagination import paginate
from intranet.core.querystring import url_pattern
from intranet.extensions import db
from intranet.models import Customer, OwnershipRecord, ReclaimRule
from intranet.resources import RECLAIM_LABELS

BATCH = (OwnershipRecord.kind == "reclaim", OwnershipRecord.object_type == "reclaim_rule")


def _in_scope():
    return customer_id_scope(OwnershipRecord.customer_id, current_user._get_current_object())


@bp.route("/reclaims")
def reclaim_batches():
    # A batch's records share one moment: grouped and ordered by (at, rule) as the batch index
    # is, the page stops after its 26 batches instead of grouping and sorting every record.
    # Not counted: a count reads every reclaimed record and looks its customer up for the
    # reader's scope (3,000 records: ~10 ms, more than the rest of the page, issue 12).
    query = (select(func.min(OwnershipRecord.id)).where(*BATCH, _in_scope())
             .group_by(OwnershipRecord.at, OwnershipRecord.object_id)
             .order_by(OwnershipRecord.at.desc(), OwnershipRecord.object_id.desc()))
    page = paginate(query, count=False)
    firsts = {r.id: r for r in db.session.scalars(
        select(OwnershipRecord).where(OwnershipRecord.id.in_(page.items)))}
    counts = dict(((rule_id, at), n) for rule_id, at, n in db.session.execute(
        select(OwnershipRecord.object_id, OwnershipRecord.at, func.count())
        .where(*BATCH, _in_scope(), OwnershipRecord.at.in_({r.at for r in firsts.values()}))
        .group_by(OwnershipRecord.object_id, OwnershipRecord.at)))
    rules = {rule.id: rule for rule in db.session.scalars(select(ReclaimRule))}
    rows = [(firsts[i], rules.get(firsts[i].object_id), counts.get(
        (firsts[i].object_id, firsts[i].at), 0)) for i in page.items if i in firsts]
    audit.record(audit.Action.VIEW, "reclaim_rule", "", details={
        "list": "reclaim_batches", "page": page.page, "rows": list(page.items)})
    return render_template("sales/reclaim_batches.html", page=page, rows=rows,
                           reclaim_kinds=i18n.resolved(RECLAIM_LABELS),
                           pdf_url=url_pattern("sales.reclaim_batch_pdf", "record_id"))


@bp.route("/reclaims/<int:record_id>/pdf")
def reclaim_batch_pdf(record_id: int):
    first = db.session.scalar(select(OwnershipRecord).where(
        OwnershipRecord.id == record_id, *BATCH, _in_scope())) or abort(404)
    records = db.session.scalars(
        select(OwnershipRecord).join(Customer, Customer.id == OwnershipRecord.customer_id)
        .options(selectinload(OwnershipRecord.from_user))
        .where(*BATCH, _in_scope(), OwnershipRecord.object_id == first.object_id,
               OwnershipRecord.at == first.at)
        .order_by(Customer.name_pinyin, Customer.id)).all()
    names = dict(db.session.execute(select(Customer.id, Customer.name).where(
        Customer.id.in_([r.customer_id for r in records]))).all())
    number = f"HS-{first.at:%Y%m%d%H%M}-{first.object_id}"
    rule = db.session.get(ReclaimRule, first.object_id)
    body = render_template("pdf/reclaim_batch.html", first=first, records=records, names=names,
                           rule=rule, number=number)
    data = {"rule": first.object_id, "at": first.at, "customers": [
        {"id": r.customer_id, "name": names.get(r.customer_id), "from_user_id": r.from_user_id}
        for r in records]}
    return issue.hand_out(issue.Document(
        key="reclaim_batch", record_id=first.id, number=number, version=1,
        title=str(_("Customer resource allocation record")), body=body, data=data,
        file_prefix="reclaim"), details={"batch": number,
                                         "customers": [r.customer_id for r in records]})
