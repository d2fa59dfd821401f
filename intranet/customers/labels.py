"""Display names of the archive's codes, in the user's language."""
from flask_babel import lazy_gettext as _l

TIER_LABELS = {  # rule C3, also shown as A/B/C/储备
    "vip": _l("VIP (A)"), "key": _l("Key (B)"), "general": _l("General (C)"),
    "reserve": _l("Reserve"),
}
RELATIONSHIP_LABELS = {
    "prospect": _l("Prospect"), "customer": _l("Customer"), "partner": _l("Partner"),
    "former": _l("Former customer"),
}
