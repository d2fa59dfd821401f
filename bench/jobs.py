"""Benchmark `flask jobs run` (issue 12 §5) over 100,000 customers: first run and second run
(which must change nothing), each in a fresh process on its own copy of the data.

    .venv/bin/python bench/jobs.py              # prepare once, then measure twice
    .venv/bin/python bench/jobs.py --prepare-only

Data: bench/out/jobs-base.sqlite3, a backup-API copy of bench/seed.py's database, migrated,
with bench/credit_queue.py's 2,000 received credit applications and bench/resources.py's
owners, pool, requests and reclaim rules (switched on) added by those scripts, and, on top,
every owned customer graded 200 days ago (rule K4: all of them are due for re-rating, the
case that loaded every customer into Python). Each measurement runs on
bench/out/jobs-run.sqlite3, a fresh copy.

Per run, in a child process (`python bench/jobs.py --probe`) that invokes the `jobs run` CLI
command exactly as `flask --app wsgi jobs run` does, with SQLAlchemy listeners added: wall
seconds, statements, the longest single transaction (on SQLite every transaction holds the
write lock: BEGIN IMMEDIATE), seconds and statements per job; peak RSS from os.wait4.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
BASE_DB = OUT / "bench.sqlite3"
JOBS_DB = OUT / "jobs-base.sqlite3"
RUN_DB = OUT / "jobs-run.sqlite3"


def copy(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def prepare() -> None:
    if JOBS_DB.exists():
        return
    if not BASE_DB.exists():
        subprocess.run([sys.executable, str(HERE / "seed.py")], check=True)
    copy(BASE_DB, JOBS_DB)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{JOBS_DB}",
           "INTRANET_INSTANCE": str(OUT), "SECRET_KEY": "bench"}
    subprocess.run([sys.executable, str(HERE / "seed.py")], check=True, env=env)
    subprocess.run([sys.executable, str(HERE / "credit_queue.py"), "--seed-only"], check=True,
                   env=env)
    subprocess.run([sys.executable, str(HERE / "resources.py"), "--seed-only"], check=True,
                   env=env)
    with sqlite3.connect(JOBS_DB) as database:
        database.execute("UPDATE customer SET credit_grade = '2', credit_graded_at = "
                         "datetime('now', '-200 days') WHERE owner_id IS NOT NULL")
    print(f"jobs: prepared {JOBS_DB.name}")


def probe() -> None:
    """One `flask jobs run` with counters; prints one JSON line."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import event

    from intranet import create_app
    from intranet.core import jobs
    from intranet.extensions import db

    app = create_app()
    figures = {"statements": 0, "transactions": 0, "longest_transaction": 0.0, "jobs": {},
               "slowest": []}
    began: list[float] = []
    longest = {"job": 0.0, "name": ""}
    current: list = []  # (statement, seconds) of the open transaction

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def count(conn, *args):
        figures["statements"] += 1
        conn.info["bench_started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def timed_statement(conn, cursor, statement, params, context, many):
        took = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        current.append((" ".join(statement.split())[:90], round(took, 3)))

    @event.listens_for(engine, "begin")
    def begin(conn):
        began.append(time.perf_counter())
        current.clear()

    def end(conn):
        if began:
            figures["transactions"] += 1
            took = time.perf_counter() - began.pop()
            figures["longest_transaction"] = max(figures["longest_transaction"], took)
            longest["job"] = max(longest["job"], took)
            # the five longest transactions (each holds SQLite's write lock), with what took
            # the time in them
            slowest = figures["slowest"]
            slowest.append([round(took, 3), longest["name"],
                            sorted(current, key=lambda s: -s[1])[:3]])
            slowest.sort(key=lambda t: -t[0])
            del slowest[5:]

    event.listen(engine, "commit", end)
    event.listen(engine, "rollback", end)

    def timed(name, func):
        def run():
            start, statements = time.perf_counter(), figures["statements"]
            longest["job"], longest["name"] = 0.0, name
            try:
                result = func()
                db.session.commit()  # as run_all does next: the job's last transaction
                return result
            finally:
                figures["jobs"][name] = [round(time.perf_counter() - start, 3),
                                         figures["statements"] - statements,
                                         round(longest["job"], 3)]
        return run

    for name, func in list(jobs.JOBS.items()):
        jobs.JOBS[name] = timed(name, func)
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(args=["jobs", "run"])
    figures["wall"] = round(time.perf_counter() - started, 2)
    figures["longest_transaction"] = round(figures["longest_transaction"], 3)
    figures["output"] = result.output.strip().splitlines()
    if result.exception:
        raise result.exception
    print(json.dumps(figures, ensure_ascii=False))


def measure(label: str) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{RUN_DB}", "INTRANET_INSTANCE": str(OUT),
           "SECRET_KEY": "bench"}
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, "--probe"], env=env,
                             stdout=subprocess.PIPE, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if status:
        raise SystemExit(f"jobs: the {label} run failed")
    figures = json.loads(output.strip().splitlines()[-1])
    print(f"{label}: {wall:.1f} s wall (process), {figures['wall']} s in the command, "
          f"{figures['statements']:,} statements, {figures['transactions']:,} transactions, "
          f"longest transaction {figures['longest_transaction']} s, "
          f"peak RSS {usage.ru_maxrss / 1024:.0f} MB")
    for name, (seconds, statements, longest) in figures["jobs"].items():
        print(f"    {name:28} {seconds:8.3f} s {statements:9,} statements, longest "
              f"transaction {longest:.3f} s")
    print("    output: " + "; ".join(figures["output"]))
    print("    longest transactions (s, job, slowest statements in it):")
    for took, job, statements in figures["slowest"]:
        print(f"      {took:.3f} {job}: " + "; ".join(f"{sql} … {seconds:.3f} s"
                                                   for sql, seconds in statements))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--prepare-only", action="store_true")
    args = parser.parse_args()
    if args.probe:
        probe()
        return
    prepare()
    if args.prepare_only:
        return
    copy(JOBS_DB, RUN_DB)
    measure("first run")
    measure("second run")


if __name__ == "__main__":
    main()
