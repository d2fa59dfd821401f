"""Notification texts of service cases, rendered in the reader's language."""
from intranet.core.i18n import lazy_gettext as _l

KINDS = {
    "case_assigned": _l("Case %(number)s (%(who)s) is assigned to you: start the investigation "
                        "today."),
    "case_to_decide": _l("Case %(number)s (%(who)s): the handler's opinion is written and "
                         "awaits your decision."),
    "case_escalated": _l("Case %(number)s (%(who)s) is escalated to you for a decision."),
    "case_decided": _l("Case %(number)s (%(who)s) is decided: implement the decision and "
                       "reply."),
    "case_replied": _l("Case %(number)s (%(who)s) has its written reply: follow it up with the "
                       "customer."),
    "case_reported": _l("Suggestion %(number)s (%(who)s) is reported to you: adopt or decline "
                        "it."),
    "case_considered": _l("Suggestion %(number)s (%(who)s) was considered: reply to the "
                          "customer by the promised date."),
    "case_deadline_digest": _l("Deadlines coming up on %(n)s case(s): %(numbers)s."),
    "case_overdue": _l("Overdue: case %(number)s (%(who)s) missed its deadline (%(deadline)s)."),
}
