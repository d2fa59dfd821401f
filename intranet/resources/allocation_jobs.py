"""The first-contact job for `flask jobs run` (rule R8): misses are recorded set-based
(first_contact.record_misses), then the department's managers and the rep are told, once per
miss. A second run finds no new miss and sends nothing."""
from __future__ import annotations

from flask import url_for

from intranet.core import clock, notifications
from intranet.core.jobs import job
from intranet.core.roles import Role
from intranet.resources import first_contact


@job("first_contact_misses")
def record_misses() -> int:
    misses = first_contact.record_misses(clock.now())
    for miss in misses:
        link = url_for("sales.allocate", lead_id=miss.customer_id)
        for manager_id in sorted(notifications.role_holders(Role.SALES_MANAGER,
                                                            miss.department_id)):
            notifications.notify_once(manager_id, f"first_contact_missed:{miss.id}",
                                      "first_contact_missed", link,
                                      rep=miss.user.display_name, customer=miss.customer.name)
        notifications.notify_once(miss.user_id, f"first_contact_missed_rep:{miss.id}",
                                  "first_contact_missed_rep",
                                  url_for("sales.customer", customer_id=miss.customer_id),
                                  customer=miss.customer.name)
    return len(misses)
