"""The states of a periodic report (rule Q1), declared once: the model's CHECK constraint and
the machine (workflows/report.py) read them."""
from enum import StrEnum


class ReportState(StrEnum):
    DRAFT = "draft"          # prepared by `flask jobs run`, waiting for its author
    SUBMITTED = "submitted"  # waiting for the general manager
    RETURNED = "returned"    # sent back to the author with a reason
    ACCEPTED = "accepted"


OPEN_STATES = (ReportState.DRAFT.value, ReportState.RETURNED.value)  # the author's turn
