"""The guards and validators the re-classification (rule C4) and conflict-claim (rule C2)
machines share: who filed, who decides (the sales manager of the request's department or
their deputy, never the requester nor, for a claim, the owner it is about), and the comment a
refusal needs."""
from __future__ import annotations

from intranet.core.access import valid_delegations
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.roles import Role
from intranet.workflows.engine import InvalidInput


def is_requester(model, user=None, **kwargs) -> bool:
    return user is not None and model.requested_by_id == user.id


def not_requester(model, user=None, **kwargs) -> bool:
    """Requester ≠ approver (SECURITY.md 6)."""
    return user is not None and model.requested_by_id != user.id


def not_a_party(model, user=None, **kwargs) -> bool:
    """Rule C2: neither the claimant nor the owner the claim is about decides it."""
    return user is not None and user.id not in (model.requested_by_id, model.from_user_id)


def department_manager(model, user=None, **kwargs) -> bool:
    """The sales manager of the request's department, or their deputy in force."""
    if user is None or model.department_id is None:
        return False
    if Role.SALES_MANAGER in user.roles and user.department_id == model.department_id:
        return True
    return any(Role(d.role) == Role.SALES_MANAGER
               and d.principal.department_id == model.department_id
               for d in valid_delegations(user))


def requester_owns(model, **kwargs) -> bool:
    """Rule C4: only the customer's owner asks for its class to change, and still owns it."""
    return model.customer.owner_id == model.requested_by_id


def comment_required(comment: str = "", **kwargs) -> None:
    if not (comment or "").strip():
        raise InvalidInput("comment", _l("Please give a comment: the requester will read it."))
