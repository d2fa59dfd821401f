"""What follows a customer to its new owner (rule R1): open credit applications the old owner
made are carried on by the new one, and open complaints are listed, so the transfer's history
says what went along."""
from __future__ import annotations

from sqlalchemy import select

from intranet.core import audit
from intranet.extensions import db
from intranet.models import CreditApplication, Customer, ServiceCase, User
from intranet.workflows.complaint_states import OPEN_CASE_STATES
from intranet.workflows.credit_states import OPEN as OPEN_CREDIT


def follow_owner(customer: Customer, from_user_id: int | None, to_user: User, *,
                 actor: User | None) -> str:
    """Hand the old owner's open records on this customer to `to_user`; returns the list
    kept on the request ("credit_application:12 service_case:7")."""
    moved = []
    applications = db.session.scalars(select(CreditApplication).where(
        CreditApplication.customer_id == customer.id,
        CreditApplication.applicant_id == from_user_id,
        CreditApplication.state.in_([s.value for s in OPEN_CREDIT])))
    for application in applications:
        application.applicant_id = to_user.id
        audit.record(audit.Action.UPDATE, "credit_application", application.id, user=actor,
                     details={"applicant": {"from": from_user_id, "to": to_user.id}})
        moved.append(f"credit_application:{application.id}")
    cases = db.session.scalars(select(ServiceCase.id).where(
        ServiceCase.customer_id == customer.id,
        ServiceCase.state.in_([s.value for s in OPEN_CASE_STATES])))
    moved += [f"service_case:{case_id}" for case_id in cases]
    return " ".join(moved)


def followed(handed_over: str) -> list[tuple[str, int]]:
    """The records a request's `handed_over` names, as (object type, id)."""
    pairs = []
    for item in (handed_over or "").split():
        kind, _, number = item.partition(":")
        if number.isdigit():
            pairs.append((kind, int(number)))
    return pairs
