"""Benchmark customer resources (issue 10): `flask jobs run` with the reclaim rules switched on
over 100,000 customers and 1,000,000 transactions, then the pool page, the requests list and
the reclaim batches under gunicorn against the bare Flask table of bench/run.py, in the same
run.

    .venv/bin/python bench/resources.py            # or: bash bench/run.sh resources
    .venv/bin/python bench/resources.py --seed-only
    .venv/bin/python bench/resources.py --no-load  # the jobs only

Data: bench/out/resources.sqlite3, a copy of bench/seed.py's database (seed.py is run first if
that database is missing), migrated with flask_migrate.upgrade, with, on top, once: five sales
departments of 20 reps and a manager each (benchrep and benchmgr in the first), the three
reclaim rules of migration 0007 switched on (R2 no activity 60 days, warnings 7 and 1 days
before; R5 prospect 365, R6 former 365, warnings 30 and 7), 97,000 owned customers with one
"registered" ownership record each (the migration backfills only the 1 % of seed.py's
customers that had an owner; those records are rewritten), 3,000 customers in the pool 公海
with two or three records each (registered, sometimes a transfer, the reclaim that returned
them in one of ~120 nightly batches), and 350 open requests (transfers "requested" or
"confirmed", pool claims "requested") plus 150 closed ones, written directly. Relations are
mixed (70 % customers, 20 % prospects, 3 % partners, 7 % former); owned_since and
last_activity_at are spread so that about 8 % of the customers are due now and about 3 % get
a warning. Orders are seed.py's (last two years). The times are relative to the seed: the data
is rebuilt when it is more than a day old. With DATABASE_URL set (PostgreSQL) the data is
added to that database and the jobs run on it (no fresh copy: the counting run is skipped).

Measured on SQLite, each on its own backup-API copy of that database:
- resources-run.sqlite3: `flask --app wsgi jobs run` in a subprocess, as cron runs it (wall
  seconds, peak RSS of the child from os.wait4), then a second time (it must change nothing);
  the pages are then served from this copy (the pool holds what the run returned).
- resources-count.sqlite3: the same jobs in this process, exactly as core/jobs.run_all runs
  them (one transaction each, in a test request context), with a SQLAlchemy
  `before_cursor_execute` listener: statements and seconds per job, first and second run.
Load as in bench/run.py: BENCH_THREADS keep-alive client threads (4) for BENCH_SECONDS (10)
per case against gunicorn -w BENCH_WORKERS (2); statements per page counted once beforehand
in a Flask test client, as bench/cases.py does.
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(1, str(HERE))
OUT = HERE / "out"
OUT.mkdir(exist_ok=True)
BASE_DB = OUT / "bench.sqlite3"  # bench/seed.py's database, left as it is
RESOURCES_DB = OUT / "resources.sqlite3"  # the seeded data, never run on
RUN_DB = OUT / "resources-run.sqlite3"
COUNT_DB = OUT / "resources-count.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{RESOURCES_DB}")
ON_SQLITE = DATABASE_URL == f"sqlite:///{RESOURCES_DB}"
RUN_URL = f"sqlite:///{RUN_DB}" if ON_SQLITE else DATABASE_URL
os.environ.setdefault("INTRANET_INSTANCE", str(OUT))
os.environ.setdefault("SECRET_KEY", "bench")
os.environ["DATABASE_URL"] = DATABASE_URL  # before seed.py / cases.py / intranet are imported

from cases import signed_in_client  # noqa: E402
from run import DURATION, THREADS, WORKERS, load, p95, sign_in, start  # noqa: E402
from seed import PASSWORD  # noqa: E402

APP_PORT, BARE_PORT = 8131, 8132  # not run.py's, credit_queue.py's nor cases.py's
REP, MANAGER = "benchrep", "benchmgr"
DEPARTMENTS = [("bench", "销售一部", "Sales 1"), ("bench-2", "销售二部", "Sales 2"),
               ("bench-3", "销售三部", "Sales 3"), ("bench-4", "华南大区", "South China"),
               ("bench-5", "大客户部", "Key Accounts")]
REPS_PER_DEPARTMENT = 20
POOL = 3_000
OPEN_TRANSFERS, CONFIRMED_TRANSFERS, OPEN_CLAIMS, CLOSED = 150, 80, 120, 150
RELATIONS = {"customer": 70, "prospect": 20, "partner": 3, "former": 7}
REASONS = ["客户搬迁至对方负责区域，就近服务", "客户点名希望由对方继续跟进",
           "与客户采购负责人是老关系", "曾参与该客户的展会接待，客户有采购意向",
           "客户在公海已久，有新的合作机会"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--no-load", action="store_true", help="skip the gunicorn load")
    args = parser.parse_args()
    prepare_database()
    seed()
    if args.seed_only:
        return
    if ON_SQLITE:
        for target in (RUN_DB, COUNT_DB):
            copy(RESOURCES_DB, target)
    before = describe(RUN_URL)
    jobs = measure_jobs()
    counted = count_jobs() if ON_SQLITE else None
    print_jobs(before, jobs, counted)
    statements = count_pages()
    if not args.no_load:
        bench(statements)
    else:
        print_pages(statements)


# --- Data -----------------------------------------------------------------------------------

def copy(source: Path, target: Path) -> None:
    """A consistent copy with the SQLite backup API (safe while another run reads `source`)."""
    started = time.perf_counter()
    target.unlink(missing_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    print(f"resources: copied {source.name} to {target.name} in "
          f"{time.perf_counter() - started:.1f} s")


def prepare_database() -> None:
    if not ON_SQLITE:
        return
    if RESOURCES_DB.exists() and _seeded_at() is not None and \
            time.time() - _seeded_at() > 86_400:
        print("resources: the data is more than a day old (its times are relative to the "
              "seed): rebuilding it")
        RESOURCES_DB.unlink()
    if RESOURCES_DB.exists():
        return
    if not BASE_DB.exists():
        subprocess.run([sys.executable, str(HERE / "seed.py")], check=True,
                       env={**os.environ, "DATABASE_URL": f"sqlite:///{BASE_DB}"})
    copy(BASE_DB, RESOURCES_DB)


def _seeded_at() -> float | None:
    """When the data was seeded: the rules were switched on then (their updated_at)."""
    from datetime import UTC, datetime

    with sqlite3.connect(RESOURCES_DB) as database:
        try:
            row = database.execute("SELECT max(updated_at) FROM reclaim_rule WHERE enabled"
                                   ).fetchone()
        except sqlite3.OperationalError:
            return None
    if not row or not row[0]:
        return None
    return datetime.fromisoformat(str(row[0])).replace(tzinfo=UTC).timestamp()


def seed() -> None:
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from intranet import create_app
    from intranet.extensions import db
    from intranet.models import Customer, OwnershipRecord, ReclaimRule

    app = create_app({"SQLALCHEMY_DATABASE_URI": DATABASE_URL})
    with app.app_context():
        upgrade()
        if db.session.scalar(select(func.count()).select_from(Customer)) == 0:
            raise SystemExit("no customers: run bench/seed.py against this database first")
        if db.session.scalar(select(func.count()).where(ReclaimRule.enabled)):
            print("resources: already seeded (reclaim rules on)")
            db.engine.dispose()
            return
        backfilled = db.session.scalar(select(func.count()).select_from(OwnershipRecord)
                                       .where(OwnershipRecord.kind == "registered"))
        owned = db.session.scalar(select(func.count()).where(Customer.owner_id.is_not(None)))
        print(f"resources: after upgrade, {backfilled:,} 'registered' ownership records for "
              f"{owned:,} owned customers (migration 0007's backfill); rewriting them")
        started = time.perf_counter()
        people = seed_people()
        seed_customers(people)
        seed_requests(people)
        db.session.commit()
        print(f"resources: seeded in {time.perf_counter() - started:.1f} s")
        db.engine.dispose()


def seed_people() -> dict:
    from sqlalchemy import select

    from intranet.core import passwords
    from intranet.core.roles import Role
    from intranet.extensions import db
    from intranet.models import Department, User, UserRole

    hashed = passwords.hash_password(PASSWORD)
    people = {"reps": {}, "managers": {}}
    for n, (code, name_zh, name_en) in enumerate(DEPARTMENTS, start=1):
        dept = db.session.scalar(select(Department).where(Department.code == code))
        if dept is None:
            dept = Department(code=code, name_zh=name_zh, name_en=name_en)
            db.session.add(dept)
            db.session.flush()
        names = [(f"resrep{n}-{i}", f"客户经理{n}-{i}") for i in range(1, REPS_PER_DEPARTMENT)]
        names.insert(0, (REP, REP) if n == 1 else (f"resrep{n}-0", f"客户经理{n}-0"))
        reps = []
        for username, display in names:
            user = db.session.scalar(select(User).where(User.username == username))
            if user is None:
                user = User(username=username, display_name=display, password_hash=hashed)
                db.session.add(user)
                db.session.flush()
                db.session.add(UserRole(user_id=user.id, role=Role.SALES_REP.value))
            user.department_id = dept.id
            reps.append(user.id)
        manager_name = MANAGER if n == 1 else f"resmgr{n}"
        manager = db.session.scalar(select(User).where(User.username == manager_name))
        if manager is None:
            manager = User(username=manager_name, display_name=f"销售总监{n}",
                           password_hash=hashed)
            db.session.add(manager)
            db.session.flush()
            db.session.add(UserRole(user_id=manager.id, role=Role.SALES_MANAGER.value))
        manager.department_id = dept.id
        people["reps"][dept.id] = reps
        people["managers"][dept.id] = manager.id
    db.session.flush()
    return people


def _days_ago(now, days: float):
    return now - timedelta(days=days)


def seed_customers(people: dict) -> None:
    """Owners, relations, clocks and ownership records of every customer, set-based."""
    from sqlalchemy import bindparam, delete, insert, select, update

    from intranet.core import clock
    from intranet.extensions import db
    from intranet.models import Customer, OwnershipRecord, ReclaimRule
    from intranet.resources import reclaim

    reclaim.ensure_defaults()
    now = clock.now()
    rules = {r.kind: r for r in db.session.scalars(select(ReclaimRule).order_by(ReclaimRule.id))}
    for rule in rules.values():
        rule.enabled, rule.updated_at = True, now
    pool_id = rules["no_activity"].pool_id
    db.session.execute(delete(OwnershipRecord))  # only the migration's backfill is there
    rng = random.Random(10)
    ids = list(db.session.scalars(select(Customer.id).order_by(Customer.id)))
    in_pool = set(rng.sample(ids, POOL))
    departments = list(people["reps"])
    # nightly reclaim batches of the last ~four months (02:00 Shanghai = 18:00 UTC)
    batch_times = [(now - timedelta(days=d)).replace(hour=18, minute=0, second=0,
                                                     microsecond=0) for d in range(3, 123)]
    table = Customer.__table__
    changes, records = [], []
    for customer_id in ids:
        dept = rng.choice(departments)
        rep = rng.choice(people["reps"][dept])
        if customer_id in in_pool:
            relation = rng.choice(["prospect", "prospect", "former", "customer"])
            rule = rules["former" if relation == "former" else rng.choice(
                ["no_activity", "no_activity", "prospect"])]
            returned = rng.choice(batch_times)
            registered = returned - timedelta(days=rng.uniform(rule.days, rule.days + 400))
            records.append(_record(customer_id, "registered", None, rep, registered))
            last = rep
            if rng.random() < 0.3:
                last = rng.choice([r for r in people["reps"][dept] if r != rep])
                records.append(_record(customer_id, "transfer", rep, last, registered + (
                    returned - registered) / 3, actor=last,
                    approved=people["managers"][dept]))
            records.append({**_record(customer_id, "reclaim", last, None, returned),
                            "pool_id": pool_id, "reason": f"reclaim_rule:{rule.id}",
                            "object_type": "reclaim_rule", "object_id": rule.id})
            changes.append({"key": customer_id, "owner": None, "since": None, "pool": pool_id,
                            "dept": dept, "relation": relation, "created": registered,
                            "activity": returned - timedelta(days=rng.uniform(
                                rule.days, rule.days + 60))})
            continue
        relation = rng.choices(list(RELATIONS), weights=list(RELATIONS.values()))[0]
        if relation == "prospect":  # R5 counts from the start of ownership
            band = rng.random()
            since = _days_ago(now, rng.uniform(14, 330) if band < 0.90 else
                              rng.uniform(335, 364.5) if band < 0.93 else rng.uniform(366, 900))
        else:
            since = _days_ago(now, rng.uniform(14, 1100))
        band = rng.random()  # R2 counts from the later of ownership and the last activity
        if band < 0.88:
            activity = max(since, _days_ago(now, rng.uniform(0, 52)))
        elif band < 0.92:
            activity = max(since, _days_ago(now, rng.uniform(53, 59.9)))
        else:
            activity = None if rng.random() < 0.5 else max(since, _days_ago(
                now, rng.uniform(61, 400)))
        changes.append({"key": customer_id, "owner": rep, "since": since, "pool": None,
                        "dept": dept, "relation": relation, "created": since,
                        "activity": activity})
        records.append(_record(customer_id, "registered", None, rep, since, actor=rep))
    statement = update(table).where(table.c.id == bindparam("key")).values(
        owner_id=bindparam("owner"), owned_since=bindparam("since"), pool_id=bindparam("pool"),
        department_id=bindparam("dept"), relation=bindparam("relation"),
        created_at=bindparam("created"), last_activity_at=bindparam("activity"))
    for start_at in range(0, len(changes), 10_000):
        db.session.execute(statement, changes[start_at:start_at + 10_000])
    for start_at in range(0, len(records), 10_000):
        db.session.execute(insert(OwnershipRecord), records[start_at:start_at + 10_000])
    print(f"resources: {len(ids) - POOL:,} owned customers, {POOL:,} in the pool, "
          f"{len(records):,} ownership records")


def _record(customer_id, kind, from_user, to_user, at, *, actor=None, approved=None) -> dict:
    return {"customer_id": customer_id, "kind": kind, "from_user_id": from_user,
            "to_user_id": to_user, "pool_id": None, "reason": "", "object_type": "",
            "object_id": None, "actor_id": actor, "approved_by_id": approved, "at": at}


def seed_requests(people: dict) -> None:
    """Open transfers and claims (and some closed ones), written directly (no history rows:
    no measured page reads them)."""
    from sqlalchemy import insert, select

    from intranet.core import clock
    from intranet.extensions import db
    from intranet.models import Customer, ResourceRequest

    rng = random.Random(11)
    now = clock.now()
    owned = db.session.execute(select(Customer.id, Customer.owner_id, Customer.department_id)
                               .where(Customer.owner_id.is_not(None))).all()
    pooled = db.session.execute(select(Customer.id, Customer.pool_id)
                                .where(Customer.pool_id.is_not(None))).all()
    rows = []
    transfers = rng.sample(owned, OPEN_TRANSFERS + CONFIRMED_TRANSFERS + CLOSED)
    for n, (customer_id, owner, dept) in enumerate(transfers):
        taker = rng.choice([r for r in people["reps"][dept] if r != owner])
        asked = now - timedelta(days=rng.uniform(0.1, 14))
        state = ("requested" if n < OPEN_TRANSFERS else
                 "confirmed" if n < OPEN_TRANSFERS + CONFIRMED_TRANSFERS else
                 rng.choice(["rejected", "withdrawn"]))
        row = _request("transfer", state, customer_id, dept, rng.choice([owner, taker]),
                       owner, taker, None, rng.choice(REASONS), asked)
        if state != "requested":
            row.update(confirmed_by_id=taker, confirmed_at=asked + timedelta(hours=3))
        if state == "rejected":
            row.update(decided_by_id=people["managers"][dept],
                       decided_at=asked + timedelta(days=1), decision_comment="不同意")
        rows.append(row)
    for customer_id, pool_id in rng.sample(pooled, OPEN_CLAIMS):
        dept = rng.choice(list(people["reps"]))
        rep = rng.choice(people["reps"][dept])
        rows.append(_request("claim", "requested", customer_id, dept, rep, None, rep, pool_id,
                             rng.choice(REASONS), now - timedelta(days=rng.uniform(0.1, 7))))
    db.session.execute(insert(ResourceRequest.__table__), rows)
    print(f"resources: {OPEN_TRANSFERS + CONFIRMED_TRANSFERS + OPEN_CLAIMS} open requests, "
          f"{CLOSED} closed")


def _request(kind, state, customer_id, dept, by, from_user, to_user, pool_id, reason, at):
    return {"kind": kind, "state": state, "version": 1, "customer_id": customer_id,
            "department_id": dept, "requested_by_id": by, "from_user_id": from_user,
            "to_user_id": to_user, "pool_id": pool_id, "reason": reason, "proposed_class": None,
            "outcome": "", "confirmed_by_id": None, "confirmed_at": None,
            "decided_by_id": None, "decided_at": None, "decision_comment": "",
            "ownership_record_id": None, "handed_over": "", "created_at": at}


def describe(url: str) -> dict:
    """What the jobs will find: customers due now by each rule, warnings due, records."""
    from sqlalchemy import func, or_, select

    from intranet import create_app
    from intranet.core import clock
    from intranet.extensions import db
    from intranet.models import Customer, OwnershipRecord, ResourceRequest
    from intranet.resources import reclaim
    from intranet.workflows.resource_states import OPEN_STATES

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        now = clock.now()
        rules = reclaim.enabled_rules()

        def count(*where):
            return db.session.scalar(select(func.count()).select_from(Customer).where(*where))

        summary = {
            "customers": count(), "owned": count(Customer.owner_id.is_not(None)),
            "pool": count(Customer.pool_id.is_not(None)),
            "records": db.session.scalar(select(func.count()).select_from(OwnershipRecord)),
            "open requests": db.session.scalar(select(func.count()).select_from(
                ResourceRequest).where(ResourceRequest.state.in_(OPEN_STATES))),
            "due": {r.kind: count(reclaim.due(r, now)) for r in rules},
            "due any": count(or_(*[reclaim.due(r, now) for r in rules])),
            "warn": {(r.kind, lead): count(reclaim.due(r, now + timedelta(days=lead)),
                                           ~reclaim.due(r, now))
                     for r in rules for lead in r.lead_days},
            "dialect": db.engine.dialect.name,
        }
        db.engine.dispose()
    return summary


# --- The jobs -------------------------------------------------------------------------------

def tallies(url: str) -> dict:
    from sqlalchemy import create_engine, text

    from intranet.config import normalise_database_uri

    engine = create_engine(normalise_database_uri(url))
    with engine.connect() as database:
        found = {name: database.execute(text(sql)).scalar() for name, sql in {
            "ownership records": "SELECT count(*) FROM ownership_record",
            "owned customers": "SELECT count(*) FROM customer WHERE owner_id IS NOT NULL",
            "pool customers": "SELECT count(*) FROM customer WHERE pool_id IS NOT NULL",
            "notifications": "SELECT count(*) FROM notification",
            "audit rows": "SELECT count(*) FROM audit_entry",
        }.items()}
    engine.dispose()
    return found


def run_cli(url: str) -> dict:
    """`flask --app wsgi jobs run` as cron runs it: wall seconds, the child's peak RSS."""
    flask = Path(sys.executable).parent / "flask"
    env = {**os.environ, "DATABASE_URL": url}
    started = time.perf_counter()
    child = subprocess.Popen([str(flask), "--app", "wsgi", "jobs", "run"], cwd=HERE.parent,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = child.stdout.read().decode()
    err = child.stderr.read().decode()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"flask jobs run failed ({child.returncode}):\n{err[-3000:]}")
    done = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    return {"seconds": seconds, "peak MB": usage.ru_maxrss / 1024, "done": done,
            "cpu": usage.ru_utime + usage.ru_stime}


def measure_jobs() -> list[dict]:
    runs = []
    for _ in range(2):
        before = tallies(RUN_URL)
        result = run_cli(RUN_URL)
        result["before"], result["after"] = before, tallies(RUN_URL)
        runs.append(result)
    return runs


def count_jobs() -> list[dict]:
    """The jobs in this process on a fresh copy, as core/jobs.run_all runs them (each in its
    own transaction, in a test request context like the command), with a statement listener:
    per job, its result, seconds and statements; twice."""
    from sqlalchemy import event

    from intranet import create_app
    from intranet.core.jobs import JOBS
    from intranet.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{COUNT_DB}"})
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def listener(conn, cursor, statement, *args):
        seen.append(statement.lstrip().split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", listener)
    passes = []
    try:
        for _ in range(2):
            per_job = {}
            with app.app_context(), app.test_request_context("/"):
                for name, func in JOBS.items():
                    seen.clear()
                    began = time.perf_counter()
                    try:
                        done = func()
                        db.session.commit()
                    except Exception:
                        db.session.rollback()
                        raise
                    per_job[name] = (done, time.perf_counter() - began, Counter(seen))
            passes.append(per_job)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
        with app.app_context():
            db.engine.dispose()
    return passes


def print_jobs(before: dict, runs: list[dict], counted: list[dict] | None) -> None:
    total = before["customers"]
    print(f"\ndata: {total:,} customers ({before['owned']:,} owned, {before['pool']:,} in the "
          f"pool), {before['records']:,} ownership records, {before['open requests']} open "
          f"requests, on {before['dialect']}; {os.cpu_count()} cores; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("due now: " + ", ".join(f"{kind} {n:,}" for kind, n in before["due"].items())
          + f"; any rule {before['due any']:,} ({before['due any'] / total:.1%})")
    print("warnings due: " + ", ".join(f"{kind} {lead} d {n:,}"
                                       for (kind, lead), n in before["warn"].items()))
    print("\n`flask --app wsgi jobs run` in a subprocess (wall s, peak RSS of the child):")
    print(f"{'run':<8}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}  what changed")
    for n, run in enumerate(runs, start=1):
        changed = ", ".join(f"{k} {run['before'][k]:,}→{run['after'][k]:,}"
                            for k in run["before"] if run["before"][k] != run["after"][k])
        print(f"{'#' + str(n):<8}{run['seconds']:>8.1f}{run['cpu']:>8.1f}{run['peak MB']:>9.0f}"
              f"  {changed or 'nothing'}")
        print(f"{'':<8}output: " + ", ".join(f"{k} {v}" for k, v in run["done"].items()))
    if counted is None:
        return
    print("\nthe same jobs in-process on a fresh copy (statements by a before_cursor_execute "
          "listener; seconds include the listener):")
    print(f"{'job':<28}{'done':>7}{'s':>8}{'stmts':>8}{'SELECT':>8}{'INSERT':>8}{'UPDATE':>8}"
          f"{'#2 s':>8}{'#2 stmts':>10}")
    sums = [0, 0.0, 0, 0, 0, 0, 0.0, 0]
    for name, (done, seconds, kinds) in counted[0].items():
        again = counted[1][name]
        row = [done, seconds, sum(kinds.values()), kinds["SELECT"], kinds["INSERT"],
               kinds["UPDATE"], again[1], sum(again[2].values())]
        sums = [a + b for a, b in zip(sums, row, strict=True)]
        print(f"{name:<28}{row[0]:>7}{row[1]:>8.2f}{row[2]:>8}{row[3]:>8}{row[4]:>8}"
              f"{row[5]:>8}{row[6]:>8.2f}{row[7]:>10}")
    print(f"{'total':<28}{sums[0]:>7}{sums[1]:>8.2f}{sums[2]:>8}{sums[3]:>8}{sums[4]:>8}"
          f"{sums[5]:>8}{sums[6]:>8.2f}{sums[7]:>10}")


# --- The pages ------------------------------------------------------------------------------

def urls() -> list[tuple[str, str, str, dict]]:
    """(name, who, path, extra headers) of each measured page."""
    return [
        ("pool, manager", MANAGER, "/sales/pool", {}),
        ("pool, rep", REP, "/sales/pool", {}),
        ("pool, page 100, rep", REP, "/sales/pool?page=100", {}),
        ("pool ?q=上海, rep", REP, f"/sales/pool?q={quote('上海')}", {}),
        ("requests, manager", MANAGER, "/sales/requests", {}),
        ("requests ?status=all, mgr", MANAGER, "/sales/requests?status=all", {}),
        ("requests, rep", REP, "/sales/requests", {}),
        ("reclaims, manager", MANAGER, "/sales/reclaims", {}),
        ("reclaim-due, manager", MANAGER, "/sales/reclaim-due", {}),
        ("reclaim-due, rep", REP, "/sales/reclaim-due", {}),
    ]


def count_pages() -> dict:
    """Statements (all, SELECT) of each page in a test client, and the median of five more
    requests one at a time (as bench/cases.py); also the rep's status on /sales/reclaims."""
    from sqlalchemy import event

    from intranet import create_app
    from intranet.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": RUN_URL})
    with app.app_context():
        engine = db.engine
    clients = {who: signed_in_client(app, who) for who in (REP, MANAGER)}
    seen: list[str] = []

    def listener(conn, cursor, statement, *args):
        seen.append(statement.lstrip().split(None, 1)[0].upper())

    counts = {}
    event.listen(engine, "before_cursor_execute", listener)
    try:
        for name, who, path, headers in urls():
            seen.clear()
            response = clients[who].get(path, headers=headers)
            statements = (len(seen), seen.count("SELECT"))
            times = []
            for _ in range(5):
                began = time.perf_counter()
                clients[who].get(path, headers=headers)
                times.append(time.perf_counter() - began)
            counts[name] = (*statements, response.status_code, statistics.median(times))
        counts["(reclaims, rep)"] = clients[REP].get("/sales/reclaims").status_code
    finally:
        event.remove(engine, "before_cursor_execute", listener)
        with app.app_context():
            db.engine.dispose()
    return counts


def check(port: int, path: str, headers: dict) -> str:
    """One request before the load: the status and the rows of the page's table."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    page = response.read().decode("utf-8", "replace")
    connection.close()
    if response.status != 200:
        return f"HTTP {response.status}"
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S)
    rows = body.group(1).count("<tr") if body else 0
    shown = re.search(r'<nav class="pager".*?<span>(.*?)</span>', page, re.S)
    return f"{rows} rows" + (f", {' '.join(shown.group(1).split())}" if shown else "")


def print_pages(statements: dict, check_page=None) -> None:
    print("\nstatements: all / SELECT, counted in a test client; 1 req: median ms of five "
          "requests one at a time there\n")
    print(f"{'page':<28}{'stmts':>6}{'SELECT':>7}{'1 req':>8}  {'path':<26} check")
    for name, who, path, headers in urls():
        total, selects, status, alone = statements[name]
        shown = check_page(who, path, headers) if check_page else f"HTTP {status}"
        print(f"{name:<28}{total:>6}{selects:>7}{alone * 1000:>8.0f}  {path:<26} {shown}")
    print(f"(/sales/reclaims as the rep: HTTP {statements['(reclaims, rep)']}, managers only)")


def report(cases) -> None:
    """bench/run.py's report with p99: each (name, port, paths, headers) case in turn,
    relative to the first (the bare Flask baseline)."""
    print(f"{'case':<28}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>7}"
          f"{'rps vs bare':>13}{'p95 vs bare':>13}")
    baseline = None
    for name, port, paths, headers in cases:
        rps, latencies, errors = load(port, paths, headers)
        p50_ms, p95_ms = statistics.median(latencies) * 1000, p95(latencies) * 1000
        p99_ms = (statistics.quantiles(latencies, n=100)[98] if len(latencies) > 100
                  else max(latencies)) * 1000
        baseline = baseline or (rps, p95_ms)
        print(f"{name:<28}{rps:>9.1f}{p50_ms:>9.1f}{p95_ms:>9.1f}{p99_ms:>9.1f}{errors:>7}"
              f"{rps / baseline[0]:>13.3f}{p95_ms / baseline[1]:>13.1f}")


def bench(statements: dict) -> None:
    env = {**os.environ, "INTRANET_INSTANCE": str(OUT), "SECRET_KEY": "bench",
           "DATABASE_URL": RUN_URL, "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute"}
    app = start("wsgi:app", APP_PORT, env)
    bare = start("bare_app:app", BARE_PORT, env)
    try:
        cookies = {who: sign_in(APP_PORT, who, PASSWORD) for who in (REP, MANAGER)}
        cases = [("bare Flask, 50-row table", BARE_PORT, ["/"], {})]
        for name, who, path, headers in urls():
            cases.append((name, APP_PORT, [path], {"Cookie": cookies[who], **headers}))
        print(f"\npages after the jobs ran; gunicorn -w {WORKERS}; {THREADS} client threads x "
              f"{DURATION:.0f} s per case; load average "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print_pages(statements, lambda who, path, headers: check(
            APP_PORT, path, {"Cookie": cookies[who], **headers}))
        print()
        report(cases)
        print(f"\nload average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        for process in (app, bare):
            process.terminate()
        for process in (app, bare):
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
