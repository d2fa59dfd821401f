"""Display names of the archive's codes, in the user's language."""
from intranet.core.i18n import lazy_gettext as _l

TIER_LABELS = {  # rule C3, also shown as A/B/C/储备
    "vip": _l("VIP (A)"), "key": _l("Key (B)"), "general": _l("General (C)"),
    "reserve": _l("Reserve"),
}
RELATIONSHIP_LABELS = {
    "prospect": _l("Prospect"), "customer": _l("Customer"), "partner": _l("Partner"),
    "former": _l("Former customer"),
}
SIZE_LABELS = {"micro": _l("Micro"), "small": _l("Small"), "medium": _l("Medium"),
               "large": _l("Large")}
PAYMENT_LABELS = {"transfer": _l("Bank transfer"), "cash": _l("Cash"),
                  "acceptance": _l("Bank acceptance bill"), "credit": _l("On credit")}
SOURCE_LABELS = {"exhibition": _l("Exhibition"), "web": _l("Website"), "phone": _l("Phone"),
                 "referral": _l("Referral"), "walk_in": _l("Walk-in")}
ACTIVITY_LABELS = {"phone": _l("Phone call"), "sms": _l("Text message"), "email": _l("Email"),
                   "visit": _l("On-site visit"), "video": _l("Video call"),
                   "meeting": _l("Meeting")}  # rule V3's channels
