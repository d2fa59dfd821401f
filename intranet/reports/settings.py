"""The report package's calendar (rule Q1), each figure a setting."""
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.settings import SettingDef, register

CYCLE_LABELS = {"3": _l("Every quarter"), "1": _l("Every month")}


def _due(key, default, label):
    return SettingDef(key, "int", default, label,
                      _l("Day of the month after the period by which the report is due."),
                      minimum=1, maximum=28)


register(
    SettingDef("report_cycle", "choice", "3", _l("Report package: period"),
               _l("The reports are prepared after each quarter, or after each month where the "
                  "company reports monthly."), choices=tuple(CYCLE_LABELS),
               choice_labels=CYCLE_LABELS),
    _due("report_due_credit_sales", 6, _l("Credit and sales analysis: due day")),
    _due("report_due_consolidated", 8, _l("Consolidated analysis: due day")),
    _due("report_due_visit_market", 10, _l("Visit records and market analysis: due day")),
    _due("report_due_archive_visit", 15, _l("Archive maintenance and visit analysis: due day")),
    SettingDef("report_remind_days", "int", 3, _l("Remind report authors (days before due)"),
               _l("The author of a report not yet submitted is reminded this many days before "
                  "its due day, and again once it is overdue."), minimum=0, maximum=14),
)
