"""The states of an access request to a sealed customer file (rule C7), declared once: the
model's CHECK constraint and the machine (workflows/archive_access.py) read them."""
from enum import StrEnum


class AccessState(StrEnum):
    REQUESTED = "requested"  # waiting for the GM
    APPROVED = "approved"    # a grant until expires_at (the clock decides, not this state)
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"      # marked by `flask jobs run` once expires_at has passed


OPEN_STATES = (AccessState.REQUESTED.value,)
