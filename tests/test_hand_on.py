"""转交 (issue 13 §2): the holder of a step passes it, with a reason, to a colleague holding the
same role in the same scope; anything else is refused and changes nothing."""
from __future__ import annotations

from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import Notification, ServiceCase, WorkflowHistory
from intranet.workflows import inbox
from tests.conftest import login_fast, post


def _case(app, case_id):
    with app.app_context():
        row = db.session.get(ServiceCase, case_id)
        return row.handler_id, row.version


def _hand_ons(app, case_id):
    with app.app_context():
        return db.session.scalars(db.select(WorkflowHistory.comment).where(
            WorkflowHistory.object_id == case_id, WorkflowHistory.event == "hand_on")).all()


def test_handler_hands_a_case_on_to_a_colleague(app, client, staff, make_user, make_case):
    colleague = make_user("handler2", Role.COMPLAINT_HANDLER, department="service")
    case_id = make_case(state="investigating")
    handler = staff[Role.COMPLAINT_HANDLER]
    login_fast(client, app, handler)
    page = client.get(f"/service/cases/{case_id}").get_data(as_text=True)
    form = page.split('data-testid="hand-on"')[1].split("</form>")[0]
    assert f'value="{colleague.id}"' in form
    assert f'value="{staff[Role.SERVICE_DESK].id}"' not in form  # not a handler
    _, version = _case(app, case_id)
    answer = post(client, f"/inbox/service_case/{case_id}/hand-on",
                  {"to_id": colleague.id, "comment": "本周出差，请接手调查", "version": version})
    assert answer.status_code == 302
    assert _case(app, case_id)[0] == colleague.id
    assert _hand_ons(app, case_id) == ["Handler2：本周出差，请接手调查"]
    with app.test_request_context():
        assert db.session.scalar(db.select(Notification.kind).where(
            Notification.user_id == colleague.id, Notification.kind == "handed_on"))
        from intranet.models import User
        waiting_for = {u.id: {r.id for r in db.session.execute(inbox.waiting(
            db.session.get(User, u.id)))} for u in (handler, colleague)}
    assert case_id in waiting_for[colleague.id] and case_id not in waiting_for[handler.id]
    # the former holder holds nothing now
    assert post(client, f"/inbox/service_case/{case_id}/hand-on",
                {"to_id": handler.id, "comment": "x", "version": version + 1}).status_code == 404
    page = client.get(f"/service/cases/{case_id}").get_data(as_text=True)
    assert 'data-step="hand_on"' in page  # in the timeline


def test_crafted_hand_ons_are_refused_and_change_nothing(app, client, staff, make_user,
                                                         make_case):
    colleague = make_user("handler2", Role.COMPLAINT_HANDLER, department="service")
    recused = make_user("handler3", Role.COMPLAINT_HANDLER, department="service")
    case_id = make_case(state="investigating", subjects=(recused,))
    handler = staff[Role.COMPLAINT_HANDLER]
    _, version = _case(app, case_id)
    url = f"/inbox/service_case/{case_id}/hand-on"
    login_fast(client, app, staff[Role.SERVICE_DESK])  # not the holder
    assert post(client, url, {"to_id": colleague.id, "comment": "x",
                              "version": version}).status_code == 404
    login_fast(client, app, handler)
    for data in ({"to_id": staff[Role.SERVICE_DESK].id, "comment": "转给总台"},  # other role
                 {"to_id": recused.id, "comment": "转给被投诉人"},  # recused (P2)
                 {"to_id": handler.id, "comment": "转给自己"},
                 {"to_id": "99999999999", "comment": "x"}, {"to_id": "x", "comment": "x"},
                 {"to_id": colleague.id, "comment": "   "}):
        answer = post(client, url, {**data, "version": version})
        assert answer.status_code == 422, data
    assert post(client, url, {"to_id": colleague.id, "comment": "x",
                              "version": version - 1}).status_code == 409
    assert _case(app, case_id) == (handler.id, version)
    assert _hand_ons(app, case_id) == []
