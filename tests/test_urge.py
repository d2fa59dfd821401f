"""催办 (issue 13 §2): the one who started a record reminds whoever it waits for, at most once
per settable interval; the reminder is in the record's timeline."""
from __future__ import annotations

from datetime import timedelta

from intranet.core import clock, notifications
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import Notification, WorkflowHistory
from tests.conftest import login_fast, post


def _notes(app, user) -> list[str]:
    with app.test_request_context():
        return [notifications.text_of(n) for n in db.session.scalars(
            db.select(Notification).where(Notification.user_id == user.id))]


def _urges(app, aid) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(WorkflowHistory).where(
            WorkflowHistory.object_id == aid, WorkflowHistory.event == "urge"))


def test_the_applicant_urges_the_manager_once_per_interval(app, client, staff, make_customer,
                                                          make_application, frozen):
    customer = make_customer("上海华兴精密机械有限公司", staff[Role.SALES_REP])
    aid = make_application(customer, staff[Role.SALES_REP], state="submitted")
    login_fast(client, app, staff[Role.SALES_REP])
    started = client.get("/inbox?tab=started").get_data(as_text=True)
    assert 'data-testid="urge"' in started
    # where it is and who holds it
    assert "待销售经理审核" in started or "销售经理" in started
    assert 'data-testid="holders">当前处理人：Manager</small>' in started
    answer = post(client, f"/inbox/credit_application/{aid}/urge", {})
    assert answer.status_code == 302
    assert _urges(app, aid) == 1
    notes = _notes(app, staff[Role.SALES_MANAGER])
    assert any(n.startswith("Rep 催办") and "上海华兴" not in n for n in notes), notes
    assert not _notes(app, staff[Role.GENERAL_MANAGER])
    # too soon: refused with when it may be done again, nothing recorded
    post(client, f"/inbox/credit_application/{aid}/urge", {})
    assert _urges(app, aid) == 1
    assert 'data-testid="urge"' not in client.get("/inbox?tab=started").get_data(as_text=True)
    frozen(clock.now() + timedelta(hours=4, minutes=1))
    login_fast(client, app, staff[Role.SALES_REP])  # a new day's session
    assert post(client, f"/inbox/credit_application/{aid}/urge", {}).status_code == 302
    assert _urges(app, aid) == 2
    page = client.get(f"/sales/credit/{aid}").get_data(as_text=True)
    assert page.count('data-step="urge"') == 2  # in the timeline


def test_only_the_starter_urges_and_only_while_it_waits(app, client, staff, make_customer,
                                                        make_application):
    customer = make_customer("上海华兴精密机械有限公司", staff[Role.SALES_REP])
    waiting = make_application(customer, staff[Role.SALES_REP], state="submitted")
    draft = make_application(customer, staff[Role.SALES_REP], state="draft")
    login_fast(client, app, staff["rep_b"])
    assert post(client, f"/inbox/credit_application/{waiting}/urge", {}).status_code == 404
    login_fast(client, app, staff[Role.SALES_MANAGER])
    assert post(client, f"/inbox/credit_application/{waiting}/urge", {}).status_code == 404
    assert post(client, "/inbox/user/1/urge", {}).status_code == 404
    login_fast(client, app, staff[Role.SALES_REP])
    post(client, f"/inbox/credit_application/{draft}/urge", {})  # waits for the rep alone
    assert _urges(app, draft) == 0 and _urges(app, waiting) == 0
    assert not _notes(app, staff[Role.SALES_MANAGER])
