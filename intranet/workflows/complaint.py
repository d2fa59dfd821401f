"""Service cases: consultations, suggestions and complaints (rules P1-P8; SECURITY.md 25).

complaint: registered → assigned (the designated handler) → investigating → awaiting_decision
(the handler's opinion) → decided by the manager in charge or the GM — or escalated to the
GM / management meeting, whose resolution decides → implemented → replied (the written reply)
→ followed_up (the customer is satisfied; corrective actions) → closed. An unsatisfied
follow-up reopens the case at the decision step. The resolution clock may be paused with a
reason (pause / resume); the first-response clock never.
consultation: registered → closed by the answer, or turned into a complaint (convert), which
keeps its number and history. suggestion: registered → reported to a leader → considered
(adopted or declined, with the reason) → closed by the reply to the customer.

Recusal (P2) is a guard on every transition: a person complained about (and, by a setting,
their department's manager) never handles, decides, joins the escalation or verifies, whoever
they stand in for; deadlines start and stop in the event callbacks (workflows/deadlines.py).
"""
from __future__ import annotations

from statemachine import State

from intranet.core import clock, settings
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.notifications import role_holders
from intranet.core.roles import Role
from intranet.models import ServiceCase
from intranet.workflows import calendar, deadlines
from intranet.workflows.complaint_rules import (
    actions_verified,
    clock_paused,
    clock_running,
    deciders,
    has_reply,
    holders,
    in_charge,
    is_complaint,
    is_consultation,
    is_handler,
    is_leader,
    is_suggestion,
    not_recused,
    not_the_handler,
    recused_ids,
    text_required,
    valid_handler,
    valid_leader,
    valid_meeting,
    waiting_sql,
)
from intranet.workflows.complaint_states import CaseKind, CaseState
from intranet.workflows.engine import Notice, Workflow, permitted
from intranet.workflows.steps import HandOn
from intranet.workflows.waiting import Inbox

S, K = CaseState, CaseKind


ACTING = [permitted, not_recused]
HANDLER = frozenset({Role.COMPLAINT_HANDLER})
DESK = frozenset({Role.SERVICE_DESK, Role.COMPLAINT_HANDLER})
LEADERS = frozenset({Role.SALES_MANAGER, Role.GENERAL_MANAGER})
WORKING = ("assigned", "investigating", "awaiting_decision", "escalated", "decided",
           "implemented")


class ComplaintFlow(Workflow):
    object_type = "service_case"
    model_class = ServiceCase

    registered = State(value=S.REGISTERED.value, initial=True)
    assigned = State(value=S.ASSIGNED.value)
    investigating = State(value=S.INVESTIGATING.value)
    awaiting_decision = State(value=S.AWAITING_DECISION.value)
    escalated = State(value=S.ESCALATED.value)
    decided = State(value=S.DECIDED.value)
    implemented = State(value=S.IMPLEMENTED.value)
    replied = State(value=S.REPLIED.value)
    followed_up = State(value=S.FOLLOWED_UP.value)
    reported = State(value=S.REPORTED.value)
    considered = State(value=S.CONSIDERED.value)
    closed = State(value=S.CLOSED.value, final=True)

    answer = registered.to(closed, cond=[*ACTING, is_consultation], validators=[text_required])
    convert = registered.to.itself(cond=[*ACTING, is_consultation], internal=True,
                                   validators=[text_required])
    assign = registered.to(assigned, cond=[*ACTING, is_complaint], validators=[valid_handler])
    start = assigned.to(investigating, cond=[*ACTING, is_handler])
    give_opinion = investigating.to(awaiting_decision, cond=[*ACTING, is_handler],
                                    validators=[text_required])
    decide = awaiting_decision.to(decided, cond=[*ACTING, in_charge],
                                  validators=[text_required])
    escalate = awaiting_decision.to(escalated, cond=[*ACTING, in_charge],
                                    validators=[text_required])
    resolve = escalated.to(decided, cond=ACTING, validators=[text_required, valid_meeting])
    implement = decided.to(implemented, cond=[*ACTING, is_handler], validators=[text_required])
    reply = (implemented.to(replied, cond=[*ACTING, is_handler], validators=[text_required])
             | considered.to(closed, cond=ACTING, validators=[text_required]))
    follow_up = replied.to(followed_up, cond=[*ACTING, not_the_handler],
                           validators=[text_required])
    reopen = replied.to(awaiting_decision, cond=[*ACTING, not_the_handler],
                        validators=[text_required])
    close = followed_up.to(closed, cond=[*ACTING, has_reply], validators=[actions_verified])
    report = registered.to(reported, cond=[*ACTING, is_suggestion], validators=[valid_leader])
    adopt = reported.to(considered, cond=[*ACTING, is_leader], validators=[text_required])
    decline = reported.to(considered, cond=[*ACTING, is_leader], validators=[text_required])
    pause = (assigned.to.itself(cond=[*ACTING, is_handler, clock_running], internal=True,
                                validators=[text_required])
             | investigating.to.itself(cond=[*ACTING, is_handler, clock_running],
                                       internal=True, validators=[text_required])
             | awaiting_decision.to.itself(cond=[*ACTING, is_handler, clock_running],
                                           internal=True, validators=[text_required])
             | decided.to.itself(cond=[*ACTING, is_handler, clock_running], internal=True,
                                 validators=[text_required]))
    resume = (assigned.to.itself(cond=[*ACTING, is_handler, clock_paused], internal=True)
              | investigating.to.itself(cond=[*ACTING, is_handler, clock_paused],
                                        internal=True)
              | awaiting_decision.to.itself(cond=[*ACTING, is_handler, clock_paused],
                                            internal=True)
              | decided.to.itself(cond=[*ACTING, is_handler, clock_paused], internal=True))

    STATE_LABELS = {
        S.REGISTERED: _l("Registered"), S.ASSIGNED: _l("With the handler"),
        S.INVESTIGATING: _l("Investigating"), S.AWAITING_DECISION: _l("Awaiting decision"),
        S.ESCALATED: _l("With the general manager"), S.DECIDED: _l("Decision made"),
        S.IMPLEMENTED: _l("Decision implemented"), S.REPLIED: _l("Replied"),
        S.FOLLOWED_UP: _l("Followed up"), S.REPORTED: _l("With the leader"),
        S.CONSIDERED: _l("Considered"), S.CLOSED: _l("Closed"),
    }
    PERMISSIONS = {
        "answer": DESK, "convert": DESK, "assign": DESK,
        "start": HANDLER, "give_opinion": HANDLER, "implement": HANDLER,
        "pause": HANDLER, "resume": HANDLER,
        "decide": LEADERS, "escalate": frozenset({Role.SALES_MANAGER}),
        "resolve": frozenset({Role.GENERAL_MANAGER}),
        "reply": DESK, "follow_up": DESK, "reopen": DESK, "close": DESK,
        "report": frozenset({Role.SERVICE_DESK}), "adopt": LEADERS, "decline": LEADERS,
    }
    EVENT_LABELS = {
        "answer": _l("Record the answer"), "convert": _l("Turn into a complaint"),
        "assign": _l("Assign a handler"), "start": _l("Start the investigation"),
        "give_opinion": _l("Write the opinion"), "decide": _l("Decide"),
        "escalate": _l("Escalate to the general manager"),
        "resolve": _l("Record the meeting's resolution"),
        "implement": _l("Decision implemented"), "reply": _l("Record the written reply"),
        "follow_up": _l("Customer satisfied"), "reopen": _l("Customer not satisfied: reopen"),
        "close": _l("Close the case"), "report": _l("Report to a leader"),
        "adopt": _l("Adopt"), "decline": _l("Decline"),
        "pause": _l("Pause the clock"), "resume": _l("Resume the clock"),
    }
    NOTICES = (
        Notice(S.ASSIGNED, "case_assigned", lambda row: {row.handler_id}),
        Notice(S.AWAITING_DECISION, "case_to_decide", lambda row: deciders(row)),
        Notice(S.ESCALATED, "case_escalated", lambda row: role_holders(Role.GENERAL_MANAGER)),
        Notice(S.DECIDED, "case_decided", lambda row: {row.handler_id}),
        Notice(S.REPLIED, "case_replied", lambda row: {row.registered_by_id}),
        Notice(S.REPORTED, "case_reported", lambda row: {row.leader_id}),
        Notice(S.CONSIDERED, "case_considered", lambda row: {row.registered_by_id}),
    )

    @classmethod
    def notice_params(cls, row) -> dict:
        return {"number": row.number, "who": row.who}

    LABEL = _l("Customer service case")
    INBOX = Inbox(started_by=ServiceCase.registered_by_id, started_at=ServiceCase.received_at,
                  due=ServiceCase.next_due_at)
    ASIDE = frozenset({"pause", "resume"})  # the clock, beside the step the case waits at
    HAND_ON = (
        HandOn("handler_id", HANDLER, frozenset({S.ASSIGNED, S.INVESTIGATING, S.DECIDED,
                                                 S.IMPLEMENTED})),
        HandOn("leader_id", LEADERS, frozenset({S.REPORTED})),
    )

    @classmethod
    def waiting_for(cls, actor):
        return waiting_sql(cls, actor)

    @classmethod
    def holders(cls, row) -> set[int]:
        return holders(row)

    @classmethod
    def never_told(cls, row) -> set[int]:
        return recused_ids(row)  # rule P2: nothing of the case reaches the person complained about

    # --- effects: the columns each step fills, and the clocks it starts and stops ---

    def on_answer(self, model, comment: str = "", **kwargs):
        model.first_answer = model.first_answer or comment
        model.reply = comment
        model.replied_at = clock.now()
        deadlines.meet(model)
        model.closed_at = clock.now()

    def on_convert(self, model, **kwargs):
        deadlines.meet(model, "answer")
        model.kind = K.COMPLAINT.value
        start_complaint_clocks(model, clock.now())

    def on_assign(self, model, handler_id=None, **kwargs):
        model.handler_id = handler_id

    def on_start(self, model, **kwargs):
        deadlines.meet(model, "investigation")

    def on_give_opinion(self, model, comment: str = "", **kwargs):
        model.opinion = comment

    def on_decide(self, model, user=None, comment: str = "", **kwargs):
        self._decided(model, user, comment)

    def on_resolve(self, model, user=None, comment: str = "", meeting_on=None,
                   attendee_ids=(), authorities_notified=False, **kwargs):
        from intranet.models import CasePerson

        model.meeting_on = meeting_on
        model.authorities_notified = bool(authorities_notified)
        known = model.user_ids("attendee")
        model.people.extend(CasePerson(user_id=uid, relation="attendee")
                            for uid in sorted(set(attendee_ids) - known))
        self._decided(model, user, comment)

    def on_implement(self, model, comment: str = "", **kwargs):
        model.implementation = comment

    def on_reply(self, model, comment: str = "", **kwargs):
        model.reply = comment
        model.replied_at = clock.now()
        deadlines.meet(model, "reply", "promised")
        if model.kind == K.SUGGESTION:
            deadlines.meet(model)
            model.closed_at = clock.now()

    def on_follow_up(self, model, user=None, comment: str = "", **kwargs):
        model.satisfaction = comment
        model.verified_by_id = user.id if user else None

    def on_reopen(self, model, comment: str = "", **kwargs):
        # Rule P8: back to the decision step, with a new reply deadline
        model.satisfaction = comment
        model.decision = ""
        deadlines.start(model, "reply", reply_due(model, clock.now()), pausable=True)

    def on_close(self, model, **kwargs):
        deadlines.meet(model)
        model.closed_at = clock.now()

    def on_report(self, model, leader_id=None, **kwargs):
        model.leader_id = leader_id

    def on_adopt(self, model, comment: str = "", **kwargs):
        model.adopted, model.decision = True, comment

    def on_decline(self, model, comment: str = "", **kwargs):
        model.adopted, model.decision = False, comment

    def on_pause(self, model, comment: str = "", **kwargs):
        deadlines.pause(model, comment)

    def on_resume(self, model, **kwargs):
        deadlines.resume(model)

    @staticmethod
    def _decided(model, user, comment):
        model.decision = comment
        model.decided_by_id = user.id if user else None
        model.decided_at = clock.now()


def reply_due(model, start):
    """complaints/settings.py declares one setting per severity (P6)."""
    return calendar.add_days(start, settings.get(f"complaint_reply_days_{model.severity}"))


def start_complaint_clocks(model, received_at) -> None:
    """Rule P5: a complaint is investigated the same working day and replied to within its
    severity's days; the reply clock is the one that may be paused."""
    deadlines.start(model, "investigation", calendar.end_of_working_day(received_at),
                    started_at=received_at)
    deadlines.start(model, "reply", reply_due(model, received_at), pausable=True,
                    started_at=received_at)

