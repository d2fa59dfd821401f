"""Attachment checks (rule C1 licence scans; SECURITY.md 19): size and type by content."""
from urllib.parse import quote

from flask import Response

from intranet.core.forms import strip_bidi
from intranet.core.i18n import lazy_gettext as _l

MAX_BYTES = 5 * 1024 * 1024
SIGNATURES = {b"%PDF-": "pdf", b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpeg"}


def kind_of(data: bytes) -> str | None:
    """The file type read from the content itself; the name and browser's claim are ignored."""
    for signature, kind in SIGNATURES.items():
        if data.startswith(signature):
            return kind
    return None


def problem(data: bytes):
    if not data:
        return _l("The file is empty.")
    if len(data) > MAX_BYTES:
        return _l("The file is larger than 5 MB.")
    if kind_of(data) is None:
        return _l("Only PDF, PNG and JPEG scans are accepted.")
    return None


def secure_name(filename: str) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in strip_bidi(name) if ch.isprintable() and ch not in '"<>:|?*')
    return name[:200] or "attachment"


def download(data: bytes, filename: str) -> Response:
    """Always a download: a file is never rendered in the intranet's origin."""
    response = Response(data, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"attachment\"; filename*=UTF-8''{quote(filename)}")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
