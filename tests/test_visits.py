"""Visits (rules V1-V3): what a visit records, what it counts for, and the visit obligations by
tier with their due days — on the customer page, in the visits-due list (SQL) and in the
quarter's coverage figure. Follow-up tasks (V3, V4) are in test_follow_ups.py."""
import json
import random
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from intranet.core import settings
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import Activity, AuditEntry, Customer
from intranet.visits import cadence
from tests.conftest import login_fast, post

SHANGHAI_NOON = timedelta(hours=4)  # 12:00 in Shanghai is 04:00 UTC


def at_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + SHANGHAI_NOON


def set_tier(app, customer_id: int, tier: str, **marks) -> None:
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        customer.tier = tier
        for column, value in marks.items():
            setattr(customer, column, value)
        db.session.commit()


def visit(client, customer_id: int, day: date, kind: str = "visit", **extra):
    body = {"kind": kind, "purpose": "relationship", "occurred_at": f"{day.isoformat()}T10:00",
            "summary": "现场拜访，了解需求", **extra}
    return post(client, f"/sales/customers/{customer_id}/activities", body)


def move_to(frozen, app, client, user, day: date) -> None:
    """Move the clock (a session does not survive months) and sign in again."""
    frozen(at_noon(day))
    login_fast(client, app, user)


def due_ids(client, **args) -> set[int]:
    response = client.get("/sales/visits", query_string=args)
    assert response.status_code == 200
    return {int(i) for i in re.findall(r'data-customer="(\d+)"', response.get_data(as_text=True))}


@pytest.fixture
def vip(app, staff, make_customer, frozen):
    frozen(at_noon(date(2026, 1, 5)))
    customer_id = make_customer("上海华兴机械有限公司", staff[Role.SALES_REP])
    set_tier(app, customer_id, "vip")
    return customer_id


def test_v1_v3_a_visit_records_purpose_channel_who_went_and_satisfaction(app, client, staff,
                                                                         vip, frozen):
    frozen(at_noon(date(2026, 7, 1)))
    gm = staff[Role.GENERAL_MANAGER]
    login_fast(client, app, staff[Role.SALES_REP])
    response = visit(client, vip, date(2026, 7, 1), purpose="guidance", satisfaction="4",
                     participants=str(gm.id), next_action_on="2026-07-20")
    assert response.status_code == 302
    with app.app_context():
        activity = db.session.scalar(select(Activity).where(Activity.customer_id == vip))
        assert (activity.kind, activity.purpose, activity.satisfaction) == ("visit", "guidance", 4)
        assert [p.id for p in activity.participants] == [gm.id]
        assert (activity.by_head, activity.by_gm, activity.by_owner) == (True, True, True)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "activity"))
        assert json.loads(entry.details)["participants"] == [gm.id]
    page = client.get(f"/sales/customers/{vip}").get_data(as_text=True)
    assert "客户指导" in page and "Gm" in page  # the purpose, and who went with the rep


@pytest.mark.parametrize("field,value", [
    ("purpose", "bribery"), ("satisfaction", "6"), ("satisfaction", "0"), ("kind", "fax"),
    ("participants", "999999"), ("occurred_at", "2026-07-02T10:00"),
    ("next_action_on", "2026-06-30")])
def test_v1_v3_a_visit_outside_the_lists_is_refused_and_nothing_is_written(
        app, client, staff, vip, frozen, field, value):
    frozen(at_noon(date(2026, 7, 1)))
    login_fast(client, app, staff[Role.SALES_REP])
    response = visit(client, vip, date(2026, 7, 1), **{field: value})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(Activity.id).where(Activity.customer_id == vip)) is None
        assert db.session.get(Customer, vip).visit_rep_on is None


def test_v2_a_visit_counts_on_site_with_a_head_for_the_head_and_with_the_gm_for_the_gm(
        app, client, staff, vip, frozen):
    frozen(at_noon(date(2026, 7, 10)))
    login_fast(client, app, staff[Role.SALES_REP])
    visit(client, vip, date(2026, 7, 1))  # the rep alone, on site
    visit(client, vip, date(2026, 7, 2), kind="phone",  # the GM on the phone: not on site
          participants=str(staff[Role.GENERAL_MANAGER].id))
    with app.app_context():
        customer = db.session.get(Customer, vip)
        assert (customer.visit_head_on, customer.visit_gm_on) == (None, None)
        assert customer.visit_rep_on == date(2026, 7, 2)
    visit(client, vip, date(2026, 7, 3), participants=str(staff[Role.SALES_MANAGER].id))
    with app.app_context():
        customer = db.session.get(Customer, vip)
        assert (customer.visit_head_on, customer.visit_gm_on) == (date(2026, 7, 3), None)
    visit(client, vip, date(2026, 7, 4), participants=str(staff[Role.GENERAL_MANAGER].id))
    visit(client, vip, date(2026, 7, 2))  # an older visit logged late moves no mark back
    with app.app_context():
        customer = db.session.get(Customer, vip)
        assert (customer.visit_head_on, customer.visit_gm_on) == (date(2026, 7, 4),
                                                                  date(2026, 7, 4))


@pytest.mark.parametrize("visited", [date(2026, 7, 1), date(2026, 9, 30)])
def test_v2_a_vip_visited_on_the_first_or_the_last_day_of_a_quarter_is_due_by_the_end_of_the_next(
        app, client, staff, vip, frozen, visited):
    """Once a quarter means once in every calendar quarter: a visit on 1 July and one on
    30 September both leave the next due by 31 December, overdue from 1 January."""
    frozen(at_noon(visited))
    login_fast(client, app, staff[Role.SALES_REP])
    assert visit(client, vip, visited,
                 participants=str(staff[Role.SALES_MANAGER].id)).status_code == 302
    page = client.get(f"/sales/customers/{vip}").get_data(as_text=True)
    row = re.search(r'data-obligation="vip_head".*?data-testid="due-on">([^<]+)<', page, re.S)
    assert row.group(1).strip() == "2026-12-31"
    move_to(frozen, app, client, staff[Role.SALES_MANAGER], date(2026, 12, 31))
    assert vip not in due_ids(client, obligation="vip_head")
    assert vip in due_ids(client, obligation="vip_head", when="soon")
    move_to(frozen, app, client, staff[Role.SALES_MANAGER], date(2027, 1, 1))
    assert vip in due_ids(client, obligation="vip_head")
    assert vip not in due_ids(client, obligation="vip_head", when="soon")


def test_v2_a_general_customer_is_covered_by_the_head_each_half_year_or_else_the_rep_monthly(
        app, client, staff, make_customer, frozen):
    frozen(at_noon(date(2026, 1, 5)))
    general = make_customer("杭州明远贸易有限公司", staff[Role.SALES_REP])
    set_tier(app, general, "general")
    rep = staff[Role.SALES_REP]
    move_to(frozen, app, client, rep, date(2026, 4, 20))
    assert general in due_ids(client)  # added in the first half year, never visited
    visit(client, general, date(2026, 4, 20), kind="phone")  # the rep's monthly call
    assert general not in due_ids(client)
    # May passed without a call or a head's visit
    move_to(frozen, app, client, rep, date(2026, 6, 1))
    assert general in due_ids(client)
    move_to(frozen, app, client, rep, date(2026, 7, 1))
    assert visit(client, general, date(2026, 7, 1),
                 participants=str(staff[Role.SALES_MANAGER].id)).status_code == 302
    # the head's visit covers the whole second half year: the rep is next due in January
    move_to(frozen, app, client, rep, date(2027, 1, 31))
    assert general not in due_ids(client)
    move_to(frozen, app, client, rep, date(2027, 2, 1))
    assert general in due_ids(client)


def test_v2_the_periods_are_settings(app, client, staff, vip, frozen):
    frozen(at_noon(date(2026, 7, 1)))
    login_fast(client, app, staff[Role.SALES_REP])
    visit(client, vip, date(2026, 7, 1), participants=str(staff[Role.SALES_MANAGER].id))
    move_to(frozen, app, client, staff[Role.SALES_REP], date(2026, 9, 1))
    assert vip not in due_ids(client, obligation="vip_head")
    with app.test_request_context():
        assert settings.update({"visit_vip_head_months": "1"}) == {}
        db.session.commit()
    assert vip in due_ids(client, obligation="vip_head")  # July's visit covered August only


def test_v2_the_gm_sees_the_vip_customers_they_owe_a_visit(app, client, staff, vip,
                                                          make_customer, frozen):
    other = make_customer("苏州恒通电子有限公司", staff[Role.SALES_REP])
    set_tier(app, other, "vip", visit_gm_on=date(2026, 7, 3))
    move_to(frozen, app, client, staff[Role.GENERAL_MANAGER], date(2026, 8, 1))
    page = client.get("/sales/visits").get_data(as_text=True)
    assert "我应拜访的 VIP 客户" in page
    assert due_ids(client, obligation="vip_gm", when="period") == {vip}
    assert due_ids(client, obligation="vip_gm") == set()  # owed by December, not overdue


def test_v2_c6_each_reader_sees_the_visits_due_of_their_own_customers(app, client, staff,
                                                                      make_customer, frozen):
    frozen(at_noon(date(2025, 1, 5)))
    mine = make_customer("甲公司", staff[Role.SALES_REP])
    colleague = make_customer("乙公司", staff["rep_b"])
    elsewhere = make_customer("丙公司", staff["rep_other_dept"])
    for customer_id in (mine, colleague, elsewhere):
        set_tier(app, customer_id, "key")
    frozen(at_noon(date(2026, 11, 2)))
    for who, expected in ((staff[Role.SALES_REP], {mine}),
                          (staff[Role.SALES_MANAGER], {mine, colleague}),
                          (staff[Role.GENERAL_MANAGER], {mine, colleague, elsewhere})):
        login_fast(client, app, who)
        assert due_ids(client) == expected, who.username
    login_fast(client, app, staff[Role.SERVICE_DESK])
    assert client.get("/sales/visits").status_code == 403


def test_v2_important_customers_visited_this_quarter_is_counted_by_hand(app, client, staff,
                                                                         make_customer, frozen):
    """Three VIP/key customers of the rep, a general one and a colleague's VIP: the rep's
    figure is the visited ones of its three (2 of 3, 67 %), whoever visited and however."""
    frozen(at_noon(date(2026, 9, 1)))
    ids = [make_customer(name, staff[Role.SALES_REP]) for name in ("甲", "乙", "丙", "丁")]
    for customer_id, tier in zip(ids, ("vip", "key", "key", "general"), strict=True):
        set_tier(app, customer_id, tier)
    theirs = make_customer("戊", staff["rep_b"])
    set_tier(app, theirs, "vip")
    move_to(frozen, app, client, staff[Role.SALES_REP], date(2026, 10, 20))
    visit(client, ids[0], date(2026, 10, 1), kind="phone")
    visit(client, ids[1], date(2026, 10, 2))
    visit(client, ids[2], date(2026, 9, 30))  # the quarter before
    visit(client, ids[3], date(2026, 10, 3))  # not an important customer
    page = client.get("/sales/visits").get_data(as_text=True)
    assert re.search(r"2026-10-01.*2026-12-31.*?<strong>\s*2 / 3 \(67%\)", page, re.S)


def test_v2_the_sql_due_days_equal_the_customer_page_s(app, staff, make_customer, frozen):
    """Random tiers, last visits, creation days and periods: the list's SQL and the page's
    Python agree on every obligation's "due before D" for every D around the period ends."""
    rng = random.Random(14)
    frozen(at_noon(date(2024, 1, 1)))
    ids = []
    for n in range(40):
        frozen(at_noon(date(2024, 1, 1) + timedelta(days=rng.randrange(700))))
        ids.append(make_customer(f"客户{n}", staff[Role.SALES_REP]))

    def maybe_day():
        return None if rng.random() < 0.3 else date(2024, 1, 1) + timedelta(
            days=rng.randrange(1000))
    for customer_id in ids:
        set_tier(app, customer_id, rng.choice(("vip", "key", "general", "reserve")),
                 visit_head_on=maybe_day(), visit_gm_on=maybe_day(), visit_rep_on=maybe_day())
    frozen(at_noon(date(2026, 11, 2)))
    with app.test_request_context():
        settings.update({"visit_general_head_months": "12", "visit_key_head_months": "2"})
        db.session.commit()
        customers = db.session.scalars(select(Customer).where(Customer.id.in_(ids))).all()
        checked = 0
        for day in (date(2026, 1, 1), date(2026, 2, 28), date(2026, 3, 1), date(2026, 6, 30),
                    date(2026, 7, 1), date(2026, 12, 31), date(2027, 1, 1), date(2027, 5, 17)):
            for obligation in cadence.OBLIGATIONS:
                in_sql = set(db.session.scalars(select(Customer.id).where(
                    Customer.id.in_(ids), cadence.due_before(obligation, day))))
                in_python = {c.id for c in customers for s in cadence.statuses(c, day)
                             if s.obligation is obligation and s.due_on < day}
                assert in_sql == in_python, (day, obligation.key)
                checked += len(in_sql)
        assert checked > 20  # the data set exercised the comparison
