"""Who may see and manage a rep's allocation record (rules R7, R9): the rep's page shows their
load, experience, penalties and suspension. The rep sees their own; the sales manager of the
rep's department (or a deputy standing in for them) sees and manages it; the general manager
reads every one."""
from __future__ import annotations

from flask import abort
from sqlalchemy import exists, select

from intranet.core.access import valid_delegations
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import User, UserRole


def _manages(viewer, department_id) -> bool:
    if department_id is None:
        return False
    if Role.SALES_MANAGER in viewer.roles and viewer.department_id == department_id:
        return True
    return any(d.role == Role.SALES_MANAGER.value and d.principal.department_id == department_id
               for d in valid_delegations(viewer))


def _reads_all(viewer) -> bool:
    return Role.GENERAL_MANAGER in viewer.roles or any(
        d.role == Role.GENERAL_MANAGER.value for d in valid_delegations(viewer))


def can_manage(viewer, rep: User) -> bool:
    """Record or lift a penalty, set experience and away: the department's manager."""
    return viewer.id != rep.id and _manages(viewer, rep.department_id)


def can_see(viewer, rep: User) -> bool:
    return viewer.id == rep.id or _reads_all(viewer) or _manages(viewer, rep.department_id)


def is_rep(user_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(
        UserRole.user_id == user_id, UserRole.role == Role.SALES_REP.value))))


def rep_or_404(user_id: int, viewer, purpose: str = "view") -> User:
    """The rep if `viewer` may see ("view") or manage ("manage") their record; else 404."""
    rep = db.session.get(User, user_id)
    if rep is None or not is_rep(user_id):
        abort(404)
    allowed = can_manage(viewer, rep) if purpose == "manage" else can_see(viewer, rep)
    if not allowed:
        abort(404)
    return rep


def visible_departments(viewer) -> list[int] | None:
    """The departments whose reps the viewer lists (None: all, for the general manager)."""
    if _reads_all(viewer):
        return None
    found = []
    if Role.SALES_MANAGER in viewer.roles and viewer.department_id:
        found.append(viewer.department_id)
    found += [d.principal.department_id for d in valid_delegations(viewer)
              if d.role == Role.SALES_MANAGER.value and d.principal.department_id]
    return found
