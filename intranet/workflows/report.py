"""A periodic report (rule Q1): prepared by `flask jobs run` after its period → its author
writes the text box and submits it (a department's report: the sales manager of that
department or their deputy; a company report: the archive room, which keeps the customer
archive for the general management) → the general manager accepts it or sends it back with a
reason, and the author submits it again. Whoever submitted never accepts (the guard
`not_the_submitter`). Its figures are frozen at submission (reports/package.py)."""
from __future__ import annotations

from sqlalchemy import case, func, null
from statemachine import State

from intranet.core import clock
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.notifications import role_holders
from intranet.core.permissions import Permission
from intranet.core.roles import Role
from intranet.models import Report
from intranet.workflows.engine import START, InvalidInput, Notice, Workflow, grant_for, permitted
from intranet.workflows.report_states import OPEN_STATES, ReportState
from intranet.workflows.request_rules import department_manager
from intranet.workflows.waiting import Inbox, all_of, any_of, is_not

S = ReportState
AUTHORS = frozenset({Role.SALES_MANAGER, Role.ARCHIVIST})
GM = frozenset({Role.GENERAL_MANAGER})


def is_author(machine, event, model, user=None, **kwargs) -> bool:
    """A department's report: its sales manager (or deputy); a company report: an archivist."""
    if user is None:
        return False
    if model.department_id is not None:
        return department_manager(model, user)
    return Permission(roles=frozenset({Role.ARCHIVIST})).grant_for(user) is not None


def not_the_submitter(machine, event, model, user=None, **kwargs) -> bool:
    """Separation of duties: whoever submitted the report never accepts it, nor does their
    deputy acting for them."""
    if user is None or model.submitted_by_id == user.id:
        return False
    grant = grant_for(type(machine), str(event), user)
    principal = grant.on_behalf_of if grant else None
    return principal is None or principal.id != model.submitted_by_id


def text_written(text: str | None = None, model=None, **kwargs) -> None:
    if model is not None and not (text if text is not None else model.text or "").strip():
        raise InvalidInput("text", _l("Please write the report's analysis before submitting "
                                      "it."))


def reason_required(comment: str = "", **kwargs) -> None:
    if not (comment or "").strip():
        raise InvalidInput("comment", _l("Please say what to change: the author will read "
                                         "it."))


def authors(row) -> set[int]:
    if row.department_id is not None:
        return role_holders(Role.SALES_MANAGER, row.department_id)
    return role_holders(Role.ARCHIVIST)


def _gms(row) -> set[int]:
    return role_holders(Role.GENERAL_MANAGER) - {row.submitted_by_id}


class ReportFlow(Workflow):
    object_type = "report"
    model_class = Report

    draft = State(value=S.DRAFT.value, initial=True)
    submitted = State(value=S.SUBMITTED.value)
    returned = State(value=S.RETURNED.value)
    accepted = State(value=S.ACCEPTED.value, final=True)

    submit = (draft.to(submitted, cond=[permitted, is_author], validators=[text_written])
              | returned.to(submitted, cond=[permitted, is_author], validators=[text_written]))
    accept = submitted.to(accepted, cond=[permitted, not_the_submitter])
    send_back = submitted.to(returned, cond=[permitted, not_the_submitter],
                             validators=[reason_required])
    OPINIONS = {"submit": False, "accept": False, "send_back": True}

    STATE_LABELS = {S.DRAFT: _l("Waiting for its author"),
                    S.SUBMITTED: _l("Waiting for the general manager's review"),
                    S.RETURNED: _l("Sent back to its author"), S.ACCEPTED: _l("Accepted")}
    PERMISSIONS = {"submit": AUTHORS, "accept": GM, "send_back": GM}
    EVENT_LABELS = {START: _l("Prepared"), "submit": _l("Submit"), "accept": _l("Accept"),
                    "send_back": _l("Send back to the author")}
    NOTICES = (
        Notice(S.DRAFT, "report_prepared", authors),
        Notice(S.SUBMITTED, "report_submitted", _gms),
        Notice(S.RETURNED, "report_returned", authors),
        Notice(S.ACCEPTED, "report_accepted", lambda row: {row.submitted_by_id}),
    )
    ASIDE = frozenset()

    LABEL = _l("Periodic report")
    # The due day is the author's: a report waiting for the GM is not late for them.
    INBOX = Inbox(started_by=Report.submitted_by_id, started_at=Report.created_at,
                  due=case((Report.state.in_(OPEN_STATES), Report.due_at), else_=null()))

    @classmethod
    def waiting_for(cls, actor):
        model = Report
        mine = model.state.in_((S.DRAFT.value, S.RETURNED.value))
        clauses = []
        if actor.grant(cls, "submit") is not None:
            departments = actor.managed_departments()
            if departments:
                clauses.append(all_of(mine, model.department_id.in_(sorted(departments))))
            if Permission(roles=frozenset({Role.ARCHIVIST})).grant_for(actor.user):
                clauses.append(all_of(mine, model.department_id.is_(None)))
        grant = actor.grant(cls, "accept")
        if grant is not None:
            principal = grant.on_behalf_of
            clauses.append(all_of(
                model.state == S.SUBMITTED.value, is_not(model.submitted_by_id, actor),
                *([func.coalesce(model.submitted_by_id, 0) != principal.id] if principal
                  else [])))
        return any_of(clauses)

    @classmethod
    def notice_params(cls, row) -> dict:
        return {"number": row.number, "report": row.title, "due": row.due_on.isoformat(),
                "why": row.decision_comment}

    def on_submit(self, model, user=None, text: str | None = None, **kwargs):
        from intranet.reports.package import freeze

        if text is not None:
            model.text = text
        model.submitted_by_id, model.submitted_at = user.id, clock.now()
        # a resubmission is not reviewed yet: the reason it came back stays in the history
        model.decided_by_id, model.decided_at, model.decision_comment = None, None, ""
        model.figures = freeze(model)

    def on_accept(self, model, user=None, comment: str = "", **kwargs):
        model.decided_by_id, model.decided_at = user.id, clock.now()
        model.decision_comment = comment or ""

    def on_send_back(self, model, user=None, comment: str = "", **kwargs):
        model.decided_by_id, model.decided_at = user.id, clock.now()
        model.decision_comment = comment or ""
        model.figures = None  # live again until the next submission
