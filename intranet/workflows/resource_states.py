"""The states and kinds of resource requests (rules R1, R4-R6, C2, C4), declared once: the
model's CHECK constraints and the machines (workflows/transfer.py and the others) read them."""
from enum import StrEnum


class RequestState(StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"  # a transfer the other rep has agreed to (rule R1)
    APPROVED = "approved"    # executed: the ownership record is written in the same step
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class RequestKind(StrEnum):
    TRANSFER = "transfer"              # rule R1: rep to rep, through the director
    CLAIM = "claim"                    # rules R5, R6: a rep claims a pool customer
    CONFLICT = "conflict"              # rule C2: a refused registration claims the customer
    RECLASSIFICATION = "reclassification"  # rule C4: 资源重新申请表


DEAL_CLASSES = ("A", "B", "C", "D")  # rule C4
OPEN_STATES = (RequestState.REQUESTED.value, RequestState.CONFIRMED.value)
