"""Visits (rules V1-V4): visits with purpose, channel, who went and satisfaction
(operations.py), the visit obligations by tier and their due days (cadence.py), follow-up
tasks (tasks.py)."""
from __future__ import annotations

import intranet.visits.settings  # noqa: F401  (registers the settings)
from intranet.core.i18n import lazy_gettext as _l

PURPOSE_LABELS = {"sales": _l("Product sales"), "upkeep": _l("Market upkeep"),  # rule V1
                  "relationship": _l("Customer relationship"),
                  "information": _l("Information gathering"), "guidance": _l("Customer guidance")}
SATISFACTION_LABELS = {5: _l("5 – very satisfied"), 4: _l("4 – satisfied"), 3: _l("3 – neutral"),
                       2: _l("2 – dissatisfied"), 1: _l("1 – very dissatisfied")}
FOLLOW_UP_LABELS = {"next_action": _l("Follow-up asked at a visit"),
                    "first_purchase": _l("Follow-up after the first purchase")}


def init_app(app) -> None:
    from intranet.core import audit, settings
    from intranet.visits.cadence import BY_KEY, MARK_LABELS
    from intranet.visits.settings import PERIOD_LABELS

    audit.register_object_labels({"follow_up": _l("Follow-up"),
                                  "visit_list": _l("Visits due"),
                                  "visit_plan": _l("Planned visit")})
    app.jinja_env.globals.update(
        visit_purposes=PURPOSE_LABELS, visit_satisfaction=SATISFACTION_LABELS,
        follow_up_reasons=FOLLOW_UP_LABELS,
        visit_obligations={key: o.label for key, o in BY_KEY.items()},
        visit_marks=MARK_LABELS, visit_periods=PERIOD_LABELS,
        follow_up_window=lambda: settings.get("follow_up_window_days"))
