"""Rule P5 (and P6) on the frozen clock: each kind's deadline, every promised date as its own,
the same working day across a weekend and a statutory holiday, the pause of the resolution
clock only, and the warning and escalation job run twice."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import login_fast, post

from intranet.core import jobs, settings
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import Notification, ServiceCase, WorkflowDeadline

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), SHANGHAI) \
        - timedelta(microseconds=1)


def clocks(app, case_id) -> dict:
    with app.app_context():
        rows = db.session.scalars(db.select(WorkflowDeadline).where(
            WorkflowDeadline.object_id == case_id).order_by(WorkflowDeadline.id)).all()
        db.session.expunge_all()
        return {r.kind: r for r in rows}


def case_row(app, case_id) -> ServiceCase:
    with app.app_context():
        row = db.session.get(ServiceCase, case_id)
        db.session.expunge(row)
        return row


def fire(client, app, case_id, event, **data):
    return post(client, f"/service/cases/{case_id}/transition",
                {"event": event, "version": str(case_row(app, case_id).version), **data})


def working_days(app):
    with app.app_context():
        assert settings.update({"business_calendar": "working"}) == {}
        db.session.commit()


def run_jobs(app) -> None:
    with app.test_request_context():
        jobs.run_all()


def notes(app, kind: str) -> list[tuple[int, str]]:
    with app.app_context():
        return [(n.user_id, n.params) for n in db.session.scalars(
            db.select(Notification).where(Notification.kind == kind)
            .order_by(Notification.id))]


def test_p5_a_consultation_is_answered_within_24_hours(app, client, staff, frozen, make_case):
    frozen(MONDAY_10)
    case_id = make_case("registered", kind="consultation")
    answer = clocks(app, case_id)["answer"]
    assert answer.due_at == MONDAY_10 + timedelta(hours=24)
    assert case_row(app, case_id).next_due_at == answer.due_at  # the nearest clock
    frozen(MONDAY_10 + timedelta(hours=23))
    assert not case_row(app, case_id).overdue
    frozen(MONDAY_10 + timedelta(hours=25))
    assert case_row(app, case_id).overdue
    login_fast(client, app, staff[Role.SERVICE_DESK])
    assert "TS-2026-000001" in client.get("/service/queue?overdue=1").get_data(as_text=True)
    assert fire(client, app, case_id, "answer", comment="已电话答复").status_code == 302
    answered = clocks(app, case_id)["answer"]
    assert answered.met_at == MONDAY_10 + timedelta(hours=25)  # met, late: the ledger says so
    assert case_row(app, case_id).state == "closed" and not case_row(app, case_id).overdue


@pytest.mark.parametrize(("received", "due_day"), [
    (local(2026, 11, 6, 20, 0), date(2026, 11, 6)),   # a working Friday evening: that day
    (local(2026, 11, 7, 10, 0), date(2026, 11, 9)),   # Saturday: Monday
    (local(2026, 10, 1, 9, 0), date(2026, 10, 8)),    # National Day: after the holiday
    (local(2026, 2, 14, 9, 0), date(2026, 2, 14)),    # a make-up Saturday (调休) works
    (local(2026, 2, 16, 9, 0), date(2026, 2, 24)),    # Spring Festival: after it
])
def test_p5_a_complaint_is_investigated_the_same_working_day(app, frozen, make_case, received,
                                                              due_day):
    working_days(app)
    frozen(received.astimezone(UTC))
    case_id = make_case("registered", received_at=received.astimezone(UTC))
    assert clocks(app, case_id)["investigation"].due_at == end_of_day(due_day)


@pytest.mark.parametrize(("severity", "days"), [("general", 7), ("serious", 5), ("severe", 3)])
def test_p5_the_reply_is_due_within_the_severitys_days(app, frozen, make_case, severity, days):
    frozen(MONDAY_10)
    case_id = make_case("registered", severity=severity)
    assert clocks(app, case_id)["reply"].due_at == MONDAY_10 + timedelta(days=days)
    with app.app_context():
        settings.update({f"complaint_reply_days_{severity}": "10"})
        db.session.commit()
    later = make_case("registered", severity=severity)
    assert clocks(app, later)["reply"].due_at == MONDAY_10 + timedelta(days=10)


def test_p5_a_date_promised_to_the_customer_is_its_own_deadline(app, client, staff, frozen,
                                                                 make_case):
    frozen(MONDAY_10)
    case_id = make_case("implemented", promised_on=date(2026, 11, 5))
    promised = clocks(app, case_id)["promised"]
    assert promised.due_at == end_of_day(date(2026, 11, 5)) and promised.note == "三日内回复"
    frozen(local(2026, 11, 6, 9, 0).astimezone(UTC))
    assert case_row(app, case_id).overdue  # the promise is broken although the reply is not due
    login_fast(client, app, staff[Role.COMPLAINT_HANDLER])
    assert fire(client, app, case_id, "reply", comment="书面答复").status_code == 302
    assert clocks(app, case_id)["promised"].met_at is not None


def test_p5_only_the_resolution_clock_pauses_and_only_with_a_reason(app, client, staff, frozen,
                                                                   make_case):
    frozen(MONDAY_10)
    case_id = make_case("assigned")  # the same-day investigation clock still runs
    login_fast(client, app, staff[Role.COMPLAINT_HANDLER])
    no_reason = fire(client, app, case_id, "pause", comment="")
    assert no_reason.status_code == 422
    assert fire(client, app, case_id, "pause", comment="等待客户提供发票").status_code == 302
    paused = clocks(app, case_id)
    assert paused["reply"].paused_at == MONDAY_10
    assert paused["investigation"].paused_at is None  # the first response never stops
    assert paused["promised"].paused_at is None
    frozen(MONDAY_10 + timedelta(days=2))
    assert case_row(app, case_id).overdue  # by the investigation clock, pause or not
    login_fast(client, app, staff[Role.COMPLAINT_HANDLER])  # two days later: a new session
    page = client.get(f"/service/cases/{case_id}").get_data(as_text=True)
    assert "等待客户提供发票" in page and "计时累计暂停 48.0 小时" in page
    assert 'data-event="pause"' not in page and 'data-event="resume"' in page
    assert fire(client, app, case_id, "resume").status_code == 302
    resumed = clocks(app, case_id)["reply"]
    assert resumed.due_at == MONDAY_10 + timedelta(days=9) and resumed.paused_seconds == 172800


def test_p5_warnings_go_out_once_as_a_digest_and_breaches_escalate_twice(app, client, staff,
                                                                        frozen, make_case):
    frozen(MONDAY_10)
    case_id = make_case("investigating")  # the investigation started: only the reply runs
    other = make_case("investigating")
    handler, manager, gm = (staff[r].id for r in (Role.COMPLAINT_HANDLER, Role.SALES_MANAGER,
                                                   Role.GENERAL_MANAGER))
    frozen(MONDAY_10 + timedelta(days=1))  # 14 % of the seven days
    run_jobs(app)
    assert notes(app, "case_deadline_digest") == []
    frozen(MONDAY_10 + timedelta(days=4))  # 57 %: the first warning, one digest for both cases
    run_jobs(app)
    run_jobs(app)
    digests = notes(app, "case_deadline_digest")
    assert [user for user, _ in digests] == [handler]
    assert "TS-2026-000001、TS-2026-000002" in digests[0][1]
    frozen(MONDAY_10 + timedelta(days=6))  # 86 %: the second warning
    run_jobs(app)
    run_jobs(app)
    assert len(notes(app, "case_deadline_digest")) == 2
    assert notes(app, "case_overdue") == []
    frozen(MONDAY_10 + timedelta(days=8))  # breached: the manager in charge
    run_jobs(app)
    run_jobs(app)
    assert sorted({user for user, _ in notes(app, "case_overdue")}) == [manager]
    assert len(notes(app, "case_overdue")) == 2  # one per case
    frozen(MONDAY_10 + timedelta(days=15))  # missed by as long again: the GM
    run_jobs(app)
    run_jobs(app)
    overdue = notes(app, "case_overdue")
    assert sorted(user for user, _ in overdue) == [manager, manager, gm, gm]
    assert len(notes(app, "case_deadline_digest")) == 2  # nothing new was warned
    with app.app_context():  # the jobs leave the cases themselves alone (no stale pages)
        assert {db.session.get(ServiceCase, c).version for c in (case_id, other)} == {3}
