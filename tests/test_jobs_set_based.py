"""`flask jobs run` at scale (issue 12 §5): every job picks in SQL the rows that need work and
handles them in batches, each committed on its own, so the statements a run issues depend on
the number of batches, never on the number of customers; a second run changes nothing; a run
in tiny batches, or one interrupted and run again, ends as one big batch does. The rules
themselves (K3, K4, K6, R5) are tested in their own files; here they are the workload."""
from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from intranet.core import clock, jobs, notifications, settings
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import (
    AuditEntry,
    CreditApplication,
    CreditBreach,
    Customer,
    Notification,
    OwnershipRecord,
    ReclaimRule,
    Shipment,
    User,
)
from intranet.resources import reclaim

T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, last month of Q4


def seed(app, staff, n: int, start: int = 0) -> None:
    """n customers of the rep, all due for something: every grade is older than half a year
    (K4); every third customer is a prospect owned for over a year (R5); the next has a ¥1,000
    limit in force and ¥5,000 receivables (K3), half of those a newer approval of the quarter
    (activation and supersession); the next a received application past its deadline (K6)."""
    rep = staff[Role.SALES_REP]
    with app.app_context():
        reclaim.ensure_defaults()
        rule = db.session.scalar(select(ReclaimRule).where(ReclaimRule.kind == "prospect"))
        rule.enabled = True
        for i in range(start, start + n):
            customer = Customer(
                name=f"批量客户{i:04d}有限公司", region="上海", owner_id=rep.id,
                department_id=rep.department_id,
                relation="prospect" if i % 3 == 0 else "customer",
                owned_since=T0 - timedelta(days=400 if i % 3 == 0 else 30),
                last_activity_at=T0 - timedelta(days=1), credit_grade="2",
                credit_graded_at=T0 - timedelta(days=200))
            db.session.add(customer)
            db.session.flush()
            if i % 3 == 1:
                _application(customer, rep, "effective", datetime(2026, 9, 20, tzinfo=UTC))
                db.session.add(Shipment(customer_id=customer.id, shipped_on=date(2026, 11, 1),
                                        amount=Decimal("5000")))
                if i % 2 == 0:
                    _application(customer, rep, "approved", datetime(2026, 9, 25, tzinfo=UTC))
            elif i % 3 == 2:
                _application(customer, rep, "received", None, received_at=T0 - timedelta(days=4),
                             due_at=T0 - timedelta(hours=1))
        db.session.commit()


def _application(customer, rep, state, decided_at, **fields) -> None:
    db.session.add(CreditApplication(
        customer_id=customer.id, department_id=customer.department_id, applicant_id=rep.id,
        state=state, grade="2", period_start=date(2026, 10, 1), proposed_limit=Decimal("1000"),
        approved_limit=Decimal("1000") if decided_at else None, decided_at=decided_at,
        **fields))


class Statements(list):
    """The statements a run issued, and those of them that changed rows."""

    def __init__(self):
        super().__init__()
        self.writes: list[str] = []


def run(app, batch_size: int | None = None, job: str | None = None) -> Statements:
    """One run of every job (or of one), at T0; returns the statements it issued."""
    if batch_size is not None:
        app.config["JOBS_BATCH_SIZE"] = batch_size
    clock.freeze(T0)
    with app.app_context():
        engine = db.engine
    with app.test_request_context("/"):  # the worker's settings read before counting: a
        settings.get("timezone")          # first read is the cache's, not the job's
    statements = Statements()

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    def changed(conn, cursor, statement, *args):
        if statement.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"} \
                and cursor.rowcount != 0:
            statements.writes.append(statement)
    event.listen(engine, "before_cursor_execute", listener)
    event.listen(engine, "after_cursor_execute", changed)
    try:
        with app.test_request_context("/"):
            if job is None:
                jobs.run_all()
            else:
                jobs.JOBS[job]()
                db.session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
        event.remove(engine, "after_cursor_execute", changed)
    return statements


def commits_during(app, func) -> int:
    with app.app_context():
        engine = db.engine
    count = []

    def listener(conn):
        count.append(1)
    event.listen(engine, "commit", listener)
    try:
        func()
    finally:
        event.remove(engine, "commit", listener)
    return len(count)


def snapshot(app) -> dict:
    """Every row of every table."""
    with app.app_context():
        return {table.name: db.session.execute(
            select(table).order_by(*table.primary_key.columns)).all()
            for table in db.metadata.sorted_tables}


def outcome(app) -> dict:
    """What the jobs did, by name rather than by row id (so runs in different batch sizes
    compare): owners, application states, breaches, notifications, reclaim records and the
    reclaim audit's total."""
    with app.app_context():
        users = {u.id: u.username for u in db.session.scalars(select(User))}
        names = {c.id: c.name for c in db.session.scalars(select(Customer))}
        reclaimed_names = []
        notes = []
        for note in db.session.scalars(select(Notification)):
            if note.kind == "reclaimed":  # one notice per former owner and batch
                reclaimed_names.append((users[note.user_id], note.params))
                continue
            if note.kind.startswith("report_"):  # a period's few reports, not batched:
                continue  # tests/test_reports.py
            notes.append((users[note.user_id], note.kind, note.dedupe_key or "",
                          _without_ids(note.link)))
        audited = sum(_reclaimed(e.details) for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "reclaim_rule")))
        return {
            "owners": sorted((c.name, users.get(c.owner_id), c.pool_id is not None)
                             for c in db.session.scalars(select(Customer))),
            "applications": sorted((names[a.customer_id], a.state, a.decided_at is not None,
                                    a.reminded_at is not None, a.escalated_at is not None)
                                   for a in db.session.scalars(select(CreditApplication))),
            "breaches": sorted((names[b.customer_id], b.ended_at is None)
                               for b in db.session.scalars(select(CreditBreach))),
            "notifications": sorted(notes),
            "reclaim_records": sorted((names[r.customer_id], users.get(r.from_user_id))
                                      for r in db.session.scalars(select(OwnershipRecord)
                                                                  .where(OwnershipRecord.kind ==
                                                                         "reclaim"))),
            "reclaimed_told": _told(reclaimed_names),
            "reclaimed_audited": audited,
        }


def _without_ids(link: str) -> str:
    return re.sub(r"[0-9]+", "#", link)


def _reclaimed(details: str) -> int:
    return json.loads(details)["reclaimed"]


def _told(notices) -> list:
    told = []
    for username, params in notices:
        told += [(username, name) for name in json.loads(params)["names"].split("、")]
    return sorted(told)


def expected(n: int) -> dict:
    """The outcome of a run over seed(n), by the rules."""
    customers = [f"批量客户{i:04d}有限公司" for i in range(n)]
    prospects = customers[0::3]
    limited = [c for i, c in enumerate(customers) if i % 3 == 1]
    renewed = [c for i, c in enumerate(customers) if i % 3 == 1 and i % 2 == 0]
    overdue = [c for i, c in enumerate(customers) if i % 3 == 2]
    applications = []
    for name in limited:
        if name in renewed:
            applications += [(name, "superseded", True, False, False),
                             (name, "effective", True, False, False)]
        else:
            applications.append((name, "effective", True, False, False))
    applications += [(name, "received", False, False, True) for name in overdue]
    notes = [("rep", "credit_rerating", "credit_rerate:#:#H#", "/sales/customers/#/credit/new")
             for _ in customers]
    notes += [(who, "credit_over_limit", "", "/sales/customers/#")
              for _ in limited for who in ("rep", "finance")]
    notes += [(who, "credit_overdue", "", "/sales/credit/#")
              for _ in overdue for who in ("gm", "manager")]
    notes.append(("manager", "credit_review_due", "credit_review:2027 Q1", "/sales/credit/review"))
    return {
        "owners": sorted((c, None if c in prospects else "rep", c in prospects)
                         for c in customers),
        "applications": sorted(applications),
        "breaches": sorted((c, True) for c in limited),
        "notifications": sorted(notes),
        "reclaim_records": sorted((c, "rep") for c in prospects),
        "reclaimed_told": sorted(("rep", c) for c in prospects),
        "reclaimed_audited": len(prospects),
    }


def normalised(result: dict) -> dict:
    """Dedupe keys carry customer ids: digits become '#', as in links."""
    result = dict(result)
    result["notifications"] = sorted((u, k, _without_ids(key) if k == "credit_rerating" else key,
                                      link) for u, k, key, link in result["notifications"])
    return result


@pytest.fixture
def workload(app, staff, frozen):
    frozen(T0)

    def make(n: int) -> None:
        seed(app, staff, n)
    return make


# --- Statements: a function of batches, not of customers --------------------------------------

def test_a_run_with_nothing_to_do_issues_as_many_statements_for_3n_customers_as_for_n(
        app, staff, workload):
    workload(6)
    run(app)
    few = run(app)
    seed(app, staff, 12, start=6)  # now 18 customers, the 12 new ones due for a first run
    run(app)
    many = run(app)
    assert len(many) == len(few)
    assert few.writes == many.writes == []


# The jobs that write in SQL batches (the activation fires the workflow per row, as allowed),
# with the rows each picks over seed(9) and then over 27 more customers: the limits of the
# first 9 stay in force, so the over-limit check picks them again.
PICKED = {"credit_reviews": (9, 27), "credit_over_limit": (3, 12), "credit_reminders": (3, 9),
          "reclaim": (3, 9)}


def test_a_jobs_statements_depend_on_its_batches_not_on_its_rows(app, staff, workload):
    """Each job over k rows in 3 batches, then over 3k (or more) rows in 3 batches: the same
    number of statements (rules K3, K4, K6, R5)."""
    workload(9)
    with app.test_request_context():  # the managers' quarterly reminder (K6), sent once before
        notifications.notify_once(staff[Role.SALES_MANAGER].id, "credit_review:2027 Q1",
                                  "credit_review_due", quarter="2027 Q1")
        db.session.commit()
    few = {job: len(run(app, batch_size=rows[0] // 3, job=job)) for job, rows in PICKED.items()}
    seed(app, staff, 27, start=9)
    many = {job: len(run(app, batch_size=rows[1] // 3, job=job))
            for job, rows in PICKED.items()}
    assert many == few
    # the count does follow the batches: 9 more rows in 9 batches cost more than in 3
    seed(app, staff, 9, start=36)
    assert len(run(app, batch_size=1, job="credit_reviews")) > few["credit_reviews"]


# --- Two runs = one -------------------------------------------------------------------------

def test_a_second_run_changes_nothing_and_writes_no_statement(app, staff, workload):
    workload(9)
    first = run(app, batch_size=2)
    assert first.writes
    before = snapshot(app)
    second = run(app, batch_size=2)
    assert second.writes == []
    assert snapshot(app) == before


# --- Batches --------------------------------------------------------------------------------

@pytest.mark.parametrize("batch_size", [2, 500])
def test_tiny_batches_commit_several_times_and_end_as_one_big_batch(app, staff, workload,
                                                                    batch_size):
    workload(9)
    commits = commits_during(app, lambda: run(app, batch_size=batch_size))
    # 9 stale grades alone are 5 batches of 2 (each committed), before the other jobs
    assert commits >= (5 if batch_size == 2 else 1)
    if batch_size == 2:
        assert commits > 10
    assert normalised(outcome(app)) == normalised(expected(9))


def test_an_interrupted_run_resumes_where_it_stopped(app, staff, workload, monkeypatch):
    """A failure in the second batch of rerating notices: the first batch stays committed, the
    failed one rolls back, and the next run ends as one uninterrupted run does (rule K4)."""
    workload(9)
    real, calls = notifications.notify_many, []

    def failing(notes):
        if notes and notes[0].kind == "credit_rerating":
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("interrupted")
        return real(notes)
    monkeypatch.setattr(notifications, "notify_many", failing)
    with pytest.raises(RuntimeError):
        run(app, batch_size=2)
    with app.app_context():
        sent = db.session.scalar(select(db.func.count()).select_from(Notification).where(
            Notification.kind == "credit_rerating"))
    assert sent == 2  # the first batch of two, committed; the second rolled back
    monkeypatch.setattr(notifications, "notify_many", real)
    run(app, batch_size=2)
    assert normalised(outcome(app)) == normalised(expected(9))
