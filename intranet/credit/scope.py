"""Who sees which credit application (rule C6): applications are scoped like their customers;
archivists read the decided ones."""
from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from intranet.core.access import customer_id_scope, security_log
from intranet.core.roles import Role as R
from intranet.extensions import db
from intranet.models import CreditApplication
from intranet.workflows.credit_states import OPEN

OPEN_STATES = [s.value for s in OPEN]


def in_archive(application) -> bool:
    """For templates: would scoped_credit_application_or_404(id, "archive") give the current
    user this application as an archivist's read (its signed record, once decided)?"""
    return (_reads_archive(current_user) and application.state not in OPEN_STATES
            and application.decided_at is not None)  # a decision: what the archive keeps


def _reads_archive(user) -> bool:
    return R.ARCHIVIST in user.roles


def credit_application_scope(user, purpose: str = "view"):
    """Applications are scoped like their customers (rule C6): reps their own customers',
    managers their department's, the GM and the GM's deputy all."""
    return customer_id_scope(CreditApplication.customer_id, user, purpose)


def scoped_credit_application_or_404(application_id: int, purpose: str = "view"):
    """The application if `current_user` may see it; archivists see decided ones (read-only)."""
    try:
        found = db.session.scalar(select(CreditApplication).where(
            CreditApplication.id == application_id,
            credit_application_scope(current_user, "edit" if purpose == "edit" else "view")))
        if found is None and purpose == "archive" and _reads_archive(current_user):
            found = db.session.scalar(select(CreditApplication).where(
                CreditApplication.id == application_id,
                CreditApplication.state.not_in(OPEN_STATES)))  # decided
    except Exception:  # fail closed
        security_log.exception("credit application scope failed")
        found = None
    if found is None:
        abort(404)
    return found
