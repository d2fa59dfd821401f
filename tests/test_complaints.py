"""Service cases (rules P1-P8): intake and the first responder, recusal, the complaint flow,
escalation, contacts and promises, follow-up and corrective actions, priority and repeats."""
from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import COMPLAINT_PATH, STATE_AFTER, login_fast, post

from intranet.core import clock, settings
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import (
    AuditEntry,
    CaseAttachment,
    CaseContact,
    CorrectiveAction,
    Customer,
    Notification,
    ServiceCase,
    WorkflowHistory,
)
from intranet.workflows.complaint import ComplaintFlow


def case_of(app, case_id) -> ServiceCase:
    with app.app_context():
        case = db.session.get(ServiceCase, case_id)
        db.session.expunge(case)
        return case


def fire(client, case_id, event, version=None, app=None, **data):
    if version is None:
        version = case_of(app, case_id).version
    return post(client, f"/service/cases/{case_id}/transition",
                {"event": event, "version": str(version), **data})


def page_of(client, case_id) -> str:
    return client.get(f"/service/cases/{case_id}").get_data(as_text=True)


def intake(client, **fields):
    data = {"kind": "complaint", "channel": "phone", "received_at": "2026-11-02T09:30",
            "severity": "general", "complainant_name": "李先生", "complainant_phone": "13900000000",
            "description": "送货延误三天", "plan": "今天内核实并回电", "promised_on": "2026-11-05",
            "department_id": "0", "handler_id": "0"}
    data.update(fields)
    return post(client, "/service/cases/new", data, content_type="multipart/form-data")


@pytest.fixture
def desk(app, client, staff, frozen):
    frozen(datetime(2026, 11, 2, 2, 0, tzinfo=UTC))  # Monday 10:00 in Shanghai
    login_fast(client, app, staff[Role.SERVICE_DESK])
    return client


# --- P1 intake and the ledger -------------------------------------------------------------

def test_p1_ledger_numbers_run_per_year_and_are_never_given_twice(app, desk, make_case, frozen):
    first = make_case("registered")
    second = make_case("registered")
    frozen(datetime(2027, 1, 5, 2, 0, tzinfo=UTC))
    next_year = make_case("registered", received_at=datetime(2027, 1, 5, 2, 0, tzinfo=UTC))
    numbers = [case_of(app, c).number for c in (first, second, next_year)]
    assert numbers == ["TS-2026-000001", "TS-2026-000002", "TS-2027-000001"]
    with app.app_context():  # the pair is unique in the schema too
        constraints = {c.name for c in ServiceCase.__table__.constraints}
    assert "uq_service_case_number" in constraints


def test_p1_a_failed_registration_does_not_burn_or_reuse_a_number(app, desk, make_case):
    make_case("registered")
    response = intake(desk, plan="")  # refused: nothing written, the number not taken
    assert response.status_code == 422
    after = make_case("registered")
    assert case_of(app, after).number == "TS-2026-000002"


def test_p1_intake_keeps_the_original_material_and_refuses_other_files(app, desk):
    from io import BytesIO

    response = intake(desk, file=(BytesIO(b"%PDF-1.4\n%%EOF"), "投诉信.pdf"))
    assert response.status_code == 302
    with app.app_context():
        material = db.session.scalar(db.select(CaseAttachment))
        assert material.filename == "投诉信.pdf" and material.kind == "pdf"
    refused = intake(desk, file=(BytesIO(b"<script>alert(1)</script>"), "x.html"))
    assert refused.status_code == 422 and "PDF" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ServiceCase.id))) == 1


def test_p1_a_referral_from_an_authority_goes_straight_to_a_handler(app, desk, staff):
    assert intake(desk, channel="authority", kind="consultation").status_code == 422
    refused = intake(desk, channel="authority")
    assert refused.status_code == 422
    assert "直接交给投诉专员" in refused.get_data(as_text=True)
    response = intake(desk, channel="authority", handler_id=str(staff[Role.COMPLAINT_HANDLER].id))
    assert response.status_code == 302
    with app.app_context():
        case = db.session.scalar(db.select(ServiceCase))
        assert case.state == "assigned" and case.handler_id == staff[Role.COMPLAINT_HANDLER].id


def test_p1_the_desk_finds_a_registered_customer_by_name_only(app, desk, staff, make_customer):
    make_customer("上海华东机械有限公司", staff[Role.SALES_REP])
    choices = desk.get("/service/customer-lookup?q=华东").get_data(as_text=True)
    assert "上海华东机械有限公司" in choices and 'name="customer_id"' in choices
    assert "Rep" not in choices  # the owner and the rest of the file stay closed (C6)


# --- P7 the first responder -----------------------------------------------------------------

def test_p7_the_first_responder_records_the_plan_and_the_promised_date(app, desk, staff):
    no_plan = intake(desk, plan="")
    assert no_plan.status_code == 422
    assert "请记录告知客户的处理安排" in no_plan.get_data(as_text=True)
    no_date = intake(desk, promised_on="")
    assert no_date.status_code == 422 and "请填写向客户承诺的日期" in no_date.get_data(as_text=True)
    assert intake(desk).status_code == 302
    with app.app_context():
        case = db.session.scalar(db.select(ServiceCase))
        assert case.registered_by_id == staff[Role.SERVICE_DESK].id
        assert (case.plan, case.promised_on) == ("今天内核实并回电", date(2026, 11, 5))


def test_p7_a_consultation_answered_on_the_spot_is_closed_at_once(app, desk):
    response = intake(desk, kind="consultation", first_answer="已告知退货流程", plan="",
                      promised_on="")
    assert response.status_code == 302
    with app.app_context():
        case = db.session.scalar(db.select(ServiceCase))
        assert case.state == "closed" and case.reply == "已告知退货流程"
        history = db.session.scalars(db.select(WorkflowHistory.event)).all()
    assert history == ["answer"]


# --- P2 recusal --------------------------------------------------------------------------------

@pytest.fixture
def accused(make_user):
    """Someone complained about who holds every role a case could need."""
    return make_user("accused", Role.SERVICE_DESK, Role.COMPLAINT_HANDLER, Role.SALES_MANAGER,
                     Role.GENERAL_MANAGER)


EVENT_DATA = {"comment": "处理意见", "meeting_on": "2026-11-02", "handler_id": "0",
              "leader_id": "0", "authorities_notified": "y"}


CASES_AT = [("complaint", s) for s in ("registered", "assigned", "investigating",
                                        "awaiting_decision", "escalated", "decided",
                                        "implemented", "replied", "followed_up")] + [
    ("consultation", "registered"), ("suggestion", "registered"), ("suggestion", "reported"),
    ("suggestion", "considered")]


def _case_at(app, staff, make_case, kind, state, holder, subjects=()):
    case_id = make_case("registered", kind=kind, subjects=subjects)
    with app.app_context():  # the holder is handler and leader too, whatever the step, but
        # not of a replied case, whose follow-up the handler may not verify (rule P8)
        case = db.session.get(ServiceCase, case_id)
        handler = staff[Role.COMPLAINT_HANDLER] if state == "replied" else holder
        case.state, case.handler_id, case.leader_id = state, handler.id, holder.id
        case.reply = "书面答复"
        db.session.commit()
    return case_id


@pytest.mark.parametrize(("kind", "state"), CASES_AT)
def test_p2_every_step_posted_by_the_person_complained_about_is_refused_and_audited(
        app, client, staff, accused, make_case, kind, state):
    twin = _case_at(app, staff, make_case, kind, state, accused)
    case_id = _case_at(app, staff, make_case, kind, state, accused, subjects=[accused])
    login_fast(client, app, accused)
    offered = [e for e in ComplaintFlow.PERMISSIONS
               if f'data-event="{e}"' in page_of(client, twin)]
    assert offered, "on a case without them, the same person may act"
    before = case_of(app, case_id)
    page = page_of(client, case_id)
    assert 'data-testid="recused"' in page and "data-event=" not in page
    for event in ComplaintFlow.PERMISSIONS:
        data = {**EVENT_DATA, "handler_id": str(staff[Role.COMPLAINT_HANDLER].id),
                "leader_id": str(staff[Role.SALES_MANAGER].id),
                "attendee_ids": str(staff[Role.GENERAL_MANAGER].id)}
        response = fire(client, case_id, event, before.version, **data)
        assert response.status_code == 409, (state, event, response.status_code)
    after = case_of(app, case_id)
    assert (after.state, after.version) == (before.state, before.version)
    with app.app_context():
        refused = db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.action == "refused", AuditEntry.object_id == str(case_id))).all()
    assert len(refused) == len(ComplaintFlow.PERMISSIONS)
    assert all(r.user_id == accused.id for r in refused)


def test_p2_no_authority_is_drawn_from_the_person_complained_about(
        app, client, staff, make_user, make_delegation, make_case):
    """A manager of another department standing in for the manager complained about decides
    nothing on the case, and a deputy reaching it only through them reads nothing of it."""
    manager = staff[Role.SALES_MANAGER]
    case_id = make_case("awaiting_decision", subjects=[manager])
    other = make_user("manager2", Role.SALES_MANAGER, department="sales2")
    make_delegation(manager, other, Role.SALES_MANAGER)
    login_fast(client, app, other)
    assert 'data-event="decide"' not in page_of(client, case_id)
    assert fire(client, case_id, "decide", app=app, comment="代为决定").status_code == 409
    assert "属实，建议退换货" not in page_of(client, case_id)
    assert client.get(f"/service/cases/{case_id}/pdf").status_code == 404
    with app.app_context():  # and the GM is the one told that a decision waits
        told = db.session.scalars(db.select(Notification.user_id).where(
            Notification.kind == "case_to_decide")).all()
    assert told == [staff[Role.GENERAL_MANAGER].id]


def test_p2_the_person_complained_about_reads_no_handling_notes(app, client, staff, accused,
                                                               make_case):
    case_id = make_case("decided", subjects=[accused])
    login_fast(client, app, staff[Role.SERVICE_DESK])
    assert "属实，建议退换货" in page_of(client, case_id)  # the opinion, for the others
    login_fast(client, app, accused)
    page = page_of(client, case_id)
    assert "属实，建议退换货" not in page and "同意退换货" not in page
    assert 'data-testid="handling"' not in page
    assert client.get(f"/service/cases/{case_id}/pdf").status_code == 404
    assert post(client, f"/service/cases/{case_id}/contacts",
                {"kind": "progress", "note": "x"}).status_code == 404


def test_p2_nobody_complained_about_is_made_handler_or_meeting_attendee(app, client, staff,
                                                                         make_user, make_case):
    other_handler = make_user("handler2", Role.COMPLAINT_HANDLER, department="service")
    case_id = make_case("registered", subjects=[other_handler])
    login_fast(client, app, staff[Role.SERVICE_DESK])
    assert f'value="{other_handler.id}"' not in page_of(client, case_id).split(
        'name="handler_id"')[1].split("</select>")[0]
    response = fire(client, case_id, "assign", app=app, handler_id=str(other_handler.id))
    assert response.status_code == 422 and "不参与" in response.get_data(as_text=True)
    assert case_of(app, case_id).state == "registered"
    escalated = make_case("awaiting_decision", subjects=[other_handler])
    login_fast(client, app, staff[Role.SALES_MANAGER])
    assert fire(client, escalated, "escalate", app=app, comment="重大").status_code == 302
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    response = fire(client, escalated, "resolve", app=app, comment="赔偿", meeting_on="2026-11-01",
                    attendee_ids=[str(staff[Role.GENERAL_MANAGER].id), str(other_handler.id)])
    assert response.status_code == 422 and case_of(app, escalated).state == "escalated"


def test_p2_the_setting_also_recuses_the_direct_manager(app, client, staff, make_case):
    case_id = make_case("awaiting_decision", subjects=[staff[Role.SALES_REP]])
    login_fast(client, app, staff[Role.SALES_MANAGER])
    assert 'data-event="decide"' in page_of(client, case_id)
    with app.app_context():
        assert settings.update({"recusal_excludes_manager": "on"}) == {}
        db.session.commit()
    assert 'data-event="decide"' not in page_of(client, case_id)
    assert fire(client, case_id, "decide", app=app, comment="同意").status_code == 409
    login_fast(client, app, staff[Role.GENERAL_MANAGER])  # the GM decides instead
    assert fire(client, case_id, "decide", app=app, comment="同意").status_code == 302


def test_p2_the_record_states_that_recusal_was_applied_and_to_whom(app, client, staff,
                                                                    make_user, make_case):
    from io import BytesIO

    from pypdf import PdfReader

    accused_rep = make_user("wangwu", Role.SALES_REP)
    case_id = make_case("closed", subjects=[accused_rep])
    login_fast(client, app, staff[Role.ARCHIVIST])
    response = client.get(f"/service/cases/{case_id}/pdf")
    assert response.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(response.data)).pages)
    assert "已执行回避" in text and "Wangwu" in text
    assert "客户投诉处理登记表" in text and "书面答复：已退换" in text


# --- P3 opinion, decision, escalation -----------------------------------------------------------

def test_p3_a_complaint_walks_from_intake_to_closed_through_the_pages(app, client, staff,
                                                                     make_case):
    case_id = make_case("registered")
    for event, actor, data in COMPLAINT_PATH:
        login_fast(client, app, staff[actor])
        data = dict(data)
        if "handler_id" in data:
            data["handler_id"] = str(staff[Role.COMPLAINT_HANDLER].id)
        assert f'data-event="{event}"' in page_of(client, case_id), (event, actor)
        response = fire(client, case_id, event, app=app, **data)
        assert response.status_code == 302, (event, response.get_data(as_text=True)[:2000])
        assert case_of(app, case_id).state == STATE_AFTER[event]
    with app.app_context():
        events = db.session.scalars(db.select(WorkflowHistory.event).where(
            WorkflowHistory.object_id == case_id,
            WorkflowHistory.object_type == "service_case")).all()
    assert events == [e for e, _a, _d in COMPLAINT_PATH]


def test_p3_only_the_manager_in_charge_or_the_gm_decides(app, client, staff, make_user,
                                                         make_delegation, make_case):
    case_id = make_case("awaiting_decision")  # the manager's department (sales1)
    other = make_user("manager2", Role.SALES_MANAGER, department="sales2")
    login_fast(client, app, other)
    assert client.get(f"/service/cases/{case_id}").status_code == 404  # not in scope
    assert fire(client, case_id, "decide", app=app, comment="x").status_code == 404
    deputy = make_user("deputy", Role.SALES_REP)
    make_delegation(staff[Role.SALES_MANAGER], deputy, Role.SALES_MANAGER)
    login_fast(client, app, deputy)
    assert fire(client, case_id, "decide", app=app, comment="代为决定").status_code == 302
    with app.app_context():
        row = db.session.scalar(db.select(WorkflowHistory).where(
            WorkflowHistory.event == "decide"))
        assert (row.user_id, row.on_behalf_of_id) == (deputy.id, staff[Role.SALES_MANAGER].id)


def test_p3_a_major_matter_goes_to_the_gm_whose_meeting_records_the_resolution(
        app, client, staff, make_case):
    case_id = make_case("awaiting_decision")
    login_fast(client, app, staff[Role.SALES_MANAGER])
    assert fire(client, case_id, "escalate", app=app, comment="涉及多名客户").status_code == 302
    assert 'data-event="resolve"' not in page_of(client, case_id)
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    missing = fire(client, case_id, "resolve", app=app, comment="赔偿并通报")
    assert missing.status_code == 422 and "请填写会议日期" in missing.get_data(as_text=True)
    response = fire(client, case_id, "resolve", app=app, comment="赔偿并通报",
                    meeting_on="2026-11-01", authorities_notified="y",
                    attendee_ids=[str(staff[Role.GENERAL_MANAGER].id),
                                  str(staff[Role.SALES_MANAGER].id)])
    assert response.status_code == 302
    case = case_of(app, case_id)
    assert (case.state, case.decision, case.meeting_on, case.authorities_notified) == (
        "decided", "赔偿并通报", date(2026, 11, 1), True)
    with app.app_context():
        assert db.session.get(ServiceCase, case_id).user_ids("attendee") == {
            staff[Role.GENERAL_MANAGER].id, staff[Role.SALES_MANAGER].id}


def test_p3_two_deciders_at_once_one_wins_one_409_one_history_row(app, staff, make_case):
    case_id = make_case("awaiting_decision")
    clients = []
    for user in (staff[Role.SALES_MANAGER], staff[Role.GENERAL_MANAGER]):
        client = app.test_client()
        login_fast(client, app, user)
        page = page_of(client, case_id)
        token = page.split('name="csrf-token" content="')[1].split('"')[0]
        clients.append((client, token))
    barrier = threading.Barrier(2)
    results = [None, None]
    version = str(case_of(app, case_id).version)

    def decide(index, text):
        client, token = clients[index]
        barrier.wait()
        response = client.post(f"/service/cases/{case_id}/transition", data={
            "csrf_token": token, "event": "decide", "version": version, "comment": text})
        results[index] = (response.status_code, response.get_data(as_text=True))

    threads = [threading.Thread(target=decide, args=(i, t)) for i, t in enumerate(("甲", "乙"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(r[0] for r in results) == [302, 409], results
    loser = next(r for r in results if r[0] == 409)[1]
    assert "已作决定" in loser
    with app.app_context():
        rows = db.session.scalars(db.select(WorkflowHistory).where(
            WorkflowHistory.object_id == case_id, WorkflowHistory.event == "decide")).all()
    assert len(rows) == 1


# --- P4 investigation, contacts, no promise before the decision, the written reply ------------

def test_p4_contacts_are_logged_but_no_promise_before_the_decision(app, client, staff,
                                                                    make_case):
    case_id = make_case("investigating")
    login_fast(client, app, staff[Role.COMPLAINT_HANDLER])
    told = post(client, f"/service/cases/{case_id}/contacts",
                {"kind": "arrangement", "note": "已告知由赵磊处理"})
    assert told.status_code == 302
    promise = post(client, f"/service/cases/{case_id}/contacts",
                   {"kind": "promise", "note": "保证全额赔偿"})
    assert promise.status_code == 422 and "决定之前不得" in promise.get_data(as_text=True)
    decided = make_case("decided")
    undated = post(client, f"/service/cases/{decided}/contacts",
                   {"kind": "promise", "note": "按决定退换"})
    assert undated.status_code == 422  # rule P5: a promise has its date
    assert post(client, f"/service/cases/{decided}/contacts", {
        "kind": "promise", "note": "按决定退换",
        "promised_on": (clock.now() + timedelta(days=9)).date().isoformat()}).status_code == 302
    with app.app_context():  # ... which runs as its own deadline
        from intranet.models import WorkflowDeadline
        promised = db.session.scalars(db.select(WorkflowDeadline.note).where(
            WorkflowDeadline.object_id == decided, WorkflowDeadline.kind == "promised")
            .order_by(WorkflowDeadline.id)).all()
    assert promised == ["三日内回复", "按决定退换"]
    with app.app_context():
        notes = db.session.scalars(db.select(CaseContact.note).order_by(CaseContact.id)).all()
    assert notes == ["已告知由赵磊处理", "按决定退换"]
    assert "已告知由赵磊处理" in page_of(client, case_id)


def test_p4_a_complaint_is_never_closed_without_its_written_reply(app, client, staff,
                                                                  make_case):
    case_id = make_case("implemented")
    login_fast(client, app, staff[Role.COMPLAINT_HANDLER])
    empty = fire(client, case_id, "reply", app=app, comment="  ")
    assert empty.status_code == 422 and case_of(app, case_id).state == "implemented"
    followed = make_case("followed_up")
    with app.app_context():  # however the reply went missing, closing is refused
        db.session.get(ServiceCase, followed).reply = ""
        db.session.commit()
    login_fast(client, app, staff[Role.SERVICE_DESK])
    assert 'data-event="close"' not in page_of(client, followed)
    assert fire(client, followed, "close", app=app).status_code == 409
    assert case_of(app, followed).state == "followed_up"


# --- P8 follow-up and corrective actions --------------------------------------------------------

def test_p8_an_unsatisfied_customer_reopens_the_case_at_the_decision_step(app, client, staff,
                                                                         make_case):
    case_id = make_case("replied")
    login_fast(client, app, staff[Role.SERVICE_DESK])
    assert fire(client, case_id, "reopen", app=app, comment="客户不满意赔偿").status_code == 302
    case = case_of(app, case_id)
    assert case.state == "awaiting_decision" and case.satisfaction == "客户不满意赔偿"
    login_fast(client, app, staff[Role.SALES_MANAGER])
    assert 'data-event="decide"' in page_of(client, case_id)


def test_p8_corrective_actions_are_verified_before_the_case_closes(app, client, staff,
                                                                   make_user, make_case):
    accused = make_user("accused", Role.SERVICE_DESK, department="service")
    case_id = make_case("followed_up", subjects=[accused])
    login_fast(client, app, staff[Role.COMPLAINT_HANDLER])
    assert post(client, f"/service/cases/{case_id}/actions", {
        "what": "送货前电话确认", "owner_id": str(staff[Role.COMPLAINT_HANDLER].id),
        "due_on": "2026-12-01"}).status_code == 302
    login_fast(client, app, staff[Role.SERVICE_DESK])
    refused = fire(client, case_id, "close", app=app)
    assert refused.status_code == 422 and "核实" in refused.get_data(as_text=True)
    with app.app_context():
        action_id = db.session.scalar(db.select(CorrectiveAction.id))
    login_fast(client, app, accused)  # rule P2: not the one complained about
    assert post(client, f"/service/cases/{case_id}/actions/{action_id}/verify").status_code \
        == 404
    login_fast(client, app, staff[Role.SERVICE_DESK])
    assert post(client, f"/service/cases/{case_id}/actions/{action_id}/verify").status_code \
        == 302
    assert fire(client, case_id, "close", app=app).status_code == 302
    with app.app_context():
        action = db.session.get(CorrectiveAction, action_id)
        assert action.verified_by_id == staff[Role.SERVICE_DESK].id
    assert case_of(app, case_id).state == "closed"


# --- P5 suggestions ----------------------------------------------------------------------------

def test_p5_a_suggestion_is_reported_to_a_leader_and_answered_by_the_promised_date(
        app, client, staff, frozen, make_case):
    case_id = make_case("registered", kind="suggestion", promised_on=date(2026, 11, 20))
    login_fast(client, app, staff[Role.SERVICE_DESK])
    assert fire(client, case_id, "report", app=app,
                leader_id=str(staff[Role.SALES_MANAGER].id)).status_code == 302
    login_fast(client, app, staff[Role.SALES_MANAGER])
    assert fire(client, case_id, "adopt", app=app, comment="").status_code == 422
    assert fire(client, case_id, "adopt", app=app, comment="下季度改进包装").status_code == 302
    login_fast(client, app, staff[Role.SERVICE_DESK])
    assert fire(client, case_id, "reply", app=app, comment="已告知客户采纳").status_code == 302
    case = case_of(app, case_id)
    assert (case.state, case.adopted, case.decision) == ("closed", True, "下季度改进包装")


# --- P6 priority and repeats ------------------------------------------------------------------

def test_p6_severe_and_vip_cases_come_first_then_the_nearest_deadline(app, client, staff,
                                                                      make_customer, make_case):
    vip = make_customer("上海重要客户有限公司", staff[Role.SALES_REP])
    with app.app_context():
        db.session.get(Customer, vip).tier = "vip"
        db.session.commit()
    general = make_case("assigned", severity="general")
    severe = make_case("assigned", severity="severe")
    important = make_case("assigned", customer_id=vip, severity="serious")
    login_fast(client, app, staff[Role.COMPLAINT_HANDLER])
    page = client.get("/service/queue").get_data(as_text=True)
    order = [case_of(app, c).number for c in (severe, important, general)]
    positions = [page.index(number) for number in order]
    assert positions == sorted(positions), order  # severe: 3 days, serious VIP: 5, general: 7
    assert page.count('class="priority"') == 2


def test_p6_a_second_complaint_within_the_window_is_flagged_as_a_repeat(app, staff, frozen,
                                                                         make_customer,
                                                                         make_case):
    customer = make_customer("上海华东机械有限公司", staff[Role.SALES_REP])
    make_case("registered", customer_id=customer)
    frozen(datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    repeat = make_case("registered", customer_id=customer)
    frozen(datetime(2027, 3, 15, 1, 0, tzinfo=UTC))  # more than 90 days after the last one
    later = make_case("registered", customer_id=customer)
    with app.app_context():
        settings.update({"complaint_repeat_days": "30"})
        db.session.commit()
    frozen(datetime(2027, 5, 1, 1, 0, tzinfo=UTC))
    outside_setting = make_case("registered", customer_id=customer)
    flags = [case_of(app, c).repeat for c in (repeat, later, outside_setting)]
    assert flags == [True, False, False]


def test_p5_a_consultation_turned_into_a_complaint_keeps_its_number_and_history(
        app, client, staff, frozen, make_case):
    case_id = make_case("registered", kind="consultation")
    number = case_of(app, case_id).number
    login_fast(client, app, staff[Role.SERVICE_DESK])
    assert fire(client, case_id, "convert", app=app, comment="客户要求赔偿").status_code == 302
    case = case_of(app, case_id)
    assert (case.kind, case.state, case.number) == ("complaint", "registered", number)
    with app.app_context():
        from intranet.models import WorkflowDeadline
        kinds = {(d.kind, d.met_at is not None) for d in db.session.scalars(
            db.select(WorkflowDeadline).where(WorkflowDeadline.object_id == case_id))}
    assert {("answer", True), ("investigation", False), ("reply", False)} <= kinds
    assert fire(client, case_id, "assign", app=app,
                handler_id=str(staff[Role.COMPLAINT_HANDLER].id)).status_code == 302


def test_p1_two_desks_registering_at_once_get_two_numbers(app, staff, make_user, frozen):
    """Ledger numbers are taken under a row lock: concurrent intakes never share one."""
    second_desk = make_user("desk2", Role.SERVICE_DESK, department="service")
    frozen(datetime(2026, 11, 2, 2, 0, tzinfo=UTC))
    clients = []
    for user in (staff[Role.SERVICE_DESK], second_desk):
        client = app.test_client()
        login_fast(client, app, user)
        page = client.get("/service/cases/new").get_data(as_text=True)
        clients.append((client, page.split('name="csrf-token" content="')[1].split('"')[0]))
    barrier = threading.Barrier(2)
    statuses = [None, None]

    def register(index):
        client, token = clients[index]
        barrier.wait()
        statuses[index] = client.post("/service/cases/new", data={
            "csrf_token": token, "kind": "complaint", "channel": "phone",
            "received_at": "2026-11-02T09:30", "severity": "general",
            "complainant_name": f"客户{index}", "description": "投诉", "plan": "回电",
            "promised_on": "2026-11-05", "department_id": "0", "handler_id": "0"}).status_code

    threads = [threading.Thread(target=register, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [302, 302]
    with app.app_context():
        numbers = sorted(c.number for c in db.session.scalars(db.select(ServiceCase)))
    assert numbers == ["TS-2026-000001", "TS-2026-000002"]


def test_p2_nothing_of_the_handling_reaches_the_person_complained_about(
        app, client, staff, make_user, frozen, make_case):
    """Not the pause reason, the handler's uploads, the reply in the export, nor the handler's
    name in the ledger."""
    from io import BytesIO

    from openpyxl import load_workbook

    accused = make_user("accused", Role.SERVICE_DESK, department="service")
    case_id = make_case("investigating", subjects=[accused])
    replied = make_case("replied", subjects=[accused])
    login_fast(client, app, staff[Role.COMPLAINT_HANDLER])
    assert fire(client, case_id, "pause", app=app, comment="等待王经理的内部调查结论").status_code \
        == 302
    assert post(client, f"/service/cases/{case_id}/attachments",
                {"file": (BytesIO(b"%PDF-1.4\n"), "调查笔录.pdf")},
                content_type="multipart/form-data").status_code == 302
    with app.app_context():
        material = db.session.scalar(db.select(CaseAttachment.id))
    login_fast(client, app, accused)
    page = page_of(client, case_id)
    assert "王经理的内部调查" not in page and "调查笔录" not in page
    assert client.get(f"/service/cases/{case_id}/attachments/{material}").status_code == 404

    def rows(page):
        return page.split('id="case-rows"')[1]
    ledger = client.get("/service/ledger").get_data(as_text=True)
    assert "Handler" not in rows(ledger)  # the handler's name (the staff fixture's display name)
    login_fast(client, app, staff[Role.SERVICE_DESK])
    assert "Handler" in rows(client.get("/service/ledger").get_data(as_text=True))
    login_fast(client, app, accused)
    sheet = load_workbook(BytesIO(client.get("/service/ledger/export").data)).active
    values = [v for row in sheet.iter_rows(values_only=True) for v in row if v]
    assert case_of(app, replied).number in values and "书面答复：已退换" not in values


def test_p2_a_desk_agent_named_in_the_case_registers_it_and_leaves_the_rest(
        app, client, staff, make_user, frozen):
    from io import BytesIO  # noqa: F401

    frozen(datetime(2026, 11, 2, 2, 0, tzinfo=UTC))
    login_fast(client, app, staff[Role.SERVICE_DESK])
    response = post(client, "/service/cases/new", {
        "kind": "complaint", "channel": "phone", "received_at": "2026-11-02T09:30",
        "severity": "general", "complainant_name": "李先生", "description": "态度差",
        "plan": "今日回电", "promised_on": "2026-11-05", "department_id": "0",
        "subject_ids": str(staff[Role.SERVICE_DESK].id),
        "handler_id": str(staff[Role.COMPLAINT_HANDLER].id)},
        content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        case = db.session.scalar(db.select(ServiceCase))
        assert case.state == "registered" and case.handler_id is None


def test_p5_a_suggestion_reported_to_another_departments_leader_reaches_them(
        app, client, staff, make_user, frozen, make_case):
    frozen(datetime(2026, 11, 2, 2, 0, tzinfo=UTC))
    leader = make_user("manager2", Role.SALES_MANAGER, department="sales2")
    case_id = make_case("registered", kind="suggestion")
    login_fast(client, app, staff[Role.SERVICE_DESK])
    assert fire(client, case_id, "report", app=app, leader_id=str(leader.id)).status_code == 302
    login_fast(client, app, leader)
    assert 'data-event="adopt"' in page_of(client, case_id)
    assert fire(client, case_id, "decline", app=app, comment="成本过高").status_code == 302
    assert case_of(app, case_id).adopted is False


def test_p1_no_material_is_added_to_a_closed_case(app, client, staff, make_case):
    from io import BytesIO

    case_id = make_case("closed")
    login_fast(client, app, staff[Role.SERVICE_DESK])
    response = post(client, f"/service/cases/{case_id}/attachments",
                    {"file": (BytesIO(b"%PDF-1.4\n"), "补充.pdf")},
                    content_type="multipart/form-data")
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(CaseAttachment.id))) == 0


def test_p6_a_vip_customers_complaint_is_handled_first(app, staff, make_customer, make_case):
    vip = make_customer("上海鼎盛精密机械有限公司", staff[Role.SALES_REP])
    general = make_customer("杭州安泰包装材料有限公司", staff[Role.SALES_REP])
    with app.app_context():
        from intranet.models import Customer
        db.session.get(Customer, vip).tier = "vip"
        db.session.get(Customer, general).tier = "general"
        db.session.commit()
    assert case_of(app, make_case(customer_id=vip)).priority == 0
    assert case_of(app, make_case(customer_id=general)).priority == 1
    assert case_of(app, make_case(customer_id=general, severity="severe")).priority == 0


def test_demo_cases_give_every_role_work_and_a_second_run_adds_none(app):
    from intranet.models import User
    from intranet.workflows.engine import available_events
    app.config["DEMO_MODE"] = True
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    with app.test_request_context():
        cases = db.session.scalars(db.select(ServiceCase).order_by(ServiceCase.id)).all()
        users = {u.username: u for u in db.session.scalars(db.select(User))}
        work = {name: sorted({e for c in cases for e in available_events(c, users[name])})
                for name in ("desk", "handler", "manager1", "manager2", "gm")}
        assert {"answer", "assign", "follow_up"} <= set(work["desk"])
        assert {"start", "give_opinion"} <= set(work["handler"])
        assert {"decide", "escalate"} <= set(work["manager1"])
        assert {"adopt", "decline"} <= set(work["manager2"])
        assert "resolve" in work["gm"]
        states = {(c.kind, c.state) for c in cases}
        assert {("consultation", "closed"), ("consultation", "registered"),
                ("suggestion", "reported"), ("complaint", "registered"),
                ("complaint", "assigned"), ("complaint", "investigating"),
                ("complaint", "awaiting_decision"), ("complaint", "escalated"),
                ("complaint", "replied"), ("complaint", "closed")} <= states
        assert any(c.overdue for c in cases)
        assert any(c.priority == 0 and c.severity == "severe" for c in cases)
        assert any(c.user_ids("subject") for c in cases)
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ServiceCase)) \
            == len(cases)


def test_p8_the_handler_does_not_verify_the_customers_satisfaction_with_their_own_reply(
        app, client, staff, make_case):
    case_id = make_case("replied")
    login_fast(client, app, staff[Role.COMPLAINT_HANDLER])
    page = page_of(client, case_id)
    assert 'data-event="follow_up"' not in page and 'data-event="reopen"' not in page
    assert fire(client, case_id, "follow_up", app=app, comment="满意").status_code == 409
    login_fast(client, app, staff[Role.SERVICE_DESK])
    assert 'data-event="follow_up"' in page_of(client, case_id)
