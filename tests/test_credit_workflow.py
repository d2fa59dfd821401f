"""Credit-limit approval (rules K1, K2, K5, K6; SECURITY.md 6): the flow, its guards, its
history, and the three-day deadline on a frozen clock."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from conftest import login_fast, post

from intranet.core import clock, settings
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import (
    CreditApplication,
    Customer,
    Delegation,
    Notification,
    Payment,
    Shipment,
    User,
    WorkflowHistory,
)
from intranet.workflows import engine
from intranet.workflows.credit import CreditFlow


@pytest.fixture
def customer(app, staff, make_customer):
    cid = make_customer("上海华东机械有限公司", staff[Role.SALES_REP])
    with app.app_context():
        c = db.session.get(Customer, cid)
        c.relation, c.payment_method = "customer", "transfer"
        db.session.add_all([
            Shipment(customer_id=cid, shipped_on=date(2026, 6, 1), amount=Decimal("1200000")),
            Payment(customer_id=cid, received_on=date(2026, 7, 1), amount=Decimal("1140000"))])
        db.session.commit()
    return cid


def state_of(app, application_id):
    with app.app_context():
        return db.session.get(CreditApplication, application_id).state


def version_of(app, application_id):
    with app.app_context():
        return db.session.get(CreditApplication, application_id).version


def transition(client, app, application_id, event, **data):
    response = post(client, f"/sales/credit/{application_id}/transition",
                    {"event": event, "version": version_of(app, application_id), **data})
    assert "/auth/login" not in response.headers.get("Location", "")
    return response


def history(app, application_id):
    with app.app_context():
        return [(h.event, h.from_state, h.to_state, h.role, h.user_id, h.on_behalf_of_id,
                 h.comment) for h in db.session.scalars(
            db.select(WorkflowHistory).where(WorkflowHistory.object_id == application_id)
            .order_by(WorkflowHistory.id))]


def test_k2_new_application_shows_the_basis_and_the_suggestion(app, client, staff, customer,
                                                               frozen):
    login_fast(client, app, staff[Role.SALES_REP])
    page = client.get(f"/sales/customers/{customer}/credit/new").get_data(as_text=True)
    # annual sales ¥1,200,000; monthly ¥100,000; paid 95% → 一级, 2 months × 100% = ¥200,000
    assert "1,200,000.00" in page and "100,000.00" in page and "95.00%" in page
    assert 'data-testid="suggestion"' in page and "200,000.00" in page


def test_k1_k2_application_saved_with_grade_and_basis_snapshot(app, client, staff, customer,
                                                              frozen):
    login_fast(client, app, staff[Role.SALES_REP])
    response = post(client, f"/sales/customers/{customer}/credit/new", {
        "period_start": "2027-01-01", "grade": "1", "proposed_limit": "180000",
        "reason": "老客户", "state": "approved", "approved_limit": "9999999"})
    assert response.status_code == 302
    with app.app_context():
        a = db.session.scalars(db.select(CreditApplication)).one()
        assert (a.state, a.grade, a.proposed_limit, a.approved_limit) == (
            "draft", "1", Decimal("180000.00"), None)  # SECURITY.md 4: no mass assignment
        assert a.annual_sales == Decimal("1200000.00") and a.payment_rate == Decimal("95.00")
        assert a.receivables == Decimal("60000.00") and a.payment_method == "transfer"


def test_k1_grade_must_be_one_of_three(app, client, staff, customer, frozen):
    login_fast(client, app, staff[Role.SALES_REP])
    response = post(client, f"/sales/customers/{customer}/credit/new", {
        "period_start": "2027-01-01", "grade": "4", "proposed_limit": "1000"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(CreditApplication)) == 0


def test_k2_suggestion_follows_the_settings(app, staff, customer):
    from intranet.credit import basis_for, suggest
    with app.test_request_context():
        c = db.session.get(Customer, customer)
        basis = basis_for([c])[c.id]
        assert suggest(c, basis) == ("1", Decimal("200000.00"))
        settings.update({"credit_grade1_min_payment_percent": "96",
                         "credit_months_of_sales": "3"})
        assert suggest(c, basis) == ("2", Decimal("180000.00"))  # 100k × 3 × 60%
        c.blacklisted = True
        assert suggest(c, basis) == ("3", Decimal("0.00"))


def test_k6_full_flow_rep_manager_gm_with_history(app, client, staff, customer, frozen,
                                                  make_application):
    aid = make_application(customer, staff[Role.SALES_REP])
    login_fast(client, app, staff[Role.SALES_REP])
    assert transition(client, app, aid, "submit").status_code == 302
    assert state_of(app, aid) == "submitted"
    received_at = frozen(datetime(2026, 12, 10, 2, 0, tzinfo=UTC))
    login_fast(client, app, staff[Role.SALES_MANAGER])
    assert transition(client, app, aid, "forward").status_code == 302
    with app.app_context():
        a = db.session.get(CreditApplication, aid)
        assert a.state == "received"
        assert a.received_at == received_at
        assert a.due_at == received_at + timedelta(days=3)  # rule K6, calendar days
    frozen(datetime(2026, 12, 11, 2, 0, tzinfo=UTC))
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    response = transition(client, app, aid, "approve", amount="150000", comment="同意")
    assert response.status_code == 302
    with app.app_context():
        a = db.session.get(CreditApplication, aid)
        assert (a.state, a.approved_limit, a.decided_by_id) == (
            "approved", Decimal("150000.00"), staff[Role.GENERAL_MANAGER].id)
        assert a.customer.credit_grade == "2"  # rule K1: the grade is the customer's now
    rows = history(app, aid)
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("submit", "draft", "submitted", "sales_rep"),
        ("forward", "submitted", "received", "sales_manager"),
        ("approve", "received", "approved", "general_manager")]
    assert rows[-1][6] == "同意"


def test_k6_managers_own_application_goes_straight_to_the_gm(app, client, staff, customer,
                                                             make_application):
    aid = make_application(customer, staff[Role.SALES_MANAGER])
    login_fast(client, app, staff[Role.SALES_MANAGER])
    assert transition(client, app, aid, "submit").status_code == 302
    assert state_of(app, aid) == "received"


def test_k5_only_the_gm_sets_limits(app, client, staff, customer, make_application):
    aid = make_application(customer, staff[Role.SALES_REP], state="received",
                           received_at=datetime(2026, 11, 2, tzinfo=UTC),
                           due_at=datetime(2026, 11, 5, tzinfo=UTC))
    for role in (Role.SALES_REP, Role.SALES_MANAGER):
        login_fast(client, app, staff[role])
        response = transition(client, app, aid, "approve", amount="999999")
        assert response.status_code == 409, role
        assert state_of(app, aid) == "received"
    login_fast(client, app, staff[Role.SALES_MANAGER])
    page = client.get(f"/sales/credit/{aid}").get_data(as_text=True)
    assert 'data-event="approve"' not in page  # the UI never shows the button
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    page = client.get(f"/sales/credit/{aid}").get_data(as_text=True)
    assert 'data-event="approve"' in page and 'data-event="reject"' in page


def test_6_skipping_a_state_is_a_409(app, client, staff, customer, make_application):
    aid = make_application(customer, staff[Role.SALES_REP])
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    response = transition(client, app, aid, "approve")
    assert response.status_code == 409
    assert "草稿" in response.get_data(as_text=True)  # says what the record is now
    assert state_of(app, aid) == "draft" and history(app, aid) == []


def test_6_requester_is_not_the_approver(app, client, staff, customer, make_user,
                                         make_application):
    both = make_user("gmrep", Role.GENERAL_MANAGER, Role.SALES_REP)
    with app.app_context():
        db.session.get(Customer, customer).owner_id = both.id
        db.session.commit()
    aid = make_application(customer, both, state="received",
                           received_at=datetime(2026, 11, 2, tzinfo=UTC),
                           due_at=datetime(2026, 11, 5, tzinfo=UTC))
    login_fast(client, app, both)
    assert transition(client, app, aid, "approve").status_code == 409
    assert state_of(app, aid) == "received"


def test_6_manager_cannot_forward_own_rep_application_of_other_department(
        app, client, staff, make_customer, make_application, make_user):
    other_manager = make_user("manager2", Role.SALES_MANAGER, department="sales2")
    cid = make_customer("广州南方贸易有限公司", staff["rep_other_dept"])
    aid = make_application(cid, staff["rep_other_dept"], state="submitted")
    login_fast(client, app, staff[Role.SALES_MANAGER])  # department sales1
    assert transition(client, app, aid, "forward").status_code == 404  # out of scope
    login_fast(client, app, other_manager)
    assert transition(client, app, aid, "forward").status_code == 302


def test_6_stale_version_is_a_409_and_changes_nothing(app, client, staff, customer,
                                                      make_application):
    aid = make_application(customer, staff[Role.SALES_REP], state="received",
                           received_at=datetime(2026, 11, 2, tzinfo=UTC),
                           due_at=datetime(2026, 11, 5, tzinfo=UTC))
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    stale = version_of(app, aid)
    assert transition(client, app, aid, "approve").status_code == 302
    response = post(client, f"/sales/credit/{aid}/transition",
                    {"event": "reject", "version": stale, "comment": "不同意"})
    assert response.status_code == 409
    assert "已批准" in response.get_data(as_text=True)
    assert state_of(app, aid) == "approved" and len(history(app, aid)) == 1


def test_6_stale_version_is_refused_even_where_the_event_is_still_allowed(
        app, client, staff, customer, make_application):
    """The version check, not the state: the row changed (still with the GM) after the GM's
    page was loaded, so the decision made on the old page is a 409 and nothing moves."""
    aid = make_application(customer, staff[Role.SALES_REP], state="received",
                           received_at=datetime(2026, 11, 2, tzinfo=UTC),
                           due_at=datetime(2026, 11, 5, tzinfo=UTC))
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    seen = version_of(app, aid)
    with app.app_context():
        db.session.get(CreditApplication, aid).reason = "补充：回款计划已更新"
        db.session.commit()
    assert version_of(app, aid) == seen + 1
    response = post(client, f"/sales/credit/{aid}/transition",
                    {"event": "approve", "version": seen})
    assert response.status_code == 409
    assert "已有他人先处理" in response.get_data(as_text=True)
    assert state_of(app, aid) == "received" and history(app, aid) == []
    with app.test_request_context():
        row = db.session.get(CreditApplication, aid)
        gm = db.session.get(User, staff[Role.GENERAL_MANAGER].id)
        with pytest.raises(engine.Conflict):
            engine.fire(row, "approve", user=gm, expected_version=seen)


def test_k6_only_the_next_quarters_are_offered(app, client, staff, customer, frozen):
    """An approved limit applies from the next quarter: on 2 November 2026 the choices are
    Q1 and Q2 2027, never the running quarter, and a posted running quarter is refused."""
    from intranet.blueprints.sales.credit import quarter_choices

    assert [c.value for c in quarter_choices(date(2026, 12, 31))] == ["2027-01-01",
                                                                      "2027-04-01"]
    assert [c.value for c in quarter_choices(date(2027, 1, 1))] == ["2027-04-01",
                                                                    "2027-07-01"]
    login_fast(client, app, staff[Role.SALES_REP])
    page = client.get(f"/sales/customers/{customer}/credit/new").get_data(as_text=True)
    assert 'value="2027-01-01"' in page and 'value="2026-10-01"' not in page
    response = post(client, f"/sales/customers/{customer}/credit/new", {
        "period_start": "2026-10-01", "grade": "1", "proposed_limit": "1000"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(CreditApplication)) == 0


def test_k6_reject_and_return_need_a_comment(app, client, staff, customer, make_application):
    aid = make_application(customer, staff[Role.SALES_REP], state="received",
                           received_at=datetime(2026, 11, 2, tzinfo=UTC),
                           due_at=datetime(2026, 11, 5, tzinfo=UTC))
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    response = transition(client, app, aid, "reject", comment="  ")
    assert response.status_code == 422
    assert "请填写意见" in response.get_data(as_text=True)
    assert state_of(app, aid) == "received" and history(app, aid) == []
    assert transition(client, app, aid, "return_for_revision",
                      comment="请补充回款记录").status_code == 302
    with app.app_context():
        a = db.session.get(CreditApplication, aid)
        assert (a.state, a.due_at, a.decision_comment) == ("returned", None, "请补充回款记录")


def test_k6_approve_refuses_a_bad_amount(app, client, staff, customer, make_application):
    aid = make_application(customer, staff[Role.SALES_REP], state="received",
                           received_at=datetime(2026, 11, 2, tzinfo=UTC),
                           due_at=datetime(2026, 11, 5, tzinfo=UTC))
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    for amount in ("abc", "-5", "NaN", "1e20", "1e999999999", "Infinity"):
        assert transition(client, app, aid, "approve", amount=amount).status_code == 422
    assert state_of(app, aid) == "received"


def test_k6_applicant_may_withdraw_until_the_gm_decides(app, client, staff, customer,
                                                        make_application):
    aid = make_application(customer, staff[Role.SALES_REP], state="received",
                           received_at=datetime(2026, 11, 2, tzinfo=UTC),
                           due_at=datetime(2026, 11, 5, tzinfo=UTC))
    login_fast(client, app, staff["rep_b"])  # same department, not the applicant
    assert transition(client, app, aid, "withdraw",
                      comment="客户取消").status_code == 404  # not rep_b's customer
    login_fast(client, app, staff[Role.SALES_REP])
    # issue 13: a withdrawal says why
    assert transition(client, app, aid, "withdraw").status_code == 422
    assert state_of(app, aid) != "withdrawn"
    assert transition(client, app, aid, "withdraw", comment="客户取消合作").status_code == 302
    assert state_of(app, aid) == "withdrawn"
    decided = make_application(customer, staff[Role.SALES_REP], state="approved")
    assert transition(client, app, decided, "withdraw", comment="客户取消").status_code == 409


def test_k6_deputy_decides_for_the_gm_and_history_says_so(app, client, staff, customer, frozen,
                                                          make_application, make_user):
    deputy = make_user("deputy", Role.SALES_MANAGER, department="gmo")
    gm = staff[Role.GENERAL_MANAGER]
    with app.app_context():
        db.session.add(Delegation(principal_id=gm.id, deputy_id=deputy.id,
                                  role="general_manager",
                                  starts_at=datetime(2026, 11, 1, tzinfo=UTC),
                                  ends_at=datetime(2026, 11, 10, tzinfo=UTC), reason="出差",
                                  created_by_id=staff[Role.ADMIN].id))
        db.session.commit()
    aid = make_application(customer, staff[Role.SALES_REP], state="received",
                           received_at=datetime(2026, 11, 1, tzinfo=UTC),
                           due_at=datetime(2026, 11, 4, tzinfo=UTC))
    login_fast(client, app, deputy)
    assert client.get("/management/credit").status_code == 200
    response = post(client, f"/management/credit/{aid}/decide",
                    {"event": "approve", "version": version_of(app, aid), "amount": "80000"})
    assert response.status_code == 200
    [row] = history(app, aid)
    assert row[3:6] == ("general_manager", deputy.id, gm.id)
    # From the application page, which a sales manager may use in their own right, the step
    # is still taken (and audited) as the GM's deputy.
    third = make_application(customer, staff[Role.SALES_REP], state="received",
                             received_at=datetime(2026, 11, 1, tzinfo=UTC),
                             due_at=datetime(2026, 11, 4, tzinfo=UTC))
    assert transition(client, app, third, "approve").status_code == 302
    with app.app_context():
        from intranet.models import AuditEntry
        entry = db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.object_type == "credit_application",
            AuditEntry.object_id == str(third), AuditEntry.action == "update"))
    assert (entry.username, entry.role, entry.on_behalf_of_name) == (
        "deputy", "general_manager", "gm")
    frozen(datetime(2026, 11, 11, tzinfo=UTC))  # the period is over
    login_fast(client, app, deputy)
    other = make_application(customer, staff[Role.SALES_REP], state="received",
                             received_at=datetime(2026, 11, 1, tzinfo=UTC),
                             due_at=datetime(2026, 11, 4, tzinfo=UTC))
    response = post(client, f"/management/credit/{other}/decide",
                    {"event": "approve", "version": version_of(app, other)})
    assert response.status_code == 403


def test_k6_deadline_counts_working_days_across_a_weekend(app, client, staff, customer, frozen,
                                                          make_application):
    with app.test_request_context():
        settings.update({"business_calendar": "working"})
        db.session.commit()
    aid = make_application(customer, staff[Role.SALES_REP], state="submitted")
    # Thursday 2026-12-10 10:00 Shanghai: three working days later is Tuesday 12-15 10:00
    frozen(datetime(2026, 12, 10, 2, 0, tzinfo=UTC))
    login_fast(client, app, staff[Role.SALES_MANAGER])
    assert transition(client, app, aid, "forward").status_code == 302
    with app.app_context():
        due = db.session.get(CreditApplication, aid).due_at
    assert due == datetime(2026, 12, 15, 2, 0, tzinfo=UTC)


def test_k6_gm_queue_sorted_by_time_left_with_overdue_derived_in_sql(
        app, client, staff, customer, frozen, make_application):
    now = frozen(datetime(2026, 12, 10, 2, 0, tzinfo=UTC))
    late = make_application(customer, staff[Role.SALES_REP], state="received",
                            received_at=now - timedelta(days=4, hours=3),
                            due_at=now - timedelta(days=1, hours=3))
    soon = make_application(customer, staff[Role.SALES_REP], state="received",
                            received_at=now - timedelta(days=2, hours=19),
                            due_at=now + timedelta(hours=5))
    later = make_application(customer, staff[Role.SALES_REP], state="received",
                             received_at=now, due_at=now + timedelta(days=3))
    make_application(customer, staff[Role.SALES_REP], state="submitted")  # not the GM's yet
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    page = client.get("/management/credit").get_data(as_text=True)
    positions = [page.index(f'id="credit-row-{i}"') for i in (late, soon, later)]
    assert positions == sorted(positions)
    assert page.count('data-testid="queue-row"') == 3
    assert "逾期 1 天 3 小时" in page and "剩余 5 小时" in page
    overdue_only = client.get("/management/credit?overdue=1").get_data(as_text=True)
    assert overdue_only.count('data-testid="queue-row"') == 1
    # no job ran: overdue comes from the stored deadline alone
    with app.app_context():
        assert db.session.get(CreditApplication, late).escalated_at is None


def test_k6_gm_queue_filters_by_department_grade_and_amount(app, client, staff, customer,
                                                            make_customer, make_application):
    other = make_customer("广州南方贸易有限公司", staff["rep_other_dept"])
    due = {"received_at": datetime(2026, 11, 2, tzinfo=UTC),
           "due_at": datetime(2026, 11, 5, tzinfo=UTC)}
    a = make_application(customer, staff[Role.SALES_REP], "received", "50000", "1", **due)
    b = make_application(other, staff["rep_other_dept"], "received", "500000", "3", **due)
    login_fast(client, app, staff[Role.GENERAL_MANAGER])

    def rows(query):
        page = client.get("/management/credit?" + query).get_data(as_text=True)
        return {i for i in (a, b) if f'id="credit-row-{i}"' in page}
    dept = staff["rep_other_dept"].department_id
    assert rows(f"department={dept}") == {b}
    assert rows("grade=1") == {a}
    assert rows("min=100000") == {b} and rows("max=100000") == {a}
    assert rows("min=abc") == {a, b}


def test_k6_bulk_approval_is_all_or_nothing(app, client, staff, customer, make_application):
    due = {"received_at": datetime(2026, 11, 2, tzinfo=UTC),
           "due_at": datetime(2026, 11, 5, tzinfo=UTC)}
    a = make_application(customer, staff[Role.SALES_REP], "received", **due)
    b = make_application(customer, staff[Role.SALES_REP], "received", **due)
    c = make_application(customer, staff[Role.SALES_REP], "draft")
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    ids = [f"{i}:{version_of(app, i)}" for i in (a, b, c)]
    assert post(client, "/management/credit/bulk", {"ids": ids}).status_code == 409
    assert {state_of(app, i) for i in (a, b)} == {"received"}
    response = post(client, "/management/credit/bulk", {"ids": ids[:2]},
                    headers={"HX-Request": "true", "HX-Target": "queue-rows"})
    assert response.status_code == 200 and "toast" in response.headers["HX-Trigger"]
    assert {state_of(app, i) for i in (a, b)} == {"approved"}
    with app.app_context():
        assert db.session.get(CreditApplication, a).approved_limit == Decimal("100000.00")


def test_k6_decision_notifies_the_applicant(app, client, staff, customer, make_application):
    aid = make_application(customer, staff[Role.SALES_REP], state="submitted")
    login_fast(client, app, staff[Role.SALES_MANAGER])
    transition(client, app, aid, "forward")
    with app.app_context():
        kinds = {(n.user_id, n.kind) for n in db.session.scalars(db.select(Notification))}
    assert (staff[Role.GENERAL_MANAGER].id, "credit_received") in kinds
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    transition(client, app, aid, "reject", comment="回款差")
    login_fast(client, app, staff[Role.SALES_REP])
    page = client.get("/notifications").get_data(as_text=True)
    assert "已驳回" in page


def test_k6_application_page_shows_the_diagram_with_the_current_state(app, client, staff,
                                                                     customer,
                                                                     make_application):
    aid = make_application(customer, staff[Role.SALES_REP], state="submitted")
    login_fast(client, app, staff[Role.SALES_REP])
    page = client.get(f"/sales/credit/{aid}").get_data(as_text=True)
    assert "<svg" in page and 'class="node current"' in page
    current = page.split('class="node current"')[1].split("</g>")[0]
    assert "待销售经理审核" in current or "销售经理" in current
    assert "stateDiagram" not in page and ":::" not in page  # no mermaid source for readers
    assert 'data-event="withdraw"' in page and 'data-event="submit"' not in page


def test_c6_applications_are_scoped_like_customers(app, client, staff, customer, make_customer,
                                                   make_application):
    mine = make_application(customer, staff[Role.SALES_REP])
    other = make_application(make_customer("广州南方贸易有限公司", staff["rep_other_dept"]),
                             staff["rep_other_dept"])
    login_fast(client, app, staff["rep_b"])
    assert client.get(f"/sales/credit/{mine}").status_code == 404
    login_fast(client, app, staff[Role.SALES_REP])
    listing = client.get("/sales/credit").get_data(as_text=True)
    assert f"/sales/credit/{mine}" in listing and f"/sales/credit/{other}" not in listing
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    assert client.get(f"/sales/credit/{other}").status_code == 200


def test_k4_k6_quarterly_review_prefills_and_submits_in_bulk(app, client, staff, customer,
                                                            make_customer, frozen):
    frozen(datetime(2026, 12, 5, 2, 0, tzinfo=UTC))
    quiet = make_customer("杭州之江贸易有限公司", staff["rep_b"])
    with app.app_context():
        db.session.get(Customer, quiet).relation = "customer"
        db.session.commit()
    login_fast(client, app, staff[Role.SALES_MANAGER])
    page = client.get("/sales/credit/review").get_data(as_text=True)
    assert "2027 Q1" in page and f'name="limit-{customer}" value="200000.00"' in page
    response = post(client, "/sales/credit/review", {
        f"include-{customer}": "1", f"grade-{customer}": "1", f"limit-{customer}": "190000",
        f"grade-{quiet}": "3", f"limit-{quiet}": "0"})  # quiet left unticked
    assert response.status_code == 302
    with app.app_context():
        [a] = db.session.scalars(db.select(CreditApplication)).all()
        assert (a.customer_id, a.state, a.proposed_limit, a.period_start) == (
            customer, "received", Decimal("190000.00"), date(2027, 1, 1))
        assert a.due_at is not None
    again = client.get("/sales/credit/review").get_data(as_text=True)
    assert f'name="limit-{customer}"' not in again


def test_k4_quarterly_review_refuses_a_bad_line_and_writes_nothing(app, client, staff,
                                                                  customer):
    login_fast(client, app, staff[Role.SALES_MANAGER])
    response = post(client, "/sales/credit/review", {
        f"include-{customer}": "1", f"grade-{customer}": "1", f"limit-{customer}": "很多"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(CreditApplication)) == 0


def test_engine_user_objects_are_loaded_for_guards(app, staff, customer, make_application):
    """fire() outside a request (as the jobs do) needs no request context for the guards."""
    aid = make_application(customer, staff[Role.SALES_REP], state="approved")
    with app.test_request_context():
        a = db.session.get(CreditApplication, aid)
        engine.fire(a, "activate", user=None)
        rep = db.session.get(User, staff[Role.SALES_REP].id)
        with pytest.raises(engine.NotAllowed):
            engine.fire(a, "supersede", user=rep)  # a system-only event
        db.session.commit()
    assert state_of(app, aid) == "effective"
    assert history(app, aid)[0][3] == "system"
    assert CreditFlow.PERMISSIONS["activate"] == frozenset({"system"})


def test_6_k6_a_decision_after_the_deadline_is_recorded_as_late(app, client, staff, customer,
                                                              frozen, make_application):
    """SECURITY.md 6: a decision after its deadline is handled by the rule, not by luck: the
    GM may still decide (the customer needs an answer), it was escalated, and the record says
    it came late."""
    received = frozen(datetime(2026, 11, 10, 2, 0, tzinfo=UTC))
    aid = make_application(customer, staff[Role.SALES_REP], state="received",
                           received_at=received, due_at=received + timedelta(days=3))
    frozen(received + timedelta(days=3, hours=2))
    with app.test_request_context("/"):
        from intranet.core.jobs import run_all
        run_all()
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    assert transition(client, app, aid, "approve").status_code == 302
    with app.app_context():
        a = db.session.get(CreditApplication, aid)
        assert a.escalated_at is not None and a.decided_at > a.due_at
    page = client.get(f"/sales/credit/{aid}").get_data(as_text=True)
    assert 'data-testid="decided-late"' in page
    on_time = make_application(customer, staff[Role.SALES_REP], state="received",
                               received_at=received + timedelta(days=3),
                               due_at=received + timedelta(days=6))
    transition(client, app, on_time, "approve")
    assert 'data-testid="decided-late"' not in client.get(
        f"/sales/credit/{on_time}").get_data(as_text=True)


@pytest.mark.parametrize("event", ["send", "__init__", "draft", "model", "activate"])
def test_6_unknown_or_system_event_is_a_409_not_a_500(app, client, staff, customer, event,
                                                      make_application):
    aid = make_application(customer, staff[Role.SALES_REP])
    login_fast(client, app, staff[Role.SALES_REP])
    assert transition(client, app, aid, event).status_code == 409
    assert state_of(app, aid) == "draft"


def test_c8_blacklisted_customer_gets_no_credit(app, client, staff, customer, make_application):
    draft = make_application(customer, staff[Role.SALES_REP])
    pending = make_application(customer, staff[Role.SALES_REP], state="received",
                               received_at=datetime(2026, 11, 2, tzinfo=UTC),
                               due_at=datetime(2026, 11, 5, tzinfo=UTC))
    with app.app_context():
        db.session.get(Customer, customer).blacklisted = True
        db.session.commit()
    login_fast(client, app, staff[Role.SALES_REP])
    assert client.get(f"/sales/customers/{customer}/credit/new").status_code == 409
    assert transition(client, app, draft, "submit").status_code == 409
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    assert transition(client, app, pending, "approve").status_code == 409
    assert transition(client, app, pending, "reject", comment="黑名单").status_code == 302


def test_6_k6_the_manager_who_forwarded_does_not_decide_as_gm_deputy(
        app, client, staff, customer, make_application):
    manager, gm = staff[Role.SALES_MANAGER], staff[Role.GENERAL_MANAGER]
    now = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    with app.app_context():
        db.session.add(Delegation(principal_id=gm.id, deputy_id=manager.id,
                                  role="general_manager", starts_at=now - timedelta(days=1),
                                  ends_at=now + timedelta(days=5), reason="出差",
                                  created_by_id=staff[Role.ADMIN].id))
        db.session.commit()
    aid = make_application(customer, staff[Role.SALES_REP], state="submitted")
    login_fast(client, app, manager)
    assert transition(client, app, aid, "forward").status_code == 302
    page = client.get(f"/sales/credit/{aid}").get_data(as_text=True)
    assert 'data-event="approve"' not in page
    assert transition(client, app, aid, "approve").status_code == 409
    login_fast(client, app, gm)
    assert transition(client, app, aid, "approve").status_code == 302


def test_huge_ids_and_amounts_are_refused_cleanly(app, client, staff):
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    assert client.get("/sales/credit/99999999999999999999").status_code == 404
    assert client.get("/management/credit?min=1e999999999&max=-1e99999").status_code == 200
    login_fast(client, app, staff[Role.FINANCE])
    assert post(client, "/finance/orders/99999999999999999999/release").status_code == 404


def test_c6_over_limit_list_is_scoped_for_sales_managers(app, client, staff, customer,
                                                         make_customer):
    from intranet.models import CreditBreach
    other = make_customer("广州南方贸易有限公司", staff["rep_other_dept"])
    with app.app_context():
        for cid in (customer, other):
            db.session.add(CreditBreach(customer_id=cid, credit_limit=1, receivables=2))
        db.session.commit()
    login_fast(client, app, staff[Role.SALES_MANAGER])
    page = client.get("/finance/over-limit").get_data(as_text=True)
    assert "上海华东机械有限公司" in page and "广州南方贸易有限公司" not in page
    login_fast(client, app, staff[Role.FINANCE])
    page = client.get("/finance/over-limit").get_data(as_text=True)
    assert "上海华东机械有限公司" in page and "广州南方贸易有限公司" in page


def test_notifications_for_a_customer_without_department_reach_no_manager(app, staff):
    from intranet.core.notifications import role_holders
    with app.app_context():
        assert role_holders(Role.SALES_MANAGER, None) == set()
        assert role_holders(Role.SALES_MANAGER, staff[Role.SALES_MANAGER].department_id) == {
            staff[Role.SALES_MANAGER].id}


def test_14_approvals_and_the_pdf_need_a_fresh_login(app, client, staff, customer,
                                                     make_application):
    from conftest import login
    aid = make_application(customer, staff[Role.SALES_REP], state="received",
                           received_at=datetime(2026, 11, 2, tzinfo=UTC),
                           due_at=datetime(2026, 11, 5, tzinfo=UTC))
    login(client, "gm", remember=True)
    restored = app.test_client()
    restored.set_cookie("remember_token", client.get_cookie("remember_token").value)
    assert restored.get("/management/credit").status_code == 200  # reading is fine
    for response in (restored.get(f"/sales/credit/{aid}/pdf"),
                     post(restored, f"/management/credit/{aid}/decide",
                          {"event": "approve", "version": 1})):
        assert response.status_code == 302 and "fresh=1" in response.headers["Location"]
    assert state_of(app, aid) == "received"


def test_k4_quarterly_review_keeps_the_managers_choices_after_an_error(
        app, client, staff, customer, make_customer):
    other = make_customer("杭州之江贸易有限公司", staff["rep_b"])
    with app.app_context():
        db.session.get(Customer, other).relation = "customer"
        db.session.commit()
    login_fast(client, app, staff[Role.SALES_MANAGER])
    response = post(client, "/sales/credit/review", {  # `other` unticked
        f"include-{customer}": "1", f"grade-{customer}": "2", f"limit-{customer}": "3千",
        f"grade-{other}": "3", f"limit-{other}": "0"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'name="limit-{customer}" value="3千"' in page  # what was typed, not the suggestion
    assert f'name="include-{other}" value="1" class="include"  aria-label' in page  # unticked
    assert f'name="include-{customer}" value="1" class="include" checked' in page


def test_k6_one_application_per_customer_and_quarter_in_progress(app, client, staff, customer,
                                                                 make_application, frozen):
    first = make_application(customer, staff[Role.SALES_REP], state="submitted")
    login_fast(client, app, staff[Role.SALES_REP])
    response = post(client, f"/sales/customers/{customer}/credit/new", {
        "period_start": "2027-01-01", "grade": "1", "proposed_limit": "1000"})
    assert response.status_code == 422
    with app.app_context():
        number = db.session.get(CreditApplication, first).number
        assert db.session.scalar(db.select(db.func.count()).select_from(CreditApplication)) == 1
    assert number in response.get_data(as_text=True)
    page = client.get(f"/sales/customers/{customer}").get_data(as_text=True)
    assert number in page  # the customer page lists its applications


def test_k2_approvers_see_the_formulas_suggestion(app, client, staff, customer, frozen,
                                                   make_application):
    aid = make_application(customer, staff[Role.SALES_REP], state="received", grade="1",
                           limit="500000", annual_sales=Decimal("1200000"),
                           monthly_sales=Decimal("100000"), payment_rate=Decimal("95"),
                           received_at=datetime(2026, 11, 2, tzinfo=UTC),
                           due_at=datetime(2026, 11, 5, tzinfo=UTC))
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    page = client.get(f"/sales/credit/{aid}").get_data(as_text=True)
    assert "公式建议：一级，¥200,000" in page and "over-suggestion" in page
    queue = client.get("/management/credit").get_data(as_text=True)
    assert "公式建议：一级，¥200,000" in queue


def test_k6_queue_row_keeps_what_the_gm_typed_after_an_error(app, client, staff, customer,
                                                            make_application):
    aid = make_application(customer, staff[Role.SALES_REP], state="received", limit="15000",
                           received_at=datetime(2026, 11, 2, tzinfo=UTC),
                           due_at=datetime(2026, 11, 5, tzinfo=UTC))
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    response = post(client, f"/management/credit/{aid}/decide",
                    {"event": "reject", "version": 1, "amount": "12000", "comment": ""},
                    headers={"HX-Request": "true"})
    row = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="12000"' in row and "请填写意见" in row


def test_6_k6_only_the_departments_manager_or_their_deputy_forwards(app, staff, customer, frozen,
                                                                    make_user, make_delegation,
                                                                    make_application):
    """The guard itself, below the page's scope check: a sales manager of another department
    (or standing in for one), or a deputy in another role, cannot forward; the department's
    manager and their deputy can. Submitting stamps the time; a decision names its maker."""
    east = make_user("manager_east", Role.SALES_MANAGER, department="sales2")
    stand_in = make_user("stand_in", Role.SALES_REP, department="sales3")
    other_deputy = make_user("east_deputy", Role.SALES_REP, department="sales3")
    make_delegation(staff[Role.SALES_MANAGER], stand_in, Role.SALES_MANAGER)
    make_delegation(east, other_deputy, Role.SALES_MANAGER)
    aid = make_application(customer, staff[Role.SALES_REP], state="draft")
    with app.test_request_context():
        row = db.session.get(CreditApplication, aid)
        people = {u.username: u for u in db.session.scalars(db.select(User))}
        engine.fire(row, "submit", user=people["rep"], expected_version=row.version)
        assert row.submitted_at == clock.now()
        for outsider in ("manager_east", "east_deputy"):
            assert "forward" not in engine.available_events(row, people[outsider]), outsider
            with pytest.raises(engine.NotAllowed):
                engine.fire(row, "forward", user=people[outsider], expected_version=row.version)
        assert "forward" in engine.available_events(row, people["manager"])
        engine.fire(row, "forward", user=people["stand_in"], expected_version=row.version)
        engine.fire(row, "reject", user=people["gm"], comment="不同意",
                    expected_version=row.version)
        assert (row.state, row.decided_by_id, row.decided_at, row.decision_comment) == (
            "rejected", people["gm"].id, clock.now(), "不同意")
        db.session.rollback()


def test_k4_approval_re_rates_the_customer_at_the_decision(app, staff, customer, frozen,
                                                           make_application):
    aid = make_application(customer, staff[Role.SALES_REP], state="received", grade="1",
                           received_at=datetime(2026, 11, 2, tzinfo=UTC),
                           due_at=datetime(2026, 11, 5, tzinfo=UTC))
    with app.test_request_context():
        row = db.session.get(CreditApplication, aid)
        gm = db.session.get(User, staff[Role.GENERAL_MANAGER].id)
        engine.fire(row, "approve", user=gm, comment="同意", expected_version=row.version)
        assert (row.customer.credit_grade, row.customer.credit_graded_at) == ("1", clock.now())
        assert (row.decided_by_id, row.decision_comment) == (gm.id, "同意")
        db.session.rollback()


def test_k6_notices_are_the_machines_so_a_transition_outside_a_page_notifies_too(
        app, staff, customer, make_application):
    """The machine declares who is told (engine.Notice); engine.fire posts it, whoever fires."""
    aid = make_application(customer, staff[Role.SALES_REP], state="draft")
    with app.test_request_context():
        application = db.session.get(CreditApplication, aid)
        engine.fire(application, "submit", user=db.session.get(User, staff[Role.SALES_REP].id))
        notes = db.session.scalars(db.select(Notification)).all()
        assert {(n.user_id, n.kind) for n in notes} == {
            (staff[Role.SALES_MANAGER].id, "credit_submitted")}
        assert notes[0].link == f"/sales/credit/{aid}"


def test_k6_a_reminder_does_not_make_the_gms_open_page_stale(app, client, staff, customer,
                                                              frozen, make_application):
    """The job's reminder and escalation markers are not changes of the application: the GM
    who opened it before the job ran still decides it (no 409)."""
    received = frozen(datetime(2026, 11, 10, 2, 0, tzinfo=UTC))
    aid = make_application(customer, staff[Role.SALES_REP], state="received",
                           received_at=received, due_at=received + timedelta(days=3))
    seen = version_of(app, aid)
    for later in (timedelta(days=2, hours=1), timedelta(days=3, hours=1)):  # remind, escalate
        frozen(received + later)
        with app.test_request_context("/"):
            from intranet.core.jobs import run_all
            run_all()
    with app.app_context():
        marked = db.session.get(CreditApplication, aid)
        assert marked.reminded_at is not None and marked.escalated_at is not None
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    response = post(client, f"/sales/credit/{aid}/transition",
                    {"event": "approve", "version": str(seen)})
    assert response.status_code == 302 and state_of(app, aid) == "approved"
