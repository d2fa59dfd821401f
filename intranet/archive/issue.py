"""Every PDF the system hands out (issue 11 §3-4): a PDF/A-3b record with a title block, a
signature block from the history, 第 N 页 / 共 M 页, the record's data attached as JSON, a PAdES
signature with the company's key, and a row in the issued-document registry written in the
transaction of its audit row.

The pieces are separate so a batch export can render in other processes: `document` (the
database and the templates), `record_html` + `data_bytes` (text), `pdf.render_pdf` (layout),
`sign` (the key), `register` (the registry)."""
from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote as url_quote

from flask import Response, render_template
from flask_login import current_user

from intranet.archive import keys
from intranet.archive.records import RecordType, signatures
from intranet.core import audit, clock, settings
from intranet.extensions import db
from intranet.models import IssuedDocument
from intranet.pdf import render_pdf

SIGNATURE_FIELD = "CompanySeal"


@dataclass
class Document:
    """A record ready to print: what the PDF shows and what it carries."""

    key: str                      # record type; also the audit object type
    record_id: int
    number: str
    version: int
    title: str
    body: str                     # the body's HTML, rendered by Jinja (escaped)
    data: dict
    signatures: list[dict] = field(default_factory=list)
    file_prefix: str = "record"

    @property
    def filename(self) -> str:
        return f"{self.title}-{self.number}.pdf"


@dataclass
class SignedPdf:
    content: bytes
    sha256: str
    record_type: str
    record_id: int
    number: str
    version: int
    title: str
    filename: str


def document(record_type: RecordType, row) -> Document:
    return Document(key=record_type.key, record_id=row.id, number=record_type.number(row),
                    version=record_type.version(row), title=str(record_type.label),
                    body=render_template(record_type.template, **record_type.context(row)),
                    data=record_type.data_of(row), signatures=signatures(record_type, row),
                    file_prefix=record_type.file_prefix)


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def data_bytes(doc: Document) -> bytes:
    """The JSON attached to the PDF: the record's identity and data, keys sorted, so an
    unchanged record always gives the same bytes."""
    return json.dumps({"record_type": doc.key, "record_id": doc.record_id,
                       "number": doc.number, "version": doc.version, "title": doc.title,
                       "data": doc.data}, ensure_ascii=False, sort_keys=True, indent=1,
                      default=_plain).encode("utf-8")


def content_digest(doc: Document) -> str:
    """SHA-256 of what the record says (body and data); the generation time is not in it."""
    digest = hashlib.sha256(doc.body.encode("utf-8"))
    digest.update(data_bytes(doc))
    return digest.hexdigest()


def record_html(doc: Document) -> str:
    return render_template("pdf/_record.html", doc=doc, body=doc.body,
                           record_number=doc.number, digest=content_digest(doc),
                           generated=clock.now().astimezone(settings.tz()),
                           company_name=settings.get("company_name"))


def sign(pdf: bytes, number: str) -> bytes:
    """A PAdES signature over the whole file with the company's key (invisible field)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD, subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256", reason=f"{settings.get('company_name')} 档案 {number}",
        name=str(settings.get("company_name")))
    signer = keys.signer()
    pdf_signer = signers.PdfSigner(meta, signer=signer)

    def run() -> bytes:
        return pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)),
                                   bytes_reserved=keys.signature_reserve(signer)).getvalue()
    return keys.off_the_event_loop(run)


def render_signed(doc: Document) -> SignedPdf:
    signed = sign(render_pdf(record_html(doc), data_bytes(doc)), doc.number)
    return SignedPdf(content=signed, sha256=hashlib.sha256(signed).hexdigest(),
                     record_type=doc.key, record_id=doc.record_id, number=doc.number,
                     version=doc.version, title=doc.title, filename=doc.filename)


def register(signed: SignedPdf, user, export_id: int | None = None) -> IssuedDocument:
    """The registry row of a PDF handed out; the caller's transaction commits it with the
    audit row of the hand-out."""
    row = IssuedDocument(record_type=signed.record_type, record_id=signed.record_id,
                         record_number=signed.number, record_version=signed.version,
                         title=signed.title, sha256=signed.sha256, size=len(signed.content),
                         issued_at=clock.now(), issued_to_id=getattr(user, "id", None),
                         export_id=export_id)
    db.session.add(row)
    return row


def hand_out(doc: Document, details: dict | None = None) -> Response:
    """A single download: render, sign, register and audit in one transaction, then send.
    `details` adds to the audit row (e.g. which customers a list carried)."""
    signed = render_signed(doc)
    register(signed, current_user)
    audit.record(audit.Action.EXPORT, doc.key, doc.record_id, details={
        "format": "pdf", "number": doc.number, "version": doc.version,
        "sha256": signed.sha256, **(details or {})})
    return pdf_response(signed.content, signed.filename, f"{doc.file_prefix}-{doc.number}.pdf")


def download(record_type: RecordType, row) -> Response:
    return hand_out(document(record_type, row))


def pdf_response(content: bytes, filename: str, ascii_name: str = "record.pdf") -> Response:
    """The PDF as a download named in Chinese (RFC 6266 filename*), with an ASCII fallback."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", ascii_name)
    disposition = (f'attachment; filename="{ascii_name}"; '
                   f"filename*=UTF-8''{url_quote(filename)}")
    return Response(content, 200, {"Content-Type": "application/pdf",
                                   "Content-Disposition": disposition})
