"""Writing a batch export (issue 11 §5): the closed records of the chosen types and period,
each as a signed PDF streamed into a ZIP on disk as it comes from the renderers, then
`manifest.csv` (UTF-8 with BOM, for Excel), a summary PDF listing them, and `SHA256SUMS`
(`sha256sum -c SHA256SUMS` in the extracted folder checks every other file)."""
from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import time
import zipfile
from datetime import datetime, timedelta
from datetime import time as day_time

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from intranet.archive import export_render, sealing
from intranet.archive.export_render import Item
from intranet.archive.records import RECORD_TYPES, closed
from intranet.archive.renderers import RendererPool
from intranet.core import clock, settings
from intranet.extensions import db
from intranet.models import User

MANIFEST = "manifest.csv"
SUMS = "SHA256SUMS"
SUMMARY = "summary.pdf"
PREPARE = 10  # records read and prepared per transaction
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def bounds(export) -> tuple[datetime, datetime]:
    """The period's local dates as UTC instants: [start 00:00, day after end 00:00)."""
    tz = settings.tz()
    return (datetime.combine(export.period_start, day_time(), tz),
            datetime.combine(export.period_end + timedelta(days=1), day_time(), tz))


def exportable() -> dict:
    """The record types a batch export offers (the customer file card has its own page and
    is made per customer and year, not closed in a period)."""
    return {key: rt for key, rt in RECORD_TYPES.items() if key != "customer_file"}


def plan(export) -> list[tuple]:
    """(record type, ids in closing order) per chosen type; only ids are held. Rule C7: a
    record closed in a sealed year is part of that year's customer file and is left out
    unless the one who asked holds a live grant for that file (as in the archive browser)."""
    start, end = bounds(export)
    requester = db.session.get(User, export.requested_by_id)
    found = []
    for key in export.type_keys:
        record_type = exportable().get(key)
        if record_type is None:
            continue
        query = closed(record_type, start, end, export.department_id).where(
            record_type.customer_id.is_(None)
            | sealing.sealed_at_filter(requester, record_type.customer_id,
                                       record_type.closed_at))
        ids = db.session.scalars(query.with_only_columns(record_type.model.id).order_by(
            record_type.closed_at, record_type.model.id)).all()
        found.append((record_type, ids))
    return found


def _jobs(planned):
    """(Item, html, data_json, number) per record, prepared here (database, templates) while
    the renderers work, PREPARE records per short read transaction (on SQLite every
    transaction holds the write lock, so the web and the heartbeat must not wait on a long
    one)."""
    names: set[str] = set()
    for record_type, ids in planned:
        for offset in range(0, len(ids), PREPARE):
            chunk = ids[offset:offset + PREPARE]
            rows = {row.id: row for row in db.session.scalars(
                select(record_type.model).where(record_type.model.id.in_(chunk)))}
            batch = []
            for record_id in chunk:
                doc, html, data_json = export_render.prepare(record_type, rows.pop(record_id))
                name = _file_name(f"{record_type.file_prefix}-{doc.number}", names, record_id)
                batch.append((Item(record_type.key, record_id, doc.number, doc.version,
                                   doc.title, name), html, data_json, doc.number))
            db.session.commit()  # nothing written: ends the read transaction
            yield from batch


def _test_pause(tick) -> None:
    """ARCHIVE_EXPORT_TEST_DELAY (seconds after each PDF) spaces the PDFs out for the tests
    that kill a consumer mid-way, the heartbeat going on meanwhile. After each PDF, not before
    each record: the records prepared while the renderers start would otherwise finish in a
    burst."""
    delay = float(os.environ.get("ARCHIVE_EXPORT_TEST_DELAY") or 0)
    end = time.monotonic() + delay
    while time.monotonic() < end:
        time.sleep(min(0.25, max(0.0, end - time.monotonic())))
        tick()


def _file_name(stem: str, taken: set[str], record_id: int) -> str:
    name = UNSAFE.sub("_", stem).strip("._") or "record"
    if f"{name}.pdf" in taken:
        name = f"{name}-{record_id}"
    taken.add(f"{name}.pdf")
    return f"{name}.pdf"


def _entry(name: str, when: datetime, compress: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def write(export, part_path, progress) -> tuple[list[Item], Item]:
    """The whole ZIP at part_path; progress(done) after each PDF (it may raise to stop).
    Returns the records' items and the summary's."""
    planned = plan(export)
    progress(0, total=sum(len(ids) for _, ids in planned))  # commits
    when = clock.now().astimezone(settings.tz())
    items: list[Item] = []
    config = current_app.config
    timeout = config.get("PDF_TIMEOUT_SECONDS") or 300
    # the renderers read the company's settings (name on the signature) from this database
    env = {"DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"]}
    with RendererPool(config.get("EXPORT_RENDERERS", 2), timeout, env=env,
                      tick=lambda: progress(len(items))) as pool, \
            zipfile.ZipFile(part_path, "w", allowZip64=True) as archive:
        for item, pdf in pool.map(_jobs(planned)):
            item.sha256, item.size = hashlib.sha256(pdf).hexdigest(), len(pdf)
            archive.writestr(_entry(item.filename, when, compress=False), pdf)
            items.append(item)
            progress(len(items))
            _test_pause(lambda: progress(len(items)))
        title = _("Batch export summary")
        doc, html, data_json = export_render.summary(export, items, title, when=when,
                                                     labels=_labels(export))
        db.session.commit()  # nothing written: ends the read transaction
        summary_pdf = pool.render(html, data_json, doc.number)
        summary = Item("archive_export", export.id, export.number, export.attempt, title,
                       SUMMARY, hashlib.sha256(summary_pdf).hexdigest(), len(summary_pdf))
        archive.writestr(_entry(SUMMARY, when, compress=False), summary_pdf)
        manifest = manifest_csv(items)
        archive.writestr(_entry(MANIFEST, when, compress=True), manifest)
        archive.writestr(_entry(SUMS, when, compress=True),
                         sums(items, summary, hashlib.sha256(manifest).hexdigest()))
    return items, summary


def manifest_csv(items: list[Item]) -> bytes:
    """Record number, title, file name, SHA-256; UTF-8 with a BOM so that Excel reads the
    Chinese."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("Record number"), _("Record title"), _("File name"), "SHA-256"])
    for item in items:
        writer.writerow([item.number, item.title, item.filename, item.sha256])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def sums(items: list[Item], summary: Item, manifest_sha: str) -> bytes:
    """`sha256sum` format: "<hex>  <name>" per line (two spaces: text mode)."""
    lines = [f"{item.sha256}  {item.filename}" for item in items]
    lines += [f"{summary.sha256}  {SUMMARY}", f"{manifest_sha}  {MANIFEST}"]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _labels(export) -> dict:
    return {key: RECORD_TYPES[key].label for key in export.type_keys if key in RECORD_TYPES}
