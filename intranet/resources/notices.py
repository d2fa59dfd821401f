"""Notification texts of customer resources, rendered in the reader's language."""
from flask_babel import lazy_gettext as _l

KINDS = {
    "reclaim_warning": _l("%(customer)s returns to the shared pool on %(on)s unless you record "
                          "a sales activity or an order before then."),
    "reclaimed": _l("%(n)s of your customers returned to the shared pool today: %(names)s."),
}
