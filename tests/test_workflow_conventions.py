"""Conventions every registered workflow machine keeps (DESIGN.md "Workflows"): states declared
from an enum and allowed by the table's CHECK, every state reachable, every transition guarded
by a permission, every transition writing one history row, and a diagram generated from it."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from conftest import counting_selects

from intranet.core import clock
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import User, WorkflowHistory
from intranet.workflows import diagram, engine
from intranet.workflows.complaint import ComplaintFlow
from intranet.workflows.credit import CreditFlow, CreditState

MACHINES = sorted(engine.REGISTRY.items())
EVERY_TRANSITION = [(cls, *t) for _, cls in MACHINES for t in diagram.transitions(cls)]


def test_the_machines_are_registered():
    assert engine.REGISTRY["credit_application"] is CreditFlow
    assert engine.REGISTRY["service_case"] is ComplaintFlow


@pytest.mark.parametrize(("name", "cls"), MACHINES)
def test_states_are_declared_labelled_and_allowed_by_the_table(name, cls):
    values = {s.value for s in cls.states}
    assert values == set(cls.STATE_LABELS), "every state has a label, and only states do"
    check = " ".join(str(c.sqltext) for c in cls.model_class.__table__.constraints
                     if getattr(c, "name", "") and "state_known" in c.name)
    assert all(f"'{v}'" in check for v in values), "the state column's CHECK allows each state"
    assert cls.model_class.__mapper__.version_id_col is not None  # optimistic locking


@pytest.mark.parametrize(("name", "cls"), MACHINES)
def test_every_state_is_reachable(name, cls):
    assert diagram.reachable(cls) == {s.value for s in cls.states}


@pytest.mark.parametrize(("name", "cls"), MACHINES)
def test_every_event_has_a_permission_and_a_label(name, cls):
    events = {event for _, event, _ in diagram.transitions(cls)}
    assert events == set(cls.PERMISSIONS) == set(cls.EVENT_LABELS) - {engine.START}
    assert all(cls.PERMISSIONS[e] for e in events)
    for roles in cls.PERMISSIONS.values():
        assert roles <= set(Role) | {engine.SYSTEM}


@pytest.mark.parametrize(("name", "cls"), MACHINES)
def test_every_transition_is_guarded_by_the_permission_check(name, cls):
    for state in cls.states:
        for transition in state.transitions:
            guards = [spec.func for spec in transition.cond]
            assert engine.permitted in guards, (state.value, transition.events)


@pytest.mark.parametrize(("name", "cls"), MACHINES)
def test_diagram_is_generated_from_the_machine(name, cls):
    drawing = diagram.layout(cls)
    assert {b["state"] for b in drawing["boxes"]} == {s.value for s in cls.states}
    pairs = {(s, t) for s, _, t in diagram.transitions(cls)}
    assert len(drawing["arrows"]) == len(pairs)
    source = diagram.mermaid(cls, cls.initial_state.value)
    assert all(f"{s} --> {t}" in source for s, t in pairs)


def _needs_a_comment(transition) -> bool:
    """Whether the transition's validators refuse a step without a comment."""
    for spec in transition.validators:
        try:
            spec.func(model=None, comment="", amount=None)
        except engine.InvalidInput as error:
            if error.field == "comment":
                return True
        except Exception:  # a validator that needs a record: not a comment check
            continue
    return False


@pytest.mark.parametrize(("name", "cls"), [m for m in MACHINES if m[1].OPINIONS])
def test_opinion_boxes_are_required_exactly_where_the_machine_insists(name, cls):
    """The page's opinion box says "required" where the validators refuse a blank one, and
    every refusing step (a comment validator) has a box (issue 13 §2)."""
    required = {event for state in cls.states for transition in state.transitions
                for event in transition.events if _needs_a_comment(transition)}
    assert {e for e, needed in cls.OPINIONS.items() if needed} == required
    assert set(cls.OPINIONS) <= set(cls.PERMISSIONS)


# --- every transition of the credit machine, fired through the engine -----------------------

def _actor(app, staff, event, applicant):
    roles = CreditFlow.PERMISSIONS[event]
    if engine.SYSTEM in roles:
        return None
    if event in ("submit", "withdraw"):
        return applicant
    if Role.GENERAL_MANAGER in roles:
        return staff[Role.GENERAL_MANAGER]
    return staff[Role.SALES_MANAGER]


@pytest.mark.parametrize(("source", "event", "target"),
                         [t[1:] for t in EVERY_TRANSITION if t[0] is CreditFlow])
def test_credit_transition_writes_one_history_row(app, staff, make_customer, make_application,
                                                  frozen, source, event, target):
    via_manager = event == "submit" and target == CreditState.RECEIVED
    applicant = staff[Role.SALES_MANAGER] if via_manager else staff[Role.SALES_REP]
    cid = make_customer("上海测试机械有限公司", staff[Role.SALES_REP])
    aid = make_application(cid, applicant, state=source,
                           received_at=datetime(2026, 11, 2, tzinfo=UTC),
                           due_at=datetime(2026, 11, 5, tzinfo=UTC))
    actor = _actor(app, staff, event, applicant)
    with app.test_request_context():
        from intranet.models import CreditApplication
        row = db.session.get(CreditApplication, aid)
        user = db.session.get(User, actor.id) if actor else None
        engine.fire(row, event, user=user, comment="意见", expected_version=row.version)
        db.session.commit()
        assert row.state == target
        rows = db.session.scalars(db.select(WorkflowHistory).where(
            WorkflowHistory.object_id == aid)).all()
        assert [(h.event, h.from_state, h.to_state) for h in rows] == [(event, source, target)]
        assert rows[0].user_id == (actor.id if actor else None)
        assert rows[0].at == clock.now() and rows[0].comment == "意见"
        expected_role = next(iter(CreditFlow.PERMISSIONS[event] & {
            r for r in Role if actor and r in db.session.get(User, actor.id).roles}), "system")
        assert rows[0].role == (expected_role.value if actor else "system")
        from intranet.models import AuditEntry
        entry = db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.object_type == "credit_application", AuditEntry.object_id == str(aid),
            AuditEntry.action == "update"))
        assert entry.username == (actor.username if actor else "-")
        assert entry.details == json.dumps({"event": event, "from": source, "to": target},
                                           ensure_ascii=False, sort_keys=True)


def test_a_step_without_a_comment_records_an_empty_one(app, staff, make_customer,
                                                       make_application):
    from intranet.models import CreditApplication

    cid = make_customer("上海测试机械有限公司", staff[Role.SALES_REP])
    aid = make_application(cid, staff[Role.SALES_REP], state="draft")
    with app.test_request_context():
        row = db.session.get(CreditApplication, aid)
        engine.fire(row, "submit", user=db.session.get(User, staff[Role.SALES_REP].id),
                    expected_version=row.version)
        db.session.commit()
        assert [h.comment for h in engine.history(row)] == [""]


def test_registry_refuses_a_second_machine_for_the_same_records():
    from statemachine import State

    with pytest.raises(ValueError, match="credit_application"):
        class Impostor(engine.Workflow):  # noqa: F841
            object_type = "credit_application"
            start = State(initial=True)
            end = State(final=True)
            go = start.to(end, cond=[engine.permitted])
    assert engine.REGISTRY["credit_application"] is CreditFlow


@pytest.mark.parametrize(("name", "cls"), MACHINES)
def test_state_labels_reach_the_notifications(name, cls):
    """Notifications store state codes; the platform reads their labels from this registry,
    filled by the engine (the platform never imports a workflow)."""
    from intranet.core import notifications

    assert notifications.STATE_LABELS[name] is cls.STATE_LABELS


def test_history_is_the_records_own_in_order(app, staff, make_customer, make_application):
    """engine.history(row) gives this record's rows, oldest first, with their people loaded in
    one go: not another record's, and not another workflow's row that carries the same id."""
    from intranet.models import CreditApplication

    cid = make_customer("上海测试机械有限公司", staff[Role.SALES_REP])
    first = make_application(cid, staff[Role.SALES_REP], state="draft")
    second = make_application(cid, staff[Role.SALES_REP], state="draft")
    with app.test_request_context():
        db.session.add(WorkflowHistory(object_type="complaint", object_id=first, event="x",
                                       from_state="a", to_state="b",
                                       user_id=staff[Role.SALES_REP].id, role="sales_rep",
                                       at=datetime(2026, 1, 1, tzinfo=UTC)))
        people = {role: db.session.get(User, staff[role].id) for role in
                  (Role.SALES_REP, Role.SALES_MANAGER, Role.GENERAL_MANAGER)}
        steps = [("submit", Role.SALES_REP), ("forward", Role.SALES_MANAGER),
                 ("approve", Role.GENERAL_MANAGER)]
        for aid in (second, first):
            row = db.session.get(CreditApplication, aid)
            for event, role in steps:
                engine.fire(row, event, user=people[role], comment=f"{event} {aid}",
                            expected_version=row.version)
        db.session.commit()
        db.session.expunge_all()
        row = db.session.get(CreditApplication, first)
        with counting_selects(app) as statements:
            mine = engine.history(row)
            names = [(h.user.username, h.on_behalf_of) for h in mine]
        assert names == [("rep", None), ("manager", None), ("gm", None)]
        assert len(statements) == 3, statements  # the rows, their users, the users' roles
        assert [(h.object_type, h.object_id, h.event, h.comment) for h in mine] == [
            ("credit_application", first, e, f"{e} {first}") for e, _ in steps]


def test_available_events_are_the_buttons_the_machine_would_accept(app, staff, make_customer,
                                                                   make_application):
    from intranet.models import CreditApplication

    cid = make_customer("上海测试机械有限公司", staff[Role.SALES_REP])
    aid = make_application(cid, staff[Role.SALES_REP], state="received",
                           received_at=datetime(2026, 11, 2, tzinfo=UTC),
                           due_at=datetime(2026, 11, 5, tzinfo=UTC))
    with app.test_request_context():
        row = db.session.get(CreditApplication, aid)
        gm = db.session.get(User, staff[Role.GENERAL_MANAGER].id)
        rep = db.session.get(User, staff[Role.SALES_REP].id)
        assert set(engine.available_events(row, gm)) == {"approve", "reject",
                                                        "return_for_revision"}
        assert engine.available_events(row, rep) == ["withdraw"]
        assert engine.available_events(row, None) == []


# --- every transition of the service-case machine, fired through the engine -----------------

CASE_ACTOR = {"answer": Role.SERVICE_DESK, "convert": Role.SERVICE_DESK,
              "assign": Role.SERVICE_DESK, "report": Role.SERVICE_DESK,
              "reply": Role.COMPLAINT_HANDLER, "follow_up": Role.SERVICE_DESK,
              "reopen": Role.SERVICE_DESK, "close": Role.SERVICE_DESK,
              "decide": Role.SALES_MANAGER, "escalate": Role.SALES_MANAGER,
              "adopt": Role.SALES_MANAGER, "decline": Role.SALES_MANAGER,
              "resolve": Role.GENERAL_MANAGER}


def _case_kind(source, event) -> str:
    if event in ("answer", "convert"):
        return "consultation"
    if event == "report" or source in ("reported", "considered"):
        return "suggestion"
    return "complaint"


@pytest.mark.parametrize(("source", "event", "target"),
                         [t[1:] for t in EVERY_TRANSITION if t[0] is ComplaintFlow])
def test_case_transition_writes_one_history_row(app, staff, make_case, frozen, source, event,
                                                target):
    from datetime import date

    from intranet.models import AuditEntry, ServiceCase
    from intranet.workflows import deadlines

    case_id = make_case("registered", kind=_case_kind(source, event))
    actor = staff[CASE_ACTOR.get(event, Role.COMPLAINT_HANDLER)]
    with app.test_request_context():
        row = db.session.get(ServiceCase, case_id)
        row.state, row.handler_id = source, staff[Role.COMPLAINT_HANDLER].id
        row.leader_id, row.reply = staff[Role.SALES_MANAGER].id, "书面答复"
        if event == "resume":
            deadlines.pause(row, "等待材料")
        db.session.commit()
        data = {"handler_id": staff[Role.COMPLAINT_HANDLER].id,
                "leader_id": staff[Role.SALES_MANAGER].id, "meeting_on": date(2026, 11, 1),
                "attendee_ids": [staff[Role.GENERAL_MANAGER].id]}
        engine.fire(row, event, user=db.session.get(User, actor.id), comment="意见",
                    expected_version=row.version, **data)
        db.session.commit()
        assert row.state == target
        rows = db.session.scalars(db.select(WorkflowHistory).where(
            WorkflowHistory.object_type == "service_case", WorkflowHistory.event == event,
            WorkflowHistory.object_id == case_id)).all()
        assert [(h.from_state, h.to_state, h.user_id, h.comment) for h in rows] == [
            (source, target, actor.id, "意见")]
        assert db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.object_type == "service_case", AuditEntry.object_id == str(case_id),
            AuditEntry.action == "update", AuditEntry.user_id == actor.id)) is not None
