"""Batch exports of archive records on Huey (issue 11 §5).

The ZIP's manifest and SHA256SUMS match its files (checked with the real `sha256sum -c`);
every PDF is registered once, with the export's audit row; a failed render or a full disk
leaves nothing offered and says why; a consumer killed mid-way leaves no ZIP and no registry
row, and a restarted consumer finishes the job with each record exactly once, on SQLite and
on Redis storage; finished exports expire after the kept days; only the one who asked
downloads (audited)."""
from __future__ import annotations

import csv
import errno
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import csrf_token, login_fast
from sqlalchemy import func, select

from intranet.archive import export, export_jobs, export_zip
from intranet.archive.renderers import RenderFailed
from intranet.core import clock, queue, settings
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import ArchiveExport, AuditEntry, IssuedDocument, ServiceCase, User

KEY = "service_case"  # closed complaints, registered by the complaints domain


@pytest.fixture
def test_type():
    from intranet.archive.records import RECORD_TYPES
    assert KEY in RECORD_TYPES
    return KEY


@pytest.fixture
def export_dir(app, tmp_path):
    path = tmp_path / "exports"
    app.config["EXPORT_DIR"] = str(path)
    return path


def today(app) -> date:
    with app.app_context():
        return clock.now().astimezone(settings.tz()).date()


def make_export(app, user, types=(KEY,), **values) -> int:
    with app.app_context():
        row = ArchiveExport(requested_by_id=user.id, record_types=",".join(types),
                            period_start=values.pop("start", today(app)),
                            period_end=values.pop("end", today(app)), **values)
        db.session.add(row)
        db.session.commit()
        return row.id


def closed_cases(make_case, n: int) -> list[int]:
    return [make_case("closed") for _ in range(n)]


class InProcessPool:
    """The renderer pool's interface, rendering in this process (fast unit tests)."""

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def map(self, jobs):
        from intranet.archive.export_render import make_pdf
        for meta, *job in jobs:
            yield meta, make_pdf(*job)

    def render(self, *job):
        return next(self.map([(None, *job)]))[1]


def registry_rows(app, export_id: int) -> list[IssuedDocument]:
    with app.app_context():
        return db.session.scalars(select(IssuedDocument).where(
            IssuedDocument.export_id == export_id)).all()


def check_zip(path: Path, tmp_path: Path, numbers: set[str]) -> list[dict]:
    """Extract, run `sha256sum -c`, read the manifest; returns its rows."""
    target = tmp_path / f"unzipped-{time.monotonic_ns()}"
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert len(names) == len(set(names))
        archive.extractall(target)
    result = subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=target,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    raw = (target / "manifest.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert {r["记录编号"] for r in rows} == numbers
    checked = {line.split("  ", 1)[1] for line in
               (target / "SHA256SUMS").read_text().splitlines()}
    pdfs = {n for n in names if n.endswith(".pdf")}
    assert checked == pdfs | {"manifest.csv"} and "summary.pdf" in pdfs
    assert {r["文件名"] for r in rows} == pdfs - {"summary.pdf"}
    for row in rows:  # the manifest's digest is the file's
        assert hashlib.sha256((target / row["文件名"]).read_bytes()).hexdigest() == \
            row["SHA-256"]
        assert (target / row["文件名"]).read_bytes().startswith(b"%PDF-")
    return rows


# -- the ZIP, in process, with the real renderer processes ---------------------------------

def test_export_zip_manifest_and_sums_match_files(app, staff, make_case, test_type,
                                                  export_dir, tmp_path):
    cases = closed_cases(make_case, 3)
    archivist = staff[Role.ARCHIVIST]
    export_id = make_export(app, archivist)
    with app.app_context():
        assert export.run(export_id) == "done"
        row = db.session.get(ArchiveExport, export_id)
        numbers = {db.session.get(ServiceCase, c).number for c in cases}
        assert (row.state, row.total, row.done, row.attempt) == ("done", 3, 3, 1)
        assert row.expires_at - row.finished_at == timedelta(days=7)
        audit_rows = db.session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "archive_export",
            AuditEntry.object_id == str(export_id), AuditEntry.action == "export")).all()
        assert len(audit_rows) == 1
    path = export_dir / f"export-{export_id}.zip"
    assert path.is_file() and list(export_dir.glob("*.part")) == []
    assert hashlib.sha256(path.read_bytes()).hexdigest() == row.sha256
    assert path.stat().st_size == row.size
    manifest = check_zip(path, tmp_path, numbers)
    registry = registry_rows(app, export_id)
    # every PDF handed out is registered once, to the one who asked, with its digest
    assert sorted((r.record_type, r.sha256) for r in registry) == sorted(
        [(KEY, m["SHA-256"]) for m in manifest] + [("archive_export", registry[-1].sha256)])
    assert {r.issued_to_id for r in registry} == {archivist.id}


# -- failures: nothing offered, a reason in Chinese ------------------------------------------

def test_export_full_disk_fails_with_reason_and_no_file(app, client, staff, make_case,
                                                        test_type, export_dir, monkeypatch):
    closed_cases(make_case, 3)
    export_id = make_export(app, staff[Role.ARCHIVIST])
    monkeypatch.setattr(export_zip, "RendererPool", InProcessPool)
    writes = []
    original = zipfile.ZipFile.writestr

    def writestr(self, *args, **kwargs):
        writes.append(1)
        if len(writes) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", writestr)
    with app.app_context():
        assert export.run(export_id) == "failed"
        row = db.session.get(ArchiveExport, export_id)
        assert (row.state, row.error) == ("failed", "disk_full")
    assert list(export_dir.iterdir()) == []  # the temporary file is gone, no ZIP
    assert registry_rows(app, export_id) == []
    login_fast(client, app, staff[Role.ARCHIVIST])
    page = client.get("/archive/exports").get_data(as_text=True)
    assert "磁盘已满" in page and "下载" not in page.split("<tbody")[1]
    assert client.get(f"/archive/exports/{export_id}/download").status_code == 404


def test_export_failed_render_fails_with_record_number(app, staff, make_case, test_type,
                                                       export_dir, monkeypatch):
    closed_cases(make_case, 3)
    export_id = make_export(app, staff[Role.ARCHIVIST])

    class Failing(InProcessPool):
        def map(self, jobs):
            for n, (meta, *_job) in enumerate(jobs):
                if n == 1:
                    raise RenderFailed(meta, "ValueError: bad CSS")
                yield meta, b"%PDF-1.7 test"

    monkeypatch.setattr(export_zip, "RendererPool", Failing)
    with app.app_context():
        assert export.run(export_id) == "failed"
        row = db.session.get(ArchiveExport, export_id)
        assert row.state == "failed" and row.error == "render"
        assert row.error_detail.startswith("TS-")
    assert list(export_dir.iterdir()) == []
    assert registry_rows(app, export_id) == []


# -- attempts: one owner at a time ---------------------------------------------------------

def test_stale_attempt_stops_itself(app, staff, test_type, export_dir):
    export_id = make_export(app, staff[Role.ARCHIVIST])
    with app.app_context():
        assert export.claim(export_id) == 1
        assert export.claim(export_id) is None  # fresh heartbeat: not another's to take
        db.session.execute(db.update(ArchiveExport).values(
            heartbeat_at=clock.now() - timedelta(hours=1)))
        db.session.commit()
        assert export.claim(export_id) == 2  # the first consumer died
        with pytest.raises(export.Superseded):
            export.heartbeat(export_id, 1, 5)
        export.heartbeat(export_id, 2, 5)
        part = export_dir / "x.part"
        export_dir.mkdir(exist_ok=True)
        part.write_bytes(b"PK")
        with pytest.raises(export.Superseded):
            export.finish(db.session.get(ArchiveExport, export_id), 1, part, [], _summary())
        assert not export.final_path(export_id).exists()
        assert db.session.get(ArchiveExport, export_id).state == "running"


def _summary():
    from intranet.archive.export_render import Item
    return Item("archive_export", 1, "DC", 1, "summary", "summary.pdf", "0" * 64, 1)


def test_resume_enqueues_stale_and_lost_exports(app, staff, test_type, export_dir,
                                                monkeypatch):
    old = clock.now() - timedelta(hours=1)
    archivist = staff[Role.ARCHIVIST]
    stale = make_export(app, archivist, state="running", heartbeat_at=old, attempt=1)
    lost = make_export(app, archivist, state="queued", created_at=old)
    make_export(app, archivist, state="running", heartbeat_at=clock.now(), attempt=1)
    make_export(app, archivist, state="queued")
    make_export(app, archivist, state="done", heartbeat_at=old)
    sent = []
    monkeypatch.setattr(export, "run_export", sent.append)
    with app.app_context():
        assert export.resume_stale() == 2
    assert sorted(sent) == sorted([stale, lost])


# -- retention -------------------------------------------------------------------------------

def test_retention_deletes_file_and_marks_expired(app, staff, export_dir, frozen):
    now = clock.now()
    frozen(now)
    archivist = staff[Role.ARCHIVIST]
    due = make_export(app, archivist, state="done", expires_at=now, file_name="x")
    kept = make_export(app, archivist, state="done", expires_at=now + timedelta(seconds=1),
                       file_name="y")
    export_dir.mkdir()
    for export_id in (due, kept):
        (export_dir / f"export-{export_id}.zip").write_bytes(b"PK")
    with app.app_context():
        assert export_jobs.expire_exports() == 1
        db.session.commit()
        assert export_jobs.expire_exports() == 0
        assert db.session.get(ArchiveExport, due).state == "expired"
        assert db.session.get(ArchiveExport, kept).state == "done"
    assert not (export_dir / f"export-{due}.zip").exists()
    assert (export_dir / f"export-{kept}.zip").exists()


def test_retention_days_is_a_setting(app):
    with app.app_context():
        assert settings.SETTINGS[export.KEEP_DAYS].default == 7


# -- pages -----------------------------------------------------------------------------------

def test_c6_export_download_only_by_requester_and_audited(app, client, staff, export_dir):
    archivist, gm = staff[Role.ARCHIVIST], staff[Role.GENERAL_MANAGER]
    done = make_export(app, archivist, state="done", file_name="z", total=1)
    running = make_export(app, archivist, state="running", total=4, done=1)
    export_dir.mkdir()
    (export_dir / f"export-{done}.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    login_fast(client, app, gm)
    assert client.get(f"/archive/exports/{done}/download").status_code == 404
    assert client.get(f"/archive/exports/{done}/status").status_code == 404
    login_fast(client, app, archivist)
    response = client.get(f"/archive/exports/{done}/download")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.get_data().startswith(b"PK")
    response.close()
    assert client.get(f"/archive/exports/{running}/download").status_code == 404
    with app.app_context():
        audits = db.session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "archive_export", AuditEntry.action == "export")).all()
        assert [(a.object_id, a.user_id) for a in audits] == [(str(done), archivist.id)]


def test_list_polls_only_while_running(app, client, staff):
    archivist = staff[Role.ARCHIVIST]
    running = make_export(app, archivist, state="running", total=4, done=1)
    done = make_export(app, archivist, state="done", total=4, done=4, file_name="f")
    login_fast(client, app, archivist)
    page = client.get("/archive/exports").get_data(as_text=True)
    assert page.count('hx-trigger="every 2s"') == 1
    row = client.get(f"/archive/exports/{running}/status", headers={"HX-Request": "true"})
    text = row.get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in text and 'value="25"' in text and "<html" not in text
    row = client.get(f"/archive/exports/{done}/status", headers={"HX-Request": "true"})
    text = row.get_data(as_text=True)
    assert "hx-trigger" not in text and f"/archive/exports/{done}/download" in text


def test_form_validates_in_chinese_and_queues_after_commit(app, client, staff, test_type,
                                                          monkeypatch):
    sent = []
    monkeypatch.setattr(export, "run_export", sent.append)
    login_fast(client, app, staff[Role.ARCHIVIST])
    token = csrf_token(client)
    response = client.post("/archive/exports/new", data={
        "csrf_token": token, "start": "2026-11-10", "end": "2026-11-01", "types": KEY})
    assert response.status_code == 422
    assert "结束日期早于开始日期" in response.get_data(as_text=True)
    response = client.post("/archive/exports/new", data={
        "csrf_token": token, "start": "2026-11-01", "end": "2026-11-10"})
    assert response.status_code == 422 and "至少勾选一种记录类型" in response.get_data(as_text=True)
    assert sent == []
    response = client.post("/archive/exports/new", data={
        "csrf_token": token, "start": "2026-11-01", "end": "2026-11-10", "types": KEY})
    assert response.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(ArchiveExport))
        assert (row.state, row.record_types, row.requested_by_id) == (
            "queued", KEY, staff[Role.ARCHIVIST].id)
    assert sent == [row.id]


# -- a real consumer, killed mid-way and restarted -------------------------------------------

@pytest.fixture
def redis_url(tmp_path):
    """A real redis-server for this test, on a Unix socket in tmp_path."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is missing in CI (.ci/run installs Debian's)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    sock = tmp_path / "redis.sock"
    server = subprocess.Popen([binary, "--port", "0", "--unixsocket", str(sock),
                               "--dir", str(tmp_path), "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis
    client = redis.Redis(unix_socket_path=str(sock))
    for _ in range(100):
        try:
            if client.ping():
                break
        except (redis.ConnectionError, FileNotFoundError):
            time.sleep(0.05)
    yield f"unix://{sock}"
    server.terminate()
    server.wait(timeout=10)


def _consumer(app, tmp_path, storage: dict, delay: float):
    env = {**os.environ, **storage, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "EXPORT_DIR": app.config["EXPORT_DIR"], "EXPORT_STALE_SECONDS": "2",
           "ARCHIVE_EXPORT_TEST_DELAY": str(delay), "EXPORT_RENDERERS": "2"}
    with (tmp_path / f"consumer-{time.monotonic_ns()}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "huey.bin.huey_consumer", "intranet.core.worker.huey", "-w",
             "1", "-k", "process", "-d", "0.1", "-m", "0.5"], env=env, cwd=tmp_path,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _kill(process) -> None:
    os.killpg(process.pid, signal.SIGKILL)  # the consumer, its worker and its renderers
    process.wait(timeout=10)


def _stop(process) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            _kill(process)


def _wait(app, export_id, condition, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with app.app_context():
            row = db.session.get(ArchiveExport, export_id)
            if condition(row):
                return row
            db.session.remove()
        time.sleep(0.2)
    raise AssertionError(f"export {export_id} still {row.state} {row.done}/{row.total}")


def interrupted_export(app, client, staff, make_case, export_dir, tmp_path, storage):
    app.config["EXPORT_DIR"] = str(export_dir)
    cases = closed_cases(make_case, 5)
    archivist = staff[Role.ARCHIVIST]
    export_id = make_export(app, archivist)
    # enqueue into the storage the consumer reads, as the form's commit does
    test_huey = queue.build(storage.get("REDIS_URL", ""), storage.get("HUEY_SQLITE_PATH", ""))
    saved, queue.huey.storage = queue.huey.storage, test_huey.storage
    try:
        export.run_export(export_id)
    finally:
        queue.huey.storage = saved
    first = _consumer(app, tmp_path, storage, delay=1.5)
    try:
        _wait(app, export_id, lambda r: r.state == "running" and r.done >= 2, 120)
    finally:
        _kill(first)
    # killed mid-way: nothing offered, nothing registered
    with app.app_context():
        row = db.session.get(ArchiveExport, export_id)
        assert row.state == "running" and 2 <= row.done < 5
        db.session.remove()
    assert not (export_dir / f"export-{export_id}.zip").exists()
    assert registry_rows(app, export_id) == []
    login_fast(client, app, archivist)
    assert client.get(f"/archive/exports/{export_id}/download").status_code == 404
    time.sleep(2.5)  # the heartbeat goes stale
    second = _consumer(app, tmp_path, storage, delay=0)
    try:
        row = _wait(app, export_id, lambda r: r.state in ("done", "failed"), 180)
    finally:
        _stop(second)
    assert row.state == "done" and row.attempt == 2, row.error
    with app.app_context():
        numbers = {db.session.get(ServiceCase, c).number for c in cases}
        counts = db.session.execute(select(IssuedDocument.record_id, func.count()).where(
            IssuedDocument.export_id == export_id, IssuedDocument.record_type == KEY)
            .group_by(IssuedDocument.record_id)).all()
        assert sorted(counts) == sorted((c, 1) for c in cases)  # each record exactly once
        assert db.session.get(User, archivist.id) is not None
    assert list(export_dir.glob("*.part")) == []
    rows = check_zip(export_dir / f"export-{export_id}.zip", tmp_path, numbers)
    assert len(rows) == 5


def test_killed_consumer_resumes_without_duplicates_sqlite(app, client, staff, make_case,
                                                           test_type, tmp_path):
    interrupted_export(app, client, staff, make_case, tmp_path / "exports", tmp_path,
                       {"HUEY_SQLITE_PATH": str(tmp_path / "huey.sqlite3"), "REDIS_URL": ""})


def test_killed_consumer_resumes_without_duplicates_redis(app, client, staff, make_case,
                                                          test_type, tmp_path, redis_url):
    interrupted_export(app, client, staff, make_case, tmp_path / "exports", tmp_path,
                       {"REDIS_URL": redis_url})


def test_home_shows_my_recent_exports(app, client, staff):
    archivist = staff[Role.ARCHIVIST]
    mine = make_export(app, archivist, state="running", total=4, done=1)
    other = make_export(app, staff[Role.GENERAL_MANAGER], state="done")
    login_fast(client, app, archivist)
    page = client.get("/").get_data(as_text=True)
    assert "我的批量导出" in page and f"/archive/exports/{mine}/status" in page
    assert f"/archive/exports/{other}/status" not in page


def test_c7_sealed_year_records_left_out_of_exports(app, staff, make_customer, make_case,
                                                   test_type):
    from intranet.archive import sealing

    customer = make_customer("上海测试机械有限公司", staff[Role.SALES_REP])
    sealed_case = make_case("closed", customer_id=customer)
    open_case = make_case("closed", customer_id=customer)
    archivist = staff[Role.ARCHIVIST]
    with app.app_context():
        year = sealing.current_year() - 1
        last_year = datetime(year, 6, 1, 4, 0, tzinfo=UTC)
        db.session.get(ServiceCase, sealed_case).closed_at = last_year
        db.session.get(ServiceCase, open_case).closed_at = last_year + timedelta(days=400)
        db.session.commit()
        export_id = make_export(app, archivist, start=date(year, 1, 1), end=today(app))
        row = db.session.get(ArchiveExport, export_id)
        assert export_zip.plan(row)[0][1] == [sealed_case, open_case]
        sealing.seal(year, db.session.get(User, archivist.id))
        db.session.commit()
        assert export_zip.plan(row)[0][1] == [open_case]  # no grant: left out
