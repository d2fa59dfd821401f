"""Request/response plumbing shared by all blueprints: htmx helpers, the commit boundary,
security headers, safe redirects."""
from __future__ import annotations

import json
import logging
from urllib.parse import quote, urlsplit

from flask import Response, make_response, redirect, request

from intranet.extensions import db

log = logging.getLogger("intranet.security")


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def download_disposition(title, extension: str, ascii_stem: str) -> str:
    """Content-Disposition of an export named in the reader's language with the local date
    (客户列表-2026-11-28.xlsx), with an ASCII name for clients that cannot read RFC 6266's
    filename* (customers-2026-11-28.xlsx)."""
    from intranet.core import clock, settings

    day = clock.now().astimezone(settings.tz()).date().isoformat()
    name = f"{title}-{day}.{extension}"
    return (f'attachment; filename="{ascii_stem}-{day}.{extension}"; '
            f"filename*=UTF-8''{quote(name)}")


def htmx_redirect(url: str, status: int = 200) -> Response:
    response = make_response("", status)
    response.headers["HX-Redirect"] = url
    return response


def redirect_to(url: str):
    """Redirect that also works for htmx requests (which would otherwise swap the target page)."""
    return htmx_redirect(url) if is_htmx() else redirect(url)


def toast(message: str) -> dict[str, str]:
    """Response headers that make the page show `message` as a toast (see static/app.js)."""
    return {"HX-Trigger": json.dumps({"toast": str(message)}, ensure_ascii=True)}


def local_path(url: str | None) -> str | None:
    """`url` reduced to a path on this site, or None if it points anywhere else (SECURITY.md 11)."""
    if not url:
        return None
    url = url.strip().replace("\\", "/")
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        if parts.netloc != request.host or parts.scheme not in ("http", "https"):
            return None
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or any(ord(c) < 32 for c in url):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def reject_nul_bytes():
    """before_request: NUL never belongs in text, and PostgreSQL refuses to store it; answer
    with a clear 400 instead of failing deep inside a query."""
    from flask import abort

    sources = [request.args] + ([request.form] if request.method != "GET" else [])
    for values in sources:
        for key, value in values.items(multi=True):
            # A malformed multipart part (a line break in its name) can carry no value at all.
            if "\x00" in (key or "") or "\x00" in (value or ""):
                abort(400)
    if "\x00" in request.path:
        abort(400)


def commit_or_rollback(response: Response) -> Response:
    """The request boundary commits; views never do. Errors roll back everything, audit rows
    included, so nothing is half-written. On SQLite a read request takes the write lock only
    here, for the moment of appending its audit rows (db_engine.py)."""
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'")


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    if request.endpoint != "static":
        # Pages carry customer data: never store them in a browser or proxy cache.
        headers["Cache-Control"] = "no-store"
        headers.add("Vary", "HX-Request")
        headers.add("Vary", "Cookie")
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response
