"""Access to a sealed customer file (rule C7): someone who reaches the archive asks for one
customer's file of one sealed year, for some days, with a reason → the GM approves (the grant
runs from the approval for that many days) or rejects with a reason; the requester may
withdraw while it waits. Nobody approves their own request, not even the GM (the guard
`not_the_requester`). Expiry is by the clock (archive/sealing.grant_for compares now with
expires_at); `flask jobs run` marks expired grants for the lists (approved → expired)."""
from __future__ import annotations

from datetime import timedelta

from statemachine import State

from intranet.core import clock
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.notifications import role_holders
from intranet.core.roles import Role
from intranet.models import ArchiveAccessRequest
from intranet.workflows.archive_access_states import AccessState
from intranet.workflows.engine import (
    START,
    SYSTEM,
    InvalidInput,
    Notice,
    Workflow,
    grant_for,
    permitted,
    withdrawal_reason,
)
from intranet.workflows.waiting import Inbox, all_of, any_of, is_not

S = AccessState
REQUESTERS = frozenset({Role.ARCHIVIST, Role.GENERAL_MANAGER})
GM = frozenset({Role.GENERAL_MANAGER})


def is_requester(model, user=None, **kwargs) -> bool:
    return user is not None and model.requested_by_id == user.id


def not_the_requester(machine, event, model, user=None, **kwargs) -> bool:
    """Separation of duties: whoever asked never decides, whatever roles they hold, nor does
    a deputy standing in for them (the decision would be the requester's own)."""
    if user is None or model.requested_by_id == user.id:
        return False
    grant = grant_for(type(machine), str(event), user)
    principal = grant.on_behalf_of if grant else None
    return principal is None or principal.id != model.requested_by_id


def has_expired(model, **kwargs) -> bool:
    return model.expires_at is not None and model.expires_at <= clock.now()


def comment_required(comment: str = "", **kwargs) -> None:
    if not (comment or "").strip():
        raise InvalidInput("comment", _l("Please give a reason: the requester will read it."))


def _gms(row) -> set[int]:
    return role_holders(Role.GENERAL_MANAGER) - {row.requested_by_id}


class ArchiveAccessFlow(Workflow):
    object_type = "archive_access_request"
    model_class = ArchiveAccessRequest

    requested = State(value=S.REQUESTED.value, initial=True)
    approved = State(value=S.APPROVED.value)
    rejected = State(value=S.REJECTED.value, final=True)
    withdrawn = State(value=S.WITHDRAWN.value, final=True)
    expired = State(value=S.EXPIRED.value, final=True)

    approve = requested.to(approved, cond=[permitted, not_the_requester])
    reject = requested.to(rejected, cond=[permitted, not_the_requester],
                          validators=[comment_required])
    withdraw = requested.to(withdrawn, cond=[permitted, is_requester],
                            validators=[withdrawal_reason])
    OPINIONS = {"approve": False, "reject": True, "withdraw": True}
    expire = approved.to(expired, cond=[permitted, has_expired])

    STATE_LABELS = {S.REQUESTED: _l("Waiting for the general manager"),
                    S.APPROVED: _l("Approved"), S.REJECTED: _l("Rejected"),
                    S.WITHDRAWN: _l("Withdrawn"), S.EXPIRED: _l("Access expired")}
    PERMISSIONS = {"approve": GM, "reject": GM, "withdraw": REQUESTERS,
                   "expire": frozenset({SYSTEM})}
    EVENT_LABELS = {START: _l("Requested"), "approve": _l("Approve access"),
                    "reject": _l("Reject"), "withdraw": _l("Withdraw"),
                    "expire": _l("Access ended")}
    NOTICES = (
        Notice(S.REQUESTED, "archive_access_requested", _gms),
        *(Notice(state, "archive_access_decided", lambda row: {row.requested_by_id})
          for state in (S.APPROVED, S.REJECTED)),
    )

    LABEL = _l("Access to a sealed file")
    INBOX = Inbox(started_by=ArchiveAccessRequest.requested_by_id,
                  started_at=ArchiveAccessRequest.created_at)

    @classmethod
    def waiting_for(cls, actor):
        model, grant = ArchiveAccessRequest, actor.grant(cls, "approve")
        if grant is None:
            return any_of([])
        principal = grant.on_behalf_of
        return all_of(model.state == S.REQUESTED.value, is_not(model.requested_by_id, actor),
                      *([model.requested_by_id != principal.id] if principal else []))

    @classmethod
    def notice_params(cls, row) -> dict:
        return {"number": row.number, "customer": row.customer.name, "year": row.year,
                "days": row.days, "who": row.requested_by.display_name,
                "why": row.decision_comment}

    def on_approve(self, model, user=None, comment: str = "", **kwargs):
        now = clock.now()
        model.decided_by_id, model.decided_at = user.id, now
        model.decision_comment = comment or ""
        model.granted_from = now
        model.expires_at = now + timedelta(days=model.days)

    def on_reject(self, model, user=None, comment: str = "", **kwargs):
        model.decided_by_id, model.decided_at = user.id, clock.now()
        model.decision_comment = comment or ""
