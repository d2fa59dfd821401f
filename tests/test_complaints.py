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
