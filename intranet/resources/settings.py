"""The company's figures for allocating customers (rules R7, R8, R9) and for the shared pool
(rules R5, R6), each a setting. The most customers a rep may own counts for both."""
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.settings import SettingDef, register

MAX_CUSTOMERS = "resources_max_customers"
ABSENT_DAYS = "resources_absent_days"
FIRST_CONTACT_MINUTES = "resources_first_contact_minutes"
SUSPENSION_DAYS = ("resources_suspension_days_first", "resources_suspension_days_second",
                   "resources_suspension_days_later")

register(
    SettingDef(MAX_CUSTOMERS, "int", 200, _l("Most customers a rep may own"),
               _l("A rep at this number receives no allocation and cannot claim from the "
                  "pool."), minimum=1, maximum=100_000),
    SettingDef(ABSENT_DAYS, "int", 14, _l("Allocation skips reps without a login for (days)"),
               _l("Reps marked away are skipped too."), minimum=1, maximum=365),
    SettingDef(FIRST_CONTACT_MINUTES, "int", 10,
               _l("First contact after an allocation within (minutes)"),
               _l("Counted in working time on the deadline calendar; a miss suspends the "
                  "rep's next allocation."), minimum=1, maximum=1440),
    SettingDef(SUSPENSION_DAYS[0], "int", 7, _l("Suspension after a first penalty (days)"),
               _l("No allocations for this many days."), minimum=1, maximum=3650),
    SettingDef(SUSPENSION_DAYS[1], "int", 15, _l("Suspension after a second penalty (days)"),
               minimum=1, maximum=3650),
    SettingDef(SUSPENSION_DAYS[2], "int", 30,
               _l("Suspension after a third or later penalty (days)"), minimum=1,
               maximum=3650),
    SettingDef("resources_claims_per_day", "int", 5, _l("Pool claims per rep per day"),
               minimum=1, maximum=1000),
    SettingDef("resources_reclaim_wait_days", "int", 30,
               _l("A previous owner waits this many days before claiming the same customer "
                  "again"), _l("Counted from the day the customer returned to the pool."),
               minimum=0, maximum=3650),
)
