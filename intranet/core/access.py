"""Access control: the declared permission matrix (permissions.py) enforced on every request,
and record-level scoping, in one place.

Every endpoint × method is declared in MATRIX. Anything undeclared is denied (403), and
tests/test_access_matrix.py fails if a route of app.url_map is missing there (SECURITY.md 1-2).
"""
from __future__ import annotations

import logging

from flask import abort, g, has_request_context, redirect, request, session, url_for
from flask_login import current_user, login_fresh
from sqlalchemy import exists, false, or_, select, true
from sqlalchemy.sql.elements import True_

from intranet.core import clock
from intranet.core.permissions import (  # noqa: F401  (the matrix, re-exported)
    ADMIN,
    ALL_ROLES,
    CASE_DESK,
    CASE_READERS,
    CUSTOMER_READERS,
    EVERYONE,
    MATRIX,
    PUBLIC,
    REASON_GRANT_MINUTES,
    REASON_READERS,
    Grant,
    Permission,
    R,
    allow,
    valid_delegations,
)
from intranet.core.roles import Role
from intranet.extensions import login_manager

security_log = logging.getLogger("intranet.security")


def permission_for(endpoint: str | None, method: str) -> Permission | None:
    if method in ("HEAD", "OPTIONS"):
        method = "GET"
    return MATRIX.get(endpoint or "", {}).get(method)


def enforce_matrix():
    """before_request hook: deny by default, fail closed."""
    g.grant = None
    if request.endpoint is None:  # no route matched: let routing answer 404/405
        return None
    permission = permission_for(request.endpoint, request.method)
    if permission is None:
        deny("undeclared")
    if permission.public:
        g.grant = Grant(None)
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    try:
        grant = permission.grant_for(current_user)
    except Exception:  # an error inside the check denies (SECURITY.md 5)
        security_log.exception("permission check failed for %r", request.endpoint)
        grant = None
    if grant is None:
        deny("role")
    if permission.fresh and not login_fresh():
        return login_manager.needs_refresh()
    g.grant = grant
    return None


def deny(why: str):
    security_log.warning(
        "access denied user=%r endpoint=%r method=%s why=%s",
        getattr(current_user, "username", None), request.endpoint, request.method, why,
    )
    abort(403)


# --- Record-level scoping (rule C6) ------------------------------------------------------

def customer_scope(user, purpose: str = "view", roles=None):
    """SQL condition selecting the customers `user` may see ("view") or change ("edit").

    Reps: their own customers. Sales managers: their department's. The GM: all, read-only.
    A deputy also gets the scope of the role they stand in for (see delegated_customer_scopes).
    Only the roles that may use the current endpoint count (`roles`, by default the matrix's
    for this request): a rep standing in for a sales manager passes a manager-only route by
    the delegation, so there only the manager's records are in scope, not the rep's own.
    """
    try:
        roles = _request_roles() if roles is None else roles
        clauses = [_own_customer_scope(user, purpose, roles)]
        clauses += [clause for clause, _ in delegated_customer_scopes(user, purpose, roles)]
        if any(sees_everything(clause) for clause in clauses):
            return true()  # the bare constant, so that callers can leave the filter out
        return or_(*clauses)
    except Exception:  # fail closed
        security_log.exception("customer scope failed")
        return false()


def sees_everything(scope) -> bool:
    """Is this scope condition the constant "every row" (the GM's, rule C6)?"""
    return isinstance(scope, True_)


def customer_id_scope(column, user, purpose: str = "view", roles=None):
    """SQL condition on a column holding a customer id (an application's, a breach's): in the
    user's customer scope. For whom sees every customer it is no condition at all — never
    `IN (SELECT id FROM customer)`, which made the database collect 100,000 ids (issue 12).
    Otherwise EXISTS on the customer's primary key, not IN (SELECT id …): SQLite builds the
    whole IN list (a department's 20,000 ids) for every statement, where EXISTS looks up only
    the customers of the rows the page and its capped count read."""
    scope = customer_scope(user, purpose, roles)
    if sees_everything(scope):
        return true()
    from intranet.models import Customer

    return exists().where(Customer.id == column, scope).correlate_except(Customer)


def _request_roles() -> frozenset | None:
    """The roles the matrix lets use the current endpoint; None outside a request (jobs)."""
    if not has_request_context() or request.endpoint is None:
        return None
    permission = permission_for(request.endpoint, request.method)
    if permission is None or permission.public:
        return None
    return permission.roles


def _own_customer_scope(user, purpose: str, allowed=None):
    from intranet.models import Customer

    roles = user.roles if allowed is None else user.roles & allowed
    if purpose == "view" and R.GENERAL_MANAGER in roles:
        return true()
    clauses = []
    if R.SALES_REP in roles:
        clauses.append(Customer.owner_id == user.id)
    if R.SALES_MANAGER in roles and user.department_id:
        clauses.append(Customer.department_id == user.department_id)
    return or_(*clauses) if clauses else false()


def delegated_customer_scopes(user, purpose: str, allowed=None) -> list:
    """[(condition, grant)] for each delegation that widens what `user` may see, among the
    roles `allowed` to use the endpoint (None: any)."""
    scopes = []
    for delegation in valid_delegations(user):
        principal, role = delegation.principal, Role(delegation.role)
        if allowed is not None and role not in allowed:
            continue
        if role in (R.SALES_MANAGER, R.GENERAL_MANAGER):
            clause = _own_customer_scope_for_role(principal, role, purpose)
            scopes.append((clause, Grant(role, principal)))
    return scopes


def _own_customer_scope_for_role(principal, role: Role, purpose: str):
    from intranet.models import Customer

    if role == R.GENERAL_MANAGER:
        return true() if purpose == "view" else false()
    if principal.department_id:
        return Customer.department_id == principal.department_id
    return false()


def needs_reason(user) -> bool:
    """True for staff who reach customer files only by stating a reason (rule C6)."""
    try:
        roles = user.roles
    except Exception:  # fail closed: no lookup, no reason-based access
        security_log.exception("role lookup failed")
        return False
    return not (roles & set(CUSTOMER_READERS)) and bool(roles & set(REASON_READERS))


def grant_reason_access(customer_id: int, reason: str) -> None:
    grants = dict(session.get("file_access", {}))
    expires = int(clock.now().timestamp()) + REASON_GRANT_MINUTES * 60
    grants[str(customer_id)] = [expires, reason]
    session["file_access"] = dict(list(grants.items())[-20:])  # the cookie stays small


def reason_for(customer_id: int) -> str | None:
    """The reason stated for opening this file, while that grant lasts."""
    expires, reason = session.get("file_access", {}).get(str(customer_id), (0, None))
    return reason if expires > clock.now().timestamp() else None


def _scoped_customer(user, customer_id: int, purpose: str, roles=None):
    """(customer, grant) when `user` reaches the record for `purpose` by scope: their own, or
    a deputy's (grant says on whose behalf), through a role that may use the endpoint
    (`roles`, by default the current request's); (None, None) otherwise. The one question that
    scoped_customer_or_404 (views) and customer_in_scope (templates) both ask."""
    from intranet.extensions import db
    from intranet.models import Customer

    def find(clause):
        return db.session.scalar(select(Customer).where(Customer.id == customer_id, clause))

    roles = _request_roles() if roles is None else roles
    customer = find(_own_customer_scope(user, purpose, roles))
    if customer is not None:
        return customer, None
    for clause, grant in delegated_customer_scopes(user, purpose, roles):
        customer = find(clause)
        if customer is not None:
            return customer, grant
    return None, None


def scoped_customer_or_404(customer_id: int, purpose: str = "view"):
    """The customer if `current_user` may see it for `purpose`, else 404 (no existence leak).

    When only a delegation reaches the record, the request is attributed to it, so the audit
    row says "deputy on behalf of principal".
    """
    from intranet.extensions import db
    from intranet.models import Customer

    try:
        customer, grant = _scoped_customer(current_user, customer_id, purpose)
        if grant is not None:
            g.grant = grant
    except Exception:  # fail closed
        security_log.exception("customer scope failed")
        customer = None
    if customer is None and purpose == "view" and needs_reason(current_user):
        customer = db.session.get(Customer, customer_id)
        if customer is not None:
            reason = reason_for(customer_id)
            if reason is None:  # ask first; the file opens after the reason is given
                abort(redirect(url_for("sales.customer_access", customer_id=customer_id)))
            g.access_reason = reason
    if customer is None:
        security_log.warning("customer %s out of scope for %r (%s)", customer_id,
                             current_user.username, purpose)
        abort(404)
    return customer


def customer_in_scope(customer_id: int, roles: frozenset) -> bool:
    """For can(), for a signed-in user: would scoped_customer_or_404(customer_id, "edit")
    find the record by the user's scope (own or as a deputy) through one of `roles` (those of
    the endpoint the button leads to)? Asked once per record and the roles among `roles` the
    user acts in (only those can reach it: the buttons of one page mostly share them)."""
    cache = g.setdefault("_customer_in_scope", {})
    user = current_user._get_current_object()
    relevant = roles & acting_roles(user)
    key = (user.id, customer_id, relevant)
    if key not in cache:
        try:
            cache[key] = _scoped_customer(user, customer_id, "edit", relevant)[0] is not None
        except Exception:  # fail closed: no button rather than an error page
            security_log.exception("customer scope failed")
            cache[key] = False
    return cache[key]


def acting_roles(user) -> frozenset[Role]:
    """The roles `user` holds or acts in as a deputy now (principal still active and still
    holding the role): a permission's grant is non-empty exactly when its roles meet these.
    Once per request, for the page's `can()` checks and the menu."""
    cache = g.setdefault("_acting_roles", {})
    if user.id not in cache:
        cache[user.id] = user.roles | frozenset(Role(d.role) for d in valid_delegations(user))
    return cache[user.id]


def can(endpoint: str, method: str = "GET", customer=None) -> bool:
    """For templates: show a link or button only if the request would be allowed.

    The matrix decides by role. With `customer`, the record must also be in the user's scope,
    as every view that changes a customer's file asks (scoped_customer_or_404(id, "edit")): a
    sales manager who is the GM's deputy reads every file but edits only their own
    department's, so other files show no edit buttons."""
    permission = permission_for(endpoint, method)
    if permission is None:
        return False
    if permission.public:
        return True
    if not current_user.is_authenticated:
        return False
    try:
        allowed = bool(permission.roles & acting_roles(current_user._get_current_object()))
    except Exception:
        return False
    if allowed and customer is not None:
        return customer_in_scope(customer.id, permission.roles)
    return allowed
