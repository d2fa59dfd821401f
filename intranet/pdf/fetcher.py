"""The only way a PDF record reaches anything outside its own HTML (SECURITY.md "PDF"): `data:`
URLs and the app's own static files, nothing else: no `file://`, no network, no redirects, no
path out of the static folder. Imported when a record renders (WeasyPrint is slow to import)."""
from __future__ import annotations

import logging
import mimetypes
from pathlib import Path

from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger("intranet.pdf")
BASE_URL = "https://intranet.invalid/"  # never opened: the fetcher answers for it
STATIC_URL = BASE_URL + "static/"


class LockedDownFetcher(URLFetcher):
    def __init__(self, static_root: Path):
        super().__init__(timeout=2, allowed_protocols={"data"}, allow_redirects=False)
        self.static_root = static_root.resolve()

    def fetch(self, url, headers=None):
        if url.startswith(STATIC_URL):
            path = (self.static_root / url[len(STATIC_URL):].split("?")[0]).resolve()
            if self.static_root in path.parents and path.is_file():
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind}, 200)
            raise ValueError(f"not a static file: {url}")
        if url.startswith("data:"):
            return super().fetch(url, headers)
        log.warning("PDF resource refused: %.200s", url)
        raise ValueError(f"resource refused: {url[:200]}")
