"""Service cases: consultations, suggestions and complaints (rules P1-P8). The machine is
workflows/complaint.py; writes are in operations.py, scoping in scope.py, the ledger's
filters and figures in ledger.py, the deadline warnings in jobs.py."""
from __future__ import annotations

import intranet.complaints.settings  # noqa: F401  (registers the settings)
from intranet.core.i18n import lazy_gettext as _l

KIND_LABELS = {"consultation": _l("Consultation"), "suggestion": _l("Suggestion"),
               "complaint": _l("Complaint")}
CHANNEL_LABELS = {"phone": _l("Phone call"), "visit": _l("Visit"), "letter": _l("Letter"),
                  "online": _l("Online message"), "authority": _l("Referred by an authority")}
SEVERITY_LABELS = {"general": _l("General (一般)"), "serious": _l("Serious (较重)"),
                   "severe": _l("Severe (严重)")}
CONTACT_LABELS = {"arrangement": _l("Told the arrangement"), "progress": _l("Progress update"),
                  "promise": _l("Promise (after the decision)"), "other": _l("Other contact")}
DEADLINE_LABELS = {"answer": _l("Answer"), "investigation": _l("Investigation started"),
                   "reply": _l("Written reply"), "promised": _l("Date promised to the customer")}


def init_app(app) -> None:
    import intranet.complaints.jobs  # noqa: F401  (registers the deadline job)
    import intranet.complaints.record  # noqa: F401  (registers the archive record type)
    from intranet.complaints.notices import KINDS
    from intranet.complaints.scope import in_archive
    from intranet.core import audit, notifications
    from intranet.models.complaint import case_number
    from intranet.workflows.complaint import ComplaintFlow

    notifications.register_kinds(KINDS)
    audit.register_object_labels({
        "service_case": _l("Service case"), "case_contact": _l("Contact with a complainant"),
        "corrective_action": _l("Corrective action"), "case_attachment": _l("Case material"),
        "case_ledger": _l("Case ledger"), "case_figures": _l("Case figures"),
        "customer_lookup": _l("Customer look-up"), "queue": _l("Case queue"),
        "ledger": _l("Case ledger")})
    from sqlalchemy import select

    from intranet.extensions import db
    from intranet.models import CaseAttachment, CaseContact, CorrectiveAction, ServiceCase

    for kind, model in (("case_contact", CaseContact), ("corrective_action", CorrectiveAction),
                        ("case_attachment", CaseAttachment)):  # named by their case's number
        audit.register_object_names(kind, lambda ids, model=model: {
            id_: case_number(year, seq) for id_, year, seq in db.session.execute(
                select(model.id, ServiceCase.year, ServiceCase.seq)
                .join(ServiceCase, ServiceCase.id == model.case_id).where(model.id.in_(ids)))})
    notifications.register_param_labels("deadline", DEADLINE_LABELS)
    notifications.register_link(ComplaintFlow.object_type, "service.case", "case_id")
    app.jinja_env.globals.update(
        case_kinds=KIND_LABELS, case_channels=CHANNEL_LABELS, case_severities=SEVERITY_LABELS,
        case_contact_kinds=CONTACT_LABELS, case_deadlines=DEADLINE_LABELS,
        case_states=ComplaintFlow.STATE_LABELS, case_in_archive=in_archive,
        case_number=case_number)
