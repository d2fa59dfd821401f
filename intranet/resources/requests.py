"""Filing re-classification requests (rule C4) and conflict claims (rule C2), and who sees
them. Their decisions are the machines' (workflows/reclassification.py, conflict.py), fired
through workflows.engine.fire.

A request is created in its initial state, so no transition announces it: `_announce` writes
the filing into the workflow history and posts the notices the machine declares for that
state, exactly as the engine's listeners do for a transition."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import false, or_, select, true

from intranet.core import audit, clock, notifications
from intranet.core.access import security_log, valid_delegations
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
    WorkflowHistory,
)
from intranet.workflows.engine import InvalidInput, machine_class
from intranet.workflows.resource_states import DEAL_CLASSES, OPEN_STATES

FILED = "request"  # the history's event for the filing itself


def request_scope(user, model=ResourceRequest):
    """SQL: the requests `user` may read. The requester; for a conflict claim the owner it is
    about; for a re-classification the desk agent it marks; the sales manager of the
    request's department (and their deputy); the GM read-only. Fails closed."""
    try:
        if Role.GENERAL_MANAGER in user.roles or any(
                Role(d.role) == Role.GENERAL_MANAGER for d in valid_delegations(user)):
            return true()
        clauses = [model.requested_by_id == user.id, model.from_user_id == user.id,
                   model.classified_by_id == user.id]
        departments = decider_departments(user)
        if departments:
            clauses.append(model.department_id.in_(departments))
        return or_(*clauses)
    except Exception:
        security_log.exception("request scope failed")
        return false()


def decider_departments(user) -> list[int]:
    """The departments whose requests `user` decides: their own as sales manager, and their
    principal's as a deputy in force."""
    departments = {user.department_id} if Role.SALES_MANAGER in user.roles else set()
    departments |= {d.principal.department_id for d in valid_delegations(user)
                    if Role(d.role) == Role.SALES_MANAGER}
    departments.discard(None)
    return sorted(departments)


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
    db.session.add(row)
    db.session.flush()
    cls = machine_class(row)
    role = next((r for r in sorted(user.roles) if r in {Role.SALES_REP, Role.SALES_MANAGER}),
                None)
    db.session.add(WorkflowHistory(
        object_type=cls.object_type, object_id=row.id, event=FILED, from_state="",
        to_state=row.state, user_id=user.id, role=role.value if role else "", at=clock.now(),
        comment=row.reason))
    audit.record(audit.Action.CREATE, cls.object_type, row.id, user=user,
                 details={"customer": row.customer_id, **details})
    params = {"workflow": cls.object_type, "state": row.state, **cls.notice_params(row)}
    link = notifications.link_for(cls.object_type, row.id)
    for notice in cls.NOTICES:
        if notice.state == row.state and notice.event is None:
            for user_id in sorted(set(notice.to(row)) - cls.never_told(row) - {None}):
                notifications.notify(user_id, notice.kind, link, **params)
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
