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


def decider_departments(user) -> list[int]:
    """The departments whose requests `user` decides: their own as sales manager, and their
    principal's as a deputy in force."""
    departments = {user.department_id} if R.SALES_MANAGER in user.roles else set()
    departments |= {d.principal.department_id for d in valid_delegations(user)
                    if R(d.role) == R.SALES_MANAGER}
    departments.discard(None)
    return sorted(departments)


def request_scope(user, model=ResourceRequest):
    """SQL: the requests `user` may read — as a party (who asked, the owner, the rep taking
    over, the desk agent a re-classification marks), as the director of the request's
    department (or their deputy), or as the GM, read-only. Fails closed."""
    try:
        if R.GENERAL_MANAGER in user.roles or any(
                R(d.role) == R.GENERAL_MANAGER for d in valid_delegations(user)):
            return true()
        clauses = [model.requested_by_id == user.id, model.from_user_id == user.id,
                   model.to_user_id == user.id, model.classified_by_id == user.id]
        departments = decider_departments(user)
        if departments:
            clauses.append(model.department_id.in_(departments))
        return or_(*clauses)
    except Exception:  # fail closed
        security_log.exception("request scope failed")
        return false()


def scoped_request_or_404(request_id: int) -> ResourceRequest:
    """A transfer or pool claim the current user may see, else 404."""
    try:
        found = db.session.scalar(select(ResourceRequest).where(
            ResourceRequest.id == request_id, ResourceRequest.kind.in_(OWN_KINDS),
            request_scope(current_user)))
    except Exception:  # fail closed
        security_log.exception("request scope failed")
        found = None
    if found is None:
        abort(404)
    return found


# The step each kind of the transfers-and-claims pages waits on the director for (transfers:
# once the other rep agreed). Re-classifications and conflict claims have their own pages.
DIRECTOR_STEPS = {"transfer": "confirmed", "claim": "requested"}
OWN_KINDS = tuple(DIRECTOR_STEPS)


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
        departments = decider_departments(user)
        director = and_(
            ResourceRequest.department_id.in_(departments),
            or_(*(and_(ResourceRequest.kind == kind, ResourceRequest.state == state)
                  for kind, state in DIRECTOR_STEPS.items())),
            ResourceRequest.requested_by_id != user.id)
        return or_(other_rep, director) if departments else other_rep
    except Exception:  # fail closed
        security_log.exception("request scope failed")
        return false()
