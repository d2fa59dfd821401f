"""Notification texts of re-classification requests (rule C4) and conflict claims (rule C2),
rendered in the reader's language."""
from intranet.core.i18n import lazy_gettext as _l

KINDS = {
    "reclassification_requested": _l("%(customer)s: the owner asks to change the deal class "
                                     "from %(current)s to %(proposed)s (%(number)s)."),
    "reclassification_decided": _l("Your request %(number)s to change the deal class of "
                                   "%(customer)s: %(state)s."),
    "classification_marked": _l("The deal class you gave %(customer)s was found wrong and "
                                "changed to %(proposed)s (%(number)s)."),
    "conflict_requested": _l("A rep claims %(customer)s after a refused registration "
                             "(%(number)s)."),
    "conflict_decided": _l("The conflict claim %(number)s on %(customer)s was decided: "
                           "%(claim_outcome)s."),
}
