"""The archive (issue 11, rule C7): the record types each domain registers (records.py), every
PDF handed out signed and registered (issue.py, keys.py), the verifier (verify.py), batch
exports on the task queue (export.py, export_zip.py, renderers.py, export_jobs.py) and sealed
files (sealing.py, access.py).

The archive never imports a domain: the domains register their record types with it."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from intranet.core.i18n import lazy_gettext as _l
from intranet.extensions import db


def init_app(app) -> None:
    # export, export_jobs: the export task, its setting and its retention job
    from intranet.archive import commands, export, export_jobs  # noqa: F401
    from intranet.archive.keys import SigningUnavailable
    from intranet.core import audit
    from intranet.core.errors import render_error

    audit.register_object_labels({"issued_document": _l("Issued document"),
                                  "archive": _l("Archive"),
                                  "archive_export": _l("Batch export"),
                                  "customer_file": _l("Customer file card")})
    from intranet.archive.records import RECORD_TYPES
    from intranet.models import ArchiveExport, Customer, SealedPeriod
    # the archive browser's entries name the kind of record listed
    audit.register_object_keys("archive", lambda: {
        key: rt.label for key, rt in RECORD_TYPES.items()})
    audit.register_object_names("customer_file", audit.column_names(Customer.id, Customer.name))
    audit.register_object_names("archive_export", lambda ids: {
        row.id: row.number for row in db.session.scalars(
            select(ArchiveExport).where(ArchiveExport.id.in_(ids)))})
    audit.register_object_names("sealed_period", audit.column_names(
        SealedPeriod.id, SealedPeriod.year))
    app.cli.add_command(commands.archive_cli)
    _sealed_files(app)

    @app.errorhandler(SigningUnavailable)
    def signing_unavailable(error):
        app.logger.error("archive signing key missing: %s (run `flask archive keys`)", error)
        return render_error(503, _("Records cannot be printed yet: the company's signing "
                                   "certificate is not set up. Please tell the administrator."))


def _sealed_files(app) -> None:
    """Rule C7: sealed years, access requests, their notices and the expiry job."""
    from intranet.archive import access  # noqa: F401  (settings, the expiry job)
    from intranet.core import audit, notifications
    from intranet.workflows.archive_access import ArchiveAccessFlow

    notifications.register_kinds(access.KINDS)
    notifications.register_link(ArchiveAccessFlow.object_type, "archive.access_request",
                                "access_id")
    audit.register_object_labels({
        "sealed_period": _l("Sealed year"), "sealed_file": _l("Sealed customer file"),
        "archive_access_request": _l("Access request to a sealed file"),
        "archive_access_list": _l("Access requests to sealed files")})
    app.jinja_env.globals.update(access_states=ArchiveAccessFlow.STATE_LABELS)
