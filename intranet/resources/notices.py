"""Notification texts of customer resources, rendered in the reader's language."""
from intranet.core.i18n import lazy_gettext as _l

KINDS = {
    "reclaim_warning": _l("%(customer)s returns to the shared pool on %(on)s unless you record "
                          "a sales activity or an order before then."),
    "reclaimed": _l("%(n)s of your customers returned to the shared pool today: %(names)s."),
    "transfer_requested": _l("%(from)s asks to transfer %(customer)s to %(to)s (%(number)s): "
                             "please agree or decline."),
    "transfer_confirmed": _l("Transfer %(number)s of %(customer)s from %(from)s to %(to)s "
                             "waits for your approval."),
    "transfer_decided": _l("Transfer %(number)s of %(customer)s is now “%(state)s”. "
                           "%(why)s"),
    "claim_requested": _l("A rep claims %(customer)s from the shared pool (%(number)s): "
                          "please approve or reject."),
    "claim_decided": _l("Your claim %(number)s of %(customer)s is now “%(state)s”. %(why)s"),
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
