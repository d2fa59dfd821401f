"""Retention of batch exports (issue 11 §5), a `flask jobs run` job: finished exports past
their keeping time lose their file and become "expired", set-based (per batch of
batch_size() exports, one query for the set and one UPDATE for the rows)."""
from __future__ import annotations

from sqlalchemy import select, update

from intranet.archive.export import final_path
from intranet.core import clock
from intranet.core.jobs import Pace, job
from intranet.extensions import db
from intranet.models import ArchiveExport


@job("archive_exports_expire")
def expire_exports() -> int:
    now, done, pace = clock.now(), 0, Pace()
    while True:
        ids = db.session.scalars(select(ArchiveExport.id).where(
            ArchiveExport.state == "done", ArchiveExport.expires_at <= now)
            .order_by(ArchiveExport.id).limit(pace.size)).all()
        if ids:
            db.session.execute(update(ArchiveExport).where(
                ArchiveExport.id.in_(ids), ArchiveExport.state == "done").values(
                state="expired", file_name="").execution_options(synchronize_session=False))
            # The files go before the commit: a crash in between leaves the rows for the next
            # run, which finds their files gone already.
            for export_id in ids:
                final_path(export_id).unlink(missing_ok=True)
            db.session.commit()
        done += len(ids)
        if not pace.done(len(ids)):
            return done
