"""Opinions at every step (issue 13 §2): the sales manager's forward step in credit carries an
opinion and may reject (with the reason required); the applicant's notice says why and how
much."""
from __future__ import annotations

from test_credit_workflow import history, transition

from intranet.core import notifications
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import CreditApplication, Notification
from tests.conftest import login_fast


def _notes(app, user) -> list[str]:
    with app.test_request_context():
        return [notifications.text_of(n) for n in db.session.scalars(
            db.select(Notification).where(Notification.user_id == user.id)
            .order_by(Notification.id))]


def _submitted(staff, make_customer, make_application, limit="300000"):
    customer = make_customer("上海华兴精密机械有限公司", staff[Role.SALES_REP])
    return make_application(customer, staff[Role.SALES_REP], state="submitted", limit=limit)


def test_manager_forwards_with_an_opinion_the_gm_reads(app, client, staff, make_customer,
                                                       make_application):
    aid = _submitted(staff, make_customer, make_application)
    login_fast(client, app, staff[Role.SALES_MANAGER])
    page = client.get(f"/sales/credit/{aid}").get_data(as_text=True)
    forward_form = page.split('value="forward"')[1].split("</form>")[0]
    assert 'name="comment"' in forward_form and " required" not in forward_form
    opinion = "客户回款稳定，建议批准"
    assert transition(client, app, aid, "forward", comment=opinion).status_code == 302
    assert history(app, aid)[-1][0] == "forward"
    assert history(app, aid)[-1][-1] == opinion
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    assert "客户回款稳定，建议批准" in client.get(f"/sales/credit/{aid}").get_data(as_text=True)


def test_manager_rejects_with_a_reason_the_applicant_is_told(app, client, staff,
                                                             make_customer, make_application):
    aid = _submitted(staff, make_customer, make_application)
    login_fast(client, app, staff[Role.SALES_MANAGER])
    page = client.get(f"/sales/credit/{aid}").get_data(as_text=True)
    assert 'data-event="refuse"' in page
    refused = page.split('value="refuse"')[1].split("</form>")[0]
    assert 'name="comment"' in refused and " required" in refused
    # without a reason: refused, nothing changes
    assert transition(client, app, aid, "refuse", comment="  ").status_code == 422
    with app.app_context():
        assert db.session.get(CreditApplication, aid).state == "submitted"
    assert transition(client, app, aid, "refuse", comment="逾期账款未清").status_code == 302
    with app.app_context():
        row = db.session.get(CreditApplication, aid)
        assert row.state == "rejected" and row.decided_by_id == staff[Role.SALES_MANAGER].id
        assert row.decision_comment == "逾期账款未清"
    assert history(app, aid)[-1][:3] == ("refuse", "submitted", "rejected")
    notes = _notes(app, staff[Role.SALES_REP])
    assert any("逾期账款未清" in n and "300,000" in n and "已驳回" in n for n in notes), notes
    # the GM never saw it: no notice, nothing waiting
    assert not _notes(app, staff[Role.GENERAL_MANAGER])


def test_a_returned_application_tells_the_applicant_why(app, client, staff, make_customer,
                                                        make_application):
    customer = make_customer("上海华兴精密机械有限公司", staff[Role.SALES_REP])
    aid = make_application(customer, staff[Role.SALES_REP], state="received", limit="500000")
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    assert transition(client, app, aid, "return_for_revision",
                      comment="请补充近三个月回款记录").status_code == 302
    notes = _notes(app, staff[Role.SALES_REP])
    assert any("请补充近三个月回款记录" in n and "500,000" in n for n in notes), notes


def test_an_approval_tells_the_applicant_the_limit(app, client, staff, make_customer,
                                                  make_application):
    customer = make_customer("上海华兴精密机械有限公司", staff[Role.SALES_REP])
    aid = make_application(customer, staff[Role.SALES_REP], state="received", limit="500000")
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    assert transition(client, app, aid, "approve", amount="400000").status_code == 302
    notes = _notes(app, staff[Role.SALES_REP])
    assert any("已批准" in n and "400,000" in n for n in notes), notes


def test_the_audit_trail_names_the_step_and_the_record(app, client, staff, make_customer,
                                                      make_application):
    """Issue 13 §5: "批准资信额度申请 ZX-…", not an event code and an id."""
    customer = make_customer("上海华兴精密机械有限公司", staff[Role.SALES_REP])
    aid = make_application(customer, staff[Role.SALES_REP], state="received")
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    assert transition(client, app, aid, "approve").status_code == 302
    with app.app_context():
        number = db.session.get(CreditApplication, aid).number
    login_fast(client, app, staff[Role.ADMIN])
    page = client.get("/admin/audit?object_type=credit_application").get_data(as_text=True)
    what = page.split('data-testid="audit-what">')[1].split("</td>")[0]
    assert what.startswith("批准") and f"<strong>{number}</strong>" in what, what
