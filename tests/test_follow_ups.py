"""Follow-up tasks (rules V3, V4): the next follow-up a visit asks for and the follow-ups after
a new customer's first order, on the customer page, the home page, the inbox and the
follow-ups list, completed by the next contact logged."""
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from intranet.core import settings
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import FollowUp, Order
from tests.conftest import login_fast, post
from tests.test_import_export import upload


def at_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 4, tzinfo=UTC)  # 12:00 in Shanghai


def open_tasks(app, customer_id: int) -> list[tuple]:
    with app.app_context():
        return [(t.reason, t.after_days, t.due_on) for t in db.session.scalars(
            select(FollowUp).where(FollowUp.customer_id == customer_id,
                                   FollowUp.done_at.is_(None)).order_by(FollowUp.due_on))]


@pytest.fixture
def new_customer(app, staff, make_customer, make_application, frozen):
    """A new customer of the rep with a ¥100,000 limit in force this quarter (rule K7 lets its
    orders through) and no order yet."""
    frozen(at_noon(date(2026, 11, 2)))
    customer_id = make_customer("新客户有限公司", staff[Role.SALES_REP])
    make_application(customer_id, staff[Role.SALES_REP], state="approved", limit="100000",
                     approved_limit=Decimal("100000"), period_start=date(2026, 10, 1),
                     decided_at=datetime(2026, 9, 20, tzinfo=UTC))
    return customer_id


def order(client, customer_id: int, day: date, number: str = "SO-1"):
    return post(client, f"/sales/customers/{customer_id}/orders/new",
                {"number": number, "ordered_on": day.isoformat(), "amount": "1000"})


def contact(client, customer_id: int, day: date, **extra):
    return post(client, f"/sales/customers/{customer_id}/activities", {
        "kind": "phone", "purpose": "relationship", "occurred_at": f"{day.isoformat()}T10:00",
        "summary": "电话回访", **extra})


def test_v4_a_new_customer_s_first_order_asks_for_follow_ups_at_3_30_and_60_days(
        app, client, staff, new_customer):
    customer_id = new_customer
    login_fast(client, app, staff[Role.SALES_REP])
    assert order(client, customer_id, date(2026, 11, 2)).status_code == 302
    assert open_tasks(app, customer_id) == [
        ("first_purchase", 3, date(2026, 11, 5)), ("first_purchase", 30, date(2026, 12, 2)),
        ("first_purchase", 60, date(2027, 1, 1))]
    assert order(client, customer_id, date(2026, 11, 2), "SO-2").status_code == 302
    assert len(open_tasks(app, customer_id)) == 3  # a second order asks for nothing


def test_v4_a_contact_completes_the_follow_ups_due_within_a_week_of_it(
        app, client, staff, new_customer, frozen):
    customer_id = new_customer
    login_fast(client, app, staff[Role.SALES_REP])
    order(client, customer_id, date(2026, 11, 2))
    frozen(at_noon(date(2026, 11, 4)))
    login_fast(client, app, staff[Role.SALES_REP])
    assert contact(client, customer_id, date(2026, 11, 4)).status_code == 302
    assert [t[1] for t in open_tasks(app, customer_id)] == [30, 60]
    frozen(at_noon(date(2026, 11, 25)))  # 7 days before the 30-day follow-up
    login_fast(client, app, staff[Role.SALES_REP])
    contact(client, customer_id, date(2026, 11, 24))
    assert [t[1] for t in open_tasks(app, customer_id)] == [30, 60]  # 8 days before: kept
    contact(client, customer_id, date(2026, 11, 25))
    assert [t[1] for t in open_tasks(app, customer_id)] == [60]
    with app.app_context():
        done = db.session.scalars(select(FollowUp).where(FollowUp.after_days == 30)).one()
        assert done.done_by_activity_id is not None


def test_v4_the_follow_up_days_are_a_setting_and_only_those_still_ahead_are_asked(
        app, client, staff, new_customer):
    customer_id = new_customer
    with app.test_request_context():
        assert settings.update({"follow_up_days": "10，5 5"}) == {}
        assert "follow_up_days" in settings.update({"follow_up_days": "3 x"})
        db.session.commit()
    login_fast(client, app, staff[Role.SALES_REP])
    order(client, customer_id, date(2026, 10, 25))  # entered 8 days late: the 5th is past
    assert open_tasks(app, customer_id) == [("first_purchase", 10, date(2026, 11, 4))]


def test_v4_imported_orders_ask_for_follow_ups_only_for_a_first_purchase(
        app, client, staff, make_customer, frozen):
    frozen(at_noon(date(2026, 11, 2)))
    new = make_customer("导入新客户有限公司", staff[Role.SALES_REP])
    old = make_customer("导入老客户有限公司", staff[Role.SALES_REP])
    with app.app_context():
        db.session.add(Order(customer_id=old, number="OLD-1", ordered_on=date(2025, 3, 1),
                             amount=500))
        db.session.commit()
    login_fast(client, app, staff[Role.FINANCE])
    rows = ("类型,客户,日期,金额,单号\n订单,导入新客户有限公司,2026-11-01,600,SO1\n"
            "订单,导入老客户有限公司,2026-11-01,600,SO2\n")
    assert upload(client, "/finance/transactions/import", rows.encode(),
                  "t.csv").status_code == 200
    assert [t[2] for t in open_tasks(app, new)] == [date(2026, 11, 4), date(2026, 12, 1),
                                                    date(2026, 12, 31)]
    assert open_tasks(app, old) == []


def test_v3_a_visit_s_next_follow_up_is_a_task_on_the_home_page_inbox_and_list(
        app, client, staff, make_customer, frozen):
    frozen(at_noon(date(2026, 11, 2)))
    customer_id = make_customer("回访客户有限公司", staff[Role.SALES_REP])
    login_fast(client, app, staff[Role.SALES_REP])
    assert contact(client, customer_id, date(2026, 11, 2),
                   next_action_on="2026-11-06").status_code == 302
    assert open_tasks(app, customer_id) == [("next_action", None, date(2026, 11, 6))]
    home = client.get("/").get_data(as_text=True)
    assert "本周到期的回访" in home and "回访客户有限公司: 2026-11-06" in home
    inbox = client.get("/inbox").get_data(as_text=True)
    assert 'data-testid="inbox-follow-ups"' in inbox and "回访客户有限公司" in inbox
    listed = client.get("/sales/follow-ups").get_data(as_text=True)
    assert "回访客户有限公司" in listed and "拜访时约定的回访" in listed
    login_fast(client, app, staff["rep_b"])  # C6: a colleague's customer's tasks are not shown
    assert "回访客户有限公司" not in client.get("/sales/follow-ups").get_data(as_text=True)
    assert 'data-testid="inbox-follow-ups"' not in client.get("/inbox").get_data(as_text=True)
    login_fast(client, app, staff[Role.SALES_MANAGER])
    assert "回访客户有限公司" in client.get("/sales/follow-ups").get_data(as_text=True)
    frozen(at_noon(date(2026, 11, 7)))
    login_fast(client, app, staff[Role.SALES_REP])
    assert "已逾期" in client.get("/sales/follow-ups").get_data(as_text=True)
    contact(client, customer_id, date(2026, 11, 7))
    assert open_tasks(app, customer_id) == []
    done = client.get("/sales/follow-ups?status=done").get_data(as_text=True)
    assert "回访客户有限公司" in done
