"""Reads never take SQLite's write lock (issue 12, items 3 and 6; SECURITY.md "Concurrency and
faults", C6): a GET request's transaction begins deferred and appends its audit rows in a
short write transaction at the end; writes still begin IMMEDIATE; a PDF renders and signs
outside any write transaction and its registry row shares the transaction of its audit row.

The SQL is watched where SQLite receives it (sqlite3's trace callback), so the statements the
engine module issues on the raw connection count too. PostgreSQL keeps one transaction per
request; the tests of audit rows run on both databases."""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager

import pytest
from conftest import PG_URL, login_fast, post
from sqlalchemy import event, func, select
from test_credit_pdf import decided  # noqa: F401  (fixture: an approved application)

from intranet.core import audit
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import AuditEntry, IssuedDocument

sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="SQLite's locking")


@contextmanager
def sqlite_trace(app):
    """Every statement SQLite executes on the app's connections inside the block."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []
    if engine.dialect.name != "sqlite":
        yield statements  # only what the test adds itself
        return
    watching = [True]  # the callback stays on the connection after the block

    def trace(dbapi_connection, connection_record, connection_proxy):
        dbapi_connection.set_trace_callback(
            lambda statement: watching[0] and statements.append(statement))
    event.listen(engine, "checkout", trace)
    try:
        yield statements
    finally:
        watching[0] = False
        event.remove(engine, "checkout", trace)


def writes(statement: str) -> bool:
    return statement.split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE", "REPLACE")


def audit_rows(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(AuditEntry.action, AuditEntry.object_type, AuditEntry.object_id)
            .order_by(AuditEntry.seq))]


def chain_ok(app) -> int:
    with app.app_context():
        count, problem = audit.verify_chain()
    assert problem is None
    return count


@pytest.fixture
def customer_page(app, client, staff, make_customer):
    customer_id = make_customer("锁测试贸易有限公司", staff[Role.SALES_REP])
    login_fast(client, app, staff[Role.SALES_REP])
    return f"/sales/customers/{customer_id}"


@sqlite_only
def test_read_request_begins_deferred_and_writes_only_its_audit_rows_at_the_end(
        app, client, customer_page):
    with sqlite_trace(app) as statements:
        assert client.get(customer_page).status_code == 200
    assert statements[0] == "BEGIN", statements[:3]
    locked = statements.index("BEGIN IMMEDIATE")
    before, after = statements[:locked], statements[locked:]
    assert not any(writes(s) for s in before), [s for s in before if writes(s)]
    # the snapshot ends (an empty commit), the lock is taken, the tail read, the rows appended
    assert before[-1] == "COMMIT"
    assert "FROM audit_entry ORDER BY audit_entry.seq DESC" in after[1]
    assert all(s.startswith("INSERT INTO audit_entry") for s in after[2:-1]) and after[2:-1]
    assert after[-1] == "COMMIT"
    assert statements.count("BEGIN IMMEDIATE") == 1
    assert ("view", "customer", customer_page.rsplit("/", 1)[1]) in audit_rows(app)
    chain_ok(app)


@sqlite_only
def test_read_request_that_audits_nothing_never_takes_the_lock(app, client, customer_page):
    with sqlite_trace(app) as statements:
        assert client.get("/notifications/bell").status_code in (200, 404)
    assert "BEGIN IMMEDIATE" not in statements
    assert not any(writes(s) for s in statements)


@sqlite_only
def test_write_request_still_takes_the_lock_up_front(app, client, customer_page):
    with sqlite_trace(app) as statements:
        response = post(client, "/auth/logout")  # post() GETs a page for its CSRF token first
    assert response.status_code in (200, 302)
    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins[0] == "BEGIN" and begins[-1] == "BEGIN IMMEDIATE"
    post_statements = statements[len(statements) - statements[::-1].index(begins[-1]) - 1:]
    assert any(s.startswith("UPDATE user") for s in post_statements)  # the session token
    assert any(row[0] == "logout" for row in audit_rows(app))


def test_one_transaction_per_request_at_the_engine(app, client, customer_page):
    """On both databases the request is one SQLAlchemy transaction (on SQLite the switch from
    reading to writing happens inside it, on the raw connection)."""
    with app.app_context():
        engine = db.engine
    begins = []
    listener = lambda conn: begins.append(conn)  # noqa: E731
    event.listen(engine, "begin", listener)
    try:
        assert client.get(customer_page).status_code == 200
    finally:
        event.remove(engine, "begin", listener)
    assert len(begins) == 1


def test_audit_rows_of_reads_and_writes_stay_in_request_order_and_chained(
        app, client, staff, customer_page, make_customer):
    other = make_customer("第二锁测试有限公司", staff[Role.SALES_REP])
    start = len(audit_rows(app))
    client.get(customer_page)
    post(client, "/auth/logout")
    login_fast(client, app, staff[Role.SALES_REP])
    client.get(f"/sales/customers/{other}")
    rows = audit_rows(app)[start:]
    views = [r for r in rows if r[0] == "view" and r[1] == "customer"]
    assert [v[2] for v in views] == [customer_page.rsplit("/", 1)[1], str(other)]
    assert rows.index(views[0]) < [r[0] for r in rows].index("logout") < rows.index(views[1])
    assert chain_ok(app) == len(audit_rows(app))


def test_failed_read_requests_write_no_audit_rows(app, client, customer_page, monkeypatch):
    before = audit_rows(app)
    assert client.get("/sales/customers/999999").status_code == 404
    original = audit.record

    def record_then_fail(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError("the page broke after auditing")
    monkeypatch.setattr(audit, "record", record_then_fail)
    with sqlite_trace(app) as statements:
        assert client.get(customer_page).status_code == 500
    assert audit_rows(app) == before
    assert "BEGIN IMMEDIATE" not in statements or PG_URL
    chain_ok(app)


def _database_file(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")


def test_pdf_renders_and_signs_outside_any_write_transaction(app, client, staff, decided,  # noqa: F811
                                                              monkeypatch):
    """Issue 11: the registry row is written in the transaction of its audit row; issue 12:
    that transaction starts after the render, so printing never holds the write lock."""
    from intranet.archive import issue

    render, sign = issue.render_pdf, issue.sign

    def lock_is_free() -> bool:
        other = sqlite3.connect(_database_file(app), timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            other.close()

    def watched(name, original, events):
        def call(*args, **kwargs):
            events.append(name)  # among the SQL statements, in order
            if not PG_URL:
                assert lock_is_free(), f"the write lock is held during {name}"
            return original(*args, **kwargs)
        return call
    login_fast(client, app, staff[Role.ARCHIVIST])
    with sqlite_trace(app) as statements:
        monkeypatch.setattr(issue, "render_pdf", watched("render", render, statements))
        monkeypatch.setattr(issue, "sign", watched("sign", sign, statements))
        response = client.get(f"/sales/credit/{decided}/pdf")
    assert response.status_code == 200
    assert [e for e in statements if e in ("render", "sign")] == ["render", "sign"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IssuedDocument)) == 1
    assert any(r[0] == "export" and r[2] == str(decided) for r in audit_rows(app))
    chain_ok(app)
    if PG_URL:
        return
    signed = statements.index("sign")
    locked = statements.index("BEGIN IMMEDIATE")
    assert signed < locked and not any(writes(s) for s in statements[:locked])
    # registry row and audit row: one write transaction, after the render
    transaction = statements[locked:statements.index("COMMIT", locked) + 1]
    assert any(s.startswith("INSERT INTO issued_document") for s in transaction)
    assert any(s.startswith("INSERT INTO audit_entry") for s in transaction)


@sqlite_only
def test_two_reads_proceed_while_another_connection_holds_the_write_lock(
        app, staff, make_customer):
    """Two read requests in two threads (each its own connection) finish their pages while a
    third connection holds a write transaction; their audit rows follow once it commits."""
    customer_id = make_customer("并发读取有限公司", staff[Role.SALES_REP])
    clients = [app.test_client(), app.test_client()]
    for c in clients:
        login_fast(c, app, staff[Role.SALES_REP])
    rendered = threading.Semaphore(0)

    @app.after_request  # runs before the commit (after_request hooks run last-added first)
    def page_done(response):
        rendered.release()  # the page is rendered: everything it shows has been read
        return response

    holder = sqlite3.connect(_database_file(app), isolation_level=None,
                             check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    results: list[int] = []

    def read(c):
        results.append(c.get(f"/sales/customers/{customer_id}").status_code)

    try:
        threads = [threading.Thread(target=read, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        # With BEGIN IMMEDIATE at the first query both would wait here for the lock (and give
        # up with a 503 after the busy timeout) instead of reaching their audit call.
        reached = [rendered.acquire(timeout=60) for _ in clients]
        holder.execute("COMMIT")
        for t in threads:
            t.join()
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()
    assert reached == [True, True]
    assert results == [200, 200]
    views = [r for r in audit_rows(app) if r[:2] == ("view", "customer")]
    assert len(views) == 2
    chain_ok(app)


def _meanwhile_in_another_worker(app, label: str) -> None:
    """A commit by someone else while a request is under way (own thread, own connection)."""
    def write():
        with app.app_context():
            audit.record(audit.Action.VIEW, "customer", label)
            db.session.commit()
    thread = threading.Thread(target=write)
    thread.start()
    thread.join()


def test_audit_rows_of_a_read_chain_onto_a_tail_that_moved_while_it_read(
        app, client, customer_page):
    """The read's snapshot is older than the trail's tail when it appends: the tail is read
    after the write lock is taken, so the rows follow the other worker's row, never fork."""
    from flask import request

    @app.after_request
    def someone_else_writes(response):  # before the request's own commit
        if request.path == customer_page:
            _meanwhile_in_another_worker(app, "meanwhile")
        return response

    assert client.get(customer_page).status_code == 200
    rows = audit_rows(app)
    assert rows[-2:] == [("view", "customer", "meanwhile"),
                         ("view", "customer", customer_page.rsplit("/", 1)[1])]
    assert chain_ok(app) == len(rows)


def test_a_read_that_writes_after_another_commit_gets_the_lock_without_failing(
        app, client, staff, customer_page):
    """A read request whose first write comes after another worker committed: SQLite refuses
    an in-place upgrade of such a snapshot at once ("database is locked"); the engine ends the
    snapshot and begins IMMEDIATE instead, so the write waits its turn and succeeds."""
    from flask import request

    from intranet.models import Notification

    @app.after_request
    def write_mid_request(response):
        if request.path == customer_page:
            _meanwhile_in_another_worker(app, "meanwhile")
            db.session.add(Notification(user_id=staff[Role.SALES_REP].id, kind="welcome",
                                        link="", params="{}", created_at=audit.clock.now()))
            db.session.flush()
        return response

    assert client.get(customer_page).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 1
    assert chain_ok(app) == len(audit_rows(app))


@sqlite_only
def test_jobs_and_commands_in_a_bare_request_context_still_begin_immediate(app):
    """`flask jobs run` works inside test_request_context("/") (a GET, for url_for): it is no
    read request and keeps the write lock up front."""
    with sqlite_trace(app) as statements, app.test_request_context("/"):
        db.session.scalar(select(func.count()).select_from(AuditEntry))
        db.session.rollback()
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"]
