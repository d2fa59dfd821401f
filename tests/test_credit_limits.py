"""Rules K3 (over-limit warning), K7 (no order or shipment over the limit) and the jobs of
K4/K6 (reminders, escalation, activation), idempotent."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from conftest import login_fast, post

from intranet.core.jobs import run_all
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import (
    CreditApplication,
    CreditBreach,
    CreditOverride,
    Customer,
    Notification,
    Order,
    Payment,
    Shipment,
)


@pytest.fixture
def customer(app, staff, make_customer):
    """Receivables ¥60,000 (shipped 100k, paid 40k) and an open order of ¥20,000."""
    cid = make_customer("上海华东机械有限公司", staff[Role.SALES_REP])
    with app.app_context():
        db.session.add_all([
            Shipment(customer_id=cid, shipped_on=date(2026, 6, 1), amount=Decimal("100000")),
            Payment(customer_id=cid, received_on=date(2026, 7, 1), amount=Decimal("40000")),
            Order(customer_id=cid, number="SO-OPEN", ordered_on=date(2026, 10, 1),
                  amount=Decimal("20000"))])
        db.session.commit()
    return cid


@pytest.fixture
def limit(app, staff, customer, make_application):
    def set_limit(amount: str, state: str = "approved", period_start=date(2026, 10, 1)):
        return make_application(customer, staff[Role.SALES_REP], state=state, limit=amount,
                                approved_limit=Decimal(amount), period_start=period_start,
                                decided_at=datetime(2026, 9, 20, tzinfo=UTC))
    return set_limit


@pytest.fixture
def order_over_a_small_limit(app, make_customer, make_application):
    """A new customer of `owner` with a ¥1,000 limit in force and an open ¥20,000 order;
    returns the order's id."""
    def make(name: str, owner) -> int:
        cid = make_customer(name, owner)
        make_application(cid, owner, state="approved", limit="1000",
                         approved_limit=Decimal("1000"), period_start=date(2026, 10, 1),
                         decided_at=datetime(2026, 9, 20, tzinfo=UTC))
        with app.app_context():
            order = Order(customer_id=cid, number=f"SO-{cid}", ordered_on=date(2026, 10, 1),
                          amount=Decimal("20000"))
            db.session.add(order)
            db.session.commit()
            return order.id
    return make


def jobs(app):
    with app.test_request_context("/"):
        return run_all()


def new_order(client, customer, amount, number="SO-NEW"):
    return post(client, f"/sales/customers/{customer}/orders/new",
                {"number": number, "ordered_on": "2026-11-02", "amount": amount})


def order_count(app):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Order))


def test_k7_order_within_the_limit_is_taken(app, client, staff, customer, limit, frozen):
    limit("100000")
    login_fast(client, app, staff[Role.SALES_REP])
    assert new_order(client, customer, "20000").status_code == 302  # 60k + 20k + 20k = 100k
    assert order_count(app) == 2


def test_k7_order_over_the_limit_is_blocked_with_the_numbers(app, client, staff, customer,
                                                             limit, frozen):
    limit("100000")
    login_fast(client, app, staff[Role.SALES_REP])
    response = new_order(client, customer, "20000.01")
    page = response.get_data(as_text=True)
    assert 'data-testid="blocked"' in page
    for figure in ("60,000.00", "20,000.00", "20,000.01", "100,000.01", "100,000.00", "0.01"):
        assert figure in page
    assert order_count(app) == 1


def test_k7_customer_without_a_limit_is_blocked(app, client, staff, customer, frozen,
                                                make_application):
    # a limit for a quarter that has not started yet does not count
    make_application(customer, staff[Role.SALES_REP], state="approved", limit="900000",
                     approved_limit=Decimal("900000"), period_start=date(2027, 1, 1))
    login_fast(client, app, staff[Role.SALES_REP])
    page = new_order(client, customer, "1").get_data(as_text=True)
    assert 'data-testid="blocked"' in page and order_count(app) == 1


def test_k7_blacklisted_customer_is_blocked(app, client, staff, customer, limit, frozen):
    limit("10000000")
    with app.app_context():
        db.session.get(Customer, customer).blacklisted = True
        db.session.commit()
    login_fast(client, app, staff[Role.SALES_REP])
    assert 'data-testid="blocked"' in new_order(client, customer, "1").get_data(as_text=True)
    assert order_count(app) == 1


def test_k7_latest_approval_in_force_is_the_limit(app, customer, limit, frozen):
    from intranet.credit import effective_limits
    limit("50000", period_start=date(2026, 7, 1))
    current = limit("80000", state="effective", period_start=date(2026, 10, 1))
    limit("999999", period_start=date(2027, 1, 1))  # next quarter: not yet
    limit("1", state="rejected", period_start=date(2026, 10, 1))
    with app.app_context():
        assert effective_limits([customer])[customer].id == current


def release(client, order_id, **data):
    return post(client, f"/finance/orders/{order_id}/release", data,
                headers={"HX-Request": "true"})


def open_order_id(app):
    with app.app_context():
        return db.session.scalar(db.select(Order.id).where(Order.number == "SO-OPEN"))


def test_k7_finance_releases_within_the_limit(app, client, staff, customer, limit, frozen):
    limit("80000")  # 60k receivable + this 20k
    login_fast(client, app, staff[Role.FINANCE])
    response = release(client, open_order_id(app))
    assert 'data-testid="order-released"' in response.get_data(as_text=True)
    with app.app_context():
        order = db.session.get(Order, open_order_id(app))
        assert order.status == "shipped"
        assert db.session.scalar(db.select(db.func.count()).select_from(Shipment)
                                 .where(Shipment.order_id == order.id)) == 1


def test_k7_release_locks_the_order_row_before_checking_it(app, client, staff, customer, limit,
                                                           frozen):
    """Two clerks releasing the same order at once ship it once: the release reads the order
    FOR UPDATE (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers), so the
    loser sees it shipped. Checked on the statement itself, so it holds on both databases."""
    from sqlalchemy import event
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.orm import Session

    limit("80000")
    locked = []

    def watch(state):
        if state.is_select:
            sql = str(state.statement.compile(dialect=postgresql.dialect()))
            if "FOR UPDATE" in sql:
                locked.append(sql)
    login_fast(client, app, staff[Role.FINANCE])
    event.listen(Session, "do_orm_execute", watch)
    try:
        response = release(client, open_order_id(app))
    finally:
        event.remove(Session, "do_orm_execute", watch)
    assert 'data-testid="order-released"' in response.get_data(as_text=True)
    assert any("FROM sales_order" in sql for sql in locked), locked


def test_k7_release_over_the_limit_is_blocked_for_finance_even_with_force(
        app, client, staff, customer, limit, frozen):
    limit("79999.99")
    login_fast(client, app, staff[Role.FINANCE])
    response = release(client, open_order_id(app), force="y", reason="老客户")
    page = response.get_data(as_text=True)
    assert 'data-testid="blocked"' in page and "80,000.00" in page
    with app.app_context():
        assert db.session.get(Order, open_order_id(app)).status == "open"
        assert db.session.scalar(db.select(db.func.count()).select_from(CreditOverride)) == 0


def test_k7_gm_forces_a_release_with_a_reason_naming_rep_and_manager(
        app, client, staff, customer, limit, frozen):
    limit("50000")
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    refused = release(client, open_order_id(app), force="y", reason="")
    assert 'data-testid="blocked"' in refused.get_data(as_text=True)
    response = release(client, open_order_id(app), force="y", reason="战略客户，年底回款")
    assert 'data-testid="order-released"' in response.get_data(as_text=True)
    with app.app_context():
        override = db.session.scalars(db.select(CreditOverride)).one()
        assert override.responsible_rep_id == staff[Role.SALES_REP].id
        assert override.responsible_manager_id == staff[Role.SALES_MANAGER].id
        assert override.forced_by_id == staff[Role.GENERAL_MANAGER].id
        assert (override.exposure, override.credit_limit) == (Decimal("80000.00"),
                                                              Decimal("50000.00"))
        told = {n.user_id for n in db.session.scalars(
            db.select(Notification).where(Notification.kind == "shipment_forced"))}
        assert told == {staff[Role.SALES_REP].id, staff[Role.SALES_MANAGER].id}
        # K3 follows at once: receivables are now 80k against 50k
        assert db.session.scalar(db.select(db.func.count()).select_from(CreditBreach)) == 1


def test_k7_gm_cannot_force_a_blacklisted_customer(app, client, staff, customer, limit,
                                                   frozen):
    limit("50000")
    with app.app_context():
        db.session.get(Customer, customer).blacklisted = True
        db.session.commit()
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    release(client, open_order_id(app), force="y", reason="特批")
    with app.app_context():
        assert db.session.get(Order, open_order_id(app)).status == "open"


def test_k3_over_limit_flags_and_notifies_owner_and_finance_once(app, client, staff, customer,
                                                                 limit, frozen):
    limit("50000")  # receivables 60k
    jobs(app)
    jobs(app)  # idempotent: one breach, one notification each
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(CreditBreach)) == 1
        notes = [(n.user_id) for n in db.session.scalars(
            db.select(Notification).where(Notification.kind == "credit_over_limit"))]
    assert sorted(notes) == sorted([staff[Role.SALES_REP].id, staff[Role.FINANCE].id])
    login_fast(client, app, staff[Role.SALES_REP])
    assert 'data-testid="over-limit"' in client.get(f"/sales/customers/{customer}").get_data(
        as_text=True)
    assert "上海华东机械有限公司" in client.get("/").get_data(as_text=True)
    login_fast(client, app, staff[Role.FINANCE])
    page = client.get("/finance/over-limit").get_data(as_text=True)
    assert page.count('data-testid="over-limit-row"') == 1


def test_k3_breach_closes_when_paid_and_a_new_breach_notifies_again(app, staff, customer,
                                                                   limit, frozen):
    limit("50000")
    jobs(app)
    with app.app_context():
        db.session.add(Payment(customer_id=customer, received_on=date(2026, 11, 1),
                               amount=Decimal("20000")))
        db.session.commit()
    jobs(app)
    with app.app_context():
        assert db.session.scalars(db.select(CreditBreach)).one().ended_at is not None
        db.session.add(Shipment(customer_id=customer, shipped_on=date(2026, 11, 2),
                                amount=Decimal("30000")))
        db.session.commit()
    jobs(app)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(CreditBreach)) == 2
        assert db.session.scalar(db.select(db.func.count()).select_from(Notification).where(
            Notification.kind == "credit_over_limit")) == 4


def test_k6_jobs_remind_one_day_before_and_escalate_when_overdue_once(
        app, staff, customer, frozen, make_application):
    received = frozen(datetime(2026, 11, 10, 2, 0, tzinfo=UTC))
    aid = make_application(customer, staff[Role.SALES_REP], state="received",
                           received_at=received, due_at=received + timedelta(days=3))

    def kinds():
        with app.app_context():
            return sorted((n.user_id, n.kind) for n in db.session.scalars(
                db.select(Notification).where(Notification.kind.like("credit_%"))))
    jobs(app)
    assert kinds() == []
    frozen(received + timedelta(days=2, hours=1))
    jobs(app)
    jobs(app)
    gm = staff[Role.GENERAL_MANAGER].id
    assert kinds() == [(gm, "credit_due_soon")]
    frozen(received + timedelta(days=3, minutes=1))
    jobs(app)
    jobs(app)
    manager = staff[Role.SALES_MANAGER].id
    assert kinds() == sorted([(gm, "credit_due_soon"), (gm, "credit_overdue"),
                              (manager, "credit_overdue")])
    with app.app_context():
        assert db.session.get(CreditApplication, aid).state == "received"  # still the GM's


def test_k6_approved_limit_takes_effect_at_its_quarter_and_supersedes(
        app, staff, customer, frozen, limit):
    old = limit("50000", state="effective", period_start=date(2026, 10, 1))
    new = limit("90000", period_start=date(2027, 1, 1))
    frozen(datetime(2026, 12, 31, 15, 0, tzinfo=UTC))  # 23:00 Shanghai, still Q4
    jobs(app)
    with app.app_context():
        assert db.session.get(CreditApplication, new).state == "approved"
    frozen(datetime(2026, 12, 31, 16, 0, tzinfo=UTC))  # midnight Shanghai: Q1 2027
    jobs(app)
    jobs(app)
    with app.app_context():
        assert db.session.get(CreditApplication, new).state == "effective"
        assert db.session.get(CreditApplication, old).state == "superseded"


def test_k4_half_yearly_rerating_and_quarterly_review_reminders_once(
        app, staff, customer, frozen):
    frozen(datetime(2026, 12, 2, 2, 0, tzinfo=UTC))  # last month of Q4
    with app.app_context():
        c = db.session.get(Customer, customer)
        c.credit_grade, c.credit_graded_at = "2", datetime(2026, 5, 1, tzinfo=UTC)
        db.session.commit()
    jobs(app)
    jobs(app)
    with app.app_context():
        notes = sorted((n.user_id, n.kind) for n in db.session.scalars(db.select(Notification))
                       if n.kind.startswith("credit_"))  # not the report package's (Q1)
    assert notes == sorted([(staff[Role.SALES_REP].id, "credit_rerating"),
                            (staff[Role.SALES_MANAGER].id, "credit_review_due")])


def test_k7_order_entry_refuses_bad_input_and_duplicates(app, client, staff, customer, limit,
                                                         frozen):
    limit("1000000")
    login_fast(client, app, staff[Role.SALES_REP])
    assert new_order(client, customer, "-1").status_code == 422
    assert new_order(client, customer, "abc").status_code == 422
    assert new_order(client, customer, "10", number="SO-OPEN").status_code == 422
    assert order_count(app) == 1


def test_k7_forced_release_form_keeps_the_force_tick_after_an_error(app, client, staff,
                                                                    customer, limit, frozen):
    limit("50000")
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    row = release(client, open_order_id(app), force="y", reason="").get_data(as_text=True)
    assert 'name="force" value="y" checked' in row


def test_k7_each_refusal_says_why_with_the_customer_and_the_figures(app, customer, limit,
                                                                   frozen):
    """What finance and the rep read when an order or a shipment is checked: the customer's
    name, every figure of the sum and, over the limit, by how much."""
    from intranet.credit import exposure

    with app.test_request_context():
        c = db.session.get(Customer, customer)
        assert exposure.check(c, Decimal("1")).message() == (
            "上海华东机械有限公司 没有生效的批准额度：请先申请资信额度。")
    limit("100000")
    with app.test_request_context():
        c = db.session.get(Customer, customer)
        assert exposure.check(c, Decimal("20000")).message() == (
            "在资信额度内：应收账款 ¥60,000.00 + 未结订单 ¥20,000.00 + 本笔 ¥20,000.00 = "
            "¥100,000.00，额度 ¥100,000.00。")
        assert exposure.check(c, Decimal("20000.01")).message() == (
            "超出资信额度，已拦截：应收账款 ¥60,000.00 + 未结订单 ¥20,000.00 + 本笔 "
            "¥20,000.01 = ¥100,000.01，超出批准额度 ¥100,000.00 共 ¥0.01。")
        c.blacklisted = True
        assert exposure.check(c, Decimal("1")).message() == (
            "上海华东机械有限公司 已列入黑名单：不得接单或发货。")
        db.session.rollback()


def test_k7_forced_release_names_the_departments_active_manager_and_the_deputy(
        app, client, staff, frozen, make_user, order_over_a_small_limit, make_delegation):
    """The override names the customer's own department's active sales manager (not an
    inactive one, not another department's, even with lower ids), and whom the GM's deputy
    acted for, at the time of the release."""
    from intranet.core import clock

    gone = make_user("manager_gone", Role.SALES_MANAGER, department="sales2", active=False)
    east = make_user("manager_east", Role.SALES_MANAGER, department="sales2")
    assert staff[Role.SALES_MANAGER].id < gone.id < east.id  # the wrong ones come first
    deputy = make_user("gm_deputy", Role.SALES_MANAGER, department="gmo")
    order_id = order_over_a_small_limit("杭州之江机械有限公司", staff["rep_other_dept"])
    make_delegation(staff[Role.GENERAL_MANAGER], deputy, Role.GENERAL_MANAGER, reason="出差")
    now = clock.now()
    login_fast(client, app, deputy)
    response = release(client, order_id, force="y", reason="战略客户，年底回款")
    assert 'data-testid="order-released"' in response.get_data(as_text=True)
    with app.app_context():
        override = db.session.scalars(db.select(CreditOverride)).one()
        assert override.responsible_manager_id == east.id
        assert override.responsible_rep_id == staff["rep_other_dept"].id
        assert override.forced_by_id == deputy.id
        assert override.on_behalf_of_id == staff[Role.GENERAL_MANAGER].id
        assert override.at == now


def test_k7_forced_release_without_a_department_manager_names_none(
        app, client, staff, frozen, make_user, order_over_a_small_limit):
    rep = make_user("rep_north", Role.SALES_REP, department="sales3")
    order_id = order_over_a_small_limit("沈阳北方机械有限公司", rep)
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    response = release(client, order_id, force="y", reason="特批")
    assert 'data-testid="order-released"' in response.get_data(as_text=True)
    with app.app_context():
        override = db.session.scalars(db.select(CreditOverride)).one()
        assert override.responsible_manager_id is None and override.on_behalf_of_id is None
