"""The batch export's view of the signed-PDF pieces (issue 11 §3-4): the record's HTML and
data are prepared in the task (it has the database), the PDF is made and signed in a renderer
process (`renderers.py`), the registry rows are written when the export finishes.

A thin adapter over intranet/archive/issue.py (`record_html`, `pdf_from_html`, `sign`,
`register`); until that module is present it falls back to the PDF module's renderer and
writes the registry rows itself, so the export's shape does not change when it lands."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from flask import current_app, render_template

from intranet.core import clock, settings
from intranet.extensions import db
from intranet.models import IssuedDocument

try:  # the lead's module (issue 11 §4)
    from intranet.archive import issue as _issue
except ImportError:  # pragma: no cover - until issue.py lands
    _issue = None


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


def record_html(record_type, row) -> tuple[str, bytes]:
    """The record's full HTML page and its data (JSON bytes) for the attachment."""
    if _issue is not None and hasattr(_issue, "record_html"):
        return _issue.record_html(record_type, row)
    body = render_template(record_type.template, **record_type.context(row))
    data = json.dumps(record_type.data(row), ensure_ascii=False, sort_keys=True,
                      default=str).encode("utf-8")
    return page_html(body, record_type.number(row)), data


def page_html(body: str, number: str) -> str:
    """A body in the record frame (title block, footer with number, time and digest)."""
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    return render_template("pdf/_record.html", body=body, record_number=number,
                           generated=clock.now().astimezone(settings.tz()), digest=digest,
                           company_name=settings.get("company_name"))


def make_pdf(html: str, data_json: bytes) -> bytes:
    """In a renderer process (with an app context): the PDF, signed."""
    if _issue is not None and hasattr(_issue, "pdf_from_html"):
        return _issue.sign(_issue.pdf_from_html(html, data_json))
    from intranet.pdf import _render

    return _render(html, current_app.static_folder)


def register(items: list[Item], user, export_id: int) -> None:
    """Every PDF of a finished export in the issued-document registry (in the caller's
    transaction, beside the export's audit row and its "done" state)."""
    if _issue is not None and hasattr(_issue, "register") and hasattr(_issue, "SignedPdf"):
        for item in items:
            _issue.register(_signed(item), user, export_id=export_id)
        return
    now = clock.now()
    db.session.add_all([IssuedDocument(
        record_type=item.record_type, record_id=item.record_id, record_number=item.number,
        record_version=item.version, title=item.title[:200], sha256=item.sha256,
        size=item.size, issued_at=now, issued_to_id=user.id, export_id=export_id)
        for item in items])


def _signed(item: Item):  # pragma: no cover - adapts to issue.SignedPdf when it lands
    return _issue.SignedPdf(content=b"", sha256=item.sha256, record_type=item.record_type,
                            record_id=item.record_id, number=item.number,
                            version=item.version, title=item.title, filename=item.filename)
