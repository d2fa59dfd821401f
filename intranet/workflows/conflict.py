"""Conflict claims (rule C2): a rep whose registration was refused as a duplicate claims the
registered customer; the sales manager of that customer's department (or their deputy; never
the claimant nor the owner) decides.

requested → rejected by `keep` (rule R3: whoever registered first keeps it; a comment says
why) / approved by `transfer` (the claimant becomes the owner) or `share` (the owner keeps
the customer and the claimant is recorded as co-developer); or withdrawn by the claimant.
Every decision is an ownership record: `transfer` through ownership.change_owner (kind
"transfer"); `keep` and `share` as a record of kind "conflict" whose previous and new owner
are the same person, so that the owner by date (ownership.owner_on) is unchanged while the
customer's history shows the decision. `share` gives the claimant no access to the file.
"""
from __future__ import annotations

from statemachine import State

from intranet.core import clock
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.notifications import role_holders
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import ConflictClaim, OwnershipRecord
from intranet.resources.ownership import change_owner
from intranet.workflows.engine import Notice, Workflow, permitted, withdrawal_reason
from intranet.workflows.request_rules import (
    comment_required,
    department_manager,
    is_requester,
    not_a_party,
)
from intranet.workflows.resource_rules import director_sql
from intranet.workflows.resource_states import RequestState
from intranet.workflows.waiting import Inbox, all_of, any_of

S = RequestState
DECIDERS = [permitted, not_a_party, department_manager]
OUTCOME_LABELS = {"keep": _l("Owner kept"), "transfer": _l("Transferred to the claimant"),
                  "share": _l("Owner kept, history shared with the claimant")}


class ConflictFlow(Workflow):
    object_type = "conflict_claim"
    model_class = ConflictClaim

    requested = State(value=S.REQUESTED.value, initial=True)
    approved = State(value=S.APPROVED.value, final=True)
    rejected = State(value=S.REJECTED.value, final=True)
    withdrawn = State(value=S.WITHDRAWN.value, final=True)

    keep = requested.to(rejected, cond=DECIDERS, validators=[comment_required])
    transfer = requested.to(approved, cond=DECIDERS)
    share = requested.to(approved, cond=DECIDERS)
    withdraw = requested.to(withdrawn, cond=[permitted, is_requester],
                            validators=[withdrawal_reason])
    OPINIONS = {"keep": True, "transfer": False, "share": False, "withdraw": True}

    STATE_LABELS = {S.REQUESTED: _l("Awaiting the sales manager"),
                    S.APPROVED: _l("Decided for the claimant"), S.REJECTED: _l("Owner kept"),
                    S.WITHDRAWN: _l("Withdrawn")}
    MANAGERS = frozenset({Role.SALES_MANAGER})
    PERMISSIONS = {"keep": MANAGERS, "transfer": MANAGERS, "share": MANAGERS,
                   "withdraw": frozenset({Role.SALES_REP, Role.SALES_MANAGER})}
    EVENT_LABELS = {"keep": _l("Keep the owner"), "transfer": _l("Transfer to the claimant"),
                    "share": _l("Share the history"), "withdraw": _l("Withdraw")}
    NOTICES = (
        Notice(S.REQUESTED, "conflict_requested",
               lambda row: role_holders(Role.SALES_MANAGER, row.department_id)
               - {row.requested_by_id, row.from_user_id}),
        *(Notice(state, "conflict_decided", lambda row: {row.requested_by_id, row.from_user_id})
          for state in (S.APPROVED, S.REJECTED)),
    )

    LABEL = _l("Conflict claim")
    INBOX = Inbox(started_by=ConflictClaim.requested_by_id, started_at=ConflictClaim.created_at)

    @classmethod
    def waiting_for(cls, actor):
        model = ConflictClaim
        return any_of([all_of(model.state == S.REQUESTED.value,
                              director_sql(actor, model.requested_by_id, model.from_user_id))
                       if actor.grant(cls, "keep") else None])

    @classmethod
    def notice_params(cls, row) -> dict:
        return {"number": row.number, "customer": row.customer.name,
                "claim_outcome": row.outcome or ""}

    def on_transfer(self, model, user=None, comment: str = "", **kwargs):
        model.outcome = "transfer"
        model.ownership_record = change_owner(
            model.customer, model.requested_by, "transfer", actor=user, approved_by=user,
            reason=comment or "", object_type=self.object_type, object_id=model.id)
        self._decided(model, user, comment)

    def on_keep(self, model, user=None, comment: str = "", **kwargs):
        self._record(model, user, "keep", comment)

    def on_share(self, model, user=None, comment: str = "", **kwargs):
        self._record(model, user, "share", comment)

    def _record(self, model, user, outcome: str, comment: str):
        """Keep or share: the decision on record, the owner unchanged (from = to)."""
        customer = model.customer
        model.outcome = outcome
        claimant = model.requested_by.display_name
        reason = (f"share: co-developer {claimant}" if outcome == "share" else "keep")
        model.ownership_record = OwnershipRecord(
            customer_id=customer.id, kind="conflict", from_user_id=customer.owner_id,
            to_user_id=customer.owner_id, pool_id=customer.pool_id,
            reason=f"{reason}; {comment}" if comment else reason,
            object_type=self.object_type, object_id=model.id, actor_id=user.id,
            approved_by_id=user.id, at=clock.now())
        db.session.add(model.ownership_record)
        self._decided(model, user, comment)

    @staticmethod
    def _decided(model, user, comment):
        model.decided_by_id, model.decided_at = user.id, clock.now()
        model.decision_comment = comment or ""
