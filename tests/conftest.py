"""Fixtures: a migrated database per test (SQLite copy or truncated PostgreSQL), users of every
role, sign-in helpers, CSRF tokens and a frozen clock.

Set TEST_DATABASE_URL=postgresql://... to run the whole suite on PostgreSQL.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

os.environ.setdefault("SECRET_KEY", "test-secret-key")
os.environ.setdefault("INTRANET_INSTANCE", tempfile.mkdtemp(prefix="intranet-test-"))

import pytest  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

from intranet import create_app  # noqa: E402
from intranet.core import clock, passwords
from intranet.core.roles import Role  # noqa: E402
from intranet.extensions import db  # noqa: E402
from intranet.models import Customer, Department, User  # noqa: E402

PASSWORD = "correct horse battery staple"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")


def _worker_database(url: str, worker: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database beside the given one
    (created once, `<name>_<worker>`), so parallel workers never truncate each other's rows."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1)
                    if url.startswith("postgresql://") else url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                            {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


if PG_URL and os.environ.get("PYTEST_XDIST_WORKER"):
    PG_URL = _worker_database(PG_URL, os.environ["PYTEST_XDIST_WORKER"])
# PDFs render in-process in tests, so a test can watch the sockets WeasyPrint would open;
# tests/test_pdf.py covers the renderer process and its time limit.
TEST_CONFIG = {"TESTING": True, "SECRET_KEY": "test-secret-key",
               "RATELIMIT_STORAGE_URI": "memory://", "PDF_TIMEOUT_SECONDS": 0}


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + PG_URL.split('@')[-1] if PG_URL else 'SQLite'}"


@pytest.fixture(scope="session", autouse=True)
def signing_keys():
    """The company's archive signing key and certificate, made once per test process in its
    instance folder (where the configuration looks for them)."""
    from pathlib import Path

    from intranet.archive import keys

    folder = Path(os.environ["INTRANET_INSTANCE"])
    key_file, cert_file = folder / "archive-signing-key.pem", folder / "archive-signing-cert.pem"
    if not key_file.exists():
        keys.create("测试公司", key_file, cert_file)
    return key_file, cert_file


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """The schema, built once per run by the migrations (never by create_all)."""
    if PG_URL:
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": PG_URL})
        with app.app_context():
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            upgrade()
            db.engine.dispose()
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        upgrade()
        db.engine.dispose()  # closing the last connection folds the WAL into the file
    return path


def database_uri(template_db, tmp_path) -> str:
    if PG_URL:
        return PG_URL
    target = tmp_path / "test.sqlite3"
    shutil.copy(template_db, target)
    return f"sqlite:///{target}"


@pytest.fixture
def app(template_db, tmp_path):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_uri(template_db,
                                                                             tmp_path)})
    yield app
    release_app(app)


def release_app(app) -> None:
    """After a test app: the real clock back, PostgreSQL emptied, connections closed."""
    clock.freeze(None)
    with app.app_context():
        db.session.remove()
        if PG_URL:
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture(scope="session")
def fresh_world(template_db, tmp_path_factory):
    """A factory of context managers, each a fresh app on a fresh seeded database (see
    fuzzing.py): session-scoped, so hypothesis examples may use it without sharing state."""
    from fuzzing import WorldFactory

    return WorldFactory(template_db, tmp_path_factory.mktemp("fuzz"))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def password_hash():
    return passwords.hash_password(PASSWORD)


@dataclass
class U:
    id: int
    username: str
    department_id: int | None


@pytest.fixture
def make_user(app, password_hash):
    def make(username: str, *roles: Role, department: str = "sales1", active: bool = True,
             locale: str = "zh_CN") -> U:
        with app.app_context():
            dept = db.session.scalar(db.select(Department).where(Department.code == department))
            if dept is None:
                dept = Department(code=department, name_zh=department, name_en=department)
                db.session.add(dept)
            user = User(username=username, display_name=username.title(), department=dept,
                        password_hash=password_hash, active=active, locale=locale)
            user.set_roles(roles)
            db.session.add(user)
            db.session.commit()
            return U(user.id, user.username, user.department_id)
    return make


@pytest.fixture
def make_customer(app):
    def make(name: str, owner: U | None, region: str = "上海") -> int:
        with app.app_context():
            customer = Customer(name=name, region=region, owner_id=owner.id if owner else None,
                                department_id=owner.department_id if owner else None)
            db.session.add(customer)
            db.session.commit()
            return customer.id
    return make


@pytest.fixture
def staff(make_user):
    """One user per role; two reps (same department) and a manager of another department."""
    return {
        Role.SALES_REP: make_user("rep", Role.SALES_REP),
        "rep_b": make_user("repb", Role.SALES_REP),
        "rep_other_dept": make_user("rep2", Role.SALES_REP, department="sales2"),
        Role.SALES_MANAGER: make_user("manager", Role.SALES_MANAGER),
        Role.SERVICE_DESK: make_user("desk", Role.SERVICE_DESK, department="service"),
        Role.COMPLAINT_HANDLER: make_user("handler", Role.COMPLAINT_HANDLER,
                                          department="service"),
        Role.FINANCE: make_user("finance", Role.FINANCE, department="finance"),
        Role.GENERAL_MANAGER: make_user("gm", Role.GENERAL_MANAGER, department="gmo"),
        Role.ARCHIVIST: make_user("archivist", Role.ARCHIVIST, department="archive"),
        Role.ADMIN: make_user("admin", Role.ADMIN, department="it"),
    }


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client) -> str:
    """The CSRF token of the client's session, as a page would embed it."""
    response = client.get("/auth/login")
    if response.status_code == 302:
        response = client.get("/")
    match = CSRF_META.search(response.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD, remember: bool = False, **extra):
    token = csrf_token(client)
    data = {"username": username, "password": password, "csrf_token": token, **extra}
    if remember:
        data["remember"] = "y"
    return client.post("/auth/login", data=data)


def login_fast(client, app, user: U) -> None:
    """Sign in without the password round trip (argon2 is slow by design)."""
    from flask_login.utils import _create_identifier

    with app.test_request_context(environ_base=client.environ_base):
        token = db.session.get(User, user.id).get_id()
        identifier = _create_identifier()
    now = int(clock.now().timestamp())
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
        session["_id"] = identifier
        session["since"] = now
        session["seen"] = now


def post(client, url: str, data: dict | None = None, **kwargs):
    """POST with the session's CSRF token."""
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)


@pytest.fixture
def frozen():
    """Freeze the clock; returns a setter: frozen(datetime) moves it."""
    def move(moment: datetime):
        clock.freeze(moment)
        return moment
    move(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))
    yield move
    clock.freeze(None)


@contextmanager
def counting_selects(app):
    """Collect the SELECT statements the database receives inside the block."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def listener(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


@pytest.fixture
def make_application(app):
    """A credit application in any state, written directly (the workflow tests drive the
    transitions themselves)."""
    from datetime import date
    from decimal import Decimal

    from intranet.models import CreditApplication

    def make(customer_id: int, applicant: U, state: str = "draft", limit="100000",
             grade: str = "2", period_start: date = date(2027, 1, 1), **fields) -> int:
        with app.app_context():
            customer = db.session.get(Customer, customer_id)
            application = CreditApplication(
                customer_id=customer_id, department_id=customer.department_id,
                applicant_id=applicant.id, state=state, grade=grade,
                period_start=period_start, proposed_limit=Decimal(limit), **fields)
            db.session.add(application)
            db.session.commit()
            return application.id
    return make


@pytest.fixture
def make_delegation(app, staff):
    """A deputy period in force now (a day either side) unless `starts_at`/`ends_at` say
    otherwise: `deputy` acts as `role` for `principal`."""
    from datetime import timedelta

    from intranet.models import Delegation

    def make(principal: U, deputy: U, role: Role, starts_at=None, ends_at=None,
             reason: str = "休假") -> int:
        now = clock.now()
        with app.app_context():
            delegation = Delegation(principal_id=principal.id, deputy_id=deputy.id,
                                    role=role.value, starts_at=starts_at or now - timedelta(days=1),
                                    ends_at=ends_at or now + timedelta(days=1), reason=reason,
                                    created_by_id=staff[Role.ADMIN].id)
            db.session.add(delegation)
            db.session.commit()
            return delegation.id
    return make


COMPLAINT_PATH = [  # (event, actor's key in `staff`, data): a complaint from intake to closed
    ("assign", Role.SERVICE_DESK, {"handler_id": "handler"}),
    ("start", Role.COMPLAINT_HANDLER, {}),
    ("give_opinion", Role.COMPLAINT_HANDLER, {"comment": "属实，建议退换货"}),
    ("decide", Role.SALES_MANAGER, {"comment": "同意退换货"}),
    ("implement", Role.COMPLAINT_HANDLER, {"comment": "已安排退换"}),
    ("reply", Role.COMPLAINT_HANDLER, {"comment": "书面答复：已退换"}),
    ("follow_up", Role.SERVICE_DESK, {"comment": "客户满意"}),
    ("close", Role.SERVICE_DESK, {}),
]
STATE_AFTER = {"assign": "assigned", "start": "investigating", "give_opinion":
               "awaiting_decision", "decide": "decided", "implement": "implemented",
               "reply": "replied", "follow_up": "followed_up", "close": "closed"}


@pytest.fixture
def make_case(app, staff):
    """A service case registered at the desk (operations.register: number, clocks) and, for a
    complaint, driven through the machine to `state` by the staff who may act at each step."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from intranet.complaints import operations
    from intranet.workflows import engine

    SHANGHAI = ZoneInfo("Asia/Shanghai")

    def make(state: str = "registered", kind: str = "complaint", customer_id=None,
             subjects=(), severity: str = "general", received_at=None, **fields) -> int:
        with app.test_request_context():
            desk = db.session.get(User, staff[Role.SERVICE_DESK].id)
            customer = db.session.get(Customer, customer_id) if customer_id else None
            intake = operations.Intake(
                kind=kind, channel=fields.pop("channel", "phone"),
                received_at=received_at or clock.now(), description="产品质量问题",
                severity=severity, customer=customer,
                complainant_name="" if customer else "张先生",
                department_id=None if customer else staff[Role.SALES_MANAGER].department_id,
                subject_ids=[s.id for s in subjects],
                plan=fields.pop("plan", "三日内回复"),
                promised_on=fields.pop("promised_on", None) or (
                    (received_at or clock.now()).astimezone(SHANGHAI).date()
                    + timedelta(days=30)), **fields)
            case = operations.register(intake, desk)
            for event, actor, data in COMPLAINT_PATH:
                if case.state == state:
                    break
                data = dict(data)
                if "handler_id" in data:
                    data["handler_id"] = staff[Role.COMPLAINT_HANDLER].id
                engine.fire(case, event, user=db.session.get(User, staff[actor].id), **data)
            assert case.state == state, f"cannot drive a case to {state!r}"
            db.session.commit()
            return case.id
    return make
