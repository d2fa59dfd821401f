"""Benchmark the general manager's credit approval queue (GET /management/credit, rules K5,
K6) under gunicorn against the bare Flask table of bench/run.py, in the same run.

    /tmp/venv/bin/python bench/credit_queue.py     # or: bash bench/run.sh credit
    /tmp/venv/bin/python bench/credit_queue.py --seed-only

Data: bench/out/credit.sqlite3, a copy of bench/seed.py's database (100,000 customers,
1,000,000 transactions; seed.py is run first if that database is missing) with, on top,
five sales departments, a general manager (benchgm) and 2,000 credit applications in state
"received", one per customer, spread over the departments. Before every run the receipt
times are re-spread over the last four days, so about a quarter of the applications are past
their three-day deadline whenever the benchmark runs. With DATABASE_URL set (PostgreSQL) the
applications are added to that database instead.

Load as in bench/run.py: BENCH_THREADS keep-alive client threads (4) for BENCH_SECONDS (10)
per case against gunicorn -w BENCH_WORKERS (2), from this machine.
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(1, str(HERE))
OUT = HERE / "out"
OUT.mkdir(exist_ok=True)
BASE_DB = OUT / "bench.sqlite3"  # bench/seed.py's database, left as it is
CREDIT_DB = OUT / "credit.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{CREDIT_DB}")
os.environ.setdefault("INTRANET_INSTANCE", str(OUT))
os.environ["DATABASE_URL"] = DATABASE_URL  # before seed.py is imported: it reads it

from run import DURATION, THREADS, WORKERS, report, sign_in, start  # noqa: E402
from seed import PASSWORD  # noqa: E402

APP_PORT, BARE_PORT = 8111, 8112  # not bench/run.py's, so both can run side by side
APPLICATIONS = 2_000
GM = "benchgm"
DEPARTMENTS = [("bench", "销售一部", "Sales 1"), ("bench-2", "销售二部", "Sales 2"),
               ("bench-3", "销售三部", "Sales 3"), ("bench-4", "华南大区", "South China"),
               ("bench-5", "大客户部", "Key Accounts")]
SHARE = {"1": Decimal("1"), "2": Decimal("0.6"), "3": Decimal("0.3")}
REASONS = ["季度评审", "客户订单增长，申请提高额度", "回款及时，维持原额度", "新签年度框架合同",
           "Quarterly review"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=APPLICATIONS)
    parser.add_argument("--seed-only", action="store_true")
    args = parser.parse_args()
    prepare_database()
    summary = seed(args.applications)
    if not args.seed_only:
        bench(summary)


# --- Data -----------------------------------------------------------------------------------

def prepare_database() -> None:
    """bench/out/credit.sqlite3 as a consistent copy of seed.py's database (SQLite backup API,
    safe while bench/run.py uses the original)."""
    if DATABASE_URL != f"sqlite:///{CREDIT_DB}" or CREDIT_DB.exists():
        return
    if not BASE_DB.exists():
        subprocess.run([sys.executable, str(HERE / "seed.py")], check=True,
                       env={**os.environ, "DATABASE_URL": f"sqlite:///{BASE_DB}"})
    started = time.perf_counter()
    source, target = sqlite3.connect(BASE_DB), sqlite3.connect(CREDIT_DB)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    print(f"credit: copied {BASE_DB.name} to {CREDIT_DB.name} in "
          f"{time.perf_counter() - started:.1f} s")


def seed(count: int) -> dict:
    """Departments, people and `count` received applications (once); then the deadlines are
    re-spread around now. Returns what the queue holds, for the report."""
    from flask_migrate import upgrade
    from sqlalchemy import bindparam, func, insert, select, update

    from intranet import create_app, credit
    from intranet.core import clock, passwords
    from intranet.core.roles import Role
    from intranet.extensions import db
    from intranet.models import CreditApplication, Customer, Department, User, UserRole
    from intranet.workflows.calendar import add_days
    from intranet.workflows.credit import DECISION_DAYS

    app = create_app()
    with app.app_context():
        upgrade()
        if db.session.scalar(select(func.count()).select_from(Customer)) == 0:
            raise SystemExit("no customers: run bench/seed.py against this database first")
        if db.session.scalar(select(User.id).where(User.username == GM)) is None:
            started = time.perf_counter()
            hashed = passwords.hash_password(PASSWORD)
            reps = []
            for n, (code, name_zh, name_en) in enumerate(DEPARTMENTS, start=1):
                dept = db.session.scalar(select(Department).where(Department.code == code))
                if dept is None:
                    dept = Department(code=code, name_zh=name_zh, name_en=name_en)
                    db.session.add(dept)
                    db.session.flush()
                rep = User(username=f"creditrep{n}", display_name=f"客户经理{n}",
                           department_id=dept.id, password_hash=hashed)
                db.session.add(rep)
                db.session.flush()
                db.session.add(UserRole(user_id=rep.id, role=Role.SALES_REP.value))
                reps.append(rep)
            gm = User(username=GM, display_name="总经理", department_id=None,
                      password_hash=hashed)
            db.session.add(gm)
            db.session.flush()
            db.session.add(UserRole(user_id=gm.id, role=Role.GENERAL_MANAGER.value))
            rng = random.Random(3)
            customers = db.session.execute(select(Customer.id, Customer.sales_12m)).all()
            chosen = rng.sample(customers, min(count, len(customers)))
            period = credit.next_quarter_start(clock.now().date())
            moves, applications = [], []
            now = clock.now()
            for customer_id, sales in chosen:
                rep = rng.choice(reps)
                moves.append({"id": customer_id, "department_id": rep.department_id,
                              "owner_id": rep.id})
                annual = Decimal(sales or 0)
                grade = rng.choices(list(credit.GRADE_LABELS), weights=(3, 5, 2))[0]
                limit = annual / 6 * SHARE[grade] // 1000 * 1000  # K2: 2 months x share
                applications.append({
                    "customer_id": customer_id, "department_id": rep.department_id,
                    "applicant_id": rep.id, "state": "received",
                    "period_start": period, "grade": grade, "proposed_limit": limit,
                    "reason": rng.choice(REASONS), "annual_sales": annual,
                    "monthly_sales": (annual / 12).quantize(Decimal("0.01")),
                    "payment_method": rng.choice(["transfer", "acceptance", "credit", "cash"]),
                    "payment_rate": Decimal(rng.randint(55, 100)),
                    "receivables": Decimal(rng.randint(0, 400_000)),
                    "submitted_at": now - timedelta(days=5), "received_at": now,
                    "due_at": now, "created_at": now - timedelta(days=6)})
            db.session.execute(update(Customer), moves)
            db.session.execute(insert(CreditApplication), applications)
            db.session.commit()
            print(f"credit: {len(applications):,} received applications, {len(DEPARTMENTS)} "
                  f"departments, general manager {GM!r} in "
                  f"{time.perf_counter() - started:.1f} s")
        # Receipt within the last 4 days, deadline 3 days after it: ~1/4 overdue, always.
        now = clock.now()
        rng = random.Random(4)
        received = []
        for application_id in db.session.scalars(select(CreditApplication.id).where(
                CreditApplication.state == "received").order_by(CreditApplication.id)):
            at = now - timedelta(seconds=rng.randrange(4 * 86_400))
            received.append({"key": application_id, "at": at,
                             "due": add_days(at, DECISION_DAYS)})
        table = CreditApplication.__table__  # Core: the row versions stay as they are
        db.session.execute(update(table).where(table.c.id == bindparam("key")).values(
            received_at=bindparam("at"), due_at=bindparam("due")), received)
        db.session.commit()
        pending = CreditApplication.state == "received"
        summary = {
            "received": len(received),
            "overdue": db.session.scalar(select(func.count()).where(
                pending, CreditApplication.due_at < clock.now())),
            "grade 1": db.session.scalar(select(func.count()).where(
                pending, CreditApplication.grade == "1")),
            "departments": db.session.scalar(select(func.count(func.distinct(
                CreditApplication.department_id))).where(pending)),
            "customers": db.session.scalar(select(func.count()).select_from(Customer)),
            "busiest department": db.session.execute(
                select(CreditApplication.department_id, func.count()).where(pending)
                .group_by(CreditApplication.department_id)
                .order_by(func.count().desc()).limit(1)).first(),
            "dialect": db.engine.dialect.name,
        }
        db.engine.dispose()
    return summary


# --- Load -----------------------------------------------------------------------------------

def check(port: int, path: str, headers: dict) -> str:
    """One request before the load: the status and the number of rows the page shows."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    page = response.read().decode("utf-8", "replace")
    connection.close()
    if response.status != 200:
        title = re.search(r"<title>([^<]*)</title>", page)
        return f"HTTP {response.status} {title.group(1).strip() if title else page[:80]!r}"
    rows = page.count('data-testid="queue-row"')
    shown = re.search(r'<nav class="pager".*?<span>(.*?)</span>', page, re.S)
    return f"{rows} rows" + (f", {' '.join(shown.group(1).split())}" if shown else "")


def bench(summary: dict) -> None:
    env = {**os.environ, "INTRANET_INSTANCE": str(OUT), "SECRET_KEY": "bench",
           "DATABASE_URL": DATABASE_URL, "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute"}
    app = start("wsgi:app", APP_PORT, env)
    bare = start("bare_app:app", BARE_PORT, env)
    try:
        cookie = sign_in(APP_PORT, GM, PASSWORD)
        page = {"Cookie": cookie}
        htmx = {"Cookie": cookie, "HX-Request": "true", "HX-Target": "queue-rows"}
        department = summary["busiest department"][0]
        cases = [
            ("bare Flask, 50-row table", BARE_PORT, ["/"], {}),
            ("queue, all, page 1", APP_PORT, ["/management/credit"], page),
            ("queue ?grade=1", APP_PORT, ["/management/credit?grade=1"], page),
            ("queue ?overdue=1", APP_PORT, ["/management/credit?overdue=1"], page),
            ("queue dept+min (htmx)", APP_PORT,
             [f"/management/credit?department={department}&min=100000"], htmx),
            ("queue, page 40", APP_PORT, ["/management/credit?page=40"], page),
        ]
        print(f"\ndata: {summary['received']:,} received applications "
              f"({summary['overdue']:,} overdue, {summary['grade 1']:,} grade 1, "
              f"{summary['departments']} departments) over {summary['customers']:,} customers "
              f"on {summary['dialect']}; gunicorn -w {WORKERS}; {THREADS} client threads x "
              f"{DURATION:.0f} s per case; {os.cpu_count()} cores\n")
        for name, port, paths, headers in cases[1:]:
            print(f"check {name:<24} {paths[0]:<48} {check(port, paths[0], headers)}")
        print()
        report(cases)
    finally:
        for process in (app, bare):
            process.terminate()
        for process in (app, bare):
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
