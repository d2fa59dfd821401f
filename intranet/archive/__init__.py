"""The archive (issue 11, rule C7): the record types each domain registers (records.py), every
PDF handed out signed and registered (issue.py, keys.py), the verifier (verify.py), batch
exports on the task queue and sealed files.

The archive never imports a domain: the domains register their record types with it."""
from __future__ import annotations


def init_app(app) -> None:
    from intranet.core import audit

    audit.register_object_labels({})
