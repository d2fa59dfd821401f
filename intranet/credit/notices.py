"""Notification texts of credit management, rendered in the reader's language."""
from intranet.core.i18n import lazy_gettext as _l

KINDS = {
    "credit_submitted": _l("Credit application %(number)s for %(customer)s awaits your "
                           "review."),
    "credit_received": _l("Credit application %(number)s for %(customer)s is in your queue: "
                          "decide within three days."),
    "credit_decided": _l("Credit application %(number)s for %(customer)s: %(state)s."),
    "credit_approved": _l("Credit application %(number)s for %(customer)s was approved with a "
                          "limit of ¥%(amount)s."),
    "credit_refused": _l("Credit application %(number)s for %(customer)s (¥%(amount)s): "
                         "%(state)s. Reason: %(why)s"),
    "credit_due_soon": _l("One day left to decide credit application %(number)s for "
                          "%(customer)s."),
    "credit_overdue": _l("Overdue: credit application %(number)s for %(customer)s was not "
                         "decided within three days."),
    "credit_over_limit": _l("%(customer)s is over its credit limit: receivables ¥%(receivables)s"
                            " against a limit of ¥%(limit)s. Investigate and collect."),
    "credit_review_due": _l("Prepare the credit applications for %(quarter)s (quarterly "
                            "review)."),
    "credit_rerating": _l("The credit grade of %(customer)s is over half a year old: "
                          "re-rate it."),
    "shipment_forced": _l("The general manager released order %(order)s of %(customer)s over "
                          "the credit limit; you are recorded as responsible."),
}
