"""The company's figures for lead intake (rule C4), each a setting: the deal-size classes by
expected deal value, and when a desk agent is paused from intake for wrong classifications."""
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.settings import SettingDef, register

CLASS_MINIMUMS = {"A": "deal_class_a_min_yuan", "B": "deal_class_b_min_yuan",
                  "C": "deal_class_c_min_yuan"}  # D: below C

register(
    SettingDef(CLASS_MINIMUMS["A"], "int", 800_000, _l("Deal class A from (yuan)"),
               _l("Expected deal value of a new lead; the service desk's class at intake."),
               minimum=0, maximum=10**11),
    SettingDef(CLASS_MINIMUMS["B"], "int", 400_000, _l("Deal class B from (yuan)"),
               minimum=0, maximum=10**11),
    SettingDef(CLASS_MINIMUMS["C"], "int", 200_000, _l("Deal class C from (yuan)"),
               _l("Below this, class D."), minimum=0, maximum=10**11),
    SettingDef("intake_wrong_class_limit", "int", 3,
               _l("Wrong classifications in a month before a desk agent is paused"),
               _l("Counted per calendar month from approved re-classification requests."),
               minimum=1, maximum=100),
    SettingDef("intake_pause_days", "int", 7, _l("Intake pause (days)"),
               _l("How long a desk agent registers no leads after reaching the limit."),
               minimum=1, maximum=365),
)
