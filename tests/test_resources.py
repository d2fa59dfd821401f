"""Customer resources, first part (rules R1-R6): every change of owner is a record, sales
follow the owner by date, and the reclaim rules stored as data return customers to the pool at
their boundaries, warn the owner first, and run as set-based, idempotent jobs."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import counting_selects, login_fast, post

from intranet.core import jobs
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import (
    AuditEntry,
    Customer,
    Notification,
    Order,
    OwnershipRecord,
    ReclaimRule,
    User,
)
from intranet.resources import ownership, reclaim

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def run_jobs(app):
    with app.test_request_context():
        jobs.run_all()


def switch_on(app, kind: str, **fields) -> int:
    with app.app_context():
        reclaim.ensure_defaults()  # (PostgreSQL test databases are emptied between tests)
        rule = db.session.scalar(db.select(ReclaimRule).where(ReclaimRule.kind == kind))
        rule.enabled = True
        for key, value in fields.items():
            setattr(rule, key, value)
        db.session.commit()
        return rule.id


def owner_of(app, customer_id):
    with app.app_context():
        return db.session.get(Customer, customer_id).owner_id


def records(app, customer_id) -> list[tuple[str, int | None, int | None]]:
    with app.app_context():
        return [(r.kind, r.from_user_id, r.to_user_id) for r in ownership.history(customer_id)]


@pytest.fixture
def registered(app, client, staff, frozen):
    """A customer registered by the rep through the page at T0."""
    frozen(T0)
    login_fast(client, app, staff[Role.SALES_REP])
    response = post(client, "/sales/customers/new", {
        "name": "上海华东机械有限公司", "relation": "customer"})
    assert response.status_code == 302
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_r3_the_registering_rep_is_the_first_owner_on_record(app, staff, registered):
    assert records(app, registered) == [("registered", None, staff[Role.SALES_REP].id)]
    with app.app_context():
        assert db.session.get(Customer, registered).owned_since == T0


def test_r1_sales_are_attributed_to_the_owner_at_the_transactions_date(app, staff, frozen,
                                                                       registered):
    frozen(T0 + timedelta(days=10))
    with app.app_context():
        customer = db.session.get(Customer, registered)
        director = db.session.get(User, staff[Role.SALES_MANAGER].id)
        ownership.change_owner(customer, db.session.get(User, staff["rep_b"].id),
                               "reassignment", actor=director, reason="客户关系受损",
                               approved_by=director)
        db.session.commit()
        assert ownership.owner_on(registered, T0 + timedelta(days=5)) == staff[Role.SALES_REP].id
        assert ownership.owner_on(registered, T0 + timedelta(days=11)) == staff["rep_b"].id
        assert ownership.owner_on(registered, T0 - timedelta(days=1)) is None
    assert records(app, registered)[-1] == ("reassignment", staff[Role.SALES_REP].id,
                                            staff["rep_b"].id)


@pytest.mark.parametrize(("days", "reclaimed"), [(59, False), (60, True)])
def test_r2_no_activity_for_sixty_days_returns_the_customer_to_the_pool(
        app, staff, frozen, registered, days, reclaimed):
    switch_on(app, "no_activity")
    frozen(T0 + timedelta(days=days))
    run_jobs(app)
    assert (owner_of(app, registered) is None) == reclaimed
    if reclaimed:
        assert records(app, registered)[-1] == ("reclaim", staff[Role.SALES_REP].id, None)
        with app.app_context():
            assert db.session.get(Customer, registered).pool_id == 1
        run_jobs(app)  # a second run changes nothing
        assert len(records(app, registered)) == 2


def test_r2_an_activity_or_an_order_restarts_the_two_months(app, client, staff, frozen,
                                                            registered):
    switch_on(app, "no_activity")
    frozen(T0 + timedelta(days=30))
    login_fast(client, app, staff[Role.SALES_REP])
    assert post(client, f"/sales/customers/{registered}/activities", {
        "kind": "phone", "occurred_at": "2026-04-01T10:00",
        "summary": "电话回访"}).status_code == 302
    page = client.get(f"/sales/customers/{registered}").get_data(as_text=True)
    assert "将于 2026-05-31 退回公海" in page  # sixty days after the call
    frozen(T0 + timedelta(days=60))
    run_jobs(app)
    assert owner_of(app, registered) == staff[Role.SALES_REP].id
    with app.app_context():  # an order at day 80 carries it further
        db.session.add(Order(customer_id=registered, number="SO-9",
                             ordered_on=date(2026, 5, 21), amount=1000))
        db.session.commit()
    frozen(T0 + timedelta(days=135))
    run_jobs(app)
    assert owner_of(app, registered) == staff[Role.SALES_REP].id
    frozen(T0 + timedelta(days=141))
    run_jobs(app)
    assert owner_of(app, registered) is None


@pytest.mark.parametrize(("days", "reclaimed"), [(364, False), (365, True)])
def test_r5_a_prospect_not_converted_in_a_year_returns(app, staff, frozen, make_customer, days,
                                                       reclaimed):
    frozen(T0)
    customer = make_customer("宁波新客户有限公司", staff[Role.SALES_REP])
    with app.app_context():
        row = db.session.get(Customer, customer)
        row.relation, row.owned_since = "prospect", T0
        db.session.commit()
    switch_on(app, "prospect")
    frozen(T0 + timedelta(days=days))
    run_jobs(app)
    assert (owner_of(app, customer) is None) == reclaimed


@pytest.mark.parametrize(("last_order", "reclaimed"), [(date(2026, 3, 4), False),
                                                       (date(2026, 3, 1), True)])
def test_r6_a_former_customer_without_an_order_for_a_year_returns(
        app, staff, frozen, make_customer, last_order, reclaimed):
    frozen(T0 - timedelta(days=700))
    customer = make_customer("苏州老客户有限公司", staff[Role.SALES_REP])
    with app.app_context():
        row = db.session.get(Customer, customer)
        row.relation, row.owned_since = "former", T0 - timedelta(days=700)
        db.session.add(Order(customer_id=customer, number="SO-1", ordered_on=last_order,
                             amount=5000))
        db.session.commit()
    switch_on(app, "former")
    frozen(datetime(2027, 3, 3, 2, 0, tzinfo=UTC))
    run_jobs(app)
    assert (owner_of(app, customer) is None) == reclaimed


def test_r2_a_rule_applies_only_when_switched_on_and_to_its_tiers_and_department(
        app, staff, frozen, registered, make_customer):
    other_dept = make_customer("广州外部门有限公司", staff["rep_other_dept"])
    frozen(T0 + timedelta(days=100))
    run_jobs(app)
    assert owner_of(app, registered) is not None  # every rule is off by default
    switch_on(app, "no_activity", tiers="vip,key")
    run_jobs(app)
    assert owner_of(app, registered) is not None  # a reserve-tier customer
    switch_on(app, "no_activity", tiers="", department_id=staff[Role.SALES_REP].department_id)
    run_jobs(app)
    assert owner_of(app, registered) is None and owner_of(app, other_dept) is not None


def test_r2_the_owner_is_warned_at_each_lead_time_once(app, staff, frozen, registered):
    switch_on(app, "no_activity")
    for day in (52, 52, 53, 59, 59):
        frozen(T0 + timedelta(days=day))
        run_jobs(app)
    with app.app_context():
        notes = db.session.scalars(db.select(Notification).where(
            Notification.kind == "reclaim_warning")).all()
    assert [n.user_id for n in notes] == [staff[Role.SALES_REP].id] * 2  # 7 days, 1 day
    assert all("2026-05-01" in n.params for n in notes)


def test_r2_reclaim_is_set_based(app, staff, frozen, make_customer):
    """The job's statements do not grow with the number of customers it reclaims."""
    def statements_for(count, start):
        frozen(start)
        for n in range(count):
            make_customer(f"测试客户{start.year}{n:03d}有限公司", staff[Role.SALES_REP])
        frozen(start + timedelta(days=61))
        with counting_selects(app) as selects:
            run_jobs(app)
        return len([s for s in selects if "customer" in s.lower()])
    switch_on(app, "no_activity")
    few = statements_for(2, T0)
    many = statements_for(40, T0 + timedelta(days=400))
    assert few == many
    with app.app_context():
        reclaimed = db.session.scalar(db.select(db.func.count(OwnershipRecord.id)).where(
            OwnershipRecord.kind == "reclaim"))
    assert reclaimed == 42


def test_r2_warnings_already_sent_cost_no_statement_per_customer(app, staff, frozen,
                                                                  make_customer):
    """The warnings job reads the customers in the window, their last orders and the warnings
    already sent in a few statements: a day's second run costs the same for 2 customers as
    for 30 (it sent nothing new)."""
    def second_run_selects(count, start):
        frozen(start)
        for n in range(count):
            make_customer(f"预警客户{start.year}{n:03d}有限公司", staff[Role.SALES_REP])
        frozen(start + timedelta(days=55))
        run_jobs(app)
        with counting_selects(app) as selects:
            run_jobs(app)
        return len(selects)
    switch_on(app, "no_activity")
    few = second_run_selects(2, T0)
    many = second_run_selects(30, T0 + timedelta(days=400))
    assert few == many
    with app.app_context():
        warned = db.session.scalar(db.select(db.func.count(Notification.id)).where(
            Notification.kind == "reclaim_warning"))
    assert warned == 32


def test_r2_the_reclaim_job_counts_what_it_moved_and_a_second_run_records_nothing(
        app, staff, frozen, make_customer):
    frozen(T0)
    for n in range(3):
        make_customer(f"回收客户{n:03d}有限公司", staff[Role.SALES_REP])
    switch_on(app, "no_activity")
    frozen(T0 + timedelta(days=61))
    with app.test_request_context():
        first = jobs.run_all()["reclaim"]
        audited = db.session.scalar(db.select(db.func.count(AuditEntry.id)).where(
            AuditEntry.object_type == "reclaim_rule"))
        second = jobs.run_all()["reclaim"]
        assert db.session.scalar(db.select(db.func.count(AuditEntry.id)).where(
            AuditEntry.object_type == "reclaim_rule")) == audited == 1
    assert (first, second) == (3, 0)


def test_r2_a_rule_is_previewed_before_it_is_switched_on(app, client, staff, frozen,
                                                        registered):
    frozen(T0 + timedelta(days=80))
    login_fast(client, app, staff[Role.SALES_MANAGER])
    listing = client.get("/sales/reclaim-rules").get_data(as_text=True)
    assert "无销售活动" in listing
    with app.app_context():
        reclaim.ensure_defaults()
        db.session.commit()
        rule_id = db.session.scalar(db.select(ReclaimRule.id).where(
            ReclaimRule.kind == "no_activity"))
    page = client.get(f"/sales/reclaim-rules/{rule_id}").get_data(as_text=True)
    assert "上海华东机械有限公司" in page and "当前可回收：1" in page
    bad = post(client, f"/sales/reclaim-rules/{rule_id}", {
        "days": "0", "pool_id": "1", "department_id": "0", "warn_days": "7 x"})
    assert bad.status_code == 422
    assert post(client, f"/sales/reclaim-rules/{rule_id}", {
        "days": "90", "pool_id": "1", "department_id": "0", "warn_days": "7 1",
        "enabled": "y"}).status_code == 302
    with app.app_context():
        rule = db.session.get(ReclaimRule, rule_id)
        assert (rule.enabled, rule.days) == (True, 90)
    due = client.get("/sales/reclaim-due").get_data(as_text=True)
    assert "上海华东机械有限公司" in due and "2026-05-31" in due  # day 90, within two weeks
    login_fast(client, app, staff[Role.SALES_REP])
    assert post(client, f"/sales/reclaim-rules/{rule_id}", {
        "days": "1", "pool_id": "1", "department_id": "0", "warn_days": "",
        "enabled": "y"}).status_code == 403
    assert "上海华东机械有限公司" in client.get("/sales/reclaim-due").get_data(as_text=True)
    login_fast(client, app, staff["rep_b"])  # not theirs: not in their list (C6)
    assert "上海华东机械有限公司" not in client.get("/sales/reclaim-due").get_data(as_text=True)


def test_r2_the_due_list_costs_the_same_statements_for_a_page_of_2_or_of_12(app, staff,
                                                                          make_customer,
                                                                          frozen):
    """The manager's list of customers returning to the pool reads each page's returns in
    one query per rule, not one per customer (nor one per owner)."""
    switch_on(app, "no_activity")
    switch_on(app, "former")
    client = app.test_client()
    counts = []
    for batch in (2, 10):
        frozen(T0)
        for i in range(batch):
            make_customer(f"到期客户{len(counts)}-{i}有限公司",
                          staff[Role.SALES_REP] if i % 2 else staff["rep_b"])
        frozen(T0 + timedelta(days=50))  # due on day 60: within the list's two weeks
        login_fast(client, app, staff[Role.SALES_MANAGER])
        client.get("/sales/reclaim-due")  # the worker's first settings read is not the page's
        with counting_selects(app) as selects:
            page = client.get("/sales/reclaim-due").get_data(as_text=True)
        assert page.count("到期客户") == (2 if not counts else 12)
        counts.append(len(selects))
    assert counts[0] == counts[1]
