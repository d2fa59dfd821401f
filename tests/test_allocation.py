"""Allocation (rule R7), ten-minute first contact (R8) and suspensions (R9): the director's
ranking with its reasons and skips, allocating and reallocating through the one ownership path,
the first-contact clock and its misses as an idempotent job, penalties on the rep's page."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import login_fast, post

from intranet.core import audit, jobs
from intranet.core import settings as company_settings
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import (
    AuditEntry,
    ContactMiss,
    Customer,
    CustomerPool,
    Notification,
    OwnershipRecord,
    Penalty,
    User,
    WorkflowDeadline,
)
from intranet.resources import allocation, first_contact, suspensions

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
MINUTE = timedelta(minutes=1)


def run_jobs(app):
    with app.test_request_context():
        return jobs.run_all()


def set_rep(app, who, experience="new", away=False, last_login=None):
    with app.app_context():
        user = db.session.get(User, who.id)
        user.experience, user.away = experience, away
        user.last_login_at = last_login or T0 - timedelta(days=1)
        db.session.commit()


def lead(app, name, deal_class=None, region="上海", pool=None, department_id=None,
         created_by=None) -> int:
    with app.app_context():
        pool_id = None
        if pool is not None:
            found = db.session.scalar(db.select(CustomerPool).where(CustomerPool.name == pool[0]))
            if found is None:
                found = CustomerPool(name=pool[0], department_id=pool[1])
                db.session.add(found)
                db.session.flush()
            pool_id = found.id
        customer = Customer(name=name, region=region, deal_class=deal_class, pool_id=pool_id,
                            department_id=department_id, created_by_id=created_by)
        db.session.add(customer)
        db.session.commit()
        return customer.id


def ranking(app, customer_id, department_id):
    with app.test_request_context():
        customer = db.session.get(Customer, customer_id)
        return [(s.rep.username, s.rank, s.skipped, s.why if not s.skipped else "")
                for s in allocation.suggest(customer, department_id)]


@pytest.fixture
def sales(app, staff, frozen):
    frozen(T0)
    set_rep(app, staff[Role.SALES_REP])
    set_rep(app, staff["rep_b"])
    return staff


def allocate(app, client, staff, customer_id, rep, note=""):
    login_fast(client, app, staff[Role.SALES_MANAGER])
    return post(client, f"/sales/allocation/{customer_id}", {"rep_id": str(rep.id),
                                                            "note": note})


# --- R7: the ranking ------------------------------------------------------------------------

def test_r7_deal_class_goes_to_the_matching_experience_and_says_why(app, client, sales,
                                                                    make_customer):
    set_rep(app, sales[Role.SALES_REP], "new")
    set_rep(app, sales["rep_b"], "senior")
    for n in range(3):
        make_customer(f"上海老客户{n}有限公司", sales["rep_b"])
    customer = lead(app, "上海新线索有限公司", deal_class="A")
    dept = sales[Role.SALES_MANAGER].department_id
    (first, *_), second = ranking(app, customer, dept), ranking(app, customer, dept)[1]
    assert first[:2] == ("repb", 1) and second[:2] == ("rep", 2)  # a mismatch is not forbidden
    login_fast(client, app, sales[Role.SALES_MANAGER])
    page = client.get(f"/sales/allocation/{customer}").get_data(as_text=True)
    assert "资深业务员，匹配 A 类资源；同一地区已有 3 家客户；当前 3/200 家" in page
    # a class C lead goes to the new hire first
    c_lead = lead(app, "北京小线索有限公司", deal_class="C", region="北京")
    assert ranking(app, c_lead, dept)[0][:2] == ("rep", 1)


def test_r7_region_then_collector_then_load_then_fairness(app, sales, make_customer):
    dept = sales[Role.SALES_MANAGER].department_id
    rep, rep_b = sales[Role.SALES_REP], sales["rep_b"]
    make_customer("苏州老客户有限公司", rep_b, region="苏州")
    customer = lead(app, "苏州新线索有限公司", region="苏州")
    assert [r[:2] for r in ranking(app, customer, dept)] == [("repb", 1), ("rep", 2)]
    collected = lead(app, "杭州新线索有限公司", region="杭州", created_by=rep.id)
    assert ranking(app, collected, dept)[0][:2] == ("rep", 1)
    assert "采集了该客户档案" in ranking(app, collected, dept)[0][3]
    # same experience, no region, nobody collected it: the lighter load (in tenths of the cap)
    with app.app_context():
        company_settings.update({"resources_max_customers": "10"})
        db.session.commit()
    make_customer("南京客户一有限公司", rep_b, region="南京")
    plain = lead(app, "无锡新线索有限公司", region="无锡")
    assert ranking(app, plain, dept)[0][:2] == ("rep", 1)
    # equal load: fewest allocations in the last 30 days first
    make_customer("南京客户二有限公司", rep, region="南京")
    make_customer("南京客户三有限公司", rep, region="南京")
    with app.app_context():
        db.session.add(OwnershipRecord(customer_id=plain, kind="allocation",
                                       to_user_id=rep.id, at=T0 - timedelta(days=3)))
        db.session.commit()
    assert ranking(app, plain, dept)[0][:2] == ("repb", 1)


def test_r7_away_absent_and_full_reps_are_skipped_with_the_reason(app, client, sales, make_user,
                                                                  make_customer):
    dept = sales[Role.SALES_MANAGER].department_id
    set_rep(app, sales[Role.SALES_REP], away=True)
    set_rep(app, sales["rep_b"], last_login=T0 - timedelta(days=15))
    full = make_user("full", Role.SALES_REP)
    set_rep(app, full)
    fresh = make_user("fresh", Role.SALES_REP)
    set_rep(app, fresh, last_login=T0 - timedelta(days=13))
    with app.app_context():
        company_settings.update({"resources_max_customers": "1"})
        db.session.commit()
    make_customer("满员客户有限公司", full)
    customer = lead(app, "上海新线索有限公司")
    rows = {name: (rank, skipped) for name, rank, skipped, _ in ranking(app, customer, dept)}
    assert rows["fresh"] == (1, "")
    assert rows["rep"] == (None, "已标记为外出")
    assert rows["repb"] == (None, "已有 14 天或更久未登录")
    assert rows["full"] == (None, "已达 1 家客户的上限")
    assert "rep2" not in rows  # another department's rep
    response = allocate(app, client, sales, customer, sales[Role.SALES_REP])
    assert response.status_code == 422 and "已标记为外出" in response.get_data(as_text=True)
    assert owner(app, customer) is None


def owner(app, customer_id):
    with app.app_context():
        return db.session.get(Customer, customer_id).owner_id


def test_r7_the_director_allocates_pool_customers_and_leads_of_the_department(
        app, client, sales, make_user, make_customer):
    manager, rep = sales[Role.SALES_MANAGER], sales[Role.SALES_REP]
    other = make_user("manager2", Role.SALES_MANAGER, department="sales2")
    shared = lead(app, "公海客户有限公司", pool=("公海", None))
    mine = lead(app, "本部门池客户有限公司", pool=("一部池", manager.department_id))
    theirs = lead(app, "二部池客户有限公司", pool=("二部池", other.department_id))
    new_lead = lead(app, "总台登记线索有限公司", deal_class="B")
    owned = make_customer("已有负责人有限公司", sales["rep_b"])
    login_fast(client, app, manager)
    page = client.get("/sales/allocation").get_data(as_text=True)
    for name in ("公海客户", "本部门池客户", "总台登记线索"):
        assert name in page
    assert "二部池客户" not in page and "已有负责人" not in page
    assert "总台登记线索" in client.get("/sales/allocation?q=总台").get_data(as_text=True)
    assert "公海客户" not in client.get("/sales/allocation?q=总台").get_data(as_text=True)
    for customer_id in (theirs, owned):
        assert client.get(f"/sales/allocation/{customer_id}").status_code == 404
        assert allocate(app, client, sales, customer_id, rep).status_code == 404
    # another department's rep cannot be chosen
    response = allocate(app, client, sales, shared, sales["rep_other_dept"])
    assert response.status_code == 422 and owner(app, shared) is None
    response = allocate(app, client, sales, new_lead, rep, "首次分配")
    assert response.status_code == 302
    with app.app_context():
        record = db.session.scalar(db.select(OwnershipRecord).where(
            OwnershipRecord.customer_id == new_lead))
        assert (record.kind, record.from_user_id, record.to_user_id, record.actor_id,
                record.approved_by_id, record.reason) == (
            "allocation", None, rep.id, manager.id, manager.id, "首次分配")
        deadline = db.session.scalar(db.select(WorkflowDeadline).where(
            WorkflowDeadline.object_type == "ownership_record",
            WorkflowDeadline.object_id == record.id))
        assert deadline.kind == "first_contact" and deadline.due_at == T0 + 10 * MINUTE
        assert db.session.scalar(db.select(Notification.kind).where(
            Notification.user_id == rep.id)) == "allocated"
    assert owner(app, new_lead) == rep.id and owner(app, mine) is None
    # allocated once: a second post finds it no longer allocatable
    assert allocate(app, client, sales, new_lead, sales["rep_b"]).status_code == 404
    # the manager of another department reaches none of this department's leads
    login_fast(client, app, other)
    assert client.get(f"/sales/allocation/{mine}").status_code == 404


def test_r7_concurrent_allocation_one_wins(app, sales, monkeypatch):
    """The owner is moved by a conditional UPDATE: when another director allocates the
    customer between this one's checks and the write, this one gets a conflict and writes no
    record."""
    customer = lead(app, "抢单客户有限公司")
    dept = sales[Role.SALES_MANAGER].department_id
    ranked = allocation.suggest

    def meanwhile(*args, **kwargs):
        db.session.execute(db.update(Customer).where(Customer.id == customer)
                           .values(owner_id=sales["rep_b"].id)
                           .execution_options(synchronize_session=False))
        return ranked(*args, **kwargs)

    monkeypatch.setattr(allocation, "suggest", meanwhile)
    with app.test_request_context():
        row = db.session.get(Customer, customer)
        manager = db.session.get(User, sales[Role.SALES_MANAGER].id)
        with pytest.raises(allocation.AllocationConflict):
            allocation.allocate(row, db.session.get(User, sales[Role.SALES_REP].id), manager,
                                dept)
        assert db.session.scalar(db.select(db.func.count()).select_from(OwnershipRecord)) == 0


# --- R8: the first contact -----------------------------------------------------------------

def misses(app):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(ContactMiss))


def notes(app, kind):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Notification)
                                 .where(Notification.kind == kind))


def test_r8_first_contact_minute_9_is_in_time_minute_11_is_a_miss(app, client, sales, frozen):
    rep = sales[Role.SALES_REP]
    customer = lead(app, "十分钟客户有限公司")
    assert allocate(app, client, sales, customer, rep).status_code == 302
    frozen(T0 + 9 * MINUTE)
    run_jobs(app)
    assert misses(app) == 0
    login_fast(client, app, rep)
    assert "首次联系剩余 1 分钟" in client.get("/").get_data(as_text=True)
    frozen(T0 + 11 * MINUTE)
    assert run_jobs(app)["first_contact_misses"] == 1
    assert misses(app) == 1
    assert notes(app, "first_contact_missed") == 1 and notes(app, "first_contact_missed_rep") == 1
    assert run_jobs(app)["first_contact_misses"] == 0  # idempotent: nothing changes
    assert misses(app) == 1 and notes(app, "first_contact_missed") == 1
    # the rep sits out the next allocation, and the ranking says why
    other = lead(app, "下一个线索有限公司")
    dept = sales[Role.SALES_MANAGER].department_id
    rows = {name: (rank, skipped) for name, rank, skipped, _ in ranking(app, other, dept)}
    assert rows["rep"] == (None, "未按时首次联系十分钟客户有限公司，本次分配轮空")
    assert allocate(app, client, sales, other, rep).status_code == 422
    # the manager sees the miss on the home page and may reallocate the customer
    login_fast(client, app, sales[Role.SALES_MANAGER])
    home = client.get("/").get_data(as_text=True)
    assert "首次联系超时" in home and f"/sales/allocation/{customer}" in home
    # the next allocation (to someone else) uses the skip up
    assert allocate(app, client, sales, other, sales["rep_b"]).status_code == 302
    third = lead(app, "第三个线索有限公司")
    assert dict((n, r) for n, r, *_ in ranking(app, third, dept))["rep"] == 1


def test_r8_logging_an_activity_as_the_rep_meets_the_deadline(app, client, sales, frozen):
    rep = sales[Role.SALES_REP]
    customer = lead(app, "已联系客户有限公司")
    allocate(app, client, sales, customer, rep)
    frozen(T0 + 5 * MINUTE)
    login_fast(client, app, sales[Role.SALES_MANAGER])  # the manager's entry does not count
    post(client, f"/sales/customers/{customer}/activities", {
        "kind": "phone", "occurred_at": "2026-03-02T10:04", "summary": "经理代记"})
    with app.app_context():
        assert db.session.scalar(db.select(WorkflowDeadline.met_at)) is None
    login_fast(client, app, rep)
    response = post(client, f"/sales/customers/{customer}/activities", {
        "kind": "phone", "occurred_at": "2026-03-02T10:05", "summary": "首次电话沟通"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(WorkflowDeadline.met_at)) == T0 + 5 * MINUTE
    frozen(T0 + 11 * MINUTE)
    run_jobs(app)
    assert misses(app) == 0


def test_r8_the_director_reallocates_a_missed_customer(app, client, sales, frozen):
    rep, rep_b = sales[Role.SALES_REP], sales["rep_b"]
    customer = lead(app, "超时客户有限公司")
    allocate(app, client, sales, customer, rep)
    frozen(T0 + 11 * MINUTE)
    run_jobs(app)
    login_fast(client, app, sales[Role.SALES_MANAGER])
    page = client.get("/sales/allocation").get_data(as_text=True)
    assert "首次联系超时" in page and "重新分配" in page
    response = allocate(app, client, sales, customer, rep_b)
    assert response.status_code == 302 and owner(app, customer) == rep_b.id
    with app.app_context():
        record = db.session.scalars(db.select(OwnershipRecord).where(
            OwnershipRecord.customer_id == customer).order_by(OwnershipRecord.id.desc())).first()
        assert (record.from_user_id, record.to_user_id, record.object_type) == (
            rep.id, rep_b.id, "contact_miss")
        # a new clock for the new rep; taking the customer back is not the missed rep's skip
        assert db.session.scalar(db.select(db.func.count()).select_from(WorkflowDeadline)
                                 .where(WorkflowDeadline.object_id == record.id)) == 1
        assert first_contact.pending_skips([rep.id])
    assert client.get(f"/sales/allocation/{customer}").status_code == 404
    # a customer whose first contact was met cannot be taken back this way
    met = lead(app, "按时客户有限公司")
    allocate(app, client, sales, met, rep_b)
    with app.app_context():
        first_contact.contact_logged(met, rep_b.id)
        db.session.commit()
        assert not first_contact.pending_skips([rep.id])  # that allocation was the skip
    assert client.get(f"/sales/allocation/{met}").status_code == 404
    assert client.get(f"/sales/allocation/{customer}").status_code == 404


def test_r8_working_time_skips_the_weekend(app):
    friday_late = datetime(2026, 3, 6, 15, 55, tzinfo=UTC)  # Friday 23:55 in Shanghai
    with app.app_context():
        assert first_contact.due_at(friday_late) == friday_late + 10 * MINUTE
        company_settings.update({"business_calendar": "working"})
        assert first_contact.due_at(friday_late) == datetime(2026, 3, 8, 16, 5, tzinfo=UTC)
        saturday = datetime(2026, 3, 7, 2, 0, tzinfo=UTC)
        assert first_contact.due_at(saturday) == datetime(2026, 3, 8, 16, 10, tzinfo=UTC)
        monday = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)
        assert first_contact.due_at(monday) == monday + 10 * MINUTE


# --- R9: penalties and suspensions ---------------------------------------------------------

def penalise(app, client, staff, rep, reason="违规私下交换客户"):
    login_fast(client, app, staff[Role.SALES_MANAGER])
    return post(client, f"/sales/reps/{rep.id}/penalties", {"reason": reason})


def test_r9_a_first_penalty_suspends_through_the_seventh_day(app, client, sales, frozen):
    rep = sales[Role.SALES_REP]
    dept = sales[Role.SALES_MANAGER].department_id
    assert penalise(app, client, sales, rep).status_code == 302
    customer = lead(app, "暂停期线索有限公司")
    frozen(datetime(2026, 3, 8, 15, 59, tzinfo=UTC))  # day 7, 23:59 in Shanghai
    row = next(r for r in ranking(app, customer, dept) if r[0] == "rep")
    assert row[1] is None and row[2] == "暂停分配至 2026-03-09 00:00"
    assert allocate(app, client, sales, customer, rep).status_code == 422
    frozen(datetime(2026, 3, 8, 16, 0, tzinfo=UTC))  # day 8, 00:00
    assert next(r for r in ranking(app, customer, dept) if r[0] == "rep")[2] == ""
    assert allocate(app, client, sales, customer, rep).status_code == 302


def test_r9_second_and_later_penalties_suspend_longer_lifted_ones_do_not_count(
        app, client, sales, frozen):
    rep = sales[Role.SALES_REP]
    days = []
    for n in range(4):
        frozen(T0 + timedelta(days=40 * n))
        penalise(app, client, sales, rep, f"第{n + 1}次违规")
    with app.app_context():
        rows = db.session.scalars(db.select(Penalty).order_by(Penalty.id)).all()
        for p in rows:
            days.append((p.number, (p.ends_at - p.starts_at).days + 1))
        assert days == [(1, 7), (2, 15), (3, 30), (4, 30)]
        last = rows[-1]
    # lifting needs a reason; it ends the suspension and is recorded
    login_fast(client, app, sales[Role.SALES_MANAGER])
    url = f"/sales/reps/{rep.id}/penalties/{last.id}/lift"
    assert post(client, url, {"reason": " "}).status_code == 422
    with app.app_context():
        assert rep.id in suspensions.suspended_until([rep.id])
    assert post(client, url, {"reason": "申诉成立"}).status_code == 302
    assert post(client, url, {"reason": "再次撤销"}).status_code == 409
    with app.app_context():
        assert rep.id not in suspensions.suspended_until([rep.id])
        lifted = db.session.get(Penalty, last.id)
        assert (lifted.lift_reason, lifted.lifted_by_id) == ("申诉成立",
                                                              sales[Role.SALES_MANAGER].id)
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEntry).where(
            AuditEntry.object_type == "penalty")) >= 5
    # with the fourth lifted, the next is the fourth again
    penalise(app, client, sales, rep)
    with app.app_context():
        assert db.session.scalars(db.select(Penalty.number).order_by(Penalty.id.desc())
                                  ).first() == 4
    assert penalise(app, client, sales, rep, "").status_code == 422


def test_r9_rep_page_shows_load_experience_penalties_and_who_may_see_it(
        app, client, sales, make_user, make_customer):
    rep, rep_b = sales[Role.SALES_REP], sales["rep_b"]
    make_customer("某客户有限公司", rep)
    penalise(app, client, sales, rep)
    url = f"/sales/reps/{rep.id}"
    for who, status in ((rep, 200), (rep_b, 404), (sales[Role.SALES_MANAGER], 200),
                        (sales[Role.GENERAL_MANAGER], 200),
                        (make_user("manager2", Role.SALES_MANAGER, department="sales2"), 404),
                        (sales[Role.SERVICE_DESK], 403)):
        login_fast(client, app, who)
        response = client.get(url)
        assert response.status_code == status, who
    login_fast(client, app, rep)
    page = client.get(url).get_data(as_text=True)
    assert "1/200 家客户" in page and "新员工" in page and "违规私下交换客户" in page
    assert "暂停分配至 2026-03-09 00:00" in page
    assert "/penalties" not in page  # the rep cannot act on their own record
    # the GM reads but does not act
    login_fast(client, app, sales[Role.GENERAL_MANAGER])
    assert post(client, f"/sales/reps/{rep.id}/penalties", {"reason": "x x"}).status_code == 403
    # a manager's page for a user who is not a rep: 404
    login_fast(client, app, sales[Role.SALES_MANAGER])
    assert client.get(f"/sales/reps/{sales[Role.SALES_MANAGER].id}").status_code == 404
    assert "暂停分配至" in client.get("/sales/reps").get_data(as_text=True)


def test_r7_the_manager_sets_experience_and_away_on_the_rep_page(app, client, sales):
    rep = sales[Role.SALES_REP]
    login_fast(client, app, sales[Role.SALES_MANAGER])
    response = post(client, f"/sales/reps/{rep.id}/profile", {"experience": "senior",
                                                              "away": "y"})
    assert response.status_code == 302
    assert post(client, f"/sales/reps/{rep.id}/profile",
                {"experience": "guru"}).status_code == 422
    with app.app_context():
        user = db.session.get(User, rep.id)
        assert (user.experience, user.away) == ("senior", True)
        assert db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.object_type == "rep", AuditEntry.action == audit.Action.UPDATE))
    login_fast(client, app, rep)
    assert post(client, f"/sales/reps/{rep.id}/profile",
                {"experience": "senior"}).status_code == 403
