"""Retention of batch exports (issue 11 §5), a `flask jobs run` job: finished exports past
their keeping time lose their file and become "expired", set-based (one query for the set,
one UPDATE for the rows, however many there are)."""
from __future__ import annotations

from sqlalchemy import select, update

from intranet.archive.export import final_path
from intranet.core import clock
from intranet.core.jobs import job
from intranet.extensions import db
from intranet.models import ArchiveExport


@job("archive_exports_expire")
def expire_exports() -> int:
    now = clock.now()
    ids = db.session.scalars(select(ArchiveExport.id).where(
        ArchiveExport.state == "done", ArchiveExport.expires_at <= now)).all()
    if not ids:
        return 0
    db.session.execute(update(ArchiveExport).where(
        ArchiveExport.id.in_(ids), ArchiveExport.state == "done").values(
        state="expired", file_name="").execution_options(synchronize_session=False))
    for export_id in ids:  # the files go; a crash before the commit leaves them for next run
        final_path(export_id).unlink(missing_ok=True)
    return len(ids)
