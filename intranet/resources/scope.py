"""Who sees which resource request (rule C6): the parties (who asked, the owner, the rep
taking over), the director of the customer's department (or a deputy for one) and the GM,
read-only. A rep never reaches another rep's customer through a request they are not in."""
from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import false, or_, select, true

from intranet.core.access import security_log, valid_delegations
from intranet.core.roles import Role as R
from intranet.extensions import db
from intranet.models import ResourceRequest


def request_scope(user):
    try:
        if R.GENERAL_MANAGER in user.roles:
            return true()
        departments = {user.department_id} if R.SALES_MANAGER in user.roles else set()
        departments |= {d.principal.department_id for d in valid_delegations(user)
                        if d.role == R.SALES_MANAGER}
        departments.discard(None)
        return or_(ResourceRequest.requested_by_id == user.id,
                   ResourceRequest.from_user_id == user.id,
                   ResourceRequest.to_user_id == user.id,
                   ResourceRequest.department_id.in_(departments))
    except Exception:  # fail closed
        security_log.exception("request scope failed")
        return false()


def scoped_request_or_404(request_id: int) -> ResourceRequest:
    try:
        found = db.session.scalar(select(ResourceRequest).where(
            ResourceRequest.id == request_id, request_scope(current_user)))
    except Exception:  # fail closed
        security_log.exception("request scope failed")
        found = None
    if found is None:
        abort(404)
    return found


# The step each kind waits on the director for (transfers: once the other rep agreed).
DIRECTOR_STEPS = {"transfer": "confirmed", "claim": "requested", "conflict": "requested",
                  "reclassification": "requested"}


def waiting_on(user):
    """SQL: the open requests whose next step is `user`'s — the other rep's agreement to a
    transfer, or the director's decision in their department."""
    from sqlalchemy import and_

    try:
        other_rep = and_(ResourceRequest.kind == "transfer",
                         ResourceRequest.state == "requested",
                         ResourceRequest.requested_by_id != user.id,
                         or_(ResourceRequest.from_user_id == user.id,
                             ResourceRequest.to_user_id == user.id))
        departments = {user.department_id} if R.SALES_MANAGER in user.roles else set()
        departments |= {d.principal.department_id for d in valid_delegations(user)
                        if d.role == R.SALES_MANAGER}
        departments.discard(None)
        director = and_(
            ResourceRequest.department_id.in_(departments),
            or_(*(and_(ResourceRequest.kind == kind, ResourceRequest.state == state)
                  for kind, state in DIRECTOR_STEPS.items())),
            ResourceRequest.requested_by_id != user.id)
        return or_(other_rep, director) if departments else other_rep
    except Exception:  # fail closed
        security_log.exception("request scope failed")
        return false()
