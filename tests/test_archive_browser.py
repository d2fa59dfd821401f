"""The archive browser and the customer file card (issue 11 §1-2): archivists and the GM find
closed records by type, period, department and customer, read-only; every list and open is
audited; links they see elsewhere lead somewhere they may go; the file card 客户档案表 shows a
customer as it stood at the end of a year."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from conftest import login_fast
from test_pdf import pdf_text

from intranet.core import clock
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import Activity, AuditEntry, Contact, CreditApplication


def _decided(app, make_customer, make_application, staff, name, when, **fields):
    cid = make_customer(name, staff[Role.SALES_REP])
    aid = make_application(cid, staff[Role.SALES_REP], state="approved", **fields)
    with app.app_context():
        db.session.get(CreditApplication, aid).decided_at = when
        db.session.commit()
    return cid, aid


def test_archivist_finds_closed_decisions_by_period_and_customer_not_open_ones(
        app, client, staff, make_customer, make_application):
    _, old = _decided(app, make_customer, make_application, staff, "上海旧年机械有限公司",
                      datetime(2025, 6, 1, 2, tzinfo=UTC))
    _, new = _decided(app, make_customer, make_application, staff, "北京今年电子有限公司",
                      datetime(2026, 10, 1, 2, tzinfo=UTC))
    open_cid = make_customer("广州未决贸易有限公司", staff[Role.SALES_REP])
    make_application(open_cid, staff[Role.SALES_REP], state="submitted")
    login_fast(client, app, staff[Role.ARCHIVIST])
    page = client.get("/archive/").text
    assert "上海旧年机械有限公司" in page and "北京今年电子有限公司" in page
    assert "广州未决贸易有限公司" not in page
    page = client.get("/archive/?from=2026-01-01&to=2026-12-31").text
    assert "北京今年电子有限公司" in page and "上海旧年机械有限公司" not in page
    page = client.get("/archive/?q=旧年").text
    assert "上海旧年机械有限公司" in page and "北京今年电子有限公司" not in page
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.object_type == "archive").order_by(AuditEntry.id.desc()))
        assert json.loads(entry.details)["rows"] == [old]
    page = client.get(f"/archive/?department={staff['rep_other_dept'].department_id}").text
    assert "没有" in page and "上海旧年机械有限公司" not in page
    assert new


def test_archive_record_page_is_read_only_and_audited(app, client, staff, make_customer,
                                                      make_application):
    _, aid = _decided(app, make_customer, make_application, staff, "上海只读机械有限公司",
                      datetime(2026, 10, 1, 2, tzinfo=UTC), approved_limit=80000)
    login_fast(client, app, staff[Role.ARCHIVIST])
    page = client.get(f"/archive/records/credit_application/{aid}")
    assert page.status_code == 200 and "上海只读机械有限公司" in page.text
    assert "<form" not in page.text.split('data-testid="archive-record"')[1]
    with app.app_context():
        assert db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.action == "view", AuditEntry.object_type == "credit_application",
            AuditEntry.object_id == str(aid)))
    assert client.get("/archive/records/credit_application/999999").status_code == 404
    assert client.get(f"/archive/records/nonsense/{aid}").status_code == 404
    pdf = client.get(f"/archive/records/credit_application/{aid}/pdf")
    assert pdf.status_code == 200 and "上海只读机械有限公司" in pdf_text(pdf.data)


def test_customer_page_number_links_an_archivist_to_the_archive_record(
        app, client, staff, make_customer, make_application):
    cid, aid = _decided(app, make_customer, make_application, staff, "上海链接机械有限公司",
                        datetime(2026, 10, 1, 2, tzinfo=UTC))
    login_fast(client, app, staff[Role.ARCHIVIST])
    from conftest import post
    post(client, f"/sales/customers/{cid}/access", {"reason": "档案整理"})  # rule C6
    page = client.get(f"/sales/customers/{cid}").text
    link = f"/archive/records/credit_application/{aid}"
    assert link in page
    assert client.get(link).status_code == 200


def test_p2_a_gm_complained_about_cannot_read_the_case_in_the_archive(
        app, client, staff, make_case):
    case_id = make_case("closed", subjects=[staff[Role.GENERAL_MANAGER]])
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    assert client.get(f"/archive/records/service_case/{case_id}").status_code == 404
    login_fast(client, app, staff[Role.ARCHIVIST])
    assert client.get(f"/archive/records/service_case/{case_id}").status_code == 200


def test_customer_file_card_as_it_stood_at_the_end_of_a_year(app, client, staff,
                                                             make_customer):
    clock.freeze(datetime(2025, 3, 1, 2, tzinfo=UTC))
    cid = make_customer("上海档案表机械有限公司", staff[Role.SALES_REP])
    with app.app_context():
        db.session.add(Contact(customer_id=cid, name="张经理", phone="13800000001"))
        db.session.add(Activity(customer_id=cid, user_id=staff[Role.SALES_REP].id,
                                kind="visit", occurred_at=datetime(2025, 12, 31, 15, 59,
                                                                   tzinfo=UTC),
                                summary="年底拜访"))
        db.session.add(Activity(customer_id=cid, user_id=staff[Role.SALES_REP].id,
                                kind="visit", occurred_at=datetime(2025, 12, 31, 16, 1,
                                                                   tzinfo=UTC),
                                summary="新年第一访"))  # 2026-01-01 00:01 in Shanghai
        db.session.commit()
    clock.freeze(datetime(2026, 11, 2, 2, tzinfo=UTC))
    login_fast(client, app, staff[Role.ARCHIVIST])
    last_year = client.get(f"/archive/customers/{cid}?year=2025").text
    assert "年底拜访" in last_year and "新年第一访" not in last_year and "张经理" in last_year
    now = client.get(f"/archive/customers/{cid}").text
    assert "年底拜访" in now and "新年第一访" in now
    pdf = client.get(f"/archive/customers/{cid}/pdf?year=2025")
    text = pdf_text(pdf.data)
    assert "客户档案表" in text and "上海档案表机械有限公司" in text and "张经理" in text
    assert "新年第一访" not in text and f"KH-{cid:06d}-2025" in text


def test_archivist_home_counts_records_closed_since_the_last_export_with_working_links(
        app, client, staff, make_customer, make_application, frozen):
    from datetime import date

    from intranet.models import ArchiveExport
    _decided(app, make_customer, make_application, staff, "上海已导出机械有限公司",
             datetime(2026, 10, 15, 2, tzinfo=UTC))
    _decided(app, make_customer, make_application, staff, "上海未导出机械有限公司",
             datetime(2026, 11, 1, 2, tzinfo=UTC))
    login_fast(client, app, staff[Role.ARCHIVIST])
    home = client.get("/").text
    assert "尚未导出的结案记录" in home and "客户资信额度审批表 2" in home
    with app.app_context():
        db.session.add(ArchiveExport(requested_by_id=staff[Role.ARCHIVIST].id,
                                     record_types="credit_application",
                                     period_start=date(2026, 10, 1),
                                     period_end=date(2026, 10, 31), state="done"))
        db.session.commit()
    home = client.get("/").text.replace("&amp;", "&")
    assert "上次导出（2026-10-31）以来结案" in home and "客户资信额度审批表 1" in home
    link = "/archive/?type=credit_application&from=2026-11-01"
    assert link in home
    page = client.get(link).text
    assert "上海未导出机械有限公司" in page and "上海已导出机械有限公司" not in page


def test_sales_staff_do_not_reach_the_archive(app, client, staff):
    login_fast(client, app, staff[Role.SALES_REP])
    assert client.get("/archive/").status_code == 403
    assert "/archive/" not in client.get("/").text.replace("/archive/verify", "")


def _seal_2025(app, staff):
    from intranet.archive import sealing
    from intranet.models import User
    with app.test_request_context():
        sealing.seal(2025, db.session.get(User, staff[Role.ARCHIVIST].id), "年度归档")
        db.session.commit()


def test_c7_a_sealed_years_file_card_opens_only_with_a_grant_and_each_opening_is_logged(
        app, client, staff, make_customer, frozen):
    from test_sealed_files import _fire, _request
    clock.freeze(datetime(2025, 3, 1, 2, tzinfo=UTC))
    cid = make_customer("上海封存档案机械有限公司", staff[Role.SALES_REP])
    frozen(datetime(2026, 11, 2, 1, tzinfo=UTC))
    _seal_2025(app, staff)
    login_fast(client, app, staff[Role.ARCHIVIST])
    refused = client.get(f"/archive/customers/{cid}?year=2025")
    assert refused.status_code == 403 and "/archive/access/new" in refused.text
    assert client.get(f"/archive/customers/{cid}/pdf?year=2025").status_code == 403
    assert client.get(f"/archive/customers/{cid}").status_code == 200  # this year: open
    request_id = _request(app, staff[Role.ARCHIVIST], cid, year=2025, days=3)
    _fire(app, staff[Role.GENERAL_MANAGER], request_id, "approve", "同意")
    login_fast(client, app, staff[Role.ARCHIVIST])
    assert client.get(f"/archive/customers/{cid}?year=2025").status_code == 200
    pdf = client.get(f"/archive/customers/{cid}/pdf?year=2025")
    assert pdf.status_code == 200 and "上海封存档案机械有限公司" in pdf_text(pdf.data)
    with app.app_context():
        openings = db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.object_type == "sealed_file", AuditEntry.action == "view")).all()
        assert len(openings) == 2
    login_fast(client, app, staff[Role.GENERAL_MANAGER])  # the grant is the archivist's
    assert client.get(f"/archive/customers/{cid}?year=2025").status_code == 403


def test_c7_records_of_a_sealed_year_leave_the_archive_lists_and_pages(
        app, client, staff, make_customer, make_application, frozen):
    frozen(datetime(2026, 11, 2, 1, tzinfo=UTC))
    _, sealed_id = _decided(app, make_customer, make_application, staff,
                            "上海封存年度机械有限公司", datetime(2025, 6, 1, 2, tzinfo=UTC))
    _, open_id = _decided(app, make_customer, make_application, staff,
                          "北京未封存电子有限公司", datetime(2026, 6, 1, 2, tzinfo=UTC))
    _seal_2025(app, staff)
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    page = client.get("/archive/?q=有限公司").text
    assert "北京未封存电子有限公司" in page and "上海封存年度机械有限公司" not in page
    assert client.get(f"/archive/records/credit_application/{sealed_id}").status_code == 403
    assert client.get(
        f"/archive/records/credit_application/{sealed_id}/pdf").status_code == 403
    assert client.get(f"/archive/records/credit_application/{open_id}").status_code == 200
