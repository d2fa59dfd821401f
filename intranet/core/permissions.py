"""The declared permission matrix (SECURITY.md 1-2): every endpoint × method, by role, deny by
default; and the grant a user holds for a permission (own role first, then a deputy's).
Record-level scoping is access.py's."""
from __future__ import annotations

from dataclasses import dataclass

from intranet.core.roles import Role

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
ARCHIVE_READERS = (R.ARCHIVIST, R.GENERAL_MANAGER)  # every closed record, company-wide
CASE_READERS = (*CASE_DESK, R.SALES_MANAGER, R.GENERAL_MANAGER)
ARCHIVE_KEEPERS = (R.ARCHIVIST, R.GENERAL_MANAGER)  # rule C7: who seals and asks for access

MATRIX: dict[str, dict[str, Permission]] = {
    "static": {"GET": PUBLIC},
    "home.healthz": {"GET": PUBLIC},
    "auth.login": {"GET": PUBLIC, "POST": PUBLIC},
    "auth.language": {"POST": PUBLIC},
    "auth.logout": {"POST": EVERYONE},
    "auth.password": {"GET": EVERYONE, "POST": allow(*ALL_ROLES, fresh=True)},
    "home.index": {"GET": EVERYONE},
    "home.inbox_page": {"GET": EVERYONE},
    "home.inbox_count": {"GET": EVERYONE},
    "home.urge": {"POST": EVERYONE},
    "home.hand_on": {"POST": EVERYONE},
    "home.copy": {"POST": EVERYONE},
    "home.copied_record": {"GET": EVERYONE},
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
    # Visits (rules V1-V4): what is owed to whom in the reader's customers (C6)
    "sales.visits_due": {"GET": allow(R.SALES_REP, R.SALES_MANAGER, R.GENERAL_MANAGER)},
    "sales.follow_ups": {"GET": allow(R.SALES_REP, R.SALES_MANAGER, R.GENERAL_MANAGER)},
    "sales.visit_plans": {"GET": allow(R.SALES_REP, R.SALES_MANAGER, R.GENERAL_MANAGER),
                          "POST": allow(R.SALES_REP, R.SALES_MANAGER)},
    "sales.visit_plan_delete": {"POST": allow(R.SALES_REP, R.SALES_MANAGER)},
    "management.dashboard": {"GET": allow(R.SALES_MANAGER, R.GENERAL_MANAGER)},
    # The report package (rules Q1, Q2): which report is whose is management/reports.py's
    # scope; who may take which step, the machine's (workflows/report.py)
    "management.reports": {"GET": allow(R.SALES_MANAGER, R.GENERAL_MANAGER, R.ARCHIVIST)},
    "management.report": {"GET": allow(R.SALES_MANAGER, R.GENERAL_MANAGER, R.ARCHIVIST)},
    "management.report_pdf": {"GET": allow(R.SALES_MANAGER, R.GENERAL_MANAGER, R.ARCHIVIST)},
    "management.report_text": {"POST": allow(R.SALES_MANAGER, R.ARCHIVIST)},
    "management.report_transition": {"POST": allow(R.SALES_MANAGER, R.GENERAL_MANAGER,
                                                   R.ARCHIVIST)},
    # Allocation (rules R7, R8, R9): the director allocates; a rep's record is seen by the rep,
    # the department's manager and the GM (which one: resources/reps.py); managers act on it.
    "sales.allocation_list": {"GET": allow(R.SALES_MANAGER)},
    "sales.allocate": {"GET": allow(R.SALES_MANAGER), "POST": allow(R.SALES_MANAGER)},
    "sales.reps_list": {"GET": allow(R.SALES_MANAGER, R.GENERAL_MANAGER)},
    "sales.rep": {"GET": allow(R.SALES_REP, R.SALES_MANAGER, R.GENERAL_MANAGER)},
    "sales.rep_profile": {"POST": allow(R.SALES_MANAGER)},
    "sales.penalty_add": {"POST": allow(R.SALES_MANAGER)},
    "sales.penalty_lift": {"POST": allow(R.SALES_MANAGER)},
    "sales.reclaim_batches": {"GET": allow(R.SALES_MANAGER, R.GENERAL_MANAGER)},
    "sales.reclaim_batch_pdf": {"GET": allow(R.SALES_MANAGER, R.GENERAL_MANAGER, fresh=True)},
    # Transfers and pool claims (rules R1, R4-R6): who may act on a request is its machine's
    # (workflows/transfer.py); which requests a user sees is resources/scope.py.
    "sales.pool": {"GET": allow(R.SALES_REP, R.SALES_MANAGER, R.GENERAL_MANAGER)},
    "sales.pool_claim": {"GET": allow(R.SALES_REP), "POST": allow(R.SALES_REP)},
    "sales.resource_requests": {"GET": allow(R.SALES_REP, R.SALES_MANAGER, R.GENERAL_MANAGER)},
    "sales.resource_request": {"GET": allow(R.SALES_REP, R.SALES_MANAGER, R.GENERAL_MANAGER)},
    "sales.resource_request_transition": {"POST": allow(R.SALES_REP, R.SALES_MANAGER,
                                                        fresh=True)},
    "sales.resource_request_pdf": {"GET": allow(R.SALES_REP, R.SALES_MANAGER,
                                                R.GENERAL_MANAGER, fresh=True)},
    "sales.transfer_new": {"GET": allow(R.SALES_REP), "POST": allow(R.SALES_REP)},
    "sales.transfer_take_over": {"GET": allow(R.SALES_REP), "POST": allow(R.SALES_REP)},
    "sales.customer_reassign": {"GET": allow(R.SALES_MANAGER),
                                "POST": allow(R.SALES_MANAGER, fresh=True)},
    "sales.handover": {"GET": allow(R.SALES_MANAGER), "POST": allow(R.SALES_MANAGER, fresh=True)},
    # Lead intake at the desk and requests about a customer's class or owner (rules C2, C4).
    # Who may fire which step is the machines' PERMISSIONS (workflows/reclassification.py,
    # conflict.py); which requests a user sees is resources/scope.py.
    "service.lead_new": {"GET": allow(R.SERVICE_DESK), "POST": allow(R.SERVICE_DESK)},
    "service.leads": {"GET": allow(R.SERVICE_DESK)},
    "sales.reclassification_new": {"GET": allow(R.SALES_REP, R.SALES_MANAGER),
                                   "POST": allow(R.SALES_REP, R.SALES_MANAGER)},
    "sales.reclassification_list": {"GET": allow(*CUSTOMER_READERS, R.SERVICE_DESK)},
    "sales.reclassification": {"GET": allow(*CUSTOMER_READERS, R.SERVICE_DESK)},
    "sales.reclassification_transition": {"POST": allow(R.SALES_REP, R.SALES_MANAGER,
                                                        fresh=True)},
    "sales.conflict_new": {"GET": allow(R.SALES_REP, R.SALES_MANAGER),
                           "POST": allow(R.SALES_REP, R.SALES_MANAGER)},
    "sales.conflict_list": {"GET": allow(*CUSTOMER_READERS)},
    "sales.conflict": {"GET": allow(*CUSTOMER_READERS)},
    "sales.conflict_transition": {"POST": allow(R.SALES_REP, R.SALES_MANAGER, fresh=True)},
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
    # Sealed files (rule C7): the roles that reach the archive — archivists and the GM — seal
    # closed years and ask for access to a sealed file. Sales managers and reps work on the
    # live customer page, which sealing never affects, so they neither seal nor ask. Who may
    # decide is the machine's (workflows/archive_access.py: the GM, never the requester); which
    # requests a user sees is archive/access.request_scope (the GM all, others their own).
    "archive.seals": {"GET": allow(*ARCHIVE_KEEPERS),
                      "POST": allow(*ARCHIVE_KEEPERS, fresh=True)},
    "archive.access_requests": {"GET": allow(*ARCHIVE_KEEPERS)},
    "archive.access_new": {"GET": allow(*ARCHIVE_KEEPERS), "POST": allow(*ARCHIVE_KEEPERS)},
    "archive.access_request": {"GET": allow(*ARCHIVE_KEEPERS)},
    "archive.access_transition": {"POST": allow(*ARCHIVE_KEEPERS, fresh=True)},
    # The archive (issue 11): anyone may check a PDF brought back; the archive itself is
    # the archivists' and the GM's.
    "archive.verify_document": {"GET": EVERYONE, "POST": EVERYONE},
    "archive.records": {"GET": allow(*ARCHIVE_READERS)},
    "archive.record": {"GET": allow(*ARCHIVE_READERS)},
    "archive.record_pdf": {"GET": allow(*ARCHIVE_READERS, fresh=True)},
    "archive.customer_files": {"GET": allow(*ARCHIVE_READERS)},
    "archive.customer_file": {"GET": allow(*ARCHIVE_READERS)},
    "archive.customer_file_pdf": {"GET": allow(*ARCHIVE_READERS, fresh=True)},
    # Batch exports of archive records (issue 11 §5): archivists and the GM; each sees and
    # downloads only the exports they asked for (archive/export.py `downloadable`).
    "archive.exports": {"GET": allow(R.ARCHIVIST, R.GENERAL_MANAGER)},
    "archive.export_new": {"GET": allow(R.ARCHIVIST, R.GENERAL_MANAGER),
                           "POST": allow(R.ARCHIVIST, R.GENERAL_MANAGER, fresh=True)},
    "archive.export_status": {"GET": allow(R.ARCHIVIST, R.GENERAL_MANAGER)},
    "archive.export_download": {"GET": allow(R.ARCHIVIST, R.GENERAL_MANAGER, fresh=True)},
}
