"""Customer resources (rules R1-R9, C2, C4): the one recorded path for every change of owner
(ownership.py), the shared pools and the reclaim rules stored as data (reclaim.py) and their
jobs."""
from __future__ import annotations

from flask import has_app_context
from sqlalchemy import select

import intranet.resources.settings  # noqa: F401  (registers the settings)
from intranet.core.i18n import lazy_gettext as _l
from intranet.extensions import db

KIND_LABELS = {"registered": _l("Registered"), "import": _l("Imported"),
               "allocation": _l("Allocated"), "claim": _l("Claimed from the pool"),
               "transfer": _l("Transferred"), "reclaim": _l("Returned to the pool"),
               "reassignment": _l("Reassigned by the director"),
               "conflict": _l("Conflict claim decided, owner kept")}
REQUEST_KIND_LABELS = {"transfer": _l("Transfer between reps"), "claim": _l("Pool claim"),
                       "conflict": _l("Conflict claim"),
                       "reclassification": _l("Re-classification request")}
EXPERIENCE_LABELS = {"new": _l("New hire"), "intermediate": _l("Intermediate rep"),
                     "senior": _l("Senior rep")}  # rule R7
RECLAIM_LABELS = {"no_activity": _l("No sales activity"),
                  "prospect": _l("Prospect not converted"),
                  "former": _l("Former customer without orders")}


def ownership_reason(reason: str | None) -> str:
    """An ownership record's reason as a reader says it: a reclaim's rule by its label (the
    records keep the rule's key, reclaim_rule:N)."""
    reason = reason or ""
    if not reason.startswith("reclaim_rule:"):
        return reason
    from flask import g

    from intranet.models import ReclaimRule
    kinds = g.get("_reclaim_kinds") if has_app_context() else None
    if kinds is None:
        kinds = {f"reclaim_rule:{id_}": kind for id_, kind in db.session.execute(
            select(ReclaimRule.id, ReclaimRule.kind))}
        if has_app_context():
            g._reclaim_kinds = kinds
    kind = kinds.get(reason)
    return str(RECLAIM_LABELS.get(kind, _l("Returned to the pool")))


def init_app(app) -> None:
    import intranet.resources.allocation_jobs  # noqa: F401  (the first-contact job)
    import intranet.resources.jobs  # noqa: F401  (registers the reclaim jobs)
    import intranet.resources.record  # noqa: F401  (registers the archive record types)
    from intranet.core import audit, notifications
    from intranet.models.resources import request_number
    from intranet.resources import disputes as resource_requests
    from intranet.resources.notices import KINDS
    from intranet.workflows.transfer import ClaimFlow, TransferFlow

    notifications.register_kinds(KINDS)
    audit.register_object_labels({"reclaim_rule": _l("Reclaim rule"),
                                  "transfer_request": _l("Transfer"),
                                  "pool_claim": _l("Pool claim"),
                                  "resource_request": _l("Transfers and claims"),
                                  "penalty": _l("Penalty"), "rep": _l("Sales rep record"),
                                  "reclaim_batch": _l("Reclaim batch")})
    from intranet.models import Penalty, ReclaimRule, User
    audit.register_object_names("rep", audit.OBJECT_NAMES["user"])
    audit.register_object_names("penalty", audit.column_names(
        Penalty.id, select(User.display_name).where(User.id == Penalty.user_id)
        .scalar_subquery()))
    audit.register_object_names("reclaim_rule", lambda ids: {
        id_: RECLAIM_LABELS.get(kind, kind) for id_, kind in db.session.execute(
            select(ReclaimRule.id, ReclaimRule.kind).where(ReclaimRule.id.in_(ids)))})
    app.jinja_env.globals["ownership_reason"] = ownership_reason
    for flow in (TransferFlow, ClaimFlow):
        notifications.register_link(flow.object_type, "sales.resource_request", "request_id")
    app.jinja_env.globals.update(ownership_kinds=KIND_LABELS, reclaim_kinds=RECLAIM_LABELS,
                                 request_kinds=REQUEST_KIND_LABELS,
                                 experience_labels=EXPERIENCE_LABELS, request_number=request_number)
    resource_requests.init_app(app)  # rules C2, C4: conflict claims, re-classification
