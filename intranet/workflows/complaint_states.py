"""The service case's states and kinds, declared once: the model's CHECK constraints and the
machine (workflows/complaint.py) both read them."""
from enum import StrEnum


class CaseState(StrEnum):
    REGISTERED = "registered"          # intake done, first response recorded (P1, P7)
    ASSIGNED = "assigned"              # with the designated handler (P1)
    INVESTIGATING = "investigating"    # facts being checked, contacts logged (P4)
    AWAITING_DECISION = "awaiting_decision"  # the handler's opinion is written (P3)
    ESCALATED = "escalated"            # a major matter before the GM / management meeting (P3)
    DECIDED = "decided"
    IMPLEMENTED = "implemented"
    REPLIED = "replied"                # the written reply is given (P4)
    FOLLOWED_UP = "followed_up"        # the customer is satisfied; corrective actions (P8)
    REPORTED = "reported"              # a suggestion with the leader (P5)
    CONSIDERED = "considered"          # the leader adopted or declined it (P5)
    CLOSED = "closed"


class CaseKind(StrEnum):
    CONSULTATION = "consultation"
    SUGGESTION = "suggestion"
    COMPLAINT = "complaint"


S = CaseState
OPEN_CASE_STATES = tuple(s for s in CaseState if s != S.CLOSED)
CHANNELS = ("phone", "visit", "letter", "online", "authority")
SEVERITIES = ("general", "serious", "severe")  # 一般 / 较重 / 严重 (P6)
CONTACT_KINDS = ("arrangement", "progress", "promise", "other")  # P4
