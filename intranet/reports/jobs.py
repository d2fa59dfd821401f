"""The report package's jobs for `flask jobs run` (rule Q1): prepare the reports of the period
just closed, then remind their authors before the due day and once they are overdue. A period
asks for a handful of reports (one per kind and sales department), so each run reads them all;
the notifications' dedupe keys make a second run the same day send nothing new."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from intranet.core import clock, notifications, settings
from intranet.core.jobs import job
from intranet.core.notifications import role_holders
from intranet.core.roles import Role
from intranet.customers import ledger
from intranet.extensions import db
from intranet.models import Report
from intranet.reports import package
from intranet.workflows.report import ReportFlow, authors
from intranet.workflows.report_states import OPEN_STATES


@job("report_package")
def prepare() -> int:
    made = package.prepare(ledger.today())
    db.session.commit()
    return len(made)


@job("report_reminders")
def remind() -> int:
    today, now = ledger.today(), clock.now()
    ahead = today + timedelta(days=int(settings.get("report_remind_days")))
    sent = 0
    for report in db.session.scalars(select(Report).where(
            Report.state.in_(OPEN_STATES), Report.due_on <= ahead).order_by(Report.id)):
        link = notifications.link_for(ReportFlow.object_type, report.id)
        params = ReportFlow.notice_params(report)
        overdue = report.due_at <= now
        people = authors(report) | (role_holders(Role.GENERAL_MANAGER) if overdue else set())
        key = f"report-{'overdue' if overdue else 'due'}-{report.id}"
        for user_id in sorted(people):
            sent += notifications.notify_once(
                user_id, key, "report_overdue" if overdue else "report_due", link, **params)
    db.session.commit()
    return sent
