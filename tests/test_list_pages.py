"""Issue 12: list pages cost the same however many rows match. The count stops at a cap and
says "1,000+"; the customer list pages by key (?after=) and every sort of every scope reads an
index in order (EXPLAIN on SQLite and PostgreSQL); a page issues a constant number of
statements."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest
from conftest import counting_selects, login_fast
from sqlalchemy import event, select

from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import Customer, User

SORTS = ("name", "sales", "growth", "newest")
NEXT = re.compile(r'<a href="([^"]+)">下一页')


@pytest.fixture
def customers(app, staff):
    """Twelve customers of the rep (two with the same name, sales, growth and creation time,
    so only the id breaks the tie), three of a rep in the same department, two elsewhere."""
    rep, rep_b, other = staff[Role.SALES_REP], staff["rep_b"], staff["rep_other_dept"]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with app.app_context():
        for i, (owner, name, sales, prev) in enumerate(
                [(rep, f"客户{i % 7:02d}", 1000 * (i % 4), 500 * (i % 3)) for i in range(12)]
                + [(rep_b, f"乙{i}", 700 * i, 100) for i in range(3)]
                + [(other, f"丙{i}", 900, 300) for i in range(2)]):
            db.session.add(Customer(
                name=name, owner_id=owner.id, department_id=owner.department_id, region="上海",
                sales_12m=Decimal(sales), sales_prev_12m=Decimal(prev),
                created_at=start + timedelta(days=i % 5)))
        db.session.commit()
    return staff


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/sales/customers/(\d+)"', html)]


def _walk(client, url: str) -> list[list[int]]:
    """The customer ids of each page, following the "next" links to the end."""
    pages = []
    while url:
        body = client.get(url).get_data(as_text=True)
        pages.append(list(dict.fromkeys(_ids(body))))
        found = NEXT.search(body)
        url = unescape(found.group(1)) if found else None
        assert len(pages) < 50
    return pages


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER, Role.GENERAL_MANAGER])
@pytest.mark.parametrize("sort", SORTS)
def test_next_links_walk_every_row_once_in_order_and_match_page_numbers(
        app, client, customers, role, sort):
    from intranet.blueprints.sales.customers import SORTS as ORDER
    from intranet.core.access import customer_scope

    app.config["PAGE_SIZE"] = 4
    user = customers[role]
    login_fast(client, app, user)
    pages = _walk(client, f"/sales/customers?sort={sort}")
    with app.app_context():  # outside a request the scope is the user's roles' (as the list's)
        expected = db.session.scalars(select(Customer.id).where(customer_scope(
            db.session.get(User, user.id))).order_by(*ORDER[sort], Customer.id)).all()
    assert [i for page in pages for i in page] == expected
    for number, ids in enumerate(pages, start=1):  # ?page=N alone: the same rows
        assert _ids(client.get(f"/sales/customers?sort={sort}&page={number}")
                    .get_data(as_text=True))[:len(ids)] == ids


def test_a_page_by_number_finds_its_ids_first_and_reads_the_rows_an_offset_would(
        app, customers):
    """Past page 1 the rows' ids come from a subquery and only they get their columns (on
    PostgreSQL an OFFSET computed every skipped row's select list): entities with eager
    options, plain-column rows with a name subquery, and lists that cannot (DISTINCT)."""
    from sqlalchemy.orm import selectinload

    from intranet.core.pagination import paginate
    from intranet.models.user import user_name

    app.config["PAGE_SIZE"] = 4
    order = (Customer.name.desc(), Customer.id)
    with app.app_context():
        everyone = db.session.execute(select(Customer.id, Customer.owner_id).order_by(*order)).all()
        names = dict(db.session.execute(select(User.id, User.display_name)).all())
        regions = db.session.scalars(select(Customer.name).distinct().order_by(Customer.name)).all()
    for number in (1, 2, 3, 5, 9):
        want = everyone[(number - 1) * 4:number * 4]
        with app.test_request_context(f"/?page={number}"), \
                counting_selects(app) as statements:
            entities = paginate(select(Customer).options(selectinload(Customer.owner))
                                .order_by(*order))
            rows = paginate(select(Customer.id, user_name(Customer.owner_id).label("owner"))
                            .order_by(*order), tuples=True)
            distinct = paginate(select(Customer.name).distinct().order_by(Customer.name),
                                tuples=True)
            assert [(c.id, c.owner.display_name) for c in entities.items] == [
                (i, names[o]) for i, o in want]
        assert [(r.id, r.owner) for r in rows.items] == [(i, names[o]) for i, o in want]
        assert [r.name for r in distinct.items] == regions[(number - 1) * 4:number * 4]
        assert entities.has_next == rows.has_next == (len(everyone) > number * 4)
        by_ids = [s for s in statements if "page_ids" in s]
        assert len(by_ids) == (0 if number == 1 else 2), statements


def test_a_lists_limit_and_offset_are_written_into_its_sql_not_bound(app, client, customers):
    """psycopg prepares a statement after its fifth run and PostgreSQL then tries a plan for
    any parameters; for an unknown LIMIT it assumes a tenth of the rows, and a handler's
    capped case count became a scan of every case (3 → 33-70 ms from the tenth request).
    The count's cap and the page's size and offset are numbers in the SQL."""
    app.config.update(PAGE_SIZE=4, PAGE_COUNT_CAP=5)
    sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    login_fast(client, app, customers[Role.SALES_REP])
    for url in ("/sales/customers", "/sales/customers?page=2",
                "/sales/customers?sort=growth&page=2"):
        with counting_selects(app) as statements:
            assert client.get(url).status_code == 200
        limited = [s for s in statements if re.search(r"\bFROM customer\b", s) and "LIMIT" in s]
        assert len(limited) >= 2, statements  # the count and the rows
        for statement in limited:
            assert all(n.isdigit() for n in re.findall(r"LIMIT ([^\s)]+)", statement)), statement
            # (SQLite's dialect adds "OFFSET ?", bound to 0, to a LIMIT without one)
            assert all(n.isdigit() or (n == "?" and sqlite) for n in re.findall(
                r"OFFSET ([^\s)]+)", statement)), statement
        assert any("OFFSET 4" in s for s in limited) == ("page=" in url), limited


def test_a_next_link_carries_the_key_and_a_forged_key_falls_back_to_the_page(
        app, client, customers):
    app.config["PAGE_SIZE"] = 4
    login_fast(client, app, customers[Role.SALES_MANAGER])
    first = client.get("/sales/customers?sort=sales").get_data(as_text=True)
    link = unescape(NEXT.search(first).group(1))
    assert "page=2" in link and "after=" in link
    second = _ids(client.get("/sales/customers?sort=sales&page=2").get_data(as_text=True))
    # the key, not the page number, decides where the page starts
    assert _ids(client.get(link.replace("page=2", "page=3")).get_data(as_text=True)) == second
    for forged in ("x", "W10", "WyIxZTk5OTkiLDFd", "WyJOYU4iLDFd", "WzEsMiwzXQ", "a" * 2000,
                   "WyIxMDAwIiwiMSJd", "WzEwMDAsIDFd"):  # junk, [], ["1e9999",1], ["NaN",1], …
        response = client.get(f"/sales/customers?sort=sales&page=2&after={forged}")
        assert response.status_code == 200
        assert _ids(response.get_data(as_text=True)) == second, forged


def test_the_count_stops_at_the_cap_and_the_page_says_so(app, client, customers):
    app.config.update(PAGE_COUNT_CAP=5, PAGE_SIZE=4)
    login_fast(client, app, customers[Role.SALES_REP])  # 12 customers, above the cap
    with counting_selects(app) as statements:
        body = client.get("/sales/customers").get_data(as_text=True)
    assert "第 1 页（共 5+ 条）" in body and "下一页" in body
    counts = [s for s in statements if "count(" in s and "customer" in s]
    assert counts and all("LIMIT" in s for s in counts)
    last = client.get("/sales/customers?page=3").get_data(as_text=True)
    assert "第 3 页（共 5+ 条）" in last and "上一页" in last and "下一页" not in last
    app.config["PAGE_SIZE"] = 25  # one page, still above the cap
    assert "共 5+ 条" in client.get("/sales/customers").get_data(as_text=True)
    app.config["PAGE_COUNT_CAP"] = 12  # at the cap: exact
    assert "共 12 条" in client.get("/sales/customers").get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER, Role.GENERAL_MANAGER])
def test_statements_per_list_page_do_not_grow_with_rows(app, client, staff, role):
    user = staff[role]
    owner = staff[Role.SALES_REP]

    def add(count):
        with app.app_context():
            db.session.add_all(Customer(name=f"公司{count}-{i}", owner_id=owner.id,
                                        department_id=owner.department_id)
                               for i in range(count))
            db.session.commit()

    login_fast(client, app, user)
    client.get("/sales/customers")  # the worker's first request also reads the settings
    seen = []
    for count in (30, 60):
        add(count)
        for url in ("/sales/customers?sort=sales", "/sales/customers?sort=name&page=2"):
            with counting_selects(app) as statements:
                assert client.get(url).status_code == 200
            seen.append((url, len(statements)))
    assert seen[:2] == seen[2:]


# --- query plans ---------------------------------------------------------------------------

def statements_of(app, client, url: str, wanted) -> list[tuple]:
    """(statement, parameters) of each statement a GET of `url` sent whose one-line text
    `wanted` accepts, in order; at least one."""
    seen = []

    def listen(conn, cursor, statement, parameters, *args):
        if wanted(" ".join(statement.split())):
            seen.append((statement, parameters))
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert seen, url
    return seen


def _rows_statement(app, client, url: str, table: str):
    """The statement that reads the page's rows of `table` (ordered and limited), with its
    parameters, as the list sent it."""
    return statements_of(app, client, url, lambda text: (
        text.startswith("SELECT") and "count(" not in text and " LIMIT " in text
        and re.search(rf"\bFROM {table}\b", text) and "ORDER BY" in text))[0]


def _plan(app, statement, parameters) -> str:
    """EXPLAIN of the statement. On PostgreSQL sorting and sequential scans are priced out
    (the test tables are tiny, where a sort is cheapest): a plan that still sorts has no
    index that gives the order."""
    with app.app_context():
        connection = db.session.connection()
        if db.engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL enable_sort = off")
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()
        else:
            rows = [(r[-1],) for r in connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters).all()]
        db.session.rollback()
    return "\n".join(r[0] for r in rows)


def _page_ids(statement: str, parameters):
    """The subquery of a deep page's statement that finds the page's ids (pagination's
    _late_columns), with its own parameters: the part that must read the index in order."""
    match = re.search(r"JOIN \((SELECT .*?)\) AS page_ids", statement, re.S)
    assert match, statement
    inner = match.group(1)
    if isinstance(parameters, dict):  # PostgreSQL: named parameters
        return inner, parameters
    before = statement[:match.start(1)].count("?")
    return inner, tuple(parameters[before:before + inner.count("?")])


def _assert_index_order(plan: str, index: str | tuple[str, ...] | None = None):
    assert "TEMP B-TREE" not in plan, plan  # SQLite
    assert not re.search(r"(^|->\s+)(Incremental )?Sort\b", plan, re.M), plan  # PostgreSQL
    if index:
        assert any(name in plan for name in ((index,) if isinstance(index, str) else index)), plan


SCOPE_INDEX = {Role.SALES_REP: "ix_customer_owner_", Role.SALES_MANAGER: "ix_customer_department_",
               Role.GENERAL_MANAGER: "ix_customer_"}


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER, Role.GENERAL_MANAGER])
@pytest.mark.parametrize("sort", SORTS)
def test_the_customer_list_reads_its_index_in_order_for_every_scope_and_sort(
        app, client, customers, role, sort):
    app.config["PAGE_SIZE"] = 4
    login_fast(client, app, customers[role])
    index = SCOPE_INDEX[role] + sort
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # PostgreSQL may read a few dozen rows through the unscoped index of the same sort
        # (in order, filtering the scope); SQLite, without statistics, takes the scope's
        index = (index, f"ix_customer_{sort} ")
    _assert_index_order(_plan(app, *_rows_statement(
        app, client, f"/sales/customers?sort={sort}", "customer")), index)
    # a page by number finds its ids in the index first, then reads those rows alone
    deep = _rows_statement(app, client, f"/sales/customers?sort={sort}&page=3", "customer")
    _assert_index_order(_plan(app, *_page_ids(*deep)), index)
    body = client.get(f"/sales/customers?sort={sort}").get_data(as_text=True)
    link = unescape(NEXT.search(body).group(1))  # the keyset page seeks in the same index
    following = _rows_statement(app, client, link, "customer")
    if "after=" not in link:  # a sort without a key (growth) pages by number
        following = _page_ids(*following)
    _assert_index_order(_plan(app, *following), index)


# PostgreSQL may read a department's few test rows through the unscoped index of the same sort
UNSCOPED = {"ix_credit_application_department_decided": "ix_credit_application_decided on",
            "ix_service_case_department_closed": "ix_service_case_closed on"}


@pytest.mark.parametrize(("role", "url", "table", "index"), [
    (Role.GENERAL_MANAGER, "/management/credit", "credit_application",
     "ix_credit_application_state_due"),
    (Role.SALES_MANAGER, "/sales/credit", "credit_application", None),
    (Role.FINANCE, "/finance/orders", "sales_order", "ix_order_status_date"),
    (Role.FINANCE, "/finance/over-limit", "credit_breach", "ix_credit_breach_list"),
    (Role.SALES_MANAGER, "/finance/over-limit", "credit_breach", "ix_credit_breach_list"),
    (Role.SALES_REP, "/notifications", "notification", "ix_notification_user_list"),
    (Role.SALES_MANAGER, "/sales/reclaims", "ownership_record", "ix_ownership_record_batch"),
    (Role.ADMIN, "/admin/audit", "audit_entry", None),
    (Role.ARCHIVIST, "/archive/", "credit_application", "ix_credit_application_decided"),
    (Role.ARCHIVIST, "/archive/?department=1", "credit_application",
     "ix_credit_application_department_decided"),
    (Role.ARCHIVIST, "/archive/?type=service_case", "service_case", "ix_service_case_closed"),
    (Role.ARCHIVIST, "/archive/?type=service_case&department=1", "service_case",
     "ix_service_case_department_closed"),
    (Role.ARCHIVIST, "/archive/?type=transfer_request", "resource_request",
     "ix_resource_request_decided"),
    (Role.GENERAL_MANAGER, "/archive/?type=pool_claim", "resource_request",
     "ix_resource_request_decided"),
])
def test_the_big_lists_read_an_index_in_order(app, client, staff, role, url, table, index):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") and index in UNSCOPED:
        index = (index, UNSCOPED[index])
    login_fast(client, app, staff[role])
    _assert_index_order(_plan(app, *_rows_statement(app, client, url, table)), index)


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER])
def test_the_reclaim_due_list_reads_the_same_pages_either_way_and_counts_in_its_index(
        app, client, staff, frozen, role):
    """Rules R2/R5/R6 (issue 12): above the count cap the list walks the name index; at most
    the cap, it reads the ids its scope's reclaim index gives and sorts them. Both give the
    same pages; the count reads the reclaim index alone."""
    from intranet.models import ReclaimRule
    from intranet.resources import reclaim

    start = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    frozen(start)
    with app.app_context():
        reclaim.ensure_defaults()
        db.session.scalar(select(ReclaimRule).where(ReclaimRule.kind == "no_activity")) \
            .enabled = True
        for i, owner in enumerate([staff[Role.SALES_REP]] * 7 + [staff["rep_b"]] * 3
                                  + [staff["rep_other_dept"]] * 2):
            db.session.add(Customer(name=f"回收{i % 4}", owner_id=owner.id, region="上海",
                                    department_id=owner.department_id,
                                    last_activity_at=start - timedelta(days=i % 3)))
        db.session.commit()
    frozen(start + timedelta(days=50))  # all due within the list's two weeks
    app.config["PAGE_SIZE"] = 2
    login_fast(client, app, staff[role])

    def pages():
        return [_ids(client.get(f"/sales/reclaim-due?page={n}").get_data(as_text=True))
                for n in range(1, 7)]
    few = pages()  # 7 or 10 in scope, under the cap of 1,000
    app.config["PAGE_COUNT_CAP"] = 3
    many = pages()
    assert few == many and sum(map(len, few)) == (7 if role == Role.SALES_REP else 10)
    with app.app_context():
        names = dict(db.session.execute(select(Customer.id, Customer.name)).all())
    order = [(names[i], i) for page in few for i in page]
    assert order == sorted(order)
    count = _count_statement(app, client, "/sales/reclaim-due")
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        scope = "owner" if role == Role.SALES_REP else "department"
        assert f"COVERING INDEX ix_customer_{scope}_reclaim" in _plan(app, *count)


def _count_statement(app, client, url: str):
    return statements_of(app, client, url, lambda text: (
        "count(" in text and re.search(r"\bFROM customer\b", text)))[0]
