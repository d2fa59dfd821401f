"""The benchmark of issue 12: every list page, the search, the customer page and the queues at
100,000 customers and 1,000,000 transactions, under gunicorn against a bare Flask page rendering
a 50-row table in the same run; one table per database.

    bash bench/run.sh        # SQLite: bench/out/all.sqlite3
    bash bench/run.sh pg     # PostgreSQL: a throwaway cluster (pg_virtualenv), seeded afresh

Data: bench/seed.py's 100,000 customers and 1,000,000 transactions, then, on top, the other
workflows' benchmark data: bench/resources.py's five sales departments, owners, pool and
requests; bench/credit_queue.py's 2,000 received credit applications; bench/cases.py's 50,000
service cases; and an archivist, a finance clerk and an administrator. On SQLite the whole is
kept in bench/out/all.sqlite3 (a backup-API copy of bench/out/bench.sqlite3, seeded once).

For each case: req/s, p50/p95/p99 with BENCH_THREADS (4) keep-alive client threads for
BENCH_SECONDS (10) against gunicorn -w BENCH_WORKERS (2), the ratio of req/s to the bare page,
and the SQL statements the page sends (counted once beforehand in a Flask test client: the
figure must not grow with the data). The load average is printed before and after.
BENCH_CASES (comma-separated parts of case names) measures those cases alone.
"""
from __future__ import annotations

import http.client
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
DURATION = float(os.environ.get("BENCH_SECONDS", "10"))
WORKERS = os.environ.get("BENCH_WORKERS", "2")
APP_PORT, BARE_PORT = 8101, 8102
BASE_DB = OUT / "bench.sqlite3"  # bench/seed.py's database
ALL_DB = OUT / "all.sqlite3"
EXTRA_PEOPLE = (("bencharchivist", "档案员", "archivist"), ("benchfinance", "财务", "finance"),
                ("benchadmin", "管理员", "admin"))


def start(app: str, port: int, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", WORKERS, "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", app], cwd=HERE.parent if app.startswith("wsgi") else HERE,
        env=env)
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/")
            connection.getresponse().read()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn on {port} did not start")


def sign_in(port: int, username: str, password: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("GET", "/auth/login")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";")[0]
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"username": username, "password": password,
                                   "csrf_token": token})
    connection.request("POST", "/auth/login", body, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    response = connection.getresponse()
    response.read()
    if response.status != 302:
        raise SystemExit(f"sign-in failed: {response.status}")
    return response.getheader("Set-Cookie").split(";")[0]


def load(port: int, paths: list[str], headers: dict) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + DURATION

    def worker(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, i = [], offset
        while time.perf_counter() < deadline:
            path = paths[i % len(paths)]
            i += THREADS
            began = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - began)
            if response.status != 200:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    return len(latencies) / elapsed, latencies, errors[0]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) > 20 else max(values)


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 100 else max(values)


def report(cases, statements: dict | None = None) -> None:
    """Load each (name, port, paths, headers) case in turn and print one line of figures,
    relative to the first case (the bare Flask baseline); `statements` adds the statements
    each page sends."""
    print(f"{'case':<30}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'err':>5}"
          f"{'vs bare':>9}{'stmts':>7}")
    baseline = None
    for name, port, paths, headers in cases:
        rps, latencies, errors = load(port, paths, headers)
        baseline = baseline or rps
        counted = (statements or {}).get(name, "")
        print(f"{name:<30}{rps:>8.1f}{statistics.median(latencies) * 1000:>8.1f}"
              f"{p95(latencies) * 1000:>8.1f}{p99(latencies) * 1000:>8.1f}{errors:>5}"
              f"{rps / baseline:>9.3f}{counted:>7}")


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


# --- Data -----------------------------------------------------------------------------------

def prepare(url: str) -> None:
    """The base data (seed.py), then the other workflows' benchmark data on top (once)."""
    if url == f"sqlite:///{ALL_DB}" and not ALL_DB.exists():
        if not BASE_DB.exists():
            subprocess.run([sys.executable, str(HERE / "seed.py")], check=True,
                           env={**os.environ, "DATABASE_URL": f"sqlite:///{BASE_DB}"})
        started = time.perf_counter()
        source, target = sqlite3.connect(BASE_DB), sqlite3.connect(ALL_DB)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        print(f"copied {BASE_DB.name} to {ALL_DB.name} in {time.perf_counter() - started:.1f} s")
    elif not url.startswith("sqlite"):
        subprocess.run([sys.executable, str(HERE / "seed.py")], check=True)
    import cases
    import credit_queue
    import resources

    resources.seed()
    credit_queue.seed(credit_queue.APPLICATIONS)
    cases.seed(cases.CASES)
    seed_extra_people()
    seed_visits()


VISITS = 200_000  # issue 14: visits over the last year, and the marks they leave


def seed_visits() -> None:
    """Visits spread over the customers' last year (a third of them with a head, a tenth
    with the GM), their marks on the customers, so the visits-due lists and the coverage
    chart have their usual mix of done and overdue."""
    import random
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import func, insert, select

    from intranet import create_app
    from intranet.extensions import db
    from intranet.models import Activity, Customer, User

    app = create_app()
    with app.app_context():
        if db.session.scalar(select(func.count()).select_from(Activity)) >= VISITS:
            db.engine.dispose()
            return
        rng = random.Random(14)
        first, last = db.session.execute(select(func.min(Customer.id),
                                                func.max(Customer.id))).one()
        user_id = db.session.scalar(select(User.id).where(User.username == "benchrep"))
        now = datetime.now(UTC)
        marks: dict[int, dict] = {}
        rows = []
        for n in range(VISITS):
            customer_id = rng.randint(first, last)
            at = now - timedelta(days=rng.randrange(1, 365), minutes=rng.randrange(600))
            head, gm = rng.random() < 0.3, rng.random() < 0.1
            rows.append({"customer_id": customer_id, "user_id": user_id, "kind": rng.choice(
                ("visit", "phone", "visit", "video")), "occurred_at": at, "summary": "拜访",
                "purpose": "sales", "satisfaction": rng.randint(1, 5), "by_head": head,
                "by_gm": gm, "by_owner": True})
            mark = marks.setdefault(customer_id, {})
            day = at.date()
            for key, counts in (("visit_rep_on", True), ("visit_head_on", head),
                                ("visit_gm_on", gm)):
                if counts and day > mark.get(key, day.min):
                    mark[key] = day
            if len(rows) == 10_000 or n == VISITS - 1:
                db.session.execute(insert(Activity), rows)
                rows = []
        for customer_id, values in marks.items():
            db.session.execute(Customer.__table__.update().where(
                Customer.id == customer_id).values(**values))
        db.session.commit()
        db.engine.dispose()


def seed_extra_people() -> None:
    from seed import PASSWORD
    from sqlalchemy import select

    from intranet import create_app
    from intranet.core import passwords
    from intranet.extensions import db
    from intranet.models import User, UserRole

    app = create_app()
    with app.app_context():
        for username, name, role in EXTRA_PEOPLE:
            if db.session.scalar(select(User.id).where(User.username == username)):
                continue
            user = User(username=username, display_name=name,
                        password_hash=passwords.hash_password(PASSWORD))
            db.session.add(user)
            db.session.flush()
            db.session.add(UserRole(user_id=user.id, role=role))
        db.session.commit()
        db.engine.dispose()


def facts() -> dict:
    """What the pages are asked for: a manager's customers, the data's size."""
    from sqlalchemy import func, select, text

    from intranet import create_app
    from intranet.extensions import db
    from intranet.models import Customer, User

    app = create_app()
    with app.app_context():
        manager = db.session.scalar(select(User).where(User.username == "benchmgr"))
        ids = db.session.scalars(select(Customer.id).where(
            Customer.department_id == manager.department_id)
            .order_by(func.random()).limit(200)).all()
        counts = {t: db.session.scalar(text(f"SELECT count(*) FROM {t}")) for t in (
            "customer", "sales_order", "shipment", "payment", "credit_application",
            "service_case")}
        dialect = db.engine.dialect.name
        db.engine.dispose()
    return {"ids": ids, "counts": counts, "dialect": dialect}


# --- Cases ----------------------------------------------------------------------------------

def pages(data: dict) -> list[tuple[str, str, list[str], dict]]:
    """(name, who, paths, extra headers) of each measured page."""
    def q(term):
        return urllib.parse.quote(term)

    rows = {"HX-Request": "true", "HX-Target": "customer-rows"}
    return [
        ("search 上海 (2 chars), GM", "benchgm", [f"/sales/customers?q={q('上海')}"], rows),
        ("search 精密机械 (4), GM", "benchgm", [f"/sales/customers?q={q('精密机械')}"], rows),
        ("search 华东 (2), manager", "benchmgr", [f"/sales/customers?q={q('华东')}"], rows),
        # issue 13 §7: the name's pinyin and initials (shhd: 上海华东…)
        ("search shhd (initials), GM", "benchgm", ["/sales/customers?q=shhd"], rows),
        ("search shanghai (pinyin), GM", "benchgm", ["/sales/customers?q=shanghai"], rows),
        ("search jingmi (pinyin), manager", "benchmgr", ["/sales/customers?q=jingmi"], rows),
        ("customers p1, rep", "benchrep", ["/sales/customers"], {}),
        ("customers p30, rep", "benchrep", ["/sales/customers?page=30"], {}),
        ("customers p1, manager", "benchmgr", ["/sales/customers"], {}),
        ("customers p50, manager", "benchmgr", ["/sales/customers?page=50"], {}),
        ("customers p1, GM", "benchgm", ["/sales/customers"], {}),
        ("customers p50, GM", "benchgm", ["/sales/customers?page=50"], {}),
        ("customers ?sort=sales, GM", "benchgm", ["/sales/customers?sort=sales"], {}),
        ("customer page, manager", "benchmgr",
         [f"/sales/customers/{i}" for i in data["ids"]], {}),
        ("credit queue, GM", "benchgm", ["/management/credit"], {}),
        ("credit queue p40, GM", "benchgm", ["/management/credit?page=40"], {}),
        ("case ledger p1, desk", "benchdesk", ["/service/ledger"], {}),
        ("case ledger p50, desk", "benchdesk", ["/service/ledger?page=50"], {}),
        ("case queue, handler", "benchhandler", ["/service/queue"], {}),
        ("pool, rep", "benchrep", ["/sales/pool"], {}),
        ("requests, manager", "benchmgr", ["/sales/requests"], {}),
        ("reclaims, manager", "benchmgr", ["/sales/reclaims"], {}),
        ("archive records, archivist", "bencharchivist", ["/archive/"], {}),
        ("orders, finance", "benchfinance", ["/finance/orders"], {}),
        ("over limit, finance", "benchfinance", ["/finance/over-limit"], {}),
        ("audit trail, admin", "benchadmin", ["/admin/audit"], {}),
        ("home, manager", "benchmgr", ["/"], {}),
        # issue 13 §1: the inbox over every workflow's open records
        ("inbox waiting, GM", "benchgm", ["/inbox"], {}),
        ("inbox waiting p20, GM", "benchgm", ["/inbox?page=20"], {}),
        ("inbox waiting, handler", "benchhandler", ["/inbox"], {}),
        ("inbox overdue, desk", "benchdesk", ["/inbox?overdue=1"], {}),
        ("inbox started, rep", "benchrep", ["/inbox?tab=started"], {}),
        ("inbox done, GM", "benchgm", ["/inbox?tab=done"], {}),
        ("inbox badge, GM", "benchgm", ["/inbox/count"], {}),
        # issue 14: visits due (overdue derived in SQL) and the dashboards
        ("visits overdue, rep", "benchrep", ["/sales/visits"], {}),
        ("visits overdue, manager", "benchmgr", ["/sales/visits"], {}),
        ("visits overdue p20, manager", "benchmgr", ["/sales/visits?page=20"], {}),
        ("visits overdue, GM", "benchgm", ["/sales/visits"], {}),
        ("visits within 7 days, manager", "benchmgr", ["/sales/visits?when=soon"], {}),
        ("VIP visits owed, GM", "benchgm", ["/sales/visits?obligation=vip_gm&when=period"],
         {}),
        ("follow-ups, rep", "benchrep", ["/sales/follow-ups"], {}),
        ("dashboard, manager", "benchmgr", ["/management/dashboard"], {}),
        ("dashboard, GM", "benchgm", ["/management/dashboard"], {}),
        ("home, GM", "benchgm", ["/"], {}),
    ]


def count_statements(cases: list) -> dict:
    """The statements each page sends (first path), counted in a Flask test client."""
    import cases as case_bench
    from sqlalchemy import event

    from intranet import create_app
    from intranet.extensions import db

    app = create_app()
    with app.app_context():
        engine = db.engine
    clients = {}
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    counts = {}
    for name, who, paths, headers in cases:
        if who not in clients:
            clients[who] = case_bench.signed_in_client(app, who)
        clients[who].get(paths[0], headers=headers)  # warm: caches, compiled statements
        seen.clear()
        response = clients[who].get(paths[0], headers=headers)
        counts[name] = len(seen) if response.status_code == 200 else f"H{response.status_code}"
    with app.app_context():
        db.engine.dispose()
    return counts


def main() -> None:
    sys.path.insert(0, str(HERE.parent))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{ALL_DB}"
    os.environ["DATABASE_URL"] = url  # before the other benchmarks' modules are imported
    os.environ.setdefault("INTRANET_INSTANCE", str(OUT))
    os.environ.setdefault("SECRET_KEY", "bench")
    prepare(url)
    data = facts()
    cases = pages(data)
    if os.environ.get("BENCH_CASES"):  # e.g. "home,customer page": those cases alone
        wanted = os.environ["BENCH_CASES"].split(",")
        cases = [case for case in cases if any(w in case[0] for w in wanted)]
    statements = count_statements(cases)
    from seed import PASSWORD

    env = {**os.environ, "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute"}
    app = start("wsgi:app", APP_PORT, env)
    bare = start("bare_app:app", BARE_PORT, env)
    try:
        cookies = {}
        for _, who, _, _ in cases:
            cookies.setdefault(who, sign_in(APP_PORT, who, PASSWORD))
        counts = data["counts"]
        print(f"\ndata on {data['dialect']}: {counts['customer']:,} customers, "
              f"{counts['sales_order'] + counts['shipment'] + counts['payment']:,} "
              f"transactions, {counts['credit_application']:,} credit applications, "
              f"{counts['service_case']:,} service cases; gunicorn -w {WORKERS}; {THREADS} "
              f"client threads x {DURATION:.0f} s per case; {os.cpu_count()} cores; load "
              f"average before {load_average()}\n")
        report([("bare Flask, 50-row table", BARE_PORT, ["/"], {})] + [
            (name, APP_PORT, paths, {"Cookie": cookies[who], **headers})
            for name, who, paths, headers in cases], statements)
        print(f"\nload average after: {load_average()}")
    finally:
        for process in (app, bare):
            process.terminate()
        for process in (app, bare):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a worker still busy with a slow request
                process.kill()


if __name__ == "__main__":
    main()
