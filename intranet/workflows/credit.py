"""Credit-limit approval (rules K1, K2, K4-K6; SECURITY.md 6).

draft → submitted (to the sales manager) → received (forwarded to the GM: receipt, the
three-day clock starts) → approved / rejected / returned (for revision) → an approved limit is
effective from the start of its quarter and superseded by the next one. A sales manager's own
application goes straight to the GM. The applicant may withdraw until the GM decides.
Requester ≠ approver: nobody forwards or decides their own application.
"""
from __future__ import annotations

from sqlalchemy import exists, select
from statemachine import State

from intranet.core import clock
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.money import parse_amount
from intranet.core.notifications import role_holders
from intranet.core.roles import Role
from intranet.models import CreditApplication, Customer, WorkflowHistory
from intranet.workflows import calendar
from intranet.workflows.credit_states import IN_FORCE, OPEN, PENDING_GM, CreditState  # noqa: F401
from intranet.workflows.engine import (
    SYSTEM,
    InvalidInput,
    Notice,
    Workflow,
    permitted,
    withdrawal_reason,
)
from intranet.workflows.waiting import Inbox, all_of, any_of, is_not

S = CreditState
DECISION_DAYS = 3  # rule K6: the GM decides within three days of receipt


def is_applicant(model, user=None, **kwargs) -> bool:
    return user is not None and model.applicant_id == user.id


def not_applicant(model, user=None, **kwargs) -> bool:
    """Requester ≠ approver (SECURITY.md 6)."""
    return user is not None and model.applicant_id != user.id


def not_forwarder(model, user=None, **kwargs) -> bool:
    """Two levels, two people (rule K6): whoever forwarded the application as sales manager
    does not also decide it as the GM's deputy."""
    from sqlalchemy import select

    from intranet.extensions import db
    from intranet.models import WorkflowHistory

    if user is None:
        return False
    forwarder = db.session.scalar(
        select(WorkflowHistory.user_id).where(
            WorkflowHistory.object_type == "credit_application",
            WorkflowHistory.object_id == model.id, WorkflowHistory.event == "forward")
        .order_by(WorkflowHistory.id.desc()).limit(1))
    return forwarder != user.id


def customer_not_blacklisted(model, **kwargs) -> bool:
    """Rule C8: a blacklisted customer gets no credit."""
    return not model.customer.blacklisted


def applicant_is_manager(model, **kwargs) -> bool:
    return Role.SALES_MANAGER in model.applicant.roles


def applicant_is_rep(model, **kwargs) -> bool:
    return not applicant_is_manager(model)


def reviewer_in_department(model, user=None, **kwargs) -> bool:
    """The manager reviewing is the applicant's department head, or stands in for one."""
    if user is None:
        return False
    if Role.SALES_MANAGER in user.roles and user.department_id == model.department_id:
        return True
    from intranet.core.access import valid_delegations
    return any(d.role == Role.SALES_MANAGER and d.principal.department_id == model.department_id
               for d in valid_delegations(user))


def comment_required(comment: str = "", **kwargs) -> None:
    if not (comment or "").strip():
        raise InvalidInput("comment", _l("Please give a comment: the applicant will read it."))


def valid_amount(amount=None, **kwargs) -> None:
    if amount not in (None, "") and parse_amount(amount) is None:
        raise InvalidInput("amount", _l("Enter an amount in yuan, e.g. 200000."))


class CreditFlow(Workflow):
    object_type = "credit_application"
    model_class = CreditApplication

    draft = State(value=S.DRAFT.value, initial=True)
    submitted = State(value=S.SUBMITTED.value)
    received = State(value=S.RECEIVED.value)
    returned = State(value=S.RETURNED.value)
    approved = State(value=S.APPROVED.value)
    rejected = State(value=S.REJECTED.value, final=True)
    withdrawn = State(value=S.WITHDRAWN.value, final=True)
    effective = State(value=S.EFFECTIVE.value)
    superseded = State(value=S.SUPERSEDED.value, final=True)

    submit = (
        draft.to(received, cond=[permitted, is_applicant, applicant_is_manager,
                                 customer_not_blacklisted])
        | draft.to(submitted, cond=[permitted, is_applicant, applicant_is_rep,
                                    customer_not_blacklisted])
        | returned.to(received, cond=[permitted, is_applicant, applicant_is_manager,
                                      customer_not_blacklisted])
        | returned.to(submitted, cond=[permitted, is_applicant, applicant_is_rep,
                                       customer_not_blacklisted])
    )
    forward = submitted.to(received, cond=[permitted, not_applicant, reviewer_in_department])
    send_back = submitted.to(returned, cond=[permitted, not_applicant, reviewer_in_department],
                             validators=[comment_required])
    refuse = submitted.to(rejected, cond=[permitted, not_applicant, reviewer_in_department],
                          validators=[comment_required])
    withdraw = (draft.to(withdrawn, cond=[permitted, is_applicant],
                         validators=[withdrawal_reason])
                | submitted.to(withdrawn, cond=[permitted, is_applicant],
                               validators=[withdrawal_reason])
                | received.to(withdrawn, cond=[permitted, is_applicant],
                              validators=[withdrawal_reason])
                | returned.to(withdrawn, cond=[permitted, is_applicant],
                              validators=[withdrawal_reason]))
    approve = received.to(approved, cond=[permitted, not_applicant, not_forwarder,
                                          customer_not_blacklisted], validators=[valid_amount])
    reject = received.to(rejected, cond=[permitted, not_applicant, not_forwarder],
                         validators=[comment_required])
    return_for_revision = received.to(returned, cond=[permitted, not_applicant, not_forwarder],
                                      validators=[comment_required])
    activate = approved.to(effective, cond=[permitted])
    supersede = (approved.to(superseded, cond=[permitted])
                 | effective.to(superseded, cond=[permitted]))

    STATE_LABELS = {
        S.DRAFT: _l("Draft"), S.SUBMITTED: _l("With the sales manager"),
        S.RECEIVED: _l("With the general manager"), S.RETURNED: _l("Returned for revision"),
        S.APPROVED: _l("Approved"), S.REJECTED: _l("Rejected"), S.WITHDRAWN: _l("Withdrawn"),
        S.EFFECTIVE: _l("Effective"), S.SUPERSEDED: _l("Superseded"),
    }
    REPS = frozenset({Role.SALES_REP, Role.SALES_MANAGER})
    PERMISSIONS = {
        "submit": REPS,
        "withdraw": REPS,
        "forward": frozenset({Role.SALES_MANAGER}),
        "send_back": frozenset({Role.SALES_MANAGER}),
        "refuse": frozenset({Role.SALES_MANAGER}),
        # Rule K5: only the GM sets limits
        "approve": frozenset({Role.GENERAL_MANAGER}),
        "reject": frozenset({Role.GENERAL_MANAGER}),
        "return_for_revision": frozenset({Role.GENERAL_MANAGER}),
        "activate": frozenset({SYSTEM}),
        "supersede": frozenset({SYSTEM}),
    }
    EVENT_LABELS = {
        "submit": _l("Submit"), "withdraw": _l("Withdraw"),
        "forward": _l("Forward to the general manager"), "send_back": _l("Send back"),
        "refuse": _l("Reject"),
        "approve": _l("Approve"), "reject": _l("Reject"),
        "return_for_revision": _l("Return for revision"),
        "activate": _l("Takes effect"), "supersede": _l("Superseded"),
    }

    NOTICES = (
        Notice(S.SUBMITTED, "credit_submitted",
               lambda row: role_holders(Role.SALES_MANAGER, row.department_id)),
        Notice(S.RECEIVED, "credit_received", lambda row: role_holders(Role.GENERAL_MANAGER)),
        Notice(S.APPROVED, "credit_approved", lambda row: {row.applicant_id}),
        *(Notice(state, "credit_refused", lambda row: {row.applicant_id})
          for state in (S.REJECTED, S.RETURNED)),
    )
    # The opinion box of each step (True: required, as the validators above insist).
    OPINIONS = {"forward": False, "send_back": True, "refuse": True, "approve": False,
                "reject": True, "return_for_revision": True, "withdraw": True}

    @classmethod
    def notice_params(cls, row) -> dict:
        amount = row.approved_limit if row.approved_limit is not None else row.proposed_limit
        return {"number": row.number, "customer": row.customer.name,
                "amount": f"{amount:,.0f}", "why": row.decision_comment or ""}

    LABEL = _l("Credit limit application")
    @classmethod
    def readable_ids(cls, user, ids) -> set[int]:
        from intranet.credit.scope import credit_application_scope
        from intranet.extensions import db
        return set(db.session.scalars(select(CreditApplication.id).where(
            CreditApplication.id.in_(sorted(ids)), credit_application_scope(user, "view"))))

    INBOX = Inbox(started_by=CreditApplication.applicant_id,
                  started_at=CreditApplication.created_at, due=CreditApplication.due_at)

    @classmethod
    def waiting_for(cls, actor):
        """The guards above, in SQL (workflows/waiting.py)."""
        app = CreditApplication
        clauses = []
        if actor.grant(cls, "submit"):
            clauses.append(all_of(
                app.state.in_([S.DRAFT.value, S.RETURNED.value]), app.applicant_id == actor.me,
                exists().where(Customer.id == app.customer_id, Customer.blacklisted.is_(False))))
        departments = actor.managed_departments()
        if actor.grant(cls, "forward") and departments:
            clauses.append(all_of(app.state == S.SUBMITTED.value, is_not(app.applicant_id, actor),
                                  app.department_id.in_(sorted(departments))))
        if actor.grant(cls, "approve"):
            forwarder = (select(WorkflowHistory.user_id)
                         .where(WorkflowHistory.object_type == cls.object_type,
                                WorkflowHistory.object_id == app.id,
                                WorkflowHistory.event == "forward")
                         .order_by(WorkflowHistory.id.desc()).limit(1).scalar_subquery())
            clauses.append(all_of(app.state == S.RECEIVED.value, is_not(app.applicant_id, actor),
                                  is_not(forwarder, actor)))
        return any_of(clauses)

    # --- effects (the row is the model; the request boundary commits) ---

    def on_submit(self, model, **kwargs):
        model.submitted_at = clock.now()

    def on_enter_received(self, model, **kwargs):
        # Rule K6: receipt starts the clock; the deadline is stored, overdue is derived.
        now = clock.now()
        model.received_at = now
        model.due_at = calendar.add_days(now, DECISION_DAYS)
        model.reminded_at = model.escalated_at = None

    def on_enter_returned(self, model, **kwargs):
        model.received_at = model.due_at = None

    def on_approve(self, model, user=None, comment: str = "", amount=None, **kwargs):
        model.approved_limit = (parse_amount(amount) if amount not in (None, "")
                                else model.proposed_limit)
        self._decided(model, user, comment)
        model.customer.credit_grade = model.grade  # rule K1, re-rated here (K4)
        model.customer.credit_graded_at = model.decided_at

    def on_reject(self, model, user=None, comment: str = "", **kwargs):
        self._decided(model, user, comment)

    def on_return_for_revision(self, model, user=None, comment: str = "", **kwargs):
        model.decision_comment = comment

    def on_send_back(self, model, comment: str = "", **kwargs):
        model.decision_comment = comment  # the applicant sees why on the application page

    def on_refuse(self, model, user=None, comment: str = "", **kwargs):
        self._decided(model, user, comment)

    @staticmethod
    def _decided(model, user, comment):
        model.decided_at = clock.now()
        model.decided_by_id = user.id if user else None
        model.decision_comment = comment or ""
