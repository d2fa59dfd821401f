"""Filing re-classification requests (rule C4) and conflict claims (rule C2), and who sees
them. Their decisions are the machines' (workflows/reclassification.py, conflict.py), fired
through workflows.engine.fire.

A request is created in its initial state: `engine.start` writes the filing into the workflow
history and posts the notices the machine declares for that state."""
from __future__ import annotations

from sqlalchemy import false, or_, select

from intranet.core import audit, clock
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.roles import Role
from intranet.customers.credit_code import normalise as normalise_code
from intranet.customers.dedupe import find_duplicate
from intranet.extensions import db
from intranet.models import (
    ConflictClaim,
    Customer,
    Reclassification,
    ResourceRequest,
    User,
)
from intranet.resources.scope import decider_departments, request_scope  # noqa: F401
from intranet.workflows import engine
from intranet.workflows.engine import InvalidInput
from intranet.workflows.resource_states import DEAL_CLASSES, OPEN_STATES

FILED = engine.START  # the history's event for the filing itself


def _open_request(model, customer_id: int, user_id: int) -> bool:
    return db.session.scalar(select(model.id).where(
        model.customer_id == customer_id, model.requested_by_id == user_id,
        model.state.in_(OPEN_STATES)).limit(1)) is not None


def file_reclassification(customer: Customer, user: User, proposed: str,
                          reason: str) -> Reclassification:
    """Rule C4 (资源重新申请表): the owner asks for the class the desk gave to change."""
    if customer.owner_id != user.id:
        raise InvalidInput("proposed_class", _l("Only the customer's owner can ask for this."))
    if proposed not in DEAL_CLASSES or proposed == customer.deal_class:
        raise InvalidInput("proposed_class", _l("Choose a class other than the current one."))
    if not reason.strip():
        raise InvalidInput("reason", _l("Say why the class is wrong."))
    if _open_request(Reclassification, customer.id, user.id):
        raise InvalidInput("proposed_class", _l("A request for this customer is already "
                                                "waiting for a decision."))
    row = Reclassification(customer_id=customer.id, department_id=customer.department_id,
                           requested_by_id=user.id, from_user_id=customer.owner_id,
                           proposed_class=proposed, reason=reason.strip(),
                           classified_by_id=customer.classified_by_id, created_at=clock.now())
    return _announce(row, user, {"proposed": proposed, "current": customer.deal_class})


def claimable(user: User, name: str, code: str = "", phone: str = ""):
    """Rule C2: the registered customer a refused registration collides with, and on what,
    found again from what the rep typed (never from an id a form could forge), or None."""
    phones = [phone] if phone else []
    return find_duplicate(name or "", normalise_code(code or "") or None, phones)


def file_conflict_claim(user: User, name: str, code: str, phone: str,
                        reason: str) -> ConflictClaim:
    found = claimable(user, name, code, phone)
    if found is None:
        raise InvalidInput("reason", _l("No registered customer matches: register it instead."))
    customer = found[0]
    if customer.owner_id == user.id:
        raise InvalidInput("reason", _l("You already own this customer."))
    if not reason.strip():
        raise InvalidInput("reason", _l("Say why the customer should be yours."))
    if _open_request(ConflictClaim, customer.id, user.id):
        raise InvalidInput("reason", _l("Your claim on this customer is already waiting for "
                                        "a decision."))
    # The manager of the customer's department decides; a lead still in the pool belongs to
    # no department yet, so the claimant's manager decides.
    row = ConflictClaim(customer_id=customer.id,
                        department_id=customer.department_id or user.department_id,
                        requested_by_id=user.id, from_user_id=customer.owner_id,
                        to_user_id=user.id, reason=reason.strip(), created_at=clock.now())
    return _announce(row, user, {"matched_on": found[1]})


def _announce(row: ResourceRequest, user: User, details: dict) -> ResourceRequest:
    role = next((r for r in sorted(user.roles) if r in {Role.SALES_REP, Role.SALES_MANAGER}),
                None)
    engine.start(row, user=user, role=role, comment=row.reason,
                 details={"customer": row.customer_id, **details})
    return row


def open_for_decision(user: User, model):
    """SQL: the open requests of this kind in the departments `user` decides for."""
    departments = decider_departments(user)
    if not departments:
        return select(model).where(false())
    return select(model).where(model.department_id.in_(departments),
                               model.state.in_(OPEN_STATES), model.requested_by_id != user.id,
                               or_(model.from_user_id.is_(None), model.from_user_id != user.id))


def init_app(app) -> None:
    """Registers the two machines, their settings, notification texts, record links and the
    labels templates use."""
    import intranet.resources.intake_settings  # noqa: F401  (registers the settings)
    from intranet.core import notifications
    from intranet.resources.request_notices import KINDS
    from intranet.workflows.conflict import OUTCOME_LABELS, ConflictFlow
    from intranet.workflows.reclassification import ReclassificationFlow

    notifications.register_kinds(KINDS)
    notifications.register_param_labels("claim_outcome", OUTCOME_LABELS)
    notifications.register_link(ReclassificationFlow.object_type, "sales.reclassification",
                                "reclassification_id")
    notifications.register_link(ConflictFlow.object_type, "sales.conflict", "conflict_id")
    audit.register_object_labels({
        "reclassification": _l("Re-classification request"),
        "conflict_claim": _l("Conflict claim"), "request_list": _l("Resource requests"),
        "lead_list": _l("Leads registered at the desk")})
    app.jinja_env.globals.update(claim_outcomes=OUTCOME_LABELS, deal_classes=DEAL_CLASSES)
