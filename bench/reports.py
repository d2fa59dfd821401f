"""The report package's generation (issue 14 §5, rule Q1) at 100,000 customers and 1,000,000
transactions, with bench/run.py's data (visits, cases, departments) on top:

    bash bench/run.sh reports        # SQLite: bench/out/all.sqlite3
    bash bench/run.sh reports pg     # a throwaway PostgreSQL cluster, seeded afresh

Prepares last quarter's package (`flask jobs run` does the same), then times, for each report,
computing its figures (what its page reads while it is open, and what submitting it freezes),
each section of it, and the report page as the GM reads it, in a Flask test client. Every
figure is also given as a ratio: how many bare Flask 50-row pages (bench/bare_app.py) the same
test client serves in that time, measured in the same run."""
from __future__ import annotations

import os
import statistics
import sys
import time
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))


def bare_seconds() -> float:
    from bare_app import app as bare

    client = bare.test_client()
    for _ in range(20):
        client.get("/")
    started = time.perf_counter()
    for _ in range(200):
        client.get("/")
    return (time.perf_counter() - started) / 200


def best(run) -> float:
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    sys.path.insert(0, str(HERE.parent))
    sys.path.insert(0, str(HERE))
    import run as bench_run

    url = os.environ.get("DATABASE_URL") or f"sqlite:///{bench_run.ALL_DB}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("INTRANET_INSTANCE", str(bench_run.OUT))
    os.environ.setdefault("SECRET_KEY", "bench")
    bench_run.prepare(url)
    import cases as case_bench
    from sqlalchemy import select

    from intranet import create_app
    from intranet.customers import ledger
    from intranet.extensions import db
    from intranet.models import Report
    from intranet.reports import package, sections
    from intranet.reports.kinds import KINDS

    app = create_app()
    with app.test_request_context():
        package.prepare(ledger.today())
        db.session.commit()
        start, _ = package.last_closed_period(ledger.today(), package.cycle_months())
        reports = db.session.scalars(select(Report).where(Report.period_start == start)
                                     .order_by(Report.kind, Report.department_id)).all()
        ids = [(r.id, r.kind, r.department_id) for r in reports]
    bare = bare_seconds()
    dialect = url.split(":")[0]
    print(f"\n{dialect}: {len(ids)} reports of "
          f"the quarter from {start}; bare page {bare * 1000:.2f} ms in the test client\n")
    print(f"{'report / section':58} {'seconds':>9} {'bare pages':>11}")
    total = 0.0
    slowest: dict[str, float] = {}
    for report_id, kind, department_id in ids:
        with app.test_request_context():
            report = db.session.get(Report, report_id)
            seconds = best(partial(package.compute, report))
            total += seconds
            print(f"{kind + ' / ' + str(department_id or 'company'):58} {seconds:9.3f} "
                  f"{seconds / bare:11,.0f}")
            scope = sections._scope(department_id)
            for key in KINDS[kind].sections:
                took = best(partial(sections.SECTIONS[key], scope, report.period_start,
                                    report.period_end))
                slowest[key] = max(slowest.get(key, 0.0), took)
    print(f"{'the whole package':58} {total:9.3f} {total / bare:11,.0f}")
    print("\nslowest run of each section:")
    for key, took in sorted(slowest.items(), key=lambda item: -item[1]):
        print(f"  {key:56} {took:9.3f} {took / bare:11,.0f}")
    client = case_bench.signed_in_client(app, "benchgm")
    company = next(i for i, kind, department in ids if department is None)
    page = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        assert client.get(f"/management/reports/{company}").status_code == 200
        page.append(time.perf_counter() - started)
    listed = best(lambda: client.get("/management/reports"))
    print(f"\n{'company report page, GM (median)':58} {statistics.median(page):9.3f} "
          f"{statistics.median(page) / bare:11,.0f}")
    print(f"{'report list, GM':58} {listed:9.3f} {listed / bare:11,.0f}")


if __name__ == "__main__":
    main()
