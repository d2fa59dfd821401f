"""Benchmark the service cases (issue 9): the case ledger and the handler's queue under
gunicorn against the bare Flask table of bench/run.py, in the same run, then the monthly
ledger PDF with 2,000 cases in one month, rendered in one process.

    .venv/bin/python bench/cases.py                  # or: bash bench/run.sh cases
    .venv/bin/python bench/cases.py --seed-only
    .venv/bin/python bench/cases.py --no-load --what-if       # the PDF only, and with the
                                                              # CSS the report recommends
    PDF_TIMEOUT_SECONDS=120 bash bench/run.sh cases          # the view's time past 30 s

Data: bench/out/cases.sqlite3, a copy of bench/seed.py's database (100,000 customers,
1,000,000 transactions; seed.py is run first if that database is missing) with, on top, once:
three service departments, a service desk (benchdesk and two colleagues), eight complaint
handlers (benchhandler and seven more), two leaders and 50,000 service cases received over
the last two years, 2,000 of them in the month before the seed (the month of the PDF). Kinds,
channels and severities are mixed as at a real desk (55 % complaints, 30 % consultations,
15 % suggestions; half of them from registered customers); about a third are still open,
spread over the states of their machine, each with its running deadlines
(WorkflowDeadline) and next_due_at; closed cases have their deadlines met, mostly in time.
Ledger numbers run per year in order of receipt and LedgerCounter ends at each year's last.
With DATABASE_URL set (PostgreSQL) the cases are added to that database instead. No
workflow history rows are written: no measured page reads them. The schema is the migrations'
(flask_migrate.upgrade): after a change to a migration already applied here, delete
bench/out/cases.sqlite3 to have it built anew.

Load as in bench/run.py: BENCH_THREADS keep-alive client threads (4) for BENCH_SECONDS (10)
per case against gunicorn -w BENCH_WORKERS (2), from this machine. The SQL statements each
page sends are counted once beforehand, in a Flask test client with a SQLAlchemy event
listener.
"""
from __future__ import annotations

import argparse
import gc
import http.client
import logging
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(1, str(HERE))
OUT = HERE / "out"
OUT.mkdir(exist_ok=True)
BASE_DB = OUT / "bench.sqlite3"  # bench/seed.py's database, left as it is
CASES_DB = OUT / "cases.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{CASES_DB}")
os.environ.setdefault("INTRANET_INSTANCE", str(OUT))
os.environ.setdefault("SECRET_KEY", "bench")
os.environ["DATABASE_URL"] = DATABASE_URL  # before seed.py / intranet.config are imported

from run import DURATION, THREADS, WORKERS, report, sign_in, start  # noqa: E402
from seed import PASSWORD  # noqa: E402

APP_PORT, BARE_PORT = 8121, 8122  # not run.py's nor credit_queue.py's
CASES = 50_000
MONTH_CASES = 2_000  # in the month of the PDF
DAYS = 730
HANDLER, DESK = "benchhandler", "benchdesk"
DEPARTMENTS = [("svc-1", "生产部", "Production"), ("svc-2", "物流部", "Logistics"),
               ("svc-3", "质量部", "Quality")]
KINDS = {"complaint": 55, "consultation": 30, "suggestion": 15}
CHANNELS = {"phone": 45, "online": 25, "visit": 15, "letter": 10, "authority": 5}
SEVERITIES = {"general": 70, "serious": 22, "severe": 8}
OPEN_STATES = {  # an open case's state, by kind, with weights
    "complaint": {"registered": 5, "assigned": 10, "investigating": 25,
                  "awaiting_decision": 15, "escalated": 3, "decided": 10, "implemented": 10,
                  "replied": 12, "followed_up": 10},
    "consultation": {"registered": 1},
    "suggestion": {"registered": 3, "reported": 5, "considered": 2},
}
PAST_INVESTIGATION = {"investigating", "awaiting_decision", "escalated", "decided",
                      "implemented", "replied", "followed_up", "closed"}
REPLIED = {"replied", "followed_up", "closed"}
DECIDED = {"decided", "implemented", "replied", "followed_up", "closed"}
DESCRIPTIONS = [
    "收到的货物外包装破损，部分产品有划痕，要求换货。", "发票抬头开错，请重新开具增值税专用发票。",
    "送货比约定时间晚了三天，影响了我方生产安排。", "咨询新产品的技术参数和供货周期。",
    "业务员多次联系不上，希望更换对接人。", "建议在官网增加订单物流查询功能。",
    "产品批次质量不稳定，第二批的尺寸偏差超出图纸公差。",
    "对账单金额与我方记录不一致，差额 12,480 元。",
    "询问年度框架合同的续签流程和所需材料。", "建议售后电话增加晚间值班时段。",
    "安装调试人员未按约定时间到场。", "退货款项一个月仍未到账。"]
PLANS = ["核实后三个工作日内答复", "安排质检部门复检并反馈结果", "联系物流公司查明原因后回复",
         "转财务部核对账目", "提交分管领导研究"]
NAMES = ["张先生", "李女士", "王经理", "刘工", "陈女士", "杨先生", "赵主任", "黄女士"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=CASES)
    parser.add_argument("--renders", type=int, default=1,
                        help="measured renders of the monthly PDF (default 1)")
    parser.add_argument("--what-if", action="store_true",
                        help="also render the PDF with the recommended CSS (WHAT_IF_CSS)")
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--no-load", action="store_true", help="skip the gunicorn load")
    parser.add_argument("--no-pdf", action="store_true", help="skip the monthly PDF")
    args = parser.parse_args()
    prepare_database()
    summary = seed(args.cases)
    if args.seed_only:
        return
    statements = count_statements(summary)
    if not args.no_load:
        bench(summary, statements)
    else:
        print()
        print_statements(summary, statements)
    if not args.no_pdf:
        measure_pdf(summary, args.renders, args.what_if)


# --- Data -----------------------------------------------------------------------------------

def prepare_database() -> None:
    """bench/out/cases.sqlite3 as a consistent copy of seed.py's database (SQLite backup API,
    safe while bench/run.py uses the original)."""
    if DATABASE_URL != f"sqlite:///{CASES_DB}" or CASES_DB.exists():
        return
    if not BASE_DB.exists():
        subprocess.run([sys.executable, str(HERE / "seed.py")], check=True,
                       env={**os.environ, "DATABASE_URL": f"sqlite:///{BASE_DB}"})
    started = time.perf_counter()
    source, target = sqlite3.connect(BASE_DB), sqlite3.connect(CASES_DB)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    print(f"cases: copied {BASE_DB.name} to {CASES_DB.name} in "
          f"{time.perf_counter() - started:.1f} s")


def pick(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def month_before(day: date) -> tuple[date, date]:
    first = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
    return first, day.replace(day=1)


def seed(count: int) -> dict:
    """People and `count` cases (once). Returns what the data holds, for the report."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from intranet import create_app
    from intranet.core import settings
    from intranet.extensions import db
    from intranet.models import Customer, ServiceCase, User

    app = create_app()
    with app.app_context():
        upgrade()
        if db.session.scalar(select(func.count()).select_from(Customer)) == 0:
            raise SystemExit("no customers: run bench/seed.py against this database first")
        if db.session.scalar(select(User.id).where(User.username == HANDLER)) is None:
            started = time.perf_counter()
            people = seed_people()
            made = seed_cases(count, people)
            db.session.commit()
            print(f"cases: {made:,} service cases, {len(people['handlers'])} handlers, "
                  f"{len(people['desks'])} desk users in {time.perf_counter() - started:.1f} s")
        else:
            print(f"cases: already seeded ({HANDLER} exists)")
        summary = describe(app)
        zone = settings.tz()
        summary["month start"] = f"{datetime.now(zone).date().replace(day=1)}"
        # the month of the PDF: the one with exactly MONTH_CASES cases, else the fullest
        today = datetime.now(zone).date()
        best = None
        first = today.replace(day=1)
        for _ in range(DAYS // 28 + 1):
            following = first
            first = (first - timedelta(days=1)).replace(day=1)
            n = db.session.scalar(select(func.count()).where(
                ServiceCase.received_at >= datetime.combine(first, day_time(), zone),
                ServiceCase.received_at < datetime.combine(following, day_time(), zone)))
            if best is None or n == MONTH_CASES or (n > best[1] and best[1] != MONTH_CASES):
                best = (f"{first:%Y-%m}", n)
        summary["pdf month"], summary["pdf cases"] = best
        db.engine.dispose()
    return summary


def seed_people() -> dict:
    from sqlalchemy import select

    from intranet.core import passwords
    from intranet.core.roles import Role
    from intranet.extensions import db
    from intranet.models import Department, User, UserRole

    hashed = passwords.hash_password(PASSWORD)
    departments = []
    for code, name_zh, name_en in DEPARTMENTS:
        dept = db.session.scalar(select(Department).where(Department.code == code))
        if dept is None:
            dept = Department(code=code, name_zh=name_zh, name_en=name_en)
            db.session.add(dept)
            db.session.flush()
        departments.append(dept.id)

    def user(username, name, role, department_id=None):
        person = User(username=username, display_name=name, department_id=department_id,
                      password_hash=hashed)
        db.session.add(person)
        db.session.flush()
        db.session.add(UserRole(user_id=person.id, role=role.value))
        return person.id

    desks = [user(DESK, "服务台一", Role.SERVICE_DESK)] + [
        user(f"casedesk{n}", f"服务台{'二三'[n - 2]}", Role.SERVICE_DESK) for n in (2, 3)]
    handlers = [user(HANDLER, "投诉专员一", Role.COMPLAINT_HANDLER)] + [
        user(f"casehandler{n}", f"投诉专员{n}", Role.COMPLAINT_HANDLER) for n in range(2, 9)]
    leaders = [user(f"caseleader{n}", f"部门经理{n}", Role.SALES_MANAGER, departments[n - 1])
               for n in (1, 2)]
    db.session.flush()
    return {"departments": departments, "desks": desks, "handlers": handlers,
            "leaders": leaders}


def seed_cases(count: int, people: dict) -> int:
    """`count` cases in one pass: received times first (so numbers follow receipt), then each
    case's state and its clocks as the machine would have left them; set-based inserts."""
    from sqlalchemy import insert, select

    from intranet.complaints.settings import REPLY_DAYS
    from intranet.core import clock, settings
    from intranet.extensions import db
    from intranet.models import Customer, LedgerCounter, ServiceCase, WorkflowDeadline
    from intranet.workflows import deadlines
    from intranet.workflows.calendar import add_days, end_of_working_day

    rng = random.Random(9)
    zone = settings.tz()
    now = clock.now()
    today = now.astimezone(zone).date()
    month_first, month_end = month_before(today)
    window_start = today - timedelta(days=DAYS)
    reply_days = {s: settings.get(key) for s, key in REPLY_DAYS.items()}
    answer_hours = settings.get("consultation_answer_hours")
    repeat_days = timedelta(days=settings.get("complaint_repeat_days"))
    fractions = deadlines.warning_fractions()

    def moment(first: date, days: int) -> datetime:
        day = first + timedelta(days=rng.randrange(days))
        if rng.random() < 0.85:  # office hours, mostly
            seconds = 8 * 3600 + rng.randrange(11 * 3600)
        else:
            seconds = rng.randrange(86_400)
        return (datetime.combine(day, day_time(), zone) + timedelta(seconds=seconds)) \
            .astimezone(UTC)

    received: list[datetime] = []
    in_month = min(MONTH_CASES, count)
    for _ in range(in_month):
        received.append(moment(month_first, (month_end - month_first).days))
    while len(received) < count:
        at = moment(window_start, DAYS)
        if not month_first <= at.astimezone(zone).date() < month_end and at < now:
            received.append(at)
    received.sort()

    customers = db.session.execute(select(Customer.id, Customer.tier,
                                          Customer.department_id)).all()
    counters = {row.year: row.last for row in db.session.scalars(select(LedgerCounter).where(
        LedgerCounter.prefix == "TS"))}
    last_complaint: dict[int, datetime] = {}
    cases, clocks = [], []  # clocks: (index of the case, deadline dict)

    def warning(started, due):
        return deadlines.warning_time(SimpleNamespace(
            started_at=started, due_at=due, paused_seconds=0, warned_percent=0)) \
            if fractions else None

    def add_clock(i, kind, started, due, met=None, paused=None, note=""):
        clocks.append((i, {
            "object_type": "service_case", "kind": kind, "note": note, "started_at": started,
            "due_at": due, "met_at": met, "pausable": kind == "reply", "paused_at": paused,
            "pause_reason": "等待客户提供检测报告" if paused else "", "paused_seconds": 0,
            "warned_percent": 0, "next_warning_at": warning(started, due), "escalation": 0}))
        return due if met is None and paused is None else None

    def met_by(due, started, late_share):
        """When a clock was met: mostly before it fell due, `late_share` after."""
        span = max((due - started).total_seconds(), 3600)
        if rng.random() < late_share:
            return due + timedelta(seconds=rng.uniform(600, span))
        return started + timedelta(seconds=rng.uniform(300, span))

    for i, at in enumerate(received):
        year = at.astimezone(zone).year
        counters[year] = counters.get(year, 0) + 1
        kind = pick(rng, KINDS)
        channel = pick(rng, CHANNELS)
        severity = pick(rng, SEVERITIES) if kind == "complaint" else "general"
        age = (now - at).days
        is_open = rng.random() < (0.95 if age < 30 else 0.5 if age < 180 else 0.25)
        state = pick(rng, OPEN_STATES[kind]) if is_open else "closed"
        customer = rng.choice(customers) if rng.random() < 0.5 else None
        repeat = False
        if customer and kind == "complaint":
            before = last_complaint.get(customer.id)
            repeat = before is not None and at - before <= repeat_days
            last_complaint[customer.id] = at
        on_spot = kind == "consultation" and not is_open and rng.random() < 0.6
        promised_on = None if on_spot else (at.astimezone(zone).date()
                                            + timedelta(days=rng.randint(1, 10)))
        handler = None
        if kind == "complaint" and state != "registered":
            handler = people["handlers"][0] if rng.random() < 1 / 8 else \
                rng.choice(people["handlers"][1:])
        leader = rng.choice(people["leaders"]) if kind == "suggestion" and state in (
            "reported", "considered", "closed") else None
        row = {
            "year": year, "seq": counters[year], "kind": kind, "channel": channel,
            "severity": severity, "state": state, "version": 1, "received_at": at,
            "customer_id": customer.id if customer else None,
            "complainant_name": "" if customer else rng.choice(NAMES),
            "complainant_phone": "" if customer else f"13{rng.randrange(10**9):09d}",
            "department_id": (customer.department_id if customer
                              else rng.choice(people["departments"] + [None])),
            "description": rng.choice(DESCRIPTIONS),
            "priority": 0 if severity == "severe" or (customer and customer.tier in (
                "vip", "key")) else 1,
            "repeat": repeat, "registered_by_id": people["desks"][0] if rng.random() < 1 / 3
            else rng.choice(people["desks"][1:]),
            "first_answer": "已当场解答。" if on_spot else "",
            "plan": "" if on_spot else rng.choice(PLANS), "promised_on": promised_on,
            "handler_id": handler, "opinion": "", "decision": "", "decided_by_id": None,
            "decided_at": None, "meeting_on": None, "authorities_notified": None,
            "implementation": "", "reply": "", "replied_at": None, "satisfaction": "",
            "verified_by_id": None, "leader_id": leader, "adopted": None, "next_due_at": None,
            "closed_at": None, "created_at": at}
        running = []
        if kind == "consultation":
            due = at + timedelta(hours=answer_hours)
            if on_spot:
                add_clock(i, "answer", at, due, met=at)
                row["replied_at"] = row["closed_at"] = at
            else:
                met = met_by(due, at, 0.1) if not is_open else None
                running.append(add_clock(i, "answer", at, due, met=met))
                row["replied_at"] = row["closed_at"] = met
        elif kind == "complaint":
            due = end_of_working_day(at)
            met = met_by(due, at, 0.1) if state in PAST_INVESTIGATION else None
            running.append(add_clock(i, "investigation", at, due, met=met))
            due = add_days(at, reply_days[severity])
            met = met_by(due, at, 0.15) if state in REPLIED else None
            paused = (now - timedelta(hours=rng.randint(1, 72))
                      if met is None and state in ("investigating", "awaiting_decision")
                      and rng.random() < 0.05 else None)
            running.append(add_clock(i, "reply", at, due, met=met, paused=paused))
            if met:
                row["reply"], row["replied_at"] = "书面答复已送达客户。", met
            if state in DECIDED:
                row["decision"], row["decided_by_id"] = "同意退换货并补偿运费。", \
                    rng.choice(people["leaders"])
                row["decided_at"] = (met or now) - timedelta(hours=rng.randint(2, 48))
            if state == "closed":
                row["closed_at"] = (met or at) + timedelta(days=rng.randint(1, 10))
        else:  # suggestion
            if state in ("considered", "closed"):
                row["adopted"] = rng.random() < 0.4
                row["decision"] = "采纳，列入下季度改进计划。" if row["adopted"] else "暂不采纳。"
            if state == "closed":
                row["reply"] = "已向客户反馈处理结果。"
        if promised_on is not None:
            due = datetime.combine(promised_on + timedelta(days=1), day_time(), zone) \
                - timedelta(microseconds=1)
            met = (row["replied_at"] or met_by(due, at, 0.1)) if state == "closed" or (
                state in REPLIED) else None
            running.append(add_clock(i, "promised", at, due, met=met, note=row["plan"]))
            if kind == "suggestion" and state == "closed":
                row["replied_at"] = row["closed_at"] = met
        row["next_due_at"] = min((d for d in running if d), default=None) \
            if state != "closed" else None
        cases.append(row)

    for first in range(0, len(cases), 5_000):
        db.session.execute(insert(ServiceCase), cases[first:first + 5_000])
    ids = {(year, seq): case_id for case_id, year, seq in db.session.execute(
        select(ServiceCase.id, ServiceCase.year, ServiceCase.seq))}
    rows = []
    for i, deadline in clocks:
        deadline["object_id"] = ids[(cases[i]["year"], cases[i]["seq"])]
        rows.append(deadline)
        if len(rows) == 10_000:
            db.session.execute(insert(WorkflowDeadline), rows)
            rows = []
    if rows:
        db.session.execute(insert(WorkflowDeadline), rows)
    # Rule P1: the counters go on after the last number given
    table = LedgerCounter.__table__
    for year, last in counters.items():
        db.session.execute(table.delete().where(table.c.prefix == "TS", table.c.year == year))
        db.session.execute(table.insert().values(prefix="TS", year=year, last=last))
    return len(cases)


def describe(app) -> dict:
    from sqlalchemy import func, select

    from intranet.core import clock
    from intranet.extensions import db
    from intranet.models import ServiceCase, User, WorkflowDeadline

    handler = db.session.scalar(select(User.id).where(User.username == HANDLER))
    open_ = ServiceCase.state != "closed"

    def count(*where):
        return db.session.scalar(select(func.count()).select_from(ServiceCase).where(*where))

    return {
        "cases": count(), "open": count(open_),
        "overdue": count(open_, ServiceCase.next_due_at < clock.now()),
        "mine": count(open_, ServiceCase.handler_id == handler),
        "complaint severe": count(ServiceCase.kind == "complaint",
                                  ServiceCase.severity == "severe"),
        "with customer": count(ServiceCase.customer_id.is_not(None)),
        "deadlines": db.session.scalar(select(func.count()).select_from(WorkflowDeadline)),
        "dialect": db.engine.dialect.name,
    }


# --- Statements -------------------------------------------------------------------------------

def urls(summary: dict) -> list[tuple[str, str, str, dict]]:
    """(name, who, path, extra headers) of each measured page."""
    return [
        ("ledger, page 1", DESK, "/service/ledger", {}),
        ("ledger ?kind&severity", DESK, "/service/ledger?kind=complaint&severity=severe", {}),
        ("ledger, page 50", DESK, "/service/ledger?page=50", {}),
        # the ledger filtered to one month
        ("ledger ?since=month start", DESK, f"/service/ledger?since={summary['month start']}",
         {}),
        ("ledger figures (htmx)", DESK, "/service/ledger/figures",
         {"HX-Request": "true", "HX-Target": "figures"}),
        ("ledger rows (htmx)", DESK, "/service/ledger?page=2",
         {"HX-Request": "true", "HX-Target": "case-rows"}),
        ("queue, handler (mine)", HANDLER, "/service/queue", {}),
        ("queue ?all=1, desk", DESK, "/service/queue?all=1", {}),
    ]


def signed_in_client(app, username: str):
    """A test client signed in without the password round trip (tests/conftest.login_fast)."""
    from flask_login.utils import _create_identifier
    from sqlalchemy import select

    from intranet.core import clock
    from intranet.extensions import db
    from intranet.models import User

    client = app.test_client()
    with app.test_request_context(environ_base=client.environ_base):
        token = db.session.scalar(select(User).where(User.username == username)).get_id()
        identifier = _create_identifier()
    now = int(clock.now().timestamp())
    with client.session_transaction() as session:
        session.update({"_user_id": token, "_fresh": True, "_id": identifier, "since": now,
                        "seen": now})
    return client


def count_statements(summary: dict) -> dict:
    """The statements (all, and SELECTs) each page sends, in a test client: the figure must
    not grow with the rows on the page. Then the median time of five more requests, one at a
    time (what one request costs without the load's queueing)."""
    from sqlalchemy import event

    from intranet import create_app
    from intranet.extensions import db

    app = create_app()
    with app.app_context():
        engine = db.engine
    clients = {who: signed_in_client(app, who) for who in (DESK, HANDLER)}
    seen: list[str] = []

    def listener(conn, cursor, statement, *args):
        seen.append(statement.lstrip().split(None, 1)[0].upper())

    counts = {}
    event.listen(engine, "before_cursor_execute", listener)
    try:
        pages = urls(summary) + [
            ("monthly PDF", DESK, f"/service/ledger/monthly.pdf?month={summary['pdf month']}",
             {})] + [("(ledger, no row)", DESK, "/service/ledger?since=2000-01-01"
                      "&until=2000-01-01", {})]
        for name, who, path, headers in pages:
            if name == "monthly PDF":  # count without rendering: the statements are the view's
                from intranet import pdf
                original, pdf.render_pdf = pdf.render_pdf, lambda html: b"%PDF"
            seen.clear()
            response = clients[who].get(path, headers=headers)
            statements = (len(seen), seen.count("SELECT"))
            times = []
            for _ in range(5):
                began = time.perf_counter()
                clients[who].get(path, headers=headers)
                times.append(time.perf_counter() - began)
            if name == "monthly PDF":
                pdf.render_pdf = original
            counts[name] = (*statements, response.status_code, statistics.median(times))
    finally:
        event.remove(engine, "before_cursor_execute", listener)
        with app.app_context():
            db.engine.dispose()
    return counts


def print_statements(summary: dict, statements: dict, check_page=None) -> None:
    print("statements: all / SELECT, counted in a test client; 1 req: median ms of five "
          "requests one at a time there\n")
    print(f"{'page':<26}{'stmts':>6}{'SELECT':>7}{'1 req':>8}  {'path':<50} check")
    for name, who, path, headers in urls(summary):
        total, selects, status, alone = statements[name]
        shown = check_page(who, path, headers) if check_page else f"HTTP {status}"
        print(f"{name:<26}{total:>6}{selects:>7}{alone * 1000:>8.0f}  {path:<50} {shown}")
    for name, note in (("(ledger, no row)", ""), ("monthly PDF", ", without the render")):
        total, selects, status, alone = statements[name]
        print(f"{name:<26}{total:>6}{selects:>7}{alone * 1000:>8.0f}  HTTP {status}{note}")
    print()


# --- Load -------------------------------------------------------------------------------------

def check(port: int, path: str, headers: dict) -> str:
    """One request before the load: the status and the rows the page shows (as
    credit_queue.check, for the case rows)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    page = response.read().decode("utf-8", "replace")
    connection.close()
    if response.status != 200:
        title = re.search(r"<title>([^<]*)</title>", page)
        return f"HTTP {response.status} {title.group(1).strip() if title else page[:80]!r}"
    rows = page.count('data-testid="case-row"')
    shown = re.search(r'<nav class="pager".*?<span>(.*?)</span>', page, re.S)
    return f"{rows} rows" + (f", {' '.join(shown.group(1).split())}" if shown else "")


def bench(summary: dict, statements: dict) -> None:
    env = {**os.environ, "INTRANET_INSTANCE": str(OUT), "SECRET_KEY": "bench",
           "DATABASE_URL": DATABASE_URL, "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute"}
    app = start("wsgi:app", APP_PORT, env)
    bare = start("bare_app:app", BARE_PORT, env)
    try:
        cookies = {who: sign_in(APP_PORT, who, PASSWORD) for who in (DESK, HANDLER)}
        cases = [("bare Flask, 50-row table", BARE_PORT, ["/"], {})]
        for name, who, path, headers in urls(summary):
            cases.append((name, APP_PORT, [path], {"Cookie": cookies[who], **headers}))
        print(f"\ndata: {summary['cases']:,} service cases ({summary['open']:,} open, "
              f"{summary['overdue']:,} of them overdue; {summary['mine']:,} open with "
              f"{HANDLER}; {summary['with customer']:,} from customers; "
              f"{summary['deadlines']:,} deadline rows) over 100,000 customers on "
              f"{summary['dialect']}; gunicorn -w {WORKERS}; {THREADS} client threads x "
              f"{DURATION:.0f} s per case; {os.cpu_count()} cores\n")
        print_statements(summary, statements, lambda who, path, headers: check(
            APP_PORT, path, {"Cookie": cookies[who], **headers}))
        report(cases)
    finally:
        for process in (app, bare):
            process.terminate()
        for process in (app, bare):
            process.wait(timeout=10)


# --- The monthly PDF --------------------------------------------------------------------------

# What the report recommends for long record tables, for --what-if: a fixed table layout with
# column widths (no min/max-content pass over every cell) and fixed margin-box widths (no
# min-content pass over the running footer with its break-all digest on every page).
WHAT_IF_CSS = (
    "table.ledger { table-layout: fixed; }"
    + "".join(f" table.ledger th:nth-child({n}) {{ width: {w}%; }}"
              for n, w in enumerate((15, 10, 8, 10, 25, 10, 10, 12), start=1))
    + " @page { @bottom-center { width: 150mm; } @bottom-right { width: 20mm; } }")


def measure_pdf(summary: dict, renders: int, what_if: bool) -> None:
    """As bench/pdf_render.py, signed in as the desk inside a test request context: a small
    warm-up render in this process and in the renderer process, then `renders` rounds of each
    variant in turn (a 2,000-row record takes tens of seconds: no warm-up of its own).

    - query+figures: the cases of the month and their figures, as ledger_pdf() loads them
    - view w/o PDF:  ledger_pdf() with the PDF step left out (queries, Jinja body + footer)
    - view:          ledger_pdf() as GET /service/ledger/monthly.pdf runs it: the renderer
                     process under PDF_TIMEOUT_SECONDS, the audit row; a PdfTimeout is the
                     503 page the user gets
    - direct:        WeasyPrint alone on the same final HTML, in this process, no time limit
    - direct+what-if (--what-if): the same with WHAT_IF_CSS added
    """
    import weasyprint
    from flask_login import login_user
    from pdf_render import describe_pdf, static_server
    from sqlalchemy import select

    from intranet import create_app, pdf
    from intranet.blueprints.service import ledger as view
    from intranet.complaints import ledger as case_ledger
    from intranet.extensions import db
    from intranet.models import ServiceCase, User

    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    app = create_app()
    month = summary["pdf month"]
    path = f"/service/ledger/monthly.pdf?month={month}"
    server, base_url = static_server(Path(app.static_folder))
    try:
        with app.test_request_context(path):
            user = db.session.scalar(select(User).where(User.username == DESK))
            login_user(user, fresh=True)

            def context():
                first, following = case_ledger.month_bounds(month)
                filters = case_ledger.read_filters({"since": first.isoformat()}, user)
                query = case_ledger.query(filters, user).where(
                    ServiceCase.received_at < case_ledger.local_midnight(following))
                cases = db.session.scalars(query.order_by(ServiceCase.year, ServiceCase.seq)
                                           .limit(view.MONTHLY_PART)).all()
                figures = case_ledger.figures(query)
                db.session.rollback()  # expires every row: the next round loads afresh
                return cases, figures

            captured: list[str] = []
            view_record = view.render_record

            def html_only(*args, **kwargs):
                original = pdf.render_pdf
                pdf.render_pdf = lambda html: captured.append(html) or b""
                try:
                    return pdf.render_record(*args, **kwargs)
                finally:
                    pdf.render_pdf = original

            def view_html():
                captured.clear()
                view.render_record = html_only
                try:
                    view.ledger_pdf()
                finally:
                    view.render_record = view_record
                    db.session.rollback()
                return captured[0]

            def request():
                try:
                    return view.ledger_pdf()[0]
                except pdf.PdfTimeout:
                    return None
                finally:
                    db.session.rollback()

            def direct(document):
                return lambda: weasyprint.HTML(string=document, base_url=base_url).write_pdf()

            cases, figures = context()
            html = view_html()
            small = html.split("<tbody>")[0] + "<tbody></tbody></table></body></html>"
            warm = time.perf_counter()
            pdf.render_pdf(small)  # starts the renderer process, loads the fonts there
            weasyprint.HTML(string=small, base_url=base_url).write_pdf()
            warm = time.perf_counter() - warm
            variants = {"query+figures": (None, context), "view w/o PDF": (None, view_html),
                        "view": (None, request), "direct": (gc.collect, direct(html))}
            if what_if:
                variants["direct+what-if"] = (gc.collect, direct(html.replace(
                    "</head>", f"<style>{WHAT_IF_CSS}</style></head>")))
            results: dict[str, tuple[list[float], list]] = {n: ([], []) for n in variants}
            for _ in range(renders):
                for name, (prepare, call) in variants.items():
                    if prepare:
                        prepare()
                    began = time.perf_counter()
                    value = call()
                    results[name][0].append(time.perf_counter() - began)
                    results[name][1].append(value)
    finally:
        server.shutdown()
        server.server_close()

    timeout = app.config["PDF_TIMEOUT_SECONDS"]
    print(f"\nmonthly ledger PDF {month}: {len(cases):,} cases (figures over "
          f"{figures.total:,}); final HTML {len(html):,} characters; WeasyPrint "
          f"{weasyprint.__version__}; fast subsetting "
          f"{'on' if pdf.fast_subsetting_available() else 'OFF'}; PDF_TIMEOUT_SECONDS "
          f"{timeout:g}; warm-up {warm:.1f} s; {renders} interleaved render(s) each; "
          f"{os.cpu_count()} cores")
    outcomes = results["view"][1]
    done = [data for data in outcomes if data]
    print(f"  view:   {describe_pdf(done[0]) if done else 'no PDF'}"
          + (f"; {len(outcomes) - len(done)} of {len(outcomes)} stopped by the time limit "
             f"(PdfTimeout: the user gets the 503 page)" if len(done) < len(outcomes) else ""))
    print(f"  direct: {describe_pdf(results['direct'][1][0])}")
    if what_if:
        print(f"  direct+what-if: {describe_pdf(results['direct+what-if'][1][0])}")
    print(f"\n{'variant':<16}{'mean ms':>10}{'median ms':>11}{'min ms':>10}{'max ms':>10}"
          f"{'mean vs direct':>16}{'ms per case':>13}")
    base = results["direct"][0]
    for name, (times, _) in results.items():
        ms = [t * 1000 for t in times]
        print(f"{name:<16}{statistics.mean(ms):>10.0f}{statistics.median(ms):>11.0f}"
              f"{min(ms):>10.0f}{max(ms):>10.0f}"
              f"{statistics.mean(times) / statistics.mean(base):>16.3f}"
              f"{statistics.mean(ms) / max(len(cases), 1):>13.1f}")


if __name__ == "__main__":
    main()
