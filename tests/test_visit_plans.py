"""Visit plans (issue 14 §4, rule V2): a rep plans next month's visits; the manager sees the
department's plan against the visit obligations and what stays uncovered (C6)."""
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import Customer, VisitPlan
from tests.conftest import login_fast, post


def ids(page: str, attribute: str) -> set[int]:
    return {int(i) for i in re.findall(rf'{attribute}="(\d+)"', page)}


@pytest.fixture
def owed(app, staff, make_customer, frozen):
    """Key customers added in 2026-Q2, never visited, owed a head's visit by 2026-12-31: two of
    the rep's, one of the colleague's, one in another department."""
    frozen(datetime(2026, 5, 4, 4, tzinfo=UTC))
    made = {name: make_customer(name, owner) for name, owner in (
        ("甲", staff[Role.SALES_REP]), ("乙", staff[Role.SALES_REP]), ("丙", staff["rep_b"]),
        ("丁", staff["rep_other_dept"]))}
    with app.app_context():
        for customer_id in made.values():
            db.session.get(Customer, customer_id).tier = "key"
        db.session.commit()
    frozen(datetime(2026, 11, 20, 4, tzinfo=UTC))
    return made


def plan(client, customer_id, day, month="2026-12", **extra):
    return post(client, f"/sales/visit-plans?month={month}", {
        "customer_id": str(customer_id), "planned_on": day, "note": "季度拜访", **extra})


def test_v2_a_rep_plans_next_month_and_the_plan_covers_what_is_owed(app, client, staff, owed):
    login_fast(client, app, staff[Role.SALES_REP])
    page = client.get("/sales/visit-plans").get_data(as_text=True)  # next month by default
    assert "2026-12" in page and ids(page, "data-customer") == {owed["甲"], owed["乙"]}
    assert plan(client, owed["甲"], "2026-12-08").status_code == 302
    assert plan(client, owed["甲"], "2026-12-08").status_code == 302  # the same: kept once
    page = client.get("/sales/visit-plans?month=2026-12").get_data(as_text=True)
    assert ids(page, "data-customer") == {owed["乙"]}
    assert "2026-12-08" in page and "季度拜访" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(VisitPlan)) == 1


@pytest.mark.parametrize("customer,day", [
    ("丙", "2026-12-08"),  # a colleague's customer
    ("丁", "2026-12-08"),  # another department's
    ("甲", "2027-01-04"),  # not in the month
    ("甲", "2026-11-19"),  # in the past
    ("甲", "x")])
def test_v2_a_plan_outside_the_rep_s_customers_or_the_month_is_refused(
        app, client, staff, owed, customer, day):
    login_fast(client, app, staff[Role.SALES_REP])
    month = "2026-11" if day == "2026-11-19" else "2026-12"
    assert plan(client, owed[customer], day, month=month).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(VisitPlan)) == 0


def test_c6_the_manager_sees_the_department_s_plans_and_gaps(app, client, staff, owed):
    login_fast(client, app, staff[Role.SALES_REP])
    plan(client, owed["甲"], "2026-12-08")
    login_fast(client, app, staff["rep_other_dept"])
    plan(client, owed["丁"], "2026-12-09")
    login_fast(client, app, staff[Role.SALES_MANAGER])
    page = client.get("/sales/visit-plans?month=2026-12").get_data(as_text=True)
    assert "甲" in page and "丁" not in page  # the other department's plan is not shown
    assert ids(page, "data-customer") == {owed["乙"], owed["丙"]}
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    page = client.get("/sales/visit-plans?month=2026-12").get_data(as_text=True)
    assert len(ids(page, "data-plan")) == 2 and 'name="customer_id"' not in page


def test_a_rep_removes_only_their_own_planned_visit(app, client, staff, owed):
    login_fast(client, app, staff[Role.SALES_REP])
    plan(client, owed["甲"], "2026-12-08")
    with app.app_context():
        plan_id = db.session.scalar(select(VisitPlan.id))
    login_fast(client, app, staff["rep_b"])
    assert post(client, f"/sales/visit-plans/{plan_id}/delete").status_code == 404
    login_fast(client, app, staff[Role.SALES_REP])
    assert post(client, f"/sales/visit-plans/{plan_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(VisitPlan, plan_id) is None


def test_a_customer_owed_a_visit_is_planned_from_the_list_in_one_tap(app, client, staff, owed):
    login_fast(client, app, staff[Role.SALES_REP])
    page = client.get("/sales/visit-plans?month=2026-12").get_data(as_text=True)
    link = f"/sales/visit-plans?month=2026-12&amp;customer={owed['甲']}#plan-form"
    assert link in page
    form = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert re.search(rf'<option selected value="{owed["甲"]}">|<option value="{owed["甲"]}" '
                     r'selected', form)


def test_v2_each_plan_says_whether_the_visit_was_made(app, client, staff, owed, frozen):
    """A plan is kept when the customer is contacted on its day or later in the month; once
    its day has passed without one it is not done; a manager can look at one rep's plans."""
    from intranet.models import Activity
    with app.app_context():
        rep, rep_b = staff[Role.SALES_REP].id, staff["rep_b"].id
        for who, customer, day in ((rep, "甲", 3), (rep, "乙", 4), (rep_b, "丙", 5),
                                   (rep, "甲", 28)):
            db.session.add(VisitPlan(user_id=who, customer_id=owed[customer],
                                     planned_on=datetime(2026, 12, day).date()))
        db.session.add(Activity(customer_id=owed["甲"], user_id=rep, kind="visit",
                                summary="拜访", occurred_at=datetime(2026, 12, 4, 2, tzinfo=UTC)))
        db.session.commit()
    frozen(datetime(2026, 12, 10, 4, tzinfo=UTC))
    login_fast(client, app, staff[Role.SALES_MANAGER])

    def statuses(url):
        page = client.get(url).get_data(as_text=True)
        return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(
            r'data-testid="plan-status">(.*?)</td>', page, re.S)]
    # 甲 planned on the 3rd, visited on the 4th; 乙 and 丙 not visited; 甲 again on the 28th
    assert statuses("/sales/visit-plans?month=2026-12") == [
        "已拜访 2026-12-04", "未执行", "未执行", "待拜访"]
    assert statuses(f"/sales/visit-plans?month=2026-12&owner={rep_b}") == ["未执行"]
