"""Transfers and pool claims as archive records (issue 11): 客户资源调配记录, closed once the
director decided."""
from __future__ import annotations

from sqlalchemy import select

from intranet.archive.records import RecordType, Signer, register
from intranet.core.i18n import lazy_gettext as _l
from intranet.models import Customer, PoolClaim, TransferRequest
from intranet.resources.handover import followed
from intranet.workflows import engine
from intranet.workflows.engine import START
from intranet.workflows.transfer import ClaimFlow, TransferFlow


def context(row) -> dict:
    flow = engine.machine_class(row)
    return {"row": row, "flow": flow, "state_labels": flow.STATE_LABELS,
            "event_labels": flow.EVENT_LABELS, "history": engine.history(row),
            "followed": followed(row.handed_over), "customer_link": False}


def _department(model):
    return (select(Customer.department_id).where(Customer.id == model.customer_id)
            .scalar_subquery())


def _record(model, flow, label, signers) -> RecordType:
    return RecordType(
        key=flow.object_type, label=label, model=model,
        template="pdf/resource_request.html", number=lambda row: row.number,
        context=context, closed_at=model.decided_at, customer_id=model.customer_id,
        department_id=_department(model), history_type=flow.object_type,
        file_prefix="resources", signers=signers)


TRANSFER = _record(TransferRequest, TransferFlow, _l("Customer resource allocation record "
                                                    "(transfer)"), (
    Signer(_l("Prepared by"), (START,)), Signer(_l("Reviewed by"), ("confirm",)),
    Signer(_l("Approved by"), ("approve", "reject"))))
CLAIM = _record(PoolClaim, ClaimFlow, _l("Customer resource allocation record (pool claim)"), (
    Signer(_l("Prepared by"), (START,)), Signer(_l("Approved by"), ("approve", "reject"))))

register(TRANSFER)
register(CLAIM)
RECORDS = {TransferRequest: TRANSFER, PoolClaim: CLAIM}


def record_for(row) -> RecordType:
    return RECORDS[type(row)]
