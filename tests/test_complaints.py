"""Service cases (rules P1-P8): intake, recusal, the complaint flow, deadlines."""
from __future__ import annotations

from conftest import COMPLAINT_PATH, STATE_AFTER, login_fast, post

from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import ServiceCase, WorkflowHistory


def case_of(app, case_id) -> ServiceCase:
    with app.app_context():
        case = db.session.get(ServiceCase, case_id)
        db.session.expunge(case)
        return case


def fire(client, case_id, event, version, **data):
    return post(client, f"/service/cases/{case_id}/transition",
                {"event": event, "version": str(version), **data})


def test_p3_a_complaint_walks_from_intake_to_closed_through_the_pages(app, client, staff,
                                                                     make_case):
    case_id = make_case("registered")
    for event, actor, data in COMPLAINT_PATH:
        login_fast(client, app, staff[actor])
        data = dict(data)
        if "handler_id" in data:
            data["handler_id"] = str(staff[Role.COMPLAINT_HANDLER].id)
        page = client.get(f"/service/cases/{case_id}").get_data(as_text=True)
        assert f'data-event="{event}"' in page, (event, actor)
        response = fire(client, case_id, event, case_of(app, case_id).version, **data)
        assert response.status_code == 302, (event, response.get_data(as_text=True)[:3000])
        assert case_of(app, case_id).state == STATE_AFTER[event]
    with app.app_context():
        events = db.session.scalars(db.select(WorkflowHistory.event).where(
            WorkflowHistory.object_id == case_id,
            WorkflowHistory.object_type == "service_case")).all()
    assert events == [e for e, _a, _d in COMPLAINT_PATH]


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
