"""Batch export of 1,000 archive records (issue 11 §5) against WeasyPrint rendering the same
HTML in one process.

    .venv/bin/python bench/archive_export.py [--records 1000] [--baseline 60]
    # or: bash bench/run.sh export

A throwaway SQLite database (bench/out/export.sqlite3, made anew) gets --records closed
complaints (客户投诉处理登记表, the complaints domain's record type). The export task then runs
in this process exactly as the consumer runs it (`intranet.archive.export.run`): the task
prepares each record's HTML and data, EXPORT_RENDERERS (2) renderer processes lay out the
PDF/A and sign it, the task streams the ZIP to disk. Measured: wall seconds, PDFs and pages
per second, peak RSS of the task process and of each renderer (sampled from /proc every
0.2 s, with the task's RSS at 10 % and at 100 % of the records, to show it stays flat), CPU
time of the task and the renderers, and each core's busy share over the run (/proc/stat).

Baseline: the first --baseline records' final HTML (the same strings the renderers get)
rendered by `weasyprint.HTML(string=html).write_pdf()` one after another in this process,
with no PDF/A, attachment or signature (so the comparison favours the baseline).
"""
from __future__ import annotations

import argparse
import gc
import io
import logging
import os
import sys
import threading
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
OUT = HERE / "out"
OUT.mkdir(exist_ok=True)
DATABASE = OUT / "export.sqlite3"
os.environ.setdefault("INTRANET_INSTANCE", str(OUT))
os.environ.setdefault("SECRET_KEY", "bench")
os.environ["DATABASE_URL"] = f"sqlite:///{DATABASE}"
os.environ["HUEY_SQLITE_PATH"] = str(OUT / "huey-bench.sqlite3")
os.environ["EXPORT_DIR"] = str(OUT / "exports")

from flask_migrate import upgrade  # noqa: E402

from intranet import create_app  # noqa: E402
from intranet.archive import export, export_zip, keys  # noqa: E402
from intranet.archive.records import RECORD_TYPES  # noqa: E402
from intranet.extensions import db  # noqa: E402
from intranet.models import ArchiveExport, Department, ServiceCase, User, UserRole  # noqa: E402

KEY = "service_case"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=60)
    args = parser.parse_args()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DATABASE}{suffix}").unlink(missing_ok=True)
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    app = create_app({"PDF_TIMEOUT_SECONDS": 0})
    with app.app_context():
        upgrade()
        key_file, cert_file = keys.paths()
        if not key_file.exists():
            keys.create("基准测试有限公司", key_file, cert_file)
        export_id, first, last = seed(args.records)
        html, jobs = baseline_html(export_id, args.baseline)
    print(f"{args.records} closed complaints; export of {first} .. {last}", flush=True)
    with app.app_context():
        result = measure_export(app, export_id, args.records)
    base = measure_baseline(html)
    with app.app_context():
        same = measure_pipeline(jobs)
    report(args, result, base, same)


def seed(n: int):
    dept = Department(code="svc", name_zh="客户服务部", name_en="Service")
    db.session.add(dept)
    db.session.flush()
    desk = User(username="desk", display_name="赵前台", department_id=dept.id,
                password_hash="x", role_rows=[UserRole(role="service_desk")])
    archivist = User(username="archivist", display_name="孙档案", department_id=dept.id,
                     password_hash="x", role_rows=[UserRole(role="archivist")])
    db.session.add_all([desk, archivist])
    db.session.flush()
    start = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)
    for i in range(n):
        received = start + timedelta(minutes=40 * i)
        db.session.add(ServiceCase(
            year=2026, seq=i + 1, kind="complaint", channel="phone", severity="general",
            state="closed", received_at=received, closed_at=received + timedelta(days=2),
            complainant_name=f"客户{i % 97}号", department_id=dept.id,
            description="产品外包装破损，要求更换并说明原因。" * (1 + i % 3),
            registered_by_id=desk.id, plan="三日内回复", opinion="属实，安排更换。",
            decision="同意更换，并向客户致歉。", reply="已更换并回访，客户满意。"))
    db.session.flush()
    first = start.date()
    last = (start + timedelta(minutes=40 * n, days=3)).date()
    row = ArchiveExport(requested_by_id=archivist.id, record_types=KEY, period_start=first,
                        period_end=last, state="queued")
    db.session.add(row)
    db.session.commit()
    return row.id, first, last


def baseline_html(export_id: int, n: int) -> tuple[list[str], list[tuple]]:
    """The first n records' final HTML, and (html, data, number) for the full pipeline."""
    from intranet.archive import export_render
    row = db.session.get(ArchiveExport, export_id)
    record_type = RECORD_TYPES[KEY]
    ids = export_zip.plan(row)[0][1][:n]
    jobs = []
    for record_id in ids:
        doc, html, data = export_render.prepare(record_type, db.session.get(ServiceCase,
                                                                            record_id))
        jobs.append((html, data, doc.number))
    return [job[0] for job in jobs], jobs


def measure_pipeline(jobs: list[tuple]) -> dict:
    """The renderers' own work (PDF/A with the JSON attached, then the signature) done one
    after another in this one process: the speed-up of the export over it is what the two
    renderer processes bring."""
    from intranet.archive.export_render import make_pdf
    make_pdf(*jobs[0])  # warm-up (key, fonts)
    start = time.monotonic()
    for job in jobs:
        make_pdf(*job)
        gc.collect()
    return {"wall": time.monotonic() - start, "records": len(jobs)}


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cpu_ticks() -> list[tuple[int, int]]:
    """(busy, total) jiffies per core."""
    cores = []
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("cpu") and line[3].isdigit():
            values = [int(v) for v in line.split()[1:]]
            idle = values[3] + values[4]
            cores.append((sum(values) - idle, sum(values)))
    return cores


def measure_export(app, export_id: int, total: int) -> dict:
    me = os.getpid()
    peaks: dict[str, float] = {"task": 0.0, "renderers": 0.0}
    marks: dict[str, float] = {}
    done = threading.Event()

    def sample():
        while not done.is_set():
            peaks["task"] = max(peaks["task"], _rss_mb(me))
            renderers = [_rss_mb(c) for c in _children(me)]
            if renderers:
                peaks["renderers"] = max(peaks["renderers"], max(renderers))
            time.sleep(0.2)

    original = export.heartbeat

    def heartbeat(export_id_, attempt, count, total_=None):
        for share in (10, 50, 100):
            if f"{share}%" not in marks and count >= total * share // 100 and count:
                marks[f"{share}%"] = _rss_mb(me)
        return original(export_id_, attempt, count, total_)

    export.heartbeat = heartbeat
    threading.Thread(target=sample, daemon=True).start()
    cpu_before, times_before, wall = _cpu_ticks(), os.times(), time.monotonic()
    try:
        outcome = export.run(export_id)
    finally:
        export.heartbeat = original
        done.set()
    wall = time.monotonic() - wall
    times, cpu_after = os.times(), _cpu_ticks()
    row = db.session.get(ArchiveExport, export_id)
    assert outcome == "done", (outcome, row.error, row.error_detail)
    pages = count_pages(export.final_path(export_id))
    return {"wall": wall, "records": row.total, "pages": pages, "size": row.size,
            "task_cpu": (times.user - times_before.user) + (times.system - times_before.system),
            "renderer_cpu": (times.children_user - times_before.children_user)
            + (times.children_system - times_before.children_system),
            "cores": [(a[0] - b[0]) / max(1, a[1] - b[1])
                      for a, b in zip(cpu_after, cpu_before, strict=True)],
            "peaks": peaks, "marks": marks}


def count_pages(path: Path) -> int:
    from pypdf import PdfReader
    pages = 0
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.endswith(".pdf") and name != "summary.pdf":
                pages += len(PdfReader(io.BytesIO(archive.read(name))).pages)
    return pages


def measure_baseline(html: list[str]) -> dict:
    """WeasyPrint alone, one process, the same HTML, with the app's locked-down fetcher for
    the stylesheet (what intranet.pdf uses) and no PDF/A, attachment or signature."""
    import weasyprint

    from intranet.pdf import _collect_render_garbage
    from intranet.pdf.fetcher import BASE_URL, LockedDownFetcher

    fetch = LockedDownFetcher(Path(create_app().static_folder))
    weasyprint.HTML(string=html[0], base_url=BASE_URL, url_fetcher=fetch).write_pdf()  # warm
    pages, start = 0, time.monotonic()
    for text in html:
        document = weasyprint.HTML(string=text, base_url=BASE_URL, url_fetcher=fetch).render()
        pages += len(document.pages)
        document.write_pdf()
        _collect_render_garbage()  # as the app does after each render
    return {"wall": time.monotonic() - start, "records": len(html), "pages": pages}


def report(args, result: dict, base: dict, same: dict) -> None:
    rate = result["records"] / result["wall"]
    page_rate = result["pages"] / result["wall"]
    base_rate = base["records"] / base["wall"]
    base_page_rate = base["pages"] / base["wall"]
    busy = " / ".join(f"{share:.0%}" for share in result["cores"])
    print(f"export:   {result['records']} records, {result['pages']} pages in "
          f"{result['wall']:.1f} s = {rate:.2f} records/s, {page_rate:.2f} pages/s; "
          f"ZIP {result['size'] / 1e6:.1f} MB")
    print(f"          CPU: task {result['task_cpu']:.1f} s, "
          f"renderers {result['renderer_cpu']:.1f} s "
          f"({(result['task_cpu'] + result['renderer_cpu']) / result['wall']:.2f} cores); "
          f"cores busy {busy}")
    marks = ", ".join(f"{k} {v:.0f} MB" for k, v in result["marks"].items())
    print(f"          peak RSS: task {result['peaks']['task']:.0f} MB ({marks}), "
          f"each renderer {result['peaks']['renderers']:.0f} MB")
    print(f"baseline: WeasyPrint in one process, {base['records']} records, {base['pages']} "
          f"pages in {base['wall']:.1f} s = {base_rate:.2f} records/s, "
          f"{base_page_rate:.2f} pages/s")
    same_rate = same["records"] / same["wall"]
    print(f"pipeline: PDF/A + attachment + signature in one process, {same['records']} records "
          f"in {same['wall']:.1f} s = {same_rate:.2f} records/s")
    print(f"ratio:    {rate / base_rate:.2f}x WeasyPrint alone ({page_rate / base_page_rate:.2f}x "
          f"pages/s; goal 1.7x); {rate / same_rate:.2f}x the same pipeline in one process")


if __name__ == "__main__":
    main()
