"""The closed complaint as an archive record (issue 11): 客户投诉处理登记表."""
from __future__ import annotations

from sqlalchemy import select

from intranet.archive.records import RecordType, Signer, register
from intranet.complaints.scope import reads_notes
from intranet.core.i18n import lazy_gettext as _l
from intranet.extensions import db
from intranet.models import CaseContact, CorrectiveAction, ServiceCase
from intranet.workflows import deadlines, engine
from intranet.workflows.complaint import ComplaintFlow


def context(case: ServiceCase) -> dict:
    """What the printed form shows, the handling notes included (the route decides who may
    have it); the same for every reader."""
    return {"case": case, "state_labels": ComplaintFlow.STATE_LABELS,
            "event_labels": ComplaintFlow.EVENT_LABELS, "history": engine.history(case),
            "deadlines": deadlines.for_row(case),
            "subjects": [p.user for p in case.people if p.relation == "subject"],
            "attendees": [p.user for p in case.people if p.relation == "attendee"],
            "contacts": _rows(CaseContact, case, CaseContact.at),
            "actions": _rows(CorrectiveAction, case, CorrectiveAction.id)}


def _rows(model, case, order):
    return db.session.scalars(select(model).where(model.case_id == case.id)
                              .order_by(order, model.id)).all()


RECORD = RecordType(
    key="service_case", label=_l("Customer complaint handling form"), model=ServiceCase,
    template="pdf/service_case.html", number=lambda row: row.number, context=context,
    closed_at=ServiceCase.closed_at, customer_id=ServiceCase.customer_id,
    department_id=ServiceCase.department_id, history_type=ComplaintFlow.object_type,
    file_prefix="case", readable=reads_notes,
    signers=(Signer(_l("Prepared by"), ("give_opinion",)),
             Signer(_l("Reviewed by"), ("decide", "escalate")),
             Signer(_l("Approved by"), ("resolve", "close"))))

register(RECORD)
