"""The company's visit figures (rules V2, V4), each a setting."""
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.settings import SettingDef, register

# Visit obligations run on calendar periods (a month, a quarter, a half year…): "at least once a
# quarter" means once in every calendar quarter, so a period must divide the year.
PERIOD_CHOICES = ("1", "2", "3", "6", "12")
PERIOD_LABELS = {"1": _l("Every month"), "2": _l("Every two months"),
                 "3": _l("Every quarter"), "6": _l("Every half year"), "12": _l("Every year")}


def _period(key, default, label, help_=""):
    return SettingDef(key, "choice", default, label, help_, choices=PERIOD_CHOICES,
                      choice_labels=PERIOD_LABELS)


register(
    _period("visit_vip_head_months", "3", _l("VIP customers: on-site visit by a head of sales "
                                             "or deputy GM")),
    _period("visit_vip_gm_months", "6", _l("VIP customers: on-site visit by the general "
                                           "manager")),
    _period("visit_key_head_months", "3", _l("Key customers: on-site visit by the responsible "
                                             "head")),
    _period("visit_general_head_months", "6", _l("General customers: on-site visit by the "
                                                 "responsible head"),
            _l("A general customer the head has not visited in this period is visited by its "
               "rep instead, as often as set below.")),
    _period("visit_general_rep_months", "1", _l("General customers not visited by the head: "
                                                "visit by the rep")),
    SettingDef("follow_up_days", "days", [3, 30, 60],
               _l("Follow-ups after a first purchase (days)"),
               _l("Days after a new customer's first order on which the rep follows up, "
                  "separated by spaces."), minimum=1, maximum=365),
    SettingDef("follow_up_window_days", "int", 7, _l("A contact closes follow-ups due within "
                                                     "(days)"),
               _l("Logging a contact with the customer completes its open follow-ups due up "
                  "to this many days later."), minimum=0, maximum=60),
)

