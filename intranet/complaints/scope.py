"""Who sees which service case (rules P2, C6). The service desk, complaint handlers and the GM
see every case; a sales manager sees the cases of their department (as a deputy, of the
principal's); archivists read closed ones. A person complained about may see that a case
exists where their role allows, but never its handling notes, the opinion or the decision
(P2), and the ledger's "complained about" filter is hidden from them."""
from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import false, or_, select, true

from intranet.core import settings
from intranet.core.access import security_log, valid_delegations
from intranet.core.roles import Role as R
from intranet.extensions import db
from intranet.models import ServiceCase
from intranet.workflows.complaint_rules import recused_ids

EVERY_CASE = (R.SERVICE_DESK, R.COMPLAINT_HANDLER, R.GENERAL_MANAGER)


def case_scope(user):
    terms = case_scope_terms(user)
    if terms is None:
        return true()
    return or_(*terms) if terms else false()


def case_scope_terms(user) -> list | None:
    """The alternatives of case_scope: None for every case, [] for none (also on failure).
    A count that ANDs a state condition to each alternative reads one index per
    alternative, where AND over the whole OR reads every case of the department (issue 12)."""
    try:
        if user.roles & set(EVERY_CASE):
            return None
        leaders = {user.id}  # a suggestion reported to a leader is theirs to read (P5)
        departments = set()
        if R.SALES_MANAGER in user.roles and user.department_id:
            departments.add(user.department_id)
        for delegation in valid_delegations(user):
            if delegation.role in EVERY_CASE:
                return None
            if delegation.role == R.SALES_MANAGER:
                leaders.add(delegation.principal_id)
                if delegation.principal.department_id:
                    departments.add(delegation.principal.department_id)
        return [ServiceCase.department_id.in_(departments),
                ServiceCase.leader_id.in_(leaders)]
    except Exception:  # fail closed
        security_log.exception("case scope failed")
        return []


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
    """Rule P2: the person complained about does not read how their case is handled, nor does
    anyone who reaches the case only as their deputy."""
    recused = recused_ids(case)
    if user.id in recused:
        return False
    archived = R.ARCHIVIST in user.roles and case.state == "closed"
    if user.roles & set(EVERY_CASE) or case.leader_id == user.id or archived or (
            R.SALES_MANAGER in user.roles and user.department_id is not None
            and user.department_id == case.department_id):
        return True
    return any(d.principal_id not in recused and (
        d.role in EVERY_CASE or d.principal_id == case.leader_id
        or (d.role == R.SALES_MANAGER and d.principal.department_id == case.department_id))
        for d in valid_delegations(user))


def recused_case_ids(user, case_ids=None) -> set[int]:
    """The cases (of `case_ids`, or all) the user is recused from (P2): what lists and exports
    leave out of their rows. A few queries, whatever the number of cases."""
    from intranet.models import CasePerson, User

    def subject_cases(*where):
        query = select(CasePerson.case_id).where(CasePerson.relation == "subject", *where)
        if case_ids is not None:
            query = query.where(CasePerson.case_id.in_(list(case_ids)))
        return set(db.session.scalars(query))

    named = subject_cases(CasePerson.user_id == user.id)
    if settings.get("recusal_excludes_manager") and R.SALES_MANAGER in user.roles \
            and user.department_id is not None:
        named |= subject_cases(CasePerson.user_id.in_(
            select(User.id).where(User.department_id == user.department_id)))
    return named
