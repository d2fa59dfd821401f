"""PDF records (DESIGN.md "PDF records"; SECURITY.md "PDF").

Jinja renders the record to HTML; WeasyPrint lays it out with a URL fetcher that serves only
`data:` URLs and the app's own static files: no `file://`, no network, no redirects. Fonts
are named in a static CSS file (`static/pdf/record.css`) with `<html lang="zh-CN">`, because
Jinja's autoescaping breaks a quoted font family inside `<style>`.
"""
from __future__ import annotations

import atexit
import ctypes.util
import gc
import hashlib
import logging
import multiprocessing
import threading
import warnings
from pathlib import Path

from flask import current_app, render_template

from intranet.core import clock, settings

log = logging.getLogger("intranet.pdf")


def fast_subsetting_available() -> bool:
    """HarfBuzz's subsetter makes CJK subsetting ~0.3 s instead of ~11 s (fontTools)."""
    return ctypes.util.find_library("harfbuzz-subset") is not None


def check_pdf_environment(app) -> None:
    """At start-up: say so in the log if PDFs will be slow (no import of WeasyPrint here)."""
    if not fast_subsetting_available():
        app.logger.warning("libharfbuzz-subset0 is missing: PDF font subsetting falls back to "
                           "fontTools (~11 s per record); install the Debian package")


class PdfTimeout(Exception):
    """The renderer ran past PDF_TIMEOUT_SECONDS and was stopped."""


ATTACHMENT_NAME = "record.json"


def render_pdf(html: str, data: bytes | None = None) -> bytes:
    """HTML (already escaped by Jinja) to PDF bytes, with the locked-down fetcher, in the
    renderer process under a time limit (or in-process when the limit is 0). With `data`, the
    PDF is PDF/A-3b carrying it as the attachment record.json (an archive's record)."""
    static_root = current_app.static_folder
    timeout = current_app.config.get("PDF_TIMEOUT_SECONDS", 0)
    if not timeout:
        return _render(html, static_root, data)
    return _renderer.render(html, static_root, timeout, data)


def _render(html: str, static_root: str, data: bytes | None = None) -> bytes:
    from weasyprint import HTML, Attachment

    from intranet.pdf.fetcher import BASE_URL, LockedDownFetcher

    fetcher = LockedDownFetcher(Path(static_root))
    options = {}
    if data is not None:
        options = {"pdf_variant": "pdf/a-3b", "attachments": [Attachment(
            string=data, name=ATTACHMENT_NAME, description="record data (JSON)",
            relationship="Data")]}
    # WeasyPrint opens its sRGB profile for PDF/A and never closes it: the file is closed
    # when the document is collected, below, with a ResourceWarning that says nothing to us.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return HTML(string=html, base_url=BASE_URL,
                        url_fetcher=fetcher).write_pdf(**options)
        finally:
            _collect_render_garbage()


_heap_frozen = False


def _collect_render_garbage() -> None:
    """CJK font buffers sit in reference cycles: collect them after each render. A full
    collection walks every live object of the process, 15-18 % of a render; after the first
    render (fonts, WeasyPrint and its caches loaded) gc.freeze() moves everything alive into
    the permanent generation, so later collections walk only what was created since, which is
    mostly the render's own garbage (README "Benchmark" has the figures)."""
    global _heap_frozen
    gc.collect()
    if not _heap_frozen:
        gc.freeze()
        _heap_frozen = True


class _Renderer:
    """One warm renderer process per app process (spawned, so it shares nothing with the
    request threads). A render past the limit kills it; the next render starts a new one."""

    def __init__(self):
        self._pool = None
        self._lock = threading.Lock()

    def render(self, html: str, static_root: str, timeout: float,
               data: bytes | None = None) -> bytes:
        with self._lock:  # one render at a time per app process, like a print queue
            if self._pool is None:
                self._pool = multiprocessing.get_context("spawn").Pool(1)
            job = self._pool.apply_async(_render, (html, static_root, data))
            try:
                return job.get(timeout=timeout)
            except multiprocessing.TimeoutError:
                log.error("PDF render stopped after %s s", timeout)
                self.stop()
                raise PdfTimeout() from None

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


_renderer = _Renderer()
atexit.register(_renderer.stop)


def render_record(template: str, record_number: str, **context) -> bytes:
    """A signed record: the body, then a footer with the record number, the generation time
    and the SHA-256 of the body's content."""
    body = render_template(template, **context)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    generated = clock.now().astimezone(settings.tz())
    html = render_template("pdf/_record.html", body=body, record_number=record_number,
                           generated=generated, digest=digest,
                           company_name=settings.get("company_name"))
    return render_pdf(html)
