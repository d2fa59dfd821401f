"""Issue 12: the heaviest list pages do their per-row work once per page. Row links are filled
from one URL pattern, dates are printed without Babel's pattern formatter, each page issues a
constant number of statements, and the counts behind the case queue, the shared pool and the
home page widgets read an index (EXPLAIN QUERY PLAN; SQLite, where the planner has no
statistics and these plans are the ones the benchmark measured)."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from conftest import counting_selects, login_fast
from flask import url_for
from flask_babel import force_locale, format_datetime
from test_list_pages import statements_of

from intranet.core import settings
from intranet.core.clock import local_day, local_minutes
from intranet.core.querystring import url_pattern
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import Customer, CustomerPool


def test_a_url_pattern_builds_the_same_links_as_url_for(app):
    with app.test_request_context():
        for endpoint, key in (("service.case", "case_id"),
                              ("management.credit_decide", "application_id"),
                              ("sales.pool_claim", "customer_id")):
            pattern = url_pattern(endpoint, key)
            for value in (1, 42, 2**31 - 2):
                assert pattern % value == url_for(endpoint, **{key: value})
        with pytest.raises(ValueError):
            url_pattern("service.queue", "case_id")  # the id would land in the query string


@pytest.mark.parametrize(("locale", "zone"), [("zh_Hans_CN", None), ("en", None),
                                              ("zh_Hans_CN", "Europe/Berlin")])
def test_dates_print_as_babel_prints_them(app, locale, zone):
    moments = [datetime(2026, 11, 29, 16, 5, tzinfo=UTC), datetime(2026, 12, 31, 16, 0,
                                                                    tzinfo=UTC),
               datetime(2027, 1, 1, 3, 59, 59),  # naive: taken as UTC by both
               # either side of Berlin's summer time changes
               datetime(2026, 3, 29, 0, 59, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
               datetime(2026, 10, 25, 0, 59, tzinfo=UTC),
               datetime(2026, 10, 25, 1, 0, tzinfo=UTC)]
    if zone:
        with app.test_request_context():
            assert settings.update({"timezone": zone}) == {}
            db.session.commit()
    with app.test_request_context(), force_locale(locale):
        for moment in moments:
            assert local_minutes(moment) == format_datetime(moment, "yyyy-MM-dd HH:mm")
            assert local_day(moment) == format_datetime(moment, "yyyy-MM-dd")


def _statements(app, client, url):
    with counting_selects(app) as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_the_case_pages_issue_the_same_statements_with_more_cases(app, client, staff,
                                                                   make_case):
    login_fast(client, app, staff[Role.COMPLAINT_HANDLER])
    make_case("investigating")
    client.get("/service/queue")  # the worker's first request also reads the settings
    seen = []
    for more in (1, 3):
        for _ in range(more):
            make_case("investigating", severity="severe")
        seen.append((_statements(app, client, "/service/queue"),
                     _statements(app, client, "/service/ledger")))
    assert seen[0] == seen[1]
    body = client.get("/service/queue").get_data(as_text=True)
    assert len(re.findall(r'data-testid="case-row"', body)) == 5
    assert len(re.findall(r'href="/service/cases/\d+"', body)) == 5


def test_the_pool_and_the_requests_issue_the_same_statements_with_more_rows(
        app, client, staff):
    rep = staff[Role.SALES_REP]
    with app.app_context():
        pool = CustomerPool(name="测试公海")
        db.session.add(pool)
        db.session.commit()
        pool_id = pool.id

    def add(count):
        with app.app_context():
            db.session.add_all(Customer(name=f"公海客户{count}-{i}", pool_id=pool_id)
                               for i in range(count))
            db.session.commit()
    login_fast(client, app, rep)
    add(1)
    client.get("/sales/pool")
    seen = []
    for count in (2, 5):
        add(count)
        seen.append((_statements(app, client, "/sales/pool"),
                     _statements(app, client, "/sales/requests")))
    assert seen[0] == seen[1]
    body = client.get("/sales/pool").get_data(as_text=True)
    claims = re.findall(r'href="(/sales/pool/\d+/claim)"', body)
    assert len(claims) == 8 and client.get(claims[0]).status_code == 200


# --- query plans (SQLite) ------------------------------------------------------------------

def _plans(app, client, url, pattern):
    """EXPLAIN QUERY PLAN of each statement of the page whose text matches `pattern`."""
    seen = statements_of(app, client, url, lambda text: re.search(pattern, text))
    with app.app_context():
        connection = db.session.connection()
        plans = ["\n".join(r[-1] for r in connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters).all())
            for statement, parameters in seen]
        db.session.rollback()
    return plans


@pytest.fixture
def sqlite_only(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite's plans; PostgreSQL plans by its statistics")


def test_the_case_queue_reads_each_branch_of_mine_from_its_index(app, client, staff,
                                                                  sqlite_only):
    login_fast(client, app, staff[Role.COMPLAINT_HANDLER])
    for plan in _plans(app, client, "/service/queue", r"FROM service_case WHERE"):
        for index in ("ix_service_case_handler_queue", "ix_service_case_leader_queue",
                      "ix_service_case_registered_queue"):
            assert index in plan, plan


def test_the_pool_counts_from_its_index_alone(app, client, staff, sqlite_only):
    login_fast(client, app, staff[Role.SALES_REP])
    [plan] = _plans(app, client, "/sales/pool", r"^SELECT count\(\*\).* FROM customer")
    assert "COVERING INDEX ix_customer_pool_owner" in plan, plan


def test_home_page_widgets_read_an_index_not_every_row(app, client, staff, sqlite_only):
    login_fast(client, app, staff[Role.SALES_MANAGER])
    [plan] = _plans(app, client, "/", r"FILTER \(WHERE service_case")
    # each alternative of the scope with the state: not every case of the department
    assert "ix_service_case_department_state (department_id=? AND state=?)" in plan, plan
    assert "SCAN" not in plan, plan
    [plan] = _plans(app, client, "/", r"credit_breach")
    assert "SCAN credit_breach" in plan and "SCAN customer" not in plan, plan
    login_fast(client, app, staff[Role.SALES_REP])
    [plan] = _plans(app, client, "/", r"FROM workflow_deadline")
    assert "ix_workflow_deadline_kind_open" in plan, plan


def test_the_reclaim_batches_page_without_counting_them(app, client, staff, make_customer):
    """The batches are groups of records, each checked against the reader's scope: counting
    them read every reclaimed record (issue 12). The list pages by number without a count."""
    from datetime import timedelta

    from intranet.models import OwnershipRecord
    from intranet.resources import reclaim

    manager = staff[Role.SALES_MANAGER]
    customer = make_customer("批次客户有限公司", staff[Role.SALES_REP])
    start = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
    with app.app_context():
        reclaim.ensure_defaults()
        db.session.add_all(OwnershipRecord(
            customer_id=customer, kind="reclaim", from_user_id=staff[Role.SALES_REP].id,
            pool_id=1, reason="reclaim_rule:1", object_type="reclaim_rule", object_id=1,
            at=start + timedelta(days=n)) for n in range(27))
        db.session.commit()
    login_fast(client, app, manager)
    seen = [" ".join(s.split()) for s, _ in statements_of(
        app, client, "/sales/reclaims", lambda text: "ownership_record" in text)]
    assert len(seen) == 3  # the page's first records, the records, their batch sizes
    assert not [s for s in seen if s.startswith("SELECT count(*) AS count_1 FROM (SELECT 1")]
    first = client.get("/sales/reclaims").get_data(as_text=True)
    assert len(re.findall(r'href="/sales/reclaims/\d+/pdf"', first)) == 25
    assert "第 1 页" in first and "共" not in first.split('class="pager"')[1]
    second = client.get("/sales/reclaims?page=2").get_data(as_text=True)
    assert len(re.findall(r'href="/sales/reclaims/\d+/pdf"', second)) == 2
    assert "第 2 页" in second and 'href="/sales/reclaims?page=3"' not in second


def test_home_counts_stop_at_the_cap(app, client, staff, make_customer):
    """The home page's "customers I can see" counts at most the list's cap (the GM's home read
    every customer's index entry on each visit, issue 12) and says "+" above it."""
    rep = staff[Role.SALES_REP]
    app.config["PAGE_COUNT_CAP"] = 3
    login_fast(client, app, rep)

    def shown():
        body = client.get("/").get_data(as_text=True)
        return re.search(r'我可查看的客户 <span class="count">([^<]*)</span>', body).group(1)
    for i in range(3):
        make_customer(f"首页计数客户{i}有限公司", rep)
    assert shown() == "3"
    make_customer("首页计数客户3有限公司", rep)
    assert shown() == "3+"
