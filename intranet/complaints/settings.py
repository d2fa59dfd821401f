"""The company's figures for service cases (rules P2, P5, P6), each a setting."""
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.settings import SettingDef, register
from intranet.workflows.complaint_states import SEVERITIES

REPLY_DAYS = {severity: f"complaint_reply_days_{severity}" for severity in SEVERITIES}

register(
    SettingDef("consultation_answer_hours", "int", 24, _l("Consultations: answer within (hours)"),
               _l("A consultation not answered on the spot is answered within this time."),
               minimum=1, maximum=720),
    SettingDef(REPLY_DAYS["general"], "int", 7, _l("Complaints (一般): reply within (days)"),
               _l("Counted on the deadline calendar from receipt."), minimum=1, maximum=365),
    SettingDef(REPLY_DAYS["serious"], "int", 5, _l("Complaints (较重): reply within (days)"),
               minimum=1, maximum=365),
    SettingDef(REPLY_DAYS["severe"], "int", 3, _l("Complaints (严重): reply within (days)"),
               minimum=1, maximum=365),
    SettingDef("complaint_repeat_days", "int", 90, _l("Repeat complaint within (days)"),
               _l("A customer's complaint is flagged as a repeat if another came in this "
                  "many days before it."), minimum=1, maximum=3650),
    SettingDef("recusal_excludes_manager", "bool", False,
               _l("Recusal also excludes the direct manager"),
               _l("The manager of the department of a person complained about takes no part "
                  "in the case either.")),
)
