"""Access control: the declared permission matrix and record-level scoping, in one place.

Every endpoint × method is declared in MATRIX. Anything undeclared is denied (403), and
tests/test_access_matrix.py fails if a route of app.url_map is missing here (SECURITY.md 1-2).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import abort, g, has_request_context, redirect, request, session, url_for
from flask_login import current_user, login_fresh
from sqlalchemy import false, or_, select, true

from intranet.core import clock
from intranet.core.roles import Role
from intranet.extensions import login_manager

security_log = logging.getLogger("intranet.security")

R = Role
ALL_ROLES = frozenset(Role)


@dataclass(frozen=True)
class Grant:
    """Why a request is allowed: the role used and, for a deputy, the principal acted for."""

    role: Role | None
    on_behalf_of: object | None = None  # a User


@dataclass(frozen=True)
class Permission:
    roles: frozenset[Role] = frozenset()
    public: bool = False
    fresh: bool = False  # needs a fresh login, not a remember-me session (SECURITY.md 14)

    def grant_for(self, user) -> Grant | None:
        if self.public:
            return Grant(None)
        own = user.roles & self.roles
        if own:
            return Grant(sorted(own)[0])
        for delegation in valid_delegations(user):
            role = Role(delegation.role)
            if role in self.roles:
                return Grant(role, delegation.principal)
        return None


def valid_delegations(user) -> list:
    """Delegations in force whose principal is still active and still holds the role."""
    return [d for d in user.active_delegations()
            if d.principal.active and Role(d.role) in d.principal.roles]


PUBLIC = Permission(public=True)


def allow(*roles: Role, fresh: bool = False) -> Permission:
    return Permission(roles=frozenset(roles), fresh=fresh)


EVERYONE = allow(*ALL_ROLES)
ADMIN = allow(R.ADMIN, fresh=True)
CUSTOMER_READERS = (R.SALES_REP, R.SALES_MANAGER, R.GENERAL_MANAGER)
# Rule C6: staff outside sales may open a customer file only after stating why.
REASON_READERS = (R.SERVICE_DESK, R.COMPLAINT_HANDLER, R.FINANCE, R.ARCHIVIST)
REASON_GRANT_MINUTES = 30
CASE_DESK = (R.SERVICE_DESK, R.COMPLAINT_HANDLER)
CASE_READERS = (*CASE_DESK, R.SALES_MANAGER, R.GENERAL_MANAGER)

MATRIX: dict[str, dict[str, Permission]] = {
    "static": {"GET": PUBLIC},
    "home.healthz": {"GET": PUBLIC},
    "auth.login": {"GET": PUBLIC, "POST": PUBLIC},
    "auth.language": {"POST": PUBLIC},
    "auth.logout": {"POST": EVERYONE},
    "auth.password": {"GET": EVERYONE, "POST": allow(*ALL_ROLES, fresh=True)},
    "home.index": {"GET": EVERYONE},
    "home.notifications": {"GET": EVERYONE},
    "home.notification_bell": {"GET": EVERYONE},
    "home.notification_read": {"POST": EVERYONE},
    "home.notifications_read_all": {"POST": EVERYONE},
    "admin.users": {"GET": ADMIN},
    "admin.user_new": {"GET": ADMIN, "POST": ADMIN},
    "admin.user_edit": {"GET": ADMIN, "POST": ADMIN},
    "admin.user_password": {"POST": ADMIN},
    "admin.user_disable": {"POST": ADMIN},
    "admin.user_enable": {"POST": ADMIN},
    "admin.delegations": {"GET": ADMIN, "POST": ADMIN},
    "admin.delegation_revoke": {"POST": ADMIN},
    "admin.settings": {"GET": ADMIN, "POST": ADMIN},
    "admin.audit": {"GET": allow(R.ADMIN, R.GENERAL_MANAGER, fresh=True)},
    "sales.customers": {"GET": allow(*CUSTOMER_READERS, *REASON_READERS)},
    "sales.customers_export": {"GET": allow(*CUSTOMER_READERS, fresh=True)},
    "sales.customer": {"GET": allow(*CUSTOMER_READERS, *REASON_READERS)},
    "sales.customers_import": {"GET": allow(R.SALES_REP, R.SALES_MANAGER),
                               "POST": allow(R.SALES_REP, R.SALES_MANAGER)},
    "finance.transactions_import": {"GET": allow(R.FINANCE), "POST": allow(R.FINANCE)},
    "sales.customer_access": {"GET": allow(*REASON_READERS), "POST": allow(*REASON_READERS)},
    "sales.customer_new": {"GET": allow(R.SALES_REP, R.SALES_MANAGER),
                           "POST": allow(R.SALES_REP, R.SALES_MANAGER)},
    "sales.customer_edit": {"GET": allow(R.SALES_REP, R.SALES_MANAGER),
                            "POST": allow(R.SALES_REP, R.SALES_MANAGER)},
    "sales.customer_delete": {"POST": allow(R.SALES_MANAGER, fresh=True)},
    "sales.customer_blacklist": {"POST": allow(R.SALES_MANAGER)},
    "sales.customer_tier": {"POST": allow(R.SALES_MANAGER)},
    "sales.attachment_add": {"POST": allow(R.SALES_REP, R.SALES_MANAGER)},
    "sales.attachment_download": {"GET": allow(*CUSTOMER_READERS, *REASON_READERS)},
    "sales.attachment_delete": {"POST": allow(R.SALES_REP, R.SALES_MANAGER)},
    "sales.contact_add": {"POST": allow(R.SALES_REP, R.SALES_MANAGER)},
    "sales.contact_delete": {"POST": allow(R.SALES_REP, R.SALES_MANAGER)},
    "sales.activity_add": {"POST": allow(R.SALES_REP, R.SALES_MANAGER)},
    # Credit management (rules K1-K7). Who may fire which transition is the machine's
    # PERMISSIONS (workflows/credit.py); approvals need a fresh login (SECURITY.md 14).
    "sales.credit_applications": {"GET": allow(*CUSTOMER_READERS)},
    "sales.credit_new": {"GET": allow(R.SALES_REP, R.SALES_MANAGER),
                         "POST": allow(R.SALES_REP, R.SALES_MANAGER)},
    "sales.credit_edit": {"GET": allow(R.SALES_REP, R.SALES_MANAGER),
                          "POST": allow(R.SALES_REP, R.SALES_MANAGER)},
    "sales.credit_application": {"GET": allow(*CUSTOMER_READERS)},
    "sales.credit_transition": {"POST": allow(*CUSTOMER_READERS, fresh=True)},
    "sales.credit_pdf": {"GET": allow(*CUSTOMER_READERS, R.ARCHIVIST, fresh=True)},
    "sales.credit_review": {"GET": allow(R.SALES_MANAGER), "POST": allow(R.SALES_MANAGER)},
    "sales.order_new": {"GET": allow(R.SALES_REP, R.SALES_MANAGER),
                        "POST": allow(R.SALES_REP, R.SALES_MANAGER)},
    # Customer resources (rules R1-R9): the director's reclaim rules and due list.
    "sales.reclaim_rules": {"GET": allow(R.SALES_MANAGER, R.GENERAL_MANAGER)},
    "sales.reclaim_rule": {"GET": allow(R.SALES_MANAGER, R.GENERAL_MANAGER),
                           "POST": allow(R.SALES_MANAGER)},
    "sales.reclaim_due": {"GET": allow(R.SALES_REP, R.SALES_MANAGER)},
    # Allocation (rules R7, R8, R9): the director allocates; a rep's record is seen by the rep,
    # the department's manager and the GM (which one: resources/reps.py); managers act on it.
    "sales.allocation_list": {"GET": allow(R.SALES_MANAGER)},
    "sales.allocate": {"GET": allow(R.SALES_MANAGER), "POST": allow(R.SALES_MANAGER)},
    "sales.reps_list": {"GET": allow(R.SALES_MANAGER, R.GENERAL_MANAGER)},
    "sales.rep": {"GET": allow(R.SALES_REP, R.SALES_MANAGER, R.GENERAL_MANAGER)},
    "sales.rep_profile": {"POST": allow(R.SALES_MANAGER)},
    "sales.penalty_add": {"POST": allow(R.SALES_MANAGER)},
    "sales.penalty_lift": {"POST": allow(R.SALES_MANAGER)},
    "management.credit_queue": {"GET": allow(R.GENERAL_MANAGER)},
    "management.credit_decide": {"POST": allow(R.GENERAL_MANAGER, fresh=True)},
    "management.credit_bulk": {"POST": allow(R.GENERAL_MANAGER, fresh=True)},
    # Service cases (rules P1-P8). Who may fire which step, recusal included, is the machine's
    # (workflows/complaint.py); which cases a user sees is complaints/scope.py.
    "service.queue": {"GET": allow(*CASE_READERS)},
    "service.ledger": {"GET": allow(*CASE_READERS)},
    "service.ledger_figures": {"GET": allow(*CASE_READERS)},
    "service.ledger_export": {"GET": allow(*CASE_READERS, fresh=True)},
    "service.ledger_pdf": {"GET": allow(*CASE_READERS, fresh=True)},
    "service.case_new": {"GET": allow(*CASE_DESK), "POST": allow(*CASE_DESK)},
    "service.customer_lookup": {"GET": allow(*CASE_DESK)},
    "service.case": {"GET": allow(*CASE_READERS)},
    "service.case_transition": {"POST": allow(*CASE_READERS, fresh=True)},
    "service.case_contact_add": {"POST": allow(*CASE_READERS)},
    "service.case_action_add": {"POST": allow(*CASE_READERS)},
    "service.case_action_verify": {"POST": allow(*CASE_READERS)},
    "service.case_attachment_add": {"POST": allow(*CASE_READERS)},
    "service.case_attachment_download": {"GET": allow(*CASE_READERS)},
    "service.case_pdf": {"GET": allow(*CASE_READERS, R.ARCHIVIST, fresh=True)},
    "finance.orders": {"GET": allow(R.FINANCE, R.GENERAL_MANAGER)},
    "finance.order_release": {"POST": allow(R.FINANCE, R.GENERAL_MANAGER, fresh=True)},
    "finance.over_limit": {"GET": allow(R.FINANCE, R.SALES_MANAGER, R.GENERAL_MANAGER)},
}


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
        return or_(*clauses)
    except Exception:  # fail closed
        security_log.exception("customer scope failed")
        return false()


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
    the endpoint the button leads to)? Asked once per record and roles per request."""
    cache = g.setdefault("_customer_in_scope", {})
    key = (current_user.id, customer_id, roles)
    if key not in cache:
        try:
            cache[key] = _scoped_customer(current_user, customer_id, "edit", roles)[0] is not None
        except Exception:  # fail closed: no button rather than an error page
            security_log.exception("customer scope failed")
            cache[key] = False
    return cache[key]


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
        allowed = permission.grant_for(current_user) is not None
    except Exception:
        return False
    if allowed and customer is not None:
        return customer_in_scope(customer.id, permission.roles)
    return allowed
