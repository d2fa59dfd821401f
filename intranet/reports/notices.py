"""Notification texts of the report package (rule Q1), rendered in the reader's language."""
from intranet.core.i18n import lazy_gettext as _l

KINDS = {
    "report_prepared": _l("The report %(report)s is ready for you to write; due %(due)s."),
    "report_submitted": _l("The report %(report)s was submitted for your review."),
    "report_returned": _l("The report %(report)s was sent back: %(why)s"),
    "report_accepted": _l("The report %(report)s was accepted."),
    "report_due": _l("The report %(report)s is due on %(due)s and not submitted yet."),
    "report_overdue": _l("The report %(report)s was due on %(due)s and is not submitted."),
}
