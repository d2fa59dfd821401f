"""The archive (issue 11, rule C7): the record types each domain registers (records.py), every
PDF handed out signed and registered (issue.py, keys.py), the verifier (verify.py), batch
exports on the task queue (export.py, export_zip.py, renderers.py, export_jobs.py) and sealed
files.

The archive never imports a domain: the domains register their record types with it."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l


def init_app(app) -> None:
    # export, export_jobs: the export task, its setting and its retention job
    from intranet.archive import commands, export, export_jobs  # noqa: F401
    from intranet.archive.keys import SigningUnavailable
    from intranet.core import audit
    from intranet.core.errors import render_error

    audit.register_object_labels({"issued_document": _l("Issued document"),
                                  "archive": _l("Archive"),
                                  "archive_export": _l("Batch export")})
    app.cli.add_command(commands.archive_cli)

    @app.errorhandler(SigningUnavailable)
    def signing_unavailable(error):
        app.logger.error("archive signing key missing: %s (run `flask archive keys`)", error)
        return render_error(503, _("Records cannot be printed yet: the company's signing "
                                   "certificate is not set up. Please tell the administrator."))
