"""抄送 (issue 13 §2): whoever started a record or took a step on it copies colleagues in; a
copied colleague reads that record (summary and timeline, audited) under 抄送我的, and no
other."""
from __future__ import annotations

from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import AuditEntry, Notification, WorkflowCopy, WorkflowHistory
from tests.conftest import login_fast, post


def test_the_applicant_copies_finance_in_who_reads_that_record_only(
        app, client, staff, make_customer, make_application):
    customer = make_customer("上海华兴精密机械有限公司", staff[Role.SALES_REP])
    aid = make_application(customer, staff[Role.SALES_REP], state="submitted")
    other = make_application(customer, staff[Role.SALES_REP], state="submitted")
    finance = staff[Role.FINANCE]
    login_fast(client, app, staff[Role.SALES_REP])
    page = client.get(f"/sales/credit/{aid}").get_data(as_text=True)
    form = page.split('data-testid="copy"')[1].split("</form>")[0]
    assert f'value="{finance.id}"' in form
    answer = post(client, f"/inbox/credit_application/{aid}/copy", {"user_ids": [finance.id]})
    assert answer.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(WorkflowCopy.user_id).where(
            WorkflowCopy.object_id == aid)) == finance.id
        assert db.session.scalar(db.select(WorkflowHistory.comment).where(
            WorkflowHistory.object_id == aid, WorkflowHistory.event == "copy")) == "Finance"
        assert db.session.scalar(db.select(Notification.link).where(
            Notification.user_id == finance.id, Notification.kind == "copied")) \
            == f"/inbox/credit_application/{aid}"
    login_fast(client, app, finance)
    listed = client.get("/inbox?tab=copied").get_data(as_text=True)
    assert f'href="/inbox/credit_application/{aid}"' in listed
    record = client.get(f"/inbox/credit_application/{aid}")
    assert record.status_code == 200
    text = record.get_data(as_text=True)
    assert "上海华兴精密机械有限公司" in text and 'data-step="copy"' in text
    assert client.get(f"/inbox/credit_application/{other}").status_code == 404
    assert client.get(f"/sales/credit/{aid}").status_code in (403, 404)  # not the full file
    with app.app_context():
        assert db.session.scalar(db.select(AuditEntry.id).where(
            AuditEntry.object_type == "credit_application", AuditEntry.object_id == str(aid),
            AuditEntry.username == "finance", AuditEntry.action == "view")) is not None


def test_only_a_party_copies_and_only_real_colleagues(app, client, staff, make_customer,
                                                     make_application):
    customer = make_customer("上海华兴精密机械有限公司", staff[Role.SALES_REP])
    aid = make_application(customer, staff[Role.SALES_REP], state="submitted")
    url = f"/inbox/credit_application/{aid}/copy"
    login_fast(client, app, staff["rep_b"])  # neither started it nor took a step
    assert post(client, url, {"user_ids": [staff[Role.FINANCE].id]}).status_code == 404
    login_fast(client, app, staff[Role.SALES_REP])
    for ids in ([], [staff[Role.SALES_REP].id], ["x"], [2**40], [99999]):
        post(client, url, {"user_ids": ids})
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(WorkflowCopy)) == 0
