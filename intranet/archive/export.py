"""Batch exports of archive records on the task queue (issue 11 §5).

The ArchiveExport row records the user's request and its progress; Huey (core/queue.py) is
the queue. The task `run_export(export_id)`:

1. claims the export with one conditional UPDATE: a queued export, or a running one whose
   heartbeat is older than EXPORT_STALE_SECONDS (its consumer died), becomes running under a
   new attempt number. Only one claimer wins; another task for the same export ends at once.
2. writes the ZIP under a temporary name of its attempt (`export-<id>.<attempt>.part`),
   updating done/total and the heartbeat as it goes; a heartbeat that finds a newer attempt
   (or the export no longer running) stops this one and removes its temporary file.
3. finishes in one transaction: the conditional UPDATE to "done", every PDF in the
   issued-document registry, the audit row; the temporary file is renamed to its final name
   just before the commit (and removed again if the commit fails). A consumer killed before
   the commit leaves a running export with no registry rows and no file offered (only a done
   export is downloadable); the restarted job is a new attempt that starts the ZIP afresh,
   so no file and no registry row is ever doubled.
4. a failed render, a full disk or another error marks the export failed with a reason the
   user reads, and removes the temporary file.

Restarting: on each consumer's start-up and every minute (a periodic task), exports whose
heartbeat went stale (and queued ones whose task was lost) are enqueued again."""
from __future__ import annotations

import errno
import hashlib
import logging
import os
import time
from datetime import timedelta
from pathlib import Path

from flask import current_app
from huey import crontab
from sqlalchemy import and_, or_, select, update

from intranet.archive import export_render, export_zip
from intranet.archive.renderers import RenderFailed
from intranet.core import audit, clock, queue, settings
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.settings import SettingDef
from intranet.extensions import db
from intranet.models import ArchiveExport, User

log = logging.getLogger("intranet.archive")

KEEP_DAYS = "archive_export_keep_days"
settings.register(SettingDef(
    KEEP_DAYS, "int", 7, _l("Batch exports: keep for (days)"),
    _l("A finished export can be downloaded for this many days; then its file is deleted."),
    minimum=1, maximum=365))

STATE_LABELS = {"queued": _l("Queued"), "running": _l("Being prepared"), "done": _l("Ready"),
                "failed": _l("Failed"), "expired": _l("Expired")}
ERRORS = {
    "render": _l("A record could not be made into a PDF."),
    "timeout": _l("Making a record's PDF took too long."),
    "disk_full": _l("The server's disk is full. Ask the IT department to free space, then "
                    "export again."),
    "write": _l("The export file could not be written on the server."),
    "internal": _l("The export stopped because of an internal error."),
}
HEARTBEAT_SECONDS = 1.0


class Superseded(Exception):
    """A newer attempt owns the export (or it is no longer running): this one stops."""


def export_dir() -> Path:
    path = Path(current_app.config["EXPORT_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def final_path(export_id: int) -> Path:
    return export_dir() / f"export-{export_id}.zip"


def _part_path(export_id: int, attempt: int) -> Path:
    return export_dir() / f"export-{export_id}.{attempt}.part"


def _remove_parts(export_id: int) -> None:
    for path in export_dir().glob(f"export-{export_id}.*.part"):
        path.unlink(missing_ok=True)


def create(user, type_keys: list[str], start, end, department_id) -> ArchiveExport:
    """A queued export; its task is enqueued when the request's transaction commits."""
    row = ArchiveExport(requested_by_id=user.id, record_types=",".join(type_keys),
                        period_start=start, period_end=end, department_id=department_id,
                        state="queued")
    db.session.add(row)
    db.session.flush()
    audit.record(audit.Action.CREATE, "archive_export", row.id, details={
        "types": type_keys, "start": start.isoformat(), "end": end.isoformat(),
        "department": department_id})
    queue.after_commit(run_export, row.id)
    return row


def _stale_before():
    return clock.now() - timedelta(seconds=current_app.config["EXPORT_STALE_SECONDS"])


def claim(export_id: int) -> int | None:
    """This task's attempt number, or None if the export is not ours to run."""
    now = clock.now()
    result = db.session.execute(
        update(ArchiveExport).where(
            ArchiveExport.id == export_id,
            or_(ArchiveExport.state == "queued",
                and_(ArchiveExport.state == "running",
                     or_(ArchiveExport.heartbeat_at.is_(None),
                         ArchiveExport.heartbeat_at < _stale_before()))))
        .values(state="running", attempt=ArchiveExport.attempt + 1, heartbeat_at=now,
                done=0, error="", error_detail="")
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        return None
    attempt = db.session.scalar(select(ArchiveExport.attempt).where(
        ArchiveExport.id == export_id))
    db.session.commit()
    return attempt


def _owned(export_id: int, attempt: int):
    return and_(ArchiveExport.id == export_id, ArchiveExport.attempt == attempt,
                ArchiveExport.state == "running")


def heartbeat(export_id: int, attempt: int, done: int, total: int | None = None) -> None:
    values = {"heartbeat_at": clock.now(), "done": done}
    if total is not None:
        values["total"] = total
    result = db.session.execute(update(ArchiveExport).where(_owned(export_id, attempt))
                                .values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise Superseded()
    db.session.commit()


def _progress(export_id: int, attempt: int):
    last = [0.0]

    def report(done: int, total: int | None = None) -> None:
        moment = time.monotonic()
        if total is not None or moment - last[0] >= HEARTBEAT_SECONDS:
            last[0] = moment
            heartbeat(export_id, attempt, done, total)
    return report


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def finish(export: ArchiveExport, attempt: int, part: Path, items, summary) -> None:
    """Done, registered and audited in one transaction; the ZIP gets its final name only
    inside it."""
    now = clock.now()
    target = final_path(export.id)
    size, digest = part.stat().st_size, _sha256(part)
    result = db.session.execute(
        update(ArchiveExport).where(_owned(export.id, attempt)).values(
            state="done", done=len(items), total=len(items), heartbeat_at=now,
            file_name=target.name, size=size, sha256=digest, finished_at=now,
            expires_at=now + timedelta(days=settings.get(KEEP_DAYS)))
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise Superseded()
    requester = db.session.get(User, export.requested_by_id)
    export_render.register([*items, summary], requester, export.id)
    audit.record(audit.Action.EXPORT, "archive_export", export.id, user=requester, details={
        "files": len(items), "sha256": digest, "size": size, "attempt": attempt})
    os.replace(part, target)
    try:
        db.session.commit()
    except Exception:
        target.unlink(missing_ok=True)
        raise


def fail(export_id: int, attempt: int, error: str, detail: str = "") -> None:
    db.session.rollback()
    db.session.execute(update(ArchiveExport).where(_owned(export_id, attempt)).values(
        state="failed", error=error, error_detail=detail[:200], finished_at=clock.now())
        .execution_options(synchronize_session=False))
    db.session.commit()


def run(export_id: int) -> str:
    """The task's body; returns the outcome (for tests and the log)."""
    attempt = claim(export_id)
    if attempt is None:
        return "not claimed"
    _remove_parts(export_id)  # an earlier attempt's leftovers
    export = db.session.get(ArchiveExport, export_id)
    part = _part_path(export_id, attempt)
    try:
        items, summary = export_zip.write(export, part, _progress(export_id, attempt))
        finish(export, attempt, part, items, summary)
        return "done"
    except Superseded:
        return "superseded"
    except RenderFailed as error:
        code = "timeout" if error.reason == "timeout" else "render"
        fail(export_id, attempt, code, getattr(error.meta, "number", "") or "")
        log.error("export %s: render failed: %s", export_id, error.reason)
        return "failed"
    except OSError as error:
        fail(export_id, attempt, "disk_full" if error.errno == errno.ENOSPC else "write")
        log.error("export %s: %s", export_id, error)
        return "failed"
    except Exception:
        log.exception("export %s failed", export_id)
        fail(export_id, attempt, "internal")
        return "failed"
    finally:
        part.unlink(missing_ok=True)


@queue.task()
def run_export(export_id: int) -> str:
    return run(export_id)


def resume_stale() -> int:
    """Enqueue again the exports whose consumer died (stale heartbeat) and the queued ones
    whose task was lost; the claim decides who runs each."""
    stale = _stale_before()
    ids = db.session.scalars(select(ArchiveExport.id).where(or_(
        and_(ArchiveExport.state == "running",
             or_(ArchiveExport.heartbeat_at.is_(None), ArchiveExport.heartbeat_at < stale)),
        and_(ArchiveExport.state == "queued", ArchiveExport.created_at < stale)))).all()
    for export_id in ids:
        run_export(export_id)
    return len(ids)


@queue.on_startup
def resume_on_startup() -> None:
    """A consumer (re)starting: stale exports now, running ones when their heartbeat will
    be stale (their consumer may be the one that just died)."""
    resume_stale()
    stale_seconds = current_app.config["EXPORT_STALE_SECONDS"]
    now = clock.now()
    for export_id, beat in db.session.execute(select(
            ArchiveExport.id, ArchiveExport.heartbeat_at).where(
            ArchiveExport.state == "running", ArchiveExport.heartbeat_at >= _stale_before())):
        delay = (beat - now).total_seconds() + stale_seconds + 1
        run_export.schedule(args=(export_id,), delay=max(1, delay))
    db.session.rollback()


@queue.periodic_task(crontab(minute="*"))
def resume_stale_exports() -> int:
    return resume_stale()


def downloadable(export_id: int, user) -> ArchiveExport | None:
    """A finished export of this user's (only the one who asked downloads it), with its
    file; else None."""
    row = db.session.get(ArchiveExport, export_id)
    if row is None or row.requested_by_id != user.id or row.state != "done":
        return None
    return row if final_path(row.id).is_file() else None
