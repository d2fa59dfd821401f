"""Credit jobs for `flask jobs run` (rules K3, K4, K6). Each is idempotent: markers on the
application (reminded_at, escalated_at), stored breaches, and notification dedupe keys."""
from __future__ import annotations

from datetime import timedelta

from flask import url_for
from sqlalchemy import select, update

from intranet.core import clock, notifications
from intranet.core.jobs import job
from intranet.core.notifications import role_holders
from intranet.core.roles import Role
from intranet.credit import breaches, in_last_month_of_quarter, next_quarter_start, quarter_label
from intranet.customers import ledger
from intranet.extensions import db
from intranet.models import CreditApplication, Customer
from intranet.workflows import engine
from intranet.workflows.credit import IN_FORCE, CreditState

REMIND_BEFORE = timedelta(days=1)
RERATE_AFTER = timedelta(days=182)  # rule K4: grades are re-rated every half year


def _link(application) -> str:
    return url_for("sales.credit_application", application_id=application.id)


@job("credit_reminders")
def remind_and_escalate() -> int:
    """Rule K6: a reminder to the GM when one day is left; an escalation (GM, deputies, the
    department's manager) once overdue."""
    now = clock.now()
    pending = db.session.scalars(
        select(CreditApplication).where(CreditApplication.state == CreditState.RECEIVED,
                                        CreditApplication.due_at <= now + REMIND_BEFORE,
                                        CreditApplication.escalated_at.is_(None))).all()
    done = 0
    for app_ in pending:
        params = {"number": app_.number, "customer": app_.customer.name,
                  "due": app_.due_at.isoformat()}
        if app_.due_at <= now:
            told = (role_holders(Role.GENERAL_MANAGER)
                    | role_holders(Role.SALES_MANAGER, app_.department_id))
            for user_id in told:
                notifications.notify(user_id, "credit_overdue", _link(app_), **params)
            _mark(app_, escalated_at=now)
            done += 1
        elif app_.reminded_at is None:
            for user_id in role_holders(Role.GENERAL_MANAGER):
                notifications.notify(user_id, "credit_due_soon", _link(app_), **params)
            _mark(app_, reminded_at=now)
            done += 1
    return done


def _mark(application, **markers) -> None:
    """The job's markers are written past the ORM's version counter: a reminder is not a
    change of the application, so the GM's open page stays current (no 409 on deciding)."""
    db.session.execute(update(CreditApplication.__table__)
                       .where(CreditApplication.__table__.c.id == application.id)
                       .values(**markers))


@job("credit_activation")
def activate_and_supersede() -> int:
    """An approved limit takes effect at the start of its quarter and supersedes the one
    before it (the effective limit itself is derived in SQL; this keeps the states true)."""
    today = ledger.today()
    due = db.session.scalars(
        select(CreditApplication)
        .where(CreditApplication.state.in_([s.value for s in IN_FORCE]),
               CreditApplication.period_start <= today)
        .order_by(CreditApplication.customer_id, CreditApplication.period_start.desc(),
                  CreditApplication.decided_at.desc(), CreditApplication.id.desc())).all()
    done, seen = 0, set()
    for application in due:
        latest = application.customer_id not in seen
        seen.add(application.customer_id)
        if latest and application.state == CreditState.APPROVED:
            engine.fire(application, "activate", user=None)
            done += 1
        elif not latest:
            engine.fire(application, "supersede", user=None)
            done += 1
    return done


@job("credit_over_limit")
def over_limit() -> int:
    """Rule K3 for every customer with a limit or an open breach."""
    ids = set(db.session.scalars(select(CreditApplication.customer_id).where(
        CreditApplication.state.in_([s.value for s in IN_FORCE]))))
    ids |= set(breaches.open_breaches())
    customers = db.session.scalars(select(Customer).where(Customer.id.in_(ids))).all()
    opened, closed = breaches.check(customers)
    return opened + closed


@job("credit_reviews")
def review_reminders() -> int:
    """Rule K4/K6: in the last month of a quarter, managers are reminded to prepare next
    quarter's applications; owners are reminded of grades older than half a year. Each reminder
    carries a dedupe key, so it is sent once per period."""
    today = ledger.today()
    sent = 0
    if in_last_month_of_quarter(today):
        quarter = quarter_label(next_quarter_start(today))
        for user_id in role_holders(Role.SALES_MANAGER):
            sent += notifications.notify_once(
                user_id, f"credit_review:{quarter}", "credit_review_due",
                url_for("sales.credit_review"), quarter=quarter)
    stale = clock.now() - RERATE_AFTER
    half = f"{today.year}H{1 + (today.month > 6)}"
    customers = db.session.scalars(select(Customer).where(
        Customer.credit_graded_at < stale, Customer.owner_id.is_not(None))).all()
    for customer in customers:
        sent += notifications.notify_once(
            customer.owner_id, f"credit_rerate:{customer.id}:{half}", "credit_rerating",
            url_for("sales.credit_new", customer_id=customer.id), customer=customer.name)
    return sent
