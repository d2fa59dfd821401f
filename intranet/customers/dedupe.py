"""Rule C2: register first, no duplicates.

A new registration matches an existing customer by credit code, by normalised company name
(legal-form suffixes, brackets, spaces and full/half-width variants ignored) or by a contact
phone number.
"""
from __future__ import annotations

from sqlalchemy import or_, select

from intranet.customers.credit_code import normalise as normalise_code
from intranet.customers.names import normalise_name, phone_digits
from intranet.extensions import db
from intranet.models import Contact, Customer


def find_duplicate(name: str, credit_code: str | None = None, phones=(),
                   exclude_id: int | None = None) -> tuple[Customer, str] | None:
    """The existing customer a registration collides with, and on what ("credit_code",
    "name" or "phone"); None if it is new."""
    checks = []
    code = normalise_code(credit_code or "")
    if code:
        checks.append(("credit_code", Customer.credit_code == code))
    normalised = normalise_name(name)
    if normalised:
        checks.append(("name", Customer.normalized_name == normalised))
    digits = sorted({phone_digits(p) for p in phones if phone_digits(p)})
    if digits:
        checks.append(("phone", Customer.id.in_(
            select(Contact.customer_id).where(Contact.phone_digits.in_(digits)))))
    if not checks:
        return None
    query = select(Customer).where(or_(*(clause for _, clause in checks))).order_by(Customer.id)
    if exclude_id is not None:
        query = query.where(Customer.id != exclude_id)
    existing = db.session.scalars(query.limit(1)).first()
    if existing is None:
        return None
    for reason, _ in checks:
        if (reason == "credit_code" and existing.credit_code == code) or (
                reason == "name" and existing.normalized_name == normalised):
            return existing, reason
    return existing, "phone"
