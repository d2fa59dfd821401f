"""The credit decision as an archive record (issue 11): 客户资信额度审批表, closed once decided."""
from __future__ import annotations

from intranet.archive.records import RecordType, Signer, register
from intranet.core.i18n import lazy_gettext as _l
from intranet.credit import GRADE_LABELS, suggestion_for
from intranet.credit.scope import OPEN_STATES
from intranet.models import CreditApplication
from intranet.workflows import engine
from intranet.workflows.credit import CreditFlow


def context(application: CreditApplication) -> dict:
    """What the printed form shows; the same for every reader (no actions, no diagram)."""
    return {"application": application, "grades": GRADE_LABELS,
            "state_labels": CreditFlow.STATE_LABELS, "event_labels": CreditFlow.EVENT_LABELS,
            "suggested": suggestion_for(application), "history": engine.history(application)}


RECORD = RecordType(
    key="credit_application", label=_l("Customer credit-limit approval form"),
    model=CreditApplication, template="pdf/credit_application.html",
    number=lambda row: row.number, context=context,
    closed_at=CreditApplication.decided_at, where=CreditApplication.state.not_in(OPEN_STATES),
    customer_id=CreditApplication.customer_id, department_id=CreditApplication.department_id,
    history_type=CreditFlow.object_type, file_prefix="credit",
    signers=(Signer(_l("Prepared by"), ("submit",)),
             Signer(_l("Reviewed by"), ("forward",)),
             Signer(_l("Approved by"), ("approve", "reject"))))

register(RECORD)
