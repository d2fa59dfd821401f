"""The request floor (issue 12 §4), in process: CPU time and statements of one request with the
Flask test client, signed in, on a copy of the benchmark database.

    .venv/bin/python bench/request_floor.py [--db bench/out/credit.sqlite3] [-n 200]
        [--profile PATH] [--show-sql PATH]

Cases: the home page and /sales/customers as benchmgr (sales manager), the home page and the
credit queue as benchgm (bench/credit_queue.py --seed-only adds benchgm and the queue).
Reports the mean and median CPU milliseconds over n requests (after 20 warm-up requests) and
the statements the database received for one request. No figure here is a test.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

CASES = [("benchmgr", "/"), ("benchmgr", "/sales/customers"), ("benchgm", "/"),
         ("benchgm", "/management/credit")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=str(HERE / "out" / "credit.sqlite3"))
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--profile", help="write a cProfile of the GM queue case here")
    parser.add_argument("--show-sql", action="store_true")
    parser.add_argument("--case", action="append", help="user:path, instead of the default")
    args = parser.parse_args()
    os.environ.setdefault("INTRANET_INSTANCE", str(HERE / "out"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(args.db).resolve()}"

    from flask_login.utils import _create_identifier
    from sqlalchemy import event, select

    from intranet import create_app
    from intranet.core import clock
    from intranet.extensions import db
    from intranet.models import User

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    statements: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *a: statements.append(statement))

    cases = [tuple(c.split(":", 1)) for c in args.case] if args.case else CASES
    print(f"{'user':10} {'path':24} {'status':>6} {'cpu ms mean':>12} {'median':>8} "
          f"{'statements':>10}")
    for username, path in cases:
        client = app.test_client()
        with app.test_request_context():
            user = db.session.scalar(select(User).where(User.username == username))
            if user is None:
                print(f"{username:10} {path:24} (no such user)")
                continue
            token, identifier = user.get_id(), _create_identifier()
        with client.session_transaction() as session:
            now = int(clock.now().timestamp())
            session.update({"_user_id": token, "_fresh": True, "_id": identifier,
                            "since": now, "seen": now})
        for _ in range(20):
            status = client.get(path).status_code
        times = []
        profiled = args.profile and (args.case or path.startswith("/management"))
        profiler = cProfile.Profile() if profiled else None
        for _ in range(args.n):
            started = time.process_time()
            if profiler:
                profiler.enable()
            client.get(path)
            if profiler:
                profiler.disable()
            times.append((time.process_time() - started) * 1000)
        statements.clear()
        client.get(path)
        count = len(statements)
        print(f"{username:10} {path:24} {status:>6} {statistics.mean(times):12.2f} "
              f"{statistics.median(times):8.2f} {count:>10}")
        if args.show_sql:
            for statement in statements:
                print("    ", " ".join(statement.split())[:220])
        if profiler:
            profiler.dump_stats(args.profile)


if __name__ == "__main__":
    main()
