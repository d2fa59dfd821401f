"""Benchmark the customer search and the customer page under gunicorn against a bare Flask
page rendering a 50-row table, in the same run, and print the ratios (issue 3).

    bash bench/run.sh            # installs gunicorn, seeds 100k customers / 1M transactions

Load: THREADS keep-alive client threads for DURATION seconds per URL set, from this machine.
"""
from __future__ import annotations

import http.client
import os
import re
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


def report(cases) -> None:
    """Load each (name, port, paths, headers) case in turn and print one line of figures,
    relative to the first case (the bare Flask baseline)."""
    print(f"{'case':<28}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'errors':>8}"
          f"{'rps vs bare':>13}{'p95 vs bare':>13}")
    baseline = None
    for name, port, paths, headers in cases:
        rps, latencies, errors = load(port, paths, headers)
        p50_ms, p95_ms = statistics.median(latencies) * 1000, p95(latencies) * 1000
        baseline = baseline or (rps, p95_ms)
        print(f"{name:<28}{rps:>10.1f}{p50_ms:>10.1f}{p95_ms:>10.1f}{errors:>8}"
              f"{rps / baseline[0]:>13.3f}{p95_ms / baseline[1]:>13.1f}")


def main() -> None:
    env = {**os.environ, "INTRANET_INSTANCE": str(OUT), "SECRET_KEY": "bench",
           "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{OUT / 'bench.sqlite3'}"),
           "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute"}
    app = start("wsgi:app", APP_PORT, env)
    bare = start("bare_app:app", BARE_PORT, env)
    try:
        cookie = sign_in(APP_PORT, "benchmgr", "bench-password-2026")
        from sqlalchemy import create_engine, text

        sys.path.insert(0, str(HERE.parent))
        from intranet.config import normalise_database_uri
        engine = create_engine(normalise_database_uri(env["DATABASE_URL"]))
        with engine.connect() as database:
            ids = [row[0] for row in database.execute(text(
                "SELECT id FROM customer ORDER BY random() LIMIT 200"))]
            total = database.execute(text("SELECT count(*) FROM customer")).scalar()
            transactions = sum(database.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                               for t in ("sales_order", "shipment", "payment"))
        engine.dispose()
        terms = ["上海", "华东", "精密机械", "0123", "智联", "物流", "9135", "杭州西湖"]
        htmx = {"Cookie": cookie, "HX-Request": "true", "HX-Target": "customer-rows"}
        cases = [
            ("bare Flask, 50-row table", BARE_PORT, ["/"], {}),
            ("customer search (htmx)", APP_PORT,
             [f"/sales/customers?q={urllib.parse.quote(t)}" for t in terms], htmx),
            ("customer list, page 1", APP_PORT, ["/sales/customers"], {"Cookie": cookie}),
            ("customer page", APP_PORT, [f"/sales/customers/{i}" for i in ids],
             {"Cookie": cookie}),
        ]
        print(f"\ndata: {total:,} customers, {transactions:,} transactions on "
              f"{engine.dialect.name}; gunicorn -w "
              f"{WORKERS}; {THREADS} client threads x {DURATION:.0f} s per case; "
              f"{os.cpu_count()} cores\n")
        report(cases)
    finally:
        app.terminate()
        bare.terminate()
        app.wait(timeout=10)
        bare.wait(timeout=10)


if __name__ == "__main__":
    main()
