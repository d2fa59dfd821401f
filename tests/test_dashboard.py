"""Dashboards (rules Q2, V2, C6): the GM's and a manager's charts, their figures checked against
a small data set counted by hand, each chart's numbers equal to its table, and each reader's
scope."""
import base64
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import Activity, CreditBreach, Customer, Order
from tests.conftest import login_fast


def charts(client) -> dict[str, tuple[str, list[list[str]]]]:
    """{chart key: (the SVG, the table's rows of cells)} of the dashboard."""
    response = client.get("/management/dashboard")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    found = {}
    for key, body in re.findall(r'data-chart="(\w+)">(.*?)</section>', page, re.S):
        uri = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', body)
        svg = base64.b64decode(uri.group(1)).decode() if uri else ""
        rows = [re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row)
                for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>")[-1], re.S)]
        found[key] = (svg, rows)
    return found


@pytest.fixture
def data(app, staff, make_customer, make_case, frozen):
    """The manager's department: a VIP, two key and a general customer of the rep; another
    department: a VIP. Orders, an over-limit breach, cases and visits on both sides."""
    frozen(datetime(2026, 11, 2, 4, tzinfo=UTC))
    rep, elsewhere = staff[Role.SALES_REP], staff["rep_other_dept"]
    ids = {name: make_customer(name, owner) for name, owner in (
        ("甲", rep), ("乙", rep), ("丙", rep), ("丁", rep), ("外", elsewhere))}
    with app.app_context():
        for name, tier in (("甲", "vip"), ("乙", "key"), ("丙", "key"), ("丁", "general"),
                           ("外", "vip")):
            db.session.get(Customer, ids[name]).tier = tier
        for n, (name, on, amount) in enumerate((
                ("甲", date(2026, 10, 5), "1000"), ("乙", date(2026, 10, 20), "500"),
                ("丁", date(2026, 11, 1), "200"), ("外", date(2026, 11, 1), "9999"),
                ("甲", date(2025, 10, 31), "7777"))):  # the last: before the twelve months
            db.session.add(Order(customer_id=ids[name], number=f"SO{n}", ordered_on=on,
                                 amount=Decimal(amount), status="shipped"))
        db.session.add_all([
            CreditBreach(customer_id=ids["乙"], credit_limit=Decimal("3000"),
                         receivables=Decimal("5000")),
            CreditBreach(customer_id=ids["外"], credit_limit=Decimal("1"),
                         receivables=Decimal("8000"))])
        for name, day in (("甲", date(2026, 10, 8)), ("丁", date(2026, 10, 9)),
                          ("外", date(2026, 10, 10)), ("乙", date(2026, 9, 30))):
            at = datetime(day.year, day.month, day.day, 2, tzinfo=UTC)
            db.session.add(Activity(customer_id=ids[name], user_id=rep.id, kind="visit",
                                    purpose="sales", satisfaction=4 if name == "甲" else 2,
                                    summary="拜访", occurred_at=at))
            db.session.get(Customer, ids[name]).last_activity_at = at  # as record_visit does
        db.session.commit()
    make_case(kind="complaint", customer_id=ids["甲"])
    make_case(kind="consultation", customer_id=ids["乙"])
    make_case(kind="complaint", customer_id=ids["外"])
    return ids


def test_q2_the_manager_s_dashboard_counts_the_department_by_hand(app, client, staff, data):
    login_fast(client, app, staff[Role.SALES_MANAGER])
    found = charts(client)
    assert found["tiers"][1] == [["VIP（A）", "1"], ["重点（B）", "2"], ["一般（C）", "1"],
                                 ["储备", "0"]]
    sales = dict(found["sales"][1])
    assert (sales["2026-10"], sales["2026-11"], sales["2025-12"]) == (
        "¥1,500.00", "¥200.00", "¥0.00")
    assert "2025-11" not in sales and len(sales) == 12
    assert found["over_limit"][1] == [["乙", "¥5,000.00", "¥3,000.00"]]
    assert found["complaints"][1] == [["咨询", "1"], ["建议", "0"], ["投诉", "1"]]
    # Q4 2026: of 甲, 乙, 丙 (VIP and key) only 甲 was visited (乙 in Q3); satisfaction of
    # the quarter's visits 甲 4 and 丁 2
    assert found["visits"][1][-1] == ["2026 Q4", "33.3%", "1", "3", "3.0"]
    assert found["visits"][1][-2] == ["2026 Q3", "33.3%", "1", "3", "2.0"]


def test_q2_the_gm_s_dashboard_counts_every_customer(app, client, staff, data):
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    found = charts(client)
    assert [row[1] for row in found["tiers"][1]] == ["2", "2", "1", "0"]
    assert dict(found["sales"][1])["2026-11"] == "¥10,199.00"
    assert [row[0] for row in found["over_limit"][1]] == ["外", "乙"]  # largest first
    assert found["complaints"][1][2] == ["投诉", "2"]
    # 外 joins the quarter's visits: (4 + 2 + 2) / 3
    assert found["visits"][1][-1] == ["2026 Q4", "50.0%", "2", "4", "2.7"]


def test_q2_every_chart_s_numbers_are_its_table_s(app, client, staff, data):
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    for key, (svg, rows) in charts(client).items():
        drawn = re.findall(r'<desc class="value">([^<]*)</desc>', svg)
        series = len(rows[0]) - 1 if key != "visits" else 1
        tabled = [row[1 + s] for s in range(series) for row in rows if row[1 + s] != "—"]
        assert sorted(drawn) == sorted(tabled), key  # a horizontal chart draws bottom up
        for label in (row[0] for row in rows):  # the labels are text in the SVG, in Chinese
            assert f">{label}<" in svg, (key, label)


def test_c6_only_managers_and_the_gm_have_a_dashboard(app, client, staff):
    for role in (Role.SALES_REP, Role.SERVICE_DESK, Role.FINANCE):
        login_fast(client, app, staff[role])
        assert client.get("/management/dashboard").status_code == 403

