"""A renderer process of a batch export (renderers.py): `python -m intranet.archive.
render_worker`. It creates the app once (for templates' static files, fonts and the signing
key), then turns (seq, html, data_json, number) read from stdin into (seq, ok, pdf or reason) on
stdout until stdin closes. Nothing imports this module (it imports the app factory)."""
from __future__ import annotations

import gc
import logging
import os
import sys
from multiprocessing.connection import Connection


def main() -> None:
    inbox = Connection(os.dup(0), writable=False)
    outbox = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # stray prints go to stderr, never into the channel
    sys.stdout = sys.stderr

    from intranet import create_app
    from intranet.archive.export_render import make_pdf

    app = create_app({"PDF_TIMEOUT_SECONDS": 0})
    log = logging.getLogger("intranet.archive")
    with app.app_context():
        _warm_up()
        while True:
            try:
                seq, html, data_json, number = inbox.recv()
            except EOFError:
                return
            try:
                pdf = make_pdf(html, data_json, number)
            except Exception as error:  # reported to the task, which fails the export
                log.exception("export render failed")
                outbox.send((seq, False, f"{type(error).__name__}: {error}"[:200]))
            else:
                outbox.send((seq, True, pdf))
            gc.collect()


def _warm_up() -> None:
    """Read what signing needs from the database once (the company's name, cached for the
    app context) and end the transaction at once: on SQLite every transaction holds the
    write lock, and the export's heartbeat must not wait on a renderer. Load the key and the
    libraries before the first job."""
    import weasyprint  # noqa: F401
    from pyhanko.sign import signers  # noqa: F401

    from intranet.archive import keys
    from intranet.core import settings
    from intranet.extensions import db

    settings.get("company_name")
    db.session.remove()
    keys.signer()


if __name__ == "__main__":
    main()
