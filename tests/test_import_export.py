"""Import customers (C1, C2) and transactions (C9) all-or-nothing with a per-row report;
export the filtered list to XLSX, audited (C6)."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from conftest import csrf_token, login_fast
from openpyxl import Workbook, load_workbook

from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import AuditEntry, Customer, Order, Payment, Shipment

HEADER = "公司名称,统一社会信用代码,地区,联系人,联系电话,负责人\n"


def upload(client, url, content: bytes, filename: str):
    """A multipart POST built in memory (Werkzeug's test builder spools big bodies to a
    temporary file it never closes)."""
    boundary = "----intranet-test-boundary"
    parts = [
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
        f"{csrf_token(client)}\r\n".encode(),
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
        f"filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        .encode() + content + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    return client.post(url, data=b"".join(parts),
                       content_type=f"multipart/form-data; boundary={boundary}")


def xlsx(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_c2_import_with_any_bad_row_writes_nothing_and_reports_each_problem(app, client,
                                                                            staff,
                                                                            make_customer):
    make_customer("已存在机械有限公司", staff["rep_b"])
    login_fast(client, app, staff[Role.SALES_REP])
    csv_text = HEADER + (
        "好客户有限公司,91350100M000100Y43,上海,王,13800000001,\n"
        "坏代码有限公司,91350100M000100Y44,上海,,,\n"
        "已存在机械（股份）有限公司,,上海,,,\n"
        "好客户股份有限公司,,上海,,,\n"
        "电话不对有限公司,,上海,,12,\n")
    response = upload(client, "/sales/customers/import", csv_text.encode("utf-8-sig"),
                      "customers.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "未导入任何数据" in page
    for expected in ("<td>3</td><td>统一社会信用代码</td>", "已登记：已存在机械有限公司",
                     "与第 2 行是同一客户", "<td>6</td><td>联系电话</td>"):
        assert expected in page, expected
    assert count(app, Customer) == 1


def test_c1_clean_import_writes_every_row_with_the_importer_as_owner(app, client, staff):
    login_fast(client, app, staff[Role.SALES_REP])
    rows = [["公司名称", "统一社会信用代码", "地区", "联系人", "联系电话"],
            ["导入一号有限公司", "91350100M000100Y43", "福州", "林", "13900000001"],
            ["导入二号有限公司", None, "厦门", None, None]]
    response = upload(client, "/sales/customers/import", xlsx(rows), "customers.xlsx")
    assert response.status_code == 200 and "全部 2 行已导入" in response.get_data(as_text=True)
    with app.app_context():
        customers = db.session.scalars(db.select(Customer).order_by(Customer.id)).all()
        assert [c.owner_id for c in customers] == [staff[Role.SALES_REP].id] * 2
        assert customers[0].contacts[0].phone_digits == "13900000001"
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "create", AuditEntry.object_type == "customer")) == 2


def test_import_rejects_files_that_are_not_what_they_claim(app, client, staff):
    login_fast(client, app, staff[Role.SALES_REP])
    fake = upload(client, "/sales/customers/import", b"<html>not excel</html>", "x.xlsx")
    assert fake.status_code == 422 and "不是 Excel" in fake.get_data(as_text=True)
    wrong = upload(client, "/sales/customers/import", b"MZ\x90\x00", "virus.exe")
    assert wrong.status_code == 200 and "请上传 .xlsx 或 .csv 文件" in wrong.get_data(as_text=True)
    gbk = (HEADER + "国标编码有限公司,,北京,,,\n").encode("gbk")
    assert upload(client, "/sales/customers/import", gbk, "gbk.csv").status_code == 200
    assert count(app, Customer) == 1


def test_rep_cannot_assign_owners_in_an_import(app, client, staff):
    login_fast(client, app, staff[Role.SALES_REP])
    text = HEADER + "别人的有限公司,,上海,,,repb\n"
    response = upload(client, "/sales/customers/import", text.encode(), "c.csv")
    assert response.status_code == 422 and count(app, Customer) == 0
    manager = app.test_client()
    login_fast(manager, app, staff[Role.SALES_MANAGER])
    assert upload(manager, "/sales/customers/import", text.encode(), "c.csv").status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(Customer.owner_id)) == staff["rep_b"].id


def test_c9_transactions_import_all_or_nothing_then_tiers_follow(app, client, staff,
                                                                 make_customer):
    customer_id = make_customer("交易导入有限公司", staff[Role.SALES_REP])
    login_fast(client, app, staff[Role.FINANCE])
    header = "类型,客户,日期,金额,单号\n"
    bad = header + ("订单,交易导入有限公司,2026-10-01,600000,SO1\n"
                    "发货,不存在的公司,2026-10-03,600000,\n"
                    "回款,交易导入有限公司,2026-13-01,abc,\n")
    response = upload(client, "/finance/transactions/import", bad.encode(), "t.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<td>3</td><td>客户</td>" in page and "<td>4</td><td>日期</td>" in page
    assert "<td>4</td><td>金额</td>" in page
    assert count(app, Order) == count(app, Shipment) == count(app, Payment) == 0
    good = header + ("订单,交易导入有限公司,2026-10-01,600000,SO1\n"
                     "发货,交易导入有限公司,2026-10-03,600000.00,\n"
                     "回款,交易导入有限公司,2026/10/20,\"600,000\",\n")
    response = upload(client, "/finance/transactions/import", good.encode(), "t.csv")
    assert response.status_code == 200
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        assert customer.sales_12m == Decimal("600000.00") and customer.tier == "vip"
    again = upload(client, "/finance/transactions/import", good.encode(), "t.csv")
    assert again.status_code == 422 and "该订单号已存在" in again.get_data(as_text=True)


def test_c6_export_is_xlsx_of_the_filtered_own_list_and_audited(app, client, staff,
                                                                make_customer):
    make_customer("导出一号有限公司", staff[Role.SALES_REP])
    make_customer("=HYPERLINK(\"http://evil\")有限公司", staff[Role.SALES_REP])
    make_customer("别人的导出有限公司", staff["rep_b"])
    login_fast(client, app, staff[Role.SALES_REP])
    response = client.get("/sales/customers/export?q=导出")
    # issue 13: named in Chinese with the day, an ASCII name beside it
    from urllib.parse import quote

    from intranet.core import clock, settings
    with app.app_context():
        day = clock.now().astimezone(settings.tz()).date().isoformat()
    disposition = response.headers["Content-Disposition"]
    assert quote(f"客户列表-{day}.xlsx") in disposition
    assert f'filename="customers-{day}.xlsx"' in disposition
    sheet = load_workbook(io.BytesIO(response.data)).active
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["导出一号有限公司"]
    everything = client.get("/sales/customers/export")
    cells = [row[0] for row in load_workbook(io.BytesIO(everything.data)).active.iter_rows(
        min_row=2, values_only=True)]
    assert all(not str(c).startswith("=") for c in cells) and len(cells) == 2
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "export"))
        assert entry.username == "rep" and '"q": "导出"' in entry.details


@pytest.mark.parametrize("role", [Role.SERVICE_DESK, Role.GENERAL_MANAGER, Role.ADMIN])
def test_only_sales_imports_customers(app, client, staff, role):
    login_fast(client, app, staff[role])
    assert client.get("/sales/customers/import").status_code == 403


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_c1_attachments_checked_by_content_and_served_only_as_downloads(app, client, staff,
                                                                        make_customer):
    from intranet.models import Attachment
    customer_id = make_customer("附件测试有限公司", staff[Role.SALES_REP])
    login_fast(client, app, staff[Role.SALES_REP])
    url = f"/sales/customers/{customer_id}/attachments"
    html = b"<html><script>alert(1)</script></html>"
    upload(client, url, html, "licence.pdf")  # a PDF name does not make it a PDF
    upload(client, url, b"%PDF-" + b"x" * (5 * 1024 * 1024), "huge.pdf")
    assert count(app, Attachment) == 0
    page = upload(client, url, PDF, "营业执照.pdf")
    assert page.status_code == 302
    with app.app_context():
        attachment = db.session.scalar(db.select(Attachment))
        assert (attachment.kind, attachment.filename) == ("pdf", "营业执照.pdf")
    download = client.get(f"{url}/{attachment.id}")
    assert download.data == PDF
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in download.headers["Content-Security-Policy"]
    other = app.test_client()
    login_fast(other, app, staff["rep_b"])
    assert other.get(f"{url}/{attachment.id}").status_code == 404  # C6 scoping
    with app.app_context():
        assert db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.object_type == "attachment", AuditEntry.action == "export")) is not None


def test_19_upload_over_the_request_limit_is_413(app, client, staff, make_customer):
    customer_id = make_customer("超大附件有限公司", staff[Role.SALES_REP])
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    login_fast(client, app, staff[Role.SALES_REP])
    response = upload(client, f"/sales/customers/{customer_id}/attachments",
                      PDF + b"0" * (2 * 1024 * 1024), "big.pdf")
    assert response.status_code == 413
