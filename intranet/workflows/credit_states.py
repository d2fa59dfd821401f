"""The credit application's states, declared once: the model's CHECK constraint and the
machine (workflows/credit.py) both read them."""
from enum import StrEnum


class CreditState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RECEIVED = "received"
    RETURNED = "returned"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EFFECTIVE = "effective"
    SUPERSEDED = "superseded"


S = CreditState
PENDING_GM = (S.RECEIVED,)
OPEN = (S.DRAFT, S.SUBMITTED, S.RECEIVED, S.RETURNED)
IN_FORCE = (S.APPROVED, S.EFFECTIVE)  # the effective limit is derived from these (K7)
