"""The report package's jobs for `flask jobs run` (rule Q1): prepare the reports of the period
just closed, then remind their authors before the due day and once they are overdue. A period
asks for a handful of reports (one per kind and sales department), so each run reads them all;
the notifications' dedupe keys make a second run the same day send nothing new."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from intranet.core import clock, notifications, settings
from intranet.core.jobs import job
from intranet.core.notifications import role_holders
from intranet.core.roles import Role
from intranet.customers import ledger
from intranet.extensions import db
from intranet.models import Notification, Report
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
    """In a constant number of statements whatever the number of open reports: the reports,
    each (role, department)'s holders once, the reminders already sent, one INSERT."""
    today, now = ledger.today(), clock.now()
    ahead = today + timedelta(days=int(settings.get("report_remind_days")))
    reports = db.session.scalars(select(Report).options(selectinload(Report.department)).where(
        Report.state.in_(OPEN_STATES), Report.due_on <= ahead).order_by(Report.id)).all()
    holders: dict = {}

    def authors_of(report) -> set[int]:
        key = report.department_id
        if key not in holders:
            holders[key] = authors(report)
        return holders[key]
    wanted = []
    for report in reports:
        overdue = report.due_at <= now
        people = set(authors_of(report))
        if overdue:  # the GM hears of an overdue report too
            if "gm" not in holders:
                holders["gm"] = role_holders(Role.GENERAL_MANAGER)
            people |= holders["gm"]
        key = f"report-{'overdue' if overdue else 'due'}-{report.id}"
        wanted += [(user_id, key, "report_overdue" if overdue else "report_due", report)
                   for user_id in sorted(people)]
    sent = set(db.session.execute(select(Notification.user_id, Notification.dedupe_key).where(
        Notification.dedupe_key.in_({key for _, key, _, _ in wanted}))).all()) if wanted else set()
    done = notifications.notify_many([
        notifications.Note(user_id, kind, notifications.link_for(ReportFlow.object_type,
                                                                 report.id),
                           ReportFlow.notice_params(report), key)
        for user_id, key, kind, report in wanted if (user_id, key) not in sent])
    db.session.commit()
    return done
