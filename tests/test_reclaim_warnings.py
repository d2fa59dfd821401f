"""The owners' warnings before a reclaim (rules R2, R5, R6) decided in SQL (issue 12 §5): the
job picks only the customers in a lead time that have no warning yet about the day they return
on, so a run with nothing to send costs one statement per rule and lead time however many
customers are in the window, and a second run sends nothing. The day SQL works out for the
dedupe key is the day the customer page shows (reclaim.return_by)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import event, select

from intranet.core import jobs, settings
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import Customer, Notification, Order, ReclaimRule
from intranet.resources import reclaim

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def switch_on(app, kind: str, **fields) -> None:
    with app.app_context():
        reclaim.ensure_defaults()
        rule = db.session.scalar(select(ReclaimRule).where(ReclaimRule.kind == kind))
        rule.enabled = True
        for key, value in fields.items():
            setattr(rule, key, value)
        db.session.commit()


def warnings(app) -> list[tuple[int, str]]:
    with app.app_context():
        return sorted(db.session.execute(select(Notification.user_id, Notification.dedupe_key)
                                         .where(Notification.kind == "reclaim_warning")).all())


def run_warnings(app) -> list[str]:
    """One run of the warnings job; the statements it issued."""
    with app.app_context():
        engine = db.engine
    with app.test_request_context("/"):  # the worker's first settings read is not the job's
        settings.get("timezone")
    statements: list[str] = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        with app.test_request_context("/"):
            jobs.JOBS["reclaim_warnings"]()
            db.session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return statements


def test_r2_r5_r6_the_day_sql_works_out_is_the_return_day_the_customer_page_shows(
        app, staff, frozen):
    """Starts spread over the day boundaries (local midnight is 16:00 UTC): ownership,
    activity a second either side of a boundary, orders on either side of the start."""
    frozen(T0)
    rep = staff[Role.SALES_REP]
    boundary = datetime(2026, 1, 1, 16, 0, tzinfo=UTC)  # 2026-01-02 00:00 in Shanghai
    with app.app_context():
        reclaim.ensure_defaults()
        rules = list(db.session.scalars(select(ReclaimRule).order_by(ReclaimRule.id)))
        ids = []
        for n, (since_days, activity, order) in enumerate(
                [(s, a, o) for s in (0, 3, 40) for a in (None, -1, 0, 1, 7200)
                 for o in (None, -2, 0, 1, 5)]):
            since = boundary + timedelta(days=since_days, seconds=n % 3 - 1)
            customer = Customer(
                name=f"边界客户{n:03d}有限公司", region="上海", owner_id=rep.id,
                department_id=rep.department_id, relation="former" if n % 2 else "prospect",
                owned_since=since,
                last_activity_at=None if activity is None else
                since + timedelta(days=10, seconds=activity))
            db.session.add(customer)
            db.session.flush()
            if order is not None:
                db.session.add(Order(customer_id=customer.id, number=f"B{n:04d}",
                                     ordered_on=date(2026, 1, 12) + timedelta(days=order),
                                     amount=Decimal("100")))
            ids.append(customer.id)
        db.session.commit()
        customers = db.session.scalars(select(Customer).where(Customer.id.in_(ids))).all()
        orders = reclaim.last_orders(ids)
        first, last = date(2026, 1, 20), date(2027, 3, 1)
        last_order = select(db.func.max(Order.ordered_on)).where(
            Order.customer_id == Customer.id).correlate(Customer).scalar_subquery()
        for rule in rules:
            for days in (7, 60):
                rule.days = days
                found = dict(db.session.execute(select(Customer.id, reclaim.return_day(
                    rule, first, last, reclaim.SINCE, Customer.last_activity_at, last_order))
                    .where(Customer.id.in_(ids))).all())
                wanted = {c.id: reclaim.return_by(c, rule, orders.get(c.id)).on
                          for c in customers}
                compared = {i: found[i] for i, on in wanted.items() if first <= on <= last}
                assert len(compared) > 20
                assert compared == {i: wanted[i].isoformat() for i in compared}, (rule.kind,
                                                                                   days)
        db.session.rollback()


def test_r2_a_run_with_nothing_to_warn_issues_one_statement_per_rule_and_lead_time(
        app, staff, frozen, make_customer):
    """Batches of one: the first run over 3 or 30 customers in the window sends a warning each;
    the second is one SELECT per rule and lead time either way, and sends nothing."""
    app.config["JOBS_BATCH_SIZE"] = 1
    switch_on(app, "no_activity")  # leads 7 and 1
    second_runs = []
    for count, start in ((3, T0), (30, T0 + timedelta(days=400))):
        frozen(start)
        for n in range(count):
            make_customer(f"预警客户{start.year}{n:03d}有限公司", staff[Role.SALES_REP])
        frozen(start + timedelta(days=55))  # returns on day 60: in the 7-day lead
        before = len(warnings(app))
        run_warnings(app)
        assert len(warnings(app)) == before + count
        second = run_warnings(app)
        assert len(warnings(app)) == before + count
        second_runs.append(second)
    assert len(second_runs[0]) == len(second_runs[1])
    picks = [s for s in second_runs[1] if "FROM customer" in s]
    assert len(picks) == 2  # one per lead time


def test_r2_a_warning_goes_again_when_the_return_day_moves(app, staff, frozen, make_customer):
    """Warned on day 53 about day 60; an activity recorded on day 54, dated day 50, moves the
    return to day 110: on day 103 the owner is warned again, once, about day 110."""
    frozen(T0)
    rep = staff[Role.SALES_REP]
    customer_id = make_customer("回访客户有限公司", rep)
    switch_on(app, "no_activity", warn_days="7")
    frozen(T0 + timedelta(days=53))
    run_warnings(app)
    assert [key.rsplit(":", 1)[1] for _, key in warnings(app)] == ["2026-05-01"]
    frozen(T0 + timedelta(days=54))
    with app.app_context():
        db.session.get(Customer, customer_id).last_activity_at = T0 + timedelta(days=50)
        db.session.commit()
    for day in (60, 103, 103, 104):
        frozen(T0 + timedelta(days=day))
        run_warnings(app)
    assert [(user, key.rsplit(":", 1)[1]) for user, key in warnings(app)] == [
        (rep.id, "2026-05-01"), (rep.id, "2026-06-20")]



def test_a_batch_that_held_the_lock_too_long_halves_the_next_down_to_a_floor(app, monkeypatch):
    """Issue 12 §5: the job's batches shrink on a loaded machine (the clock is the test's);
    a batch size under the floor, as the tests set, is never paced."""
    seconds = iter(range(0, 1000))
    monkeypatch.setattr(jobs.time, "perf_counter", lambda: next(seconds) * 0.15)
    with app.test_request_context("/"):
        pace = jobs.Pace()  # started at 0 s
        assert pace.size == jobs.BATCH_SIZE == 500
        assert pace.done(500) and pace.size == 500  # 0.15 s: kept
        monkeypatch.setattr(jobs.time, "perf_counter", lambda: next(seconds) * 0.3)
        pace = jobs.Pace()
        sizes = []
        for _ in range(4):
            assert pace.done(pace.size)  # each full batch took 0.3 s
            sizes.append(pace.size)
        assert sizes == [250, 125, 100, 100]
        assert not pace.done(99)  # short of the size: the last rows
        monkeypatch.setattr(jobs.time, "perf_counter", lambda: 0.0)
        pace.size = 100
        assert pace.done(100) and pace.size == 200  # quick again: doubled back
        app.config["JOBS_BATCH_SIZE"] = 3
        monkeypatch.setattr(jobs.time, "perf_counter", lambda: next(seconds) * 5.0)
        pace = jobs.Pace()
        assert pace.done(3) and pace.size == 3


def test_r2_r5_r6_the_page_asks_in_python_which_rules_apply_as_sql_does(app, staff):
    """reclaim.applies_to (the customer page, one loaded customer) and reclaim.applies (the
    job and the warnings, in SQL) choose the same customers for every kind of rule, tier list
    and department, overrides and former/prospect relations included."""
    rep, other = staff[Role.SALES_REP], staff["rep_other_dept"]
    with app.app_context():
        reclaim.ensure_defaults()
        ids = []
        for n, (owner, tier, override, relation) in enumerate(
                [(o, t, v, r) for o in (None, rep, other) for t in ("vip", "general", "reserve")
                 for v in (None, "key") for r in ("customer", "prospect", "former")]):
            customer = Customer(name=f"规则客户{n:03d}有限公司", region="上海",
                                owner_id=owner.id if owner else None,
                                department_id=(owner or rep).department_id, tier=tier,
                                tier_override=override, relation=relation)
            db.session.add(customer)
            db.session.flush()
            ids.append(customer.id)
        customers = db.session.scalars(select(Customer).where(Customer.id.in_(ids))).all()
        rule = db.session.scalar(select(ReclaimRule).order_by(ReclaimRule.id).limit(1))
        chosen = 0
        for kind in ("no_activity", "prospect", "former"):
            for tiers in ("", "key", "vip,general"):
                for department in (None, rep.department_id):
                    rule.kind, rule.tiers, rule.department_id = kind, tiers, department
                    in_sql = set(db.session.scalars(select(Customer.id).where(
                        Customer.id.in_(ids), reclaim.applies(rule))))
                    in_python = {c.id for c in customers if reclaim.applies_to(rule, c)}
                    assert in_python == in_sql, (kind, tiers, department)
                    chosen += len(in_sql)
        assert chosen > 50
        db.session.rollback()
