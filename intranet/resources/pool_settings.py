"""The company's figures for the shared pool (rules R5, R6), each a setting."""
from flask_babel import lazy_gettext as _l

from intranet.core.settings import SettingDef, register

register(
    SettingDef("resources_max_customers", "int", 200, _l("Most customers a rep may own"),
               _l("A claim from the pool or an allocation that would go beyond this is "
                  "refused."), minimum=1, maximum=100000),
    SettingDef("resources_claims_per_day", "int", 5, _l("Pool claims per rep per day"),
               minimum=1, maximum=1000),
    SettingDef("resources_reclaim_wait_days", "int", 30,
               _l("A previous owner waits this many days before claiming the same customer "
                  "again"), _l("Counted from the day the customer returned to the pool."),
               minimum=0, maximum=3650),
)
