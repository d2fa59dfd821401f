"""The batch export's use of the signed-PDF pieces of issue.py (issue 11 §3-5): the record's
Document, HTML and attached JSON are prepared in the task (it has the database); the PDF is
laid out and signed in a renderer process (`renderers.py`, `render_worker.py`); the registry
rows are written when the export finishes, in the transaction of its audit row."""
from __future__ import annotations

from dataclasses import dataclass

from flask import render_template

from intranet.archive import issue
from intranet.pdf import render_pdf


@dataclass
class Item:
    """One PDF of an export: what the manifest, SHA256SUMS and the registry say about it."""

    record_type: str
    record_id: int
    number: str
    version: int
    title: str
    filename: str
    sha256: str = ""
    size: int = 0


def prepare(record_type, row) -> tuple[issue.Document, str, bytes]:
    """The record's Document, its full HTML page and the JSON the PDF carries."""
    doc = issue.document(record_type, row)
    return doc, issue.record_html(doc), issue.data_bytes(doc)


def summary(export, items: list[Item], title: str, **context) -> tuple[issue.Document, str,
                                                                        bytes]:
    """The summary PDF of an export, a record of its own (type "archive_export") whose
    attached JSON lists every file with its SHA-256."""
    body = render_template("archive/pdf/export_summary.html", export=export, items=items,
                           **context)
    doc = issue.Document(
        key="archive_export", record_id=export.id, number=export.number,
        version=export.attempt, title=title, body=body, file_prefix="summary",
        data={"files": [{"number": i.number, "title": i.title, "file": i.filename,
                         "sha256": i.sha256, "record_type": i.record_type,
                         "record_id": i.record_id} for i in items]})
    return doc, issue.record_html(doc), issue.data_bytes(doc)


def make_pdf(html: str, data_json: bytes, number: str) -> bytes:
    """In a renderer process (app context, in-process rendering): the PDF/A, signed."""
    return issue.sign(render_pdf(html, data_json), number)


def register(items: list[Item], user, export_id: int) -> None:
    """Every PDF of a finished export in the issued-document registry (in the caller's
    transaction, beside the export's audit row and its "done" state). The PDFs themselves
    are in the ZIP on disk, not in memory: the size is the item's."""
    for item in items:
        row = issue.register(issue.SignedPdf(
            content=b"", sha256=item.sha256, record_type=item.record_type,
            record_id=item.record_id, number=item.number, version=item.version,
            title=item.title, filename=item.filename), user, export_id=export_id)
        row.size = item.size
