"""The archive (issue 11, rule C7): the record types each domain registers (records.py), every
PDF handed out signed and registered (issue.py, keys.py), the verifier (verify.py), batch
exports on the task queue (export.py, export_zip.py, renderers.py, export_jobs.py) and sealed
files.

The archive never imports a domain: the domains register their record types with it."""
from __future__ import annotations


def init_app(app) -> None:
    from flask_babel import lazy_gettext as _l

    from intranet.archive import export, export_jobs  # noqa: F401  (tasks, settings, jobs)
    from intranet.core import audit

    audit.register_object_labels({"archive_export": _l("Batch export")})
