"""Credit jobs for `flask jobs run` (rules K3, K4, K6). Each is idempotent: markers on the
application (reminded_at, escalated_at), stored breaches, and notification dedupe keys. SQL
picks the rows that need work (issue 12), in keyset batches committed one by one."""
from __future__ import annotations

from datetime import timedelta

from flask import url_for
from sqlalchemy import String, cast, exists, func, literal, select, update
from sqlalchemy.orm import selectinload

from intranet.core import clock, notifications
from intranet.core.jobs import batches, job
from intranet.core.notifications import Note, role_holders
from intranet.core.roles import Role
from intranet.credit import breaches, in_last_month_of_quarter, next_quarter_start, quarter_label
from intranet.customers import ledger
from intranet.extensions import db
from intranet.models import CreditApplication, CreditBreach, Customer, Notification
from intranet.workflows import engine
from intranet.workflows.credit import IN_FORCE, CreditState

REMIND_BEFORE = timedelta(days=1)
RERATE_AFTER = timedelta(days=182)  # rule K4: grades are re-rated every half year
A = CreditApplication


def _link(application) -> str:
    return url_for("sales.credit_application", application_id=application.id)


@job("credit_reminders")
def remind_and_escalate() -> int:
    """Rule K6: a reminder to the GM when one day is left; an escalation (GM, deputies, the
    department's manager) once overdue. SQL picks only the applications with a step to take:
    overdue and not escalated, or due within a day and not yet reminded."""
    now = clock.now()
    holders: dict = {}

    def told(role, *department):
        if (role, *department) not in holders:
            holders[(role, *department)] = role_holders(role, *department)
        return holders[(role, *department)]

    def pick(after, limit):
        return list(db.session.scalars(
            select(A.id).where(A.state == CreditState.RECEIVED, A.escalated_at.is_(None),
                               (A.due_at <= now) | ((A.due_at <= now + REMIND_BEFORE)
                                                    & A.reminded_at.is_(None)),
                               A.id > after).order_by(A.id).limit(limit)))

    done = 0
    for ids in batches(pick):
        escalated, reminded, notes = [], [], []
        for app_ in db.session.scalars(select(A).options(selectinload(A.customer))
                                       .where(A.id.in_(ids)).order_by(A.id)):
            params = {"number": app_.number, "customer": app_.customer.name,
                      "due": app_.due_at.isoformat()}
            if app_.due_at <= now:
                notes += [Note(user_id, "credit_overdue", _link(app_), params)
                          for user_id in (told(Role.GENERAL_MANAGER)
                                          | told(Role.SALES_MANAGER, app_.department_id))]
                escalated.append(app_.id)
            else:
                notes += [Note(user_id, "credit_due_soon", _link(app_), params)
                          for user_id in told(Role.GENERAL_MANAGER)]
                reminded.append(app_.id)
        notifications.notify_many(notes)
        _mark(escalated, escalated_at=now)
        _mark(reminded, reminded_at=now)
        done += len(escalated) + len(reminded)
    return done


def _mark(ids: list[int], **markers) -> None:
    """The job's markers are written past the ORM's version counter: a reminder is not a
    change of the application, so the GM's open page stays current (no 409 on deciding)."""
    if ids:
        table = A.__table__
        db.session.execute(update(table).where(table.c.id.in_(ids)).values(**markers))


@job("credit_activation")
def activate_and_supersede() -> int:
    """An approved limit takes effect at the start of its quarter and supersedes the one
    before it (the effective limit itself is derived in SQL; this keeps the states true). SQL
    ranks each customer's started limits as effective_limits does and picks the latest if it
    is still "approved" and every earlier one still in force."""
    today = ledger.today()
    ranked = (select(A.id, A.state, func.row_number().over(
        partition_by=A.customer_id,
        order_by=(A.period_start.desc(), A.decided_at.desc(), A.id.desc())).label("rank"))
        .where(A.state.in_([s.value for s in IN_FORCE]), A.period_start <= today).subquery())

    def pick(after, limit):
        return db.session.execute(
            select(ranked.c.id, ranked.c.rank)
            .where(ranked.c.id > after,
                   (ranked.c.rank > 1) | (ranked.c.state == CreditState.APPROVED.value))
            .order_by(ranked.c.id).limit(limit)).all()

    done = 0
    for rows in batches(pick, key=lambda row: row.id):
        latest = {row.id: row.rank == 1 for row in rows}
        for application in db.session.scalars(select(A).options(selectinload(A.customer))
                                              .where(A.id.in_(latest)).order_by(A.id)):
            engine.fire(application, "activate" if latest[application.id] else "supersede",
                        user=None)
            done += 1
    return done


@job("credit_over_limit")
def over_limit() -> int:
    """Rule K3 for every customer with a limit or an open breach, a batch of customers at a
    time (their figures are summed in SQL per batch)."""
    def pick(after, limit):
        limited = select(A.customer_id.label("id")).where(
            A.state.in_([s.value for s in IN_FORCE]), A.customer_id > after)
        breached = select(CreditBreach.customer_id.label("id")).where(
            CreditBreach.ended_at.is_(None), CreditBreach.customer_id > after)
        both = limited.union(breached).subquery()
        return list(db.session.scalars(select(both.c.id).order_by(both.c.id).limit(limit)))

    done = 0
    for ids in batches(pick):
        customers = db.session.scalars(select(Customer).where(Customer.id.in_(ids))
                                       .order_by(Customer.id)).all()
        opened, closed = breaches.check(customers)
        done += opened + closed
    return done


@job("credit_reviews")
def review_reminders() -> int:
    """Rule K4/K6: in the last month of a quarter, managers are reminded to prepare next
    quarter's applications; owners are reminded of grades older than half a year. Each reminder
    carries a dedupe key, so it is sent once per period: SQL picks only the customers whose
    owner has no reminder with this half-year's key yet."""
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
    key = literal("credit_rerate:") + cast(Customer.id, String) + literal(f":{half}")

    def pick(after, limit):
        return db.session.execute(
            select(Customer.id, Customer.owner_id, Customer.name)
            .where(Customer.credit_graded_at < stale, Customer.owner_id.is_not(None),
                   Customer.id > after,
                   ~exists().where(Notification.user_id == Customer.owner_id,
                                   Notification.dedupe_key == key))
            .order_by(Customer.id).limit(limit)).all()

    for rows in batches(pick, key=lambda row: row.id):
        sent += notifications.notify_many([
            Note(owner_id, "credit_rerating", url_for("sales.credit_new", customer_id=cid),
                 {"customer": name}, f"credit_rerate:{cid}:{half}")
            for cid, owner_id, name in rows])
    return sent
