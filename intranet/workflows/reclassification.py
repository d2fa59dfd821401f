"""Re-classification of a lead's deal-size class (rule C4, 资源重新申请表).

requested (by the rep who owns the customer) → approved (the class changes; the desk agent
who classified it gets a wrong-classification mark) / rejected (with a comment) by the sales
manager of the customer's department or their deputy, never the requester; or withdrawn by
the requester while it waits.
"""
from __future__ import annotations

from statemachine import State

from intranet.core import audit, clock
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.notifications import role_holders
from intranet.core.roles import Role
from intranet.models import Reclassification
from intranet.workflows.engine import Notice, Workflow, permitted, withdrawal_reason
from intranet.workflows.request_rules import (
    comment_required,
    department_manager,
    is_requester,
    not_requester,
    requester_owns,
)
from intranet.workflows.resource_rules import director_sql
from intranet.workflows.resource_states import RequestState
from intranet.workflows.waiting import Inbox, all_of, any_of

S = RequestState
DECIDERS = [permitted, not_requester, department_manager]


class ReclassificationFlow(Workflow):
    object_type = "reclassification"
    model_class = Reclassification

    requested = State(value=S.REQUESTED.value, initial=True)
    approved = State(value=S.APPROVED.value, final=True)
    rejected = State(value=S.REJECTED.value, final=True)
    withdrawn = State(value=S.WITHDRAWN.value, final=True)

    approve = requested.to(approved, cond=[*DECIDERS, requester_owns])
    reject = requested.to(rejected, cond=DECIDERS, validators=[comment_required])
    withdraw = requested.to(withdrawn, cond=[permitted, is_requester],
                            validators=[withdrawal_reason])
    OPINIONS = {"approve": False, "reject": True, "withdraw": True}

    STATE_LABELS = {S.REQUESTED: _l("Awaiting the sales manager"),
                    S.APPROVED: _l("Approved: class changed"), S.REJECTED: _l("Rejected"),
                    S.WITHDRAWN: _l("Withdrawn")}
    OWNERS = frozenset({Role.SALES_REP, Role.SALES_MANAGER})
    PERMISSIONS = {"approve": frozenset({Role.SALES_MANAGER}),
                   "reject": frozenset({Role.SALES_MANAGER}), "withdraw": OWNERS}
    EVENT_LABELS = {"approve": _l("Approve the new class"), "reject": _l("Reject"),
                    "withdraw": _l("Withdraw")}
    NOTICES = (
        Notice(S.REQUESTED, "reclassification_requested",
               lambda row: role_holders(Role.SALES_MANAGER, row.department_id)
               - {row.requested_by_id}),
        *(Notice(state, "reclassification_decided", lambda row: {row.requested_by_id})
          for state in (S.APPROVED, S.REJECTED)),
        Notice(S.APPROVED, "classification_marked", lambda row: {row.classified_by_id}),
    )

    LABEL = _l("Re-classification request")
    INBOX = Inbox(started_by=Reclassification.requested_by_id,
                  started_at=Reclassification.created_at)

    @classmethod
    def waiting_for(cls, actor):
        model = Reclassification
        return any_of([all_of(model.state == S.REQUESTED.value,
                              director_sql(actor, model.requested_by_id))
                       if actor.grant(cls, "reject") else None])

    @classmethod
    def notice_params(cls, row) -> dict:
        return {"number": row.number, "customer": row.customer.name,
                "proposed": row.proposed_class or "", "current": row.customer.deal_class or ""}

    def on_approve(self, model, user=None, comment: str = "", **kwargs):
        customer, now = model.customer, clock.now()
        old = customer.deal_class
        customer.deal_class = model.proposed_class
        customer.classified_by_id, customer.classified_at = user.id, now
        self._decided(model, user, comment, now)
        audit.record(audit.Action.UPDATE, "customer", customer.id, user=user, details={
            "deal_class": {"old": old, "new": model.proposed_class},
            "reclassification": model.id, "marked": model.classified_by_id})

    def on_reject(self, model, user=None, comment: str = "", **kwargs):
        self._decided(model, user, comment, clock.now())

    @staticmethod
    def _decided(model, user, comment, now):
        model.decided_by_id, model.decided_at = user.id, now
        model.decision_comment = comment or ""
