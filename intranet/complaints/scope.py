"""Who sees which service case (rules P2, C6). The service desk, complaint handlers and the GM
see every case; a sales manager sees the cases of their department (as a deputy, of the
principal's); archivists read closed ones. A person complained about may see that a case
exists where their role allows, but never its handling notes, the opinion or the decision
(P2), and the ledger's "complained about" filter is hidden from them."""
from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import false, select, true

from intranet.core.access import security_log, valid_delegations
from intranet.core.roles import Role as R
from intranet.extensions import db
from intranet.models import ServiceCase
from intranet.workflows.complaint_rules import recused_ids

EVERY_CASE = (R.SERVICE_DESK, R.COMPLAINT_HANDLER, R.GENERAL_MANAGER)


def case_scope(user):
    try:
        if user.roles & set(EVERY_CASE):
            return true()
        departments = set()
        if R.SALES_MANAGER in user.roles and user.department_id:
            departments.add(user.department_id)
        for delegation in valid_delegations(user):
            if delegation.role in EVERY_CASE:
                return true()
            if delegation.role == R.SALES_MANAGER and delegation.principal.department_id:
                departments.add(delegation.principal.department_id)
        return ServiceCase.department_id.in_(departments) if departments else false()
    except Exception:  # fail closed
        security_log.exception("case scope failed")
        return false()


def reads_archive(user) -> bool:
    return R.ARCHIVIST in user.roles


def in_archive(case) -> bool:
    return reads_archive(current_user) and case.state == "closed"


def scoped_case_or_404(case_id: int, purpose: str = "view") -> ServiceCase:
    try:
        found = db.session.scalar(select(ServiceCase).where(
            ServiceCase.id == case_id, case_scope(current_user)))
        if found is None and purpose == "archive" and reads_archive(current_user):
            found = db.session.scalar(select(ServiceCase).where(
                ServiceCase.id == case_id, ServiceCase.state == "closed"))
    except Exception:  # fail closed
        security_log.exception("case scope failed")
        found = None
    if found is None:
        abort(404)
    return found


def reads_notes(case, user) -> bool:
    """Rule P2: the person complained about does not read how their case is handled."""
    return user.id not in recused_ids(case)
