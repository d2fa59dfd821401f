"""The first-contact job for `flask jobs run` (rule R8): misses are recorded set-based
(first_contact.record_misses), then the department's managers and the rep are told, once per
miss. A second run finds no new miss and sends nothing. A batch of misses commits with its
notifications (issue 12)."""
from __future__ import annotations

from flask import url_for

from intranet.core import clock, notifications
from intranet.core.jobs import Pace, job
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.resources import first_contact


@job("first_contact_misses")
def record_misses() -> int:
    now, pace, done = clock.now(), Pace(), 0
    managers: dict = {}
    while True:
        misses = first_contact.record_misses(now, limit=pace.size)
        for miss in misses:
            if miss.department_id not in managers:
                managers[miss.department_id] = sorted(
                    notifications.role_holders(Role.SALES_MANAGER, miss.department_id))
            link = url_for("sales.allocate", lead_id=miss.customer_id)
            for manager_id in managers[miss.department_id]:
                notifications.notify_once(manager_id, f"first_contact_missed:{miss.id}",
                                          "first_contact_missed", link,
                                          rep=miss.user.display_name,
                                          customer=miss.customer.name)
            notifications.notify_once(miss.user_id, f"first_contact_missed_rep:{miss.id}",
                                      "first_contact_missed_rep",
                                      url_for("sales.customer", customer_id=miss.customer_id),
                                      customer=miss.customer.name)
        db.session.commit()
        done += len(misses)
        if not pace.done(len(misses)):  # a recorded miss no longer qualifies: none is left
            return done
