"""Guards and validators shared by the resource-request machines (rules R1, R4-R6, C2, C4;
SECURITY.md 6): who asked, who must agree, and the director who decides — never one of the
parties, and only for the customer's department (or as a deputy of its head)."""
from __future__ import annotations

from intranet.core.access import valid_delegations
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.roles import Role
from intranet.workflows.engine import InvalidInput


def is_requester(model, user=None, **kwargs) -> bool:
    return user is not None and model.requested_by_id == user.id


def counterpart_id(model) -> int | None:
    """The rep who must agree to a transfer: whichever party did not ask (rule R1)."""
    return model.to_user_id if model.requested_by_id == model.from_user_id else model.from_user_id


def is_counterpart(model, user=None, **kwargs) -> bool:
    return user is not None and counterpart_id(model) == user.id


def not_a_party(model, user=None, **kwargs) -> bool:
    """Requester ≠ approver: neither rep decides their own transfer or claim."""
    return user is not None and user.id not in {model.requested_by_id, model.from_user_id,
                                                model.to_user_id}


def heads_department(model, user=None, **kwargs) -> bool:
    """The director of the customer's department (rule R1), or a deputy in force for one."""
    if user is None or model.department_id is None:
        return False
    if Role.SALES_MANAGER in user.roles and user.department_id == model.department_id:
        return True
    return any(d.role == Role.SALES_MANAGER and d.principal.department_id == model.department_id
               for d in valid_delegations(user))


def owner_unchanged(model, **kwargs) -> bool:
    """A request speaks for the owner it was made against: once the customer has moved (a
    reclaim, a reassignment, another transfer), it can no longer be carried out."""
    return model.customer.owner_id == model.from_user_id


def still_in_pool(model, **kwargs) -> bool:
    return model.customer.owner_id is None


def comment_required(comment: str = "", **kwargs) -> None:
    if not (comment or "").strip():
        raise InvalidInput("comment", _l("Please give a reason: the rep will read it."))


# --- the same guards in SQL (the inbox: workflows/waiting.py) ----------------------------------

def counterpart_is_sql(actor):
    from sqlalchemy import and_, or_

    from intranet.models import ResourceRequest as R
    return or_(and_(R.requested_by_id == R.from_user_id, R.to_user_id == actor.me),
               and_(R.requested_by_id != R.from_user_id, R.from_user_id == actor.me))


def director_sql(actor, *parties):
    """`heads_department` and not one of `parties` (requester ≠ approver), in SQL."""
    from sqlalchemy import and_, false

    from intranet.models import ResourceRequest as R
    from intranet.workflows.waiting import is_not

    departments = actor.managed_departments()
    if not departments:
        return false()
    return and_(R.department_id.in_(sorted(departments)), *(is_not(p, actor) for p in parties))
