"""Notification texts of customer resources, rendered in the reader's language."""
from flask_babel import lazy_gettext as _l

KINDS = {
    "reclaim_warning": _l("%(customer)s returns to the shared pool on %(on)s unless you record "
                          "a sales activity or an order before then."),
    "reclaimed": _l("%(n)s of your customers returned to the shared pool today: %(names)s."),
    # rules R7, R8, R9
    "allocated": _l("%(customer)s was allocated to you. Contact the customer and log it by "
                    "%(due)s."),
    "first_contact_missed": _l("%(rep)s did not log the first contact with %(customer)s in "
                               "time; the rep sits out the next allocation and you may "
                               "reallocate the customer."),
    "first_contact_missed_rep": _l("The first contact with %(customer)s was not logged in "
                                   "time; you sit out your next allocation."),
    "penalty_recorded": _l("A penalty was recorded on you: %(reason)s. You receive no "
                           "allocations until %(until)s."),
    "penalty_lifted": _l("Your penalty of %(on)s was lifted: %(reason)s."),
}
