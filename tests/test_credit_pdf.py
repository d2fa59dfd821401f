"""The signed record 客户资信额度审批表 (issue 4, item 8): the application, its basis, the
decision and the full history with actors, in Chinese, from the real route; hostile field
content brings nothing in."""
from __future__ import annotations

import io
import socket
from datetime import UTC, datetime

import pytest
from conftest import login_fast, post
from pypdf import PdfReader
from test_pdf import font_names, pdf_text

from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import CreditApplication, Customer


@pytest.fixture
def decided(app, client, staff, make_customer, make_application, frozen):
    cid = make_customer("上海华东精密机械有限公司", staff[Role.SALES_REP])
    aid = make_application(cid, staff[Role.SALES_REP], state="submitted", grade="1",
                           limit="300000", reason="年销售额稳定，回款及时")
    login_fast(client, app, staff[Role.SALES_MANAGER])
    post(client, f"/sales/credit/{aid}/transition", {"event": "forward", "version": 1})
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    post(client, f"/sales/credit/{aid}/transition",
         {"event": "approve", "version": 2, "amount": "250000", "comment": "同意，按二十五万执行"})
    with app.app_context():
        assert db.session.get(CreditApplication, aid).state == "approved"
    return aid


def test_k6_pdf_record_has_application_basis_decision_and_history(app, client, staff,
                                                                   decided):
    login_fast(client, app, staff[Role.ARCHIVIST])  # archivists print decided records
    response = client.get(f"/sales/credit/{decided}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    data = response.get_data()
    text = pdf_text(data)
    for expected in ("客户资信额度审批表", "上海华东精密机械有限公司", "一级", "300,000.00",
                     "250,000.00", "同意，按二十五万执行", "年销售额稳定，回款及时",
                     "总经理", "销售经理", "已批准"):
        assert expected in text, expected
    with app.app_context():
        number = db.session.get(CreditApplication, decided).number
    assert number in text and "SHA-256" in text
    assert any("Noto-Sans-CJK-SC" in name for name in font_names(data))


def test_k6_pdf_of_an_open_application_is_not_for_the_archive(app, client, staff,
                                                              make_customer, make_application):
    cid = make_customer("上海华东精密机械有限公司", staff[Role.SALES_REP])
    aid = make_application(cid, staff[Role.SALES_REP], state="draft")
    login_fast(client, app, staff[Role.ARCHIVIST])
    assert client.get(f"/sales/credit/{aid}/pdf").status_code == 404
    login_fast(client, app, staff["rep_b"])
    assert client.get(f"/sales/credit/{aid}/pdf").status_code == 404


def test_k6_pdf_with_hostile_fields_has_no_foreign_content_and_opens_no_socket(
        app, client, staff, decided, monkeypatch):
    hostile = ('<img src="file:///etc/passwd"><link rel="attachment" href="file:///etc/passwd">'
               '<img src="http://169.254.169.254/latest/meta-data/">')
    with app.app_context():
        application = db.session.get(CreditApplication, decided)
        application.reason = hostile
        db.session.get(Customer, application.customer_id).name = "恶意公司" + hostile
        db.session.commit()
    opened = []

    def no_network(self, address):
        opened.append(address)
        raise OSError("network disabled in this test")
    monkeypatch.setattr(socket.socket, "connect", no_network)
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    data = client.get(f"/sales/credit/{decided}/pdf").get_data()
    assert opened == []
    reader = PdfReader(io.BytesIO(data))
    # the one attachment is the record's own data: the hostile link attached no file
    assert list(reader.attachments) == ["record.json"]
    assert b"root:" not in reader.attachments["record.json"][0]
    text = pdf_text(data)
    assert "root:" not in text
    assert "file:///etc/passwd" in text.replace("\n", "")  # shown as text, escaped, inert
    assert sum(len(page.images) for page in reader.pages) == 0


def test_k6_pdf_export_is_audited(app, client, staff, decided):
    from intranet.models import AuditEntry
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    client.get(f"/sales/credit/{decided}/pdf")
    with app.app_context():
        rows = db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.action == "export", AuditEntry.object_type == "credit_application",
            AuditEntry.object_id == str(decided))).all()
    assert len(rows) == 1


def test_k6_pdf_generation_time_is_shown_in_the_company_zone(app, client, staff, decided,
                                                             frozen):
    frozen(datetime(2026, 11, 20, 6, 30, tzinfo=UTC))
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    text = pdf_text(client.get(f"/sales/credit/{decided}/pdf").get_data())
    assert "2026-11-20 14:30" in text
