"""Transfers between reps and claims from the shared pool (rules R1, R5, R6; SECURITY.md 6).

transfer: requested by either rep → confirmed by the other → approved and carried out by the
director of the customer's department (the ownership record is written in the same step, and
the customer's open credit applications and complaints follow it) — or declined by the other
rep, rejected by the director, withdrawn by the one who asked.
claim: a rep asks for a pool customer → the director approves (the customer is theirs) or
rejects; the rep may withdraw. Neither party ever approves their own request, and a request
made against an owner who has since changed cannot be carried out.
"""
from __future__ import annotations

from statemachine import State

from intranet.core import clock, settings
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.notifications import role_holders
from intranet.core.roles import Role
from intranet.models import PoolClaim, TransferRequest
from intranet.resources.handover import follow_owner
from intranet.resources.ownership import change_owner, load
from intranet.workflows.engine import (
    START,
    InvalidInput,
    Notice,
    Workflow,
    permitted,
    withdrawal_reason,
)
from intranet.workflows.resource_rules import (
    comment_required,
    counterpart_id,
    counterpart_is_sql,
    director_sql,
    heads_department,
    is_counterpart,
    is_requester,
    not_a_party,
    owner_unchanged,
    still_in_pool,
)
from intranet.workflows.resource_states import RequestState
from intranet.workflows.waiting import Inbox, all_of, any_of

S = RequestState
REPS = frozenset({Role.SALES_REP, Role.SALES_MANAGER})
DIRECTOR = frozenset({Role.SALES_MANAGER})
DECIDE = [permitted, not_a_party, heads_department]


def _decided(model, user, comment):
    model.decided_at = clock.now()
    model.decided_by_id = user.id if user else None
    model.decision_comment = comment or ""


def _directors(row) -> set[int]:
    return role_holders(Role.SALES_MANAGER, row.department_id)


def _inbox(model) -> Inbox:
    return Inbox(started_by=model.requested_by_id, started_at=model.created_at)


def _parties(model) -> tuple:
    return model.requested_by_id, model.from_user_id, model.to_user_id


class TransferFlow(Workflow):
    object_type = "transfer_request"
    model_class = TransferRequest

    requested = State(value=S.REQUESTED.value, initial=True)
    confirmed = State(value=S.CONFIRMED.value)
    approved = State(value=S.APPROVED.value, final=True)
    rejected = State(value=S.REJECTED.value, final=True)
    withdrawn = State(value=S.WITHDRAWN.value, final=True)

    confirm = requested.to(confirmed, cond=[permitted, is_counterpart, owner_unchanged])
    decline = requested.to(rejected, cond=[permitted, is_counterpart],
                           validators=[comment_required])
    approve = confirmed.to(approved, cond=[*DECIDE, owner_unchanged])
    reject = confirmed.to(rejected, cond=DECIDE, validators=[comment_required])
    withdraw = (requested.to(withdrawn, cond=[permitted, is_requester],
                             validators=[withdrawal_reason])
                | confirmed.to(withdrawn, cond=[permitted, is_requester],
                               validators=[withdrawal_reason]))
    OPINIONS = {"confirm": False, "decline": True, "approve": False, "reject": True,
                "withdraw": True}

    STATE_LABELS = {S.REQUESTED: _l("Waiting for the other rep"),
                    S.CONFIRMED: _l("Waiting for the director"),
                    S.APPROVED: _l("Transfer carried out"), S.REJECTED: _l("Not transferred"),
                    S.WITHDRAWN: _l("Withdrawn")}
    PERMISSIONS = {"confirm": REPS, "decline": REPS, "withdraw": REPS,
                   "approve": DIRECTOR, "reject": DIRECTOR}
    EVENT_LABELS = {START: _l("Requested"), "confirm": _l("Agree"), "decline": _l("Decline"),
                    "approve": _l("Approve and transfer"), "reject": _l("Reject"),
                    "withdraw": _l("Withdraw")}
    NOTICES = (
        Notice(S.REQUESTED, "transfer_requested", lambda row: {counterpart_id(row)}),
        Notice(S.CONFIRMED, "transfer_confirmed", _directors),
        *(Notice(state, "transfer_decided",
                 lambda row: {row.from_user_id, row.to_user_id} - {row.decided_by_id})
          for state in (S.APPROVED, S.REJECTED)),
    )

    LABEL = _l("Transfer between reps")
    INBOX = _inbox(TransferRequest)

    @classmethod
    def waiting_for(cls, actor):
        model = TransferRequest
        return any_of([
            all_of(model.state == S.REQUESTED.value, counterpart_is_sql(actor))
            if actor.grant(cls, "confirm") else None,
            all_of(model.state == S.CONFIRMED.value, director_sql(actor, *_parties(model)))
            if actor.grant(cls, "approve") else None,
        ])

    @classmethod
    def notice_params(cls, row) -> dict:
        return {"number": row.number, "customer": row.customer.name,
                "from": row.from_user.display_name if row.from_user else "",
                "to": row.to_user.display_name if row.to_user else "",
                "why": row.decision_comment}

    def on_confirm(self, model, user=None, **kwargs):
        model.confirmed_by_id, model.confirmed_at = user.id, clock.now()

    def on_decline(self, model, user=None, comment: str = "", **kwargs):
        _decided(model, user, comment)

    def on_reject(self, model, user=None, comment: str = "", **kwargs):
        _decided(model, user, comment)

    def on_approve(self, model, user=None, comment: str = "", **kwargs):
        """Rule R1: the director carries the transfer out; what was open goes along."""
        _decided(model, user, comment)
        record = change_owner(
            model.customer, model.to_user, "transfer", actor=user, approved_by=user,
            reason=model.reason, object_type=self.object_type, object_id=model.id)
        model.ownership_record = record
        model.handed_over = follow_owner(model.customer, model.from_user_id,
                                                  model.to_user, actor=user)


def within_cap(model, **kwargs) -> None:
    """Rules R5, R6: nobody owns more customers than the company allows."""
    cap = settings.get("resources_max_customers")
    if load(model.requested_by_id) >= cap:
        raise InvalidInput("comment", _l("This rep already owns %(n)s customers, the most "
                                         "allowed.", n=cap))


class ClaimFlow(Workflow):
    object_type = "pool_claim"
    model_class = PoolClaim

    requested = State(value=S.REQUESTED.value, initial=True)
    approved = State(value=S.APPROVED.value, final=True)
    rejected = State(value=S.REJECTED.value, final=True)
    withdrawn = State(value=S.WITHDRAWN.value, final=True)

    approve = requested.to(approved, cond=[*DECIDE, still_in_pool], validators=[within_cap])
    reject = requested.to(rejected, cond=DECIDE, validators=[comment_required])
    withdraw = requested.to(withdrawn, cond=[permitted, is_requester],
                            validators=[withdrawal_reason])
    OPINIONS = {"approve": False, "reject": True, "withdraw": True}

    STATE_LABELS = {S.REQUESTED: _l("Waiting for the director"), S.APPROVED: _l("Claimed"),
                    S.REJECTED: _l("Not approved"), S.WITHDRAWN: _l("Withdrawn")}
    PERMISSIONS = {"approve": DIRECTOR, "reject": DIRECTOR, "withdraw": REPS}
    EVENT_LABELS = {START: _l("Requested"), "approve": _l("Approve the claim"),
                    "reject": _l("Reject"), "withdraw": _l("Withdraw")}
    NOTICES = (
        Notice(S.REQUESTED, "claim_requested", _directors),
        *(Notice(state, "claim_decided", lambda row: {row.requested_by_id})
          for state in (S.APPROVED, S.REJECTED)),
    )

    LABEL = _l("Pool claim")
    INBOX = _inbox(PoolClaim)

    @classmethod
    def waiting_for(cls, actor):
        return any_of([all_of(PoolClaim.state == S.REQUESTED.value,
                              director_sql(actor, *_parties(PoolClaim)))
                       if actor.grant(cls, "approve") else None])

    @classmethod
    def notice_params(cls, row) -> dict:
        return {"number": row.number, "customer": row.customer.name,
                "why": row.decision_comment}

    def on_reject(self, model, user=None, comment: str = "", **kwargs):
        _decided(model, user, comment)

    def on_approve(self, model, user=None, comment: str = "", **kwargs):
        _decided(model, user, comment)
        model.ownership_record = change_owner(
            model.customer, model.requested_by, "claim", actor=user, approved_by=user,
            reason=model.reason, object_type=self.object_type, object_id=model.id)
