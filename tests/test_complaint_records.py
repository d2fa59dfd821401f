"""The case ledger (rules P1, P2, P5, P6): filters, figures, the XLSX export, the monthly
ledger PDF and the case record PDF, and hostile text made inert in all of them."""
from __future__ import annotations

import io
import socket
from datetime import UTC, datetime, timedelta

import pytest
from conftest import login_fast, post
from openpyxl import load_workbook
from pypdf import PdfReader

from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import AuditEntry, ServiceCase

MONDAY_10 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
HOSTILE = ('<script>alert(1)</script><img src="file:///etc/passwd">'
           '<link rel="attachment" href="file:///etc/passwd">=HYPERLINK("http://evil")')


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def numbers_on(page: str) -> set[str]:
    import re

    return set(re.findall(r"TS-\d{4}-\d{6}", page))


def number(app, case_id) -> str:
    with app.app_context():
        return db.session.get(ServiceCase, case_id).number


@pytest.fixture
def cases(app, staff, frozen, make_user, make_customer, make_case):
    frozen(MONDAY_10)
    accused = make_user("accused", Role.SERVICE_DESK, department="service")
    customer = make_customer("上海华东机械有限公司", staff[Role.SALES_REP])
    made = {
        "consultation": make_case("registered", kind="consultation", channel="online"),
        "severe": make_case("investigating", severity="severe", customer_id=customer),
        "against": make_case("assigned", subjects=[accused]),
        "closed": make_case("closed", channel="letter"),
    }
    return made, accused


@pytest.mark.parametrize(("query", "expected"), [
    ("", {"consultation", "severe", "against", "closed"}),
    ("kind=consultation", {"consultation"}),
    ("channel=letter", {"closed"}),
    ("severity=severe", {"severe"}),
    ("state=closed", {"closed"}),
    ("q=华东", {"severe"}),
    ("q=TS-2026-000003", {"against"}),
    ("overdue=1", {"consultation", "severe", "against"}),  # checked a month later
    ("since=2026-11-03", set()),
    ("until=2026-11-02", {"consultation", "severe", "against", "closed"}),
])
def test_p1_the_ledger_filters_every_case(app, client, staff, frozen, cases, query, expected):
    made, _ = cases
    frozen(MONDAY_10 + timedelta(days=30))
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    page = client.get(f"/service/ledger?{query}").get_data(as_text=True)
    assert numbers_on(page) == {number(app, made[k]) for k in expected}


def test_p1_the_ledger_filters_by_handler_department_and_person_complained_about(
        app, client, staff, cases):
    made, accused = cases
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    handler = staff[Role.COMPLAINT_HANDLER].id
    page = client.get(f"/service/ledger?handler={handler}").get_data(as_text=True)
    assert numbers_on(page) == {number(app, made[k]) for k in ("severe", "against", "closed")}
    page = client.get(f"/service/ledger?subject={accused.id}").get_data(as_text=True)
    assert numbers_on(page) == {number(app, made["against"])}
    department = staff[Role.SALES_MANAGER].department_id
    page = client.get(f"/service/ledger?department={department}").get_data(as_text=True)
    assert numbers_on(page) == {number(app, made[k]) for k in made}


def test_p2_the_person_complained_about_cannot_look_up_the_cases_against_them(
        app, client, staff, cases):
    made, accused = cases
    login_fast(client, app, accused)
    page = client.get("/service/ledger").get_data(as_text=True)
    assert f'<option value="{accused.id}"' not in page.split('name="subject"')[1].split(
        "</select>")[0]
    own = client.get(f"/service/ledger?subject={accused.id}").get_data(as_text=True)
    assert numbers_on(own) == {number(app, made[k]) for k in made}  # the filter is ignored


def test_p5_the_ledger_figures(app, client, staff, frozen, make_case):
    frozen(MONDAY_10)
    first = make_case("registered", kind="consultation")
    second = make_case("registered", kind="consultation")
    make_case("closed")  # investigation started at once, replied at once
    login_fast(client, app, staff[Role.SERVICE_DESK])
    for case_id, hours in ((first, 2), (second, 30)):
        frozen(MONDAY_10 + timedelta(hours=hours))
        login_fast(client, app, staff[Role.SERVICE_DESK])
        with app.app_context():
            version = db.session.get(ServiceCase, case_id).version
        assert post(client, f"/service/cases/{case_id}/transition", {
            "event": "answer", "version": str(version), "comment": "已答复"}).status_code == 302
    from intranet.complaints import ledger
    with app.test_request_context():
        from flask_login import login_user

        from intranet.models import User
        user = db.session.get(User, staff[Role.SERVICE_DESK].id)
        login_user(user)
        figures = ledger.figures(ledger.query(ledger.read_filters({}, user), user))
    assert figures.total == 3 and figures.by_kind == {"consultation": 2, "complaint": 1}
    # first answers: 2 h, 30 h and the complaint's 0 h → median 2 h
    assert figures.median_first_answer_hours == 2.0
    # kept: answer at 2 h, the three promised dates, investigation, reply; not: answer at
    # 30 h → 6 of 7
    assert figures.within_deadline_percent == 85.7
    page = client.get("/service/ledger/figures", headers={"HX-Request": "true"})
    assert 'data-testid="within-deadline">85.7 %' in page.get_data(as_text=True)
    only = client.get("/service/ledger/figures?kind=consultation").get_data(as_text=True)
    assert "<dt>案件</dt><dd>2</dd>" in only and "<html" in only  # a page of its own too


def test_p1_the_export_is_audited_and_its_formulas_stay_text(app, client, staff, frozen,
                                                            make_case):
    frozen(MONDAY_10)
    case_id = make_case("registered")
    with app.app_context():
        db.session.get(ServiceCase, case_id).description = HOSTILE
        db.session.commit()
    login_fast(client, app, staff[Role.SERVICE_DESK])
    response = client.get("/service/ledger/export?kind=complaint")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == number(app, case_id)
    cell = next(c for c in sheet[2] if c.value and "HYPERLINK" in str(c.value))
    assert cell.data_type == "s" and cell.value.startswith("<script>")
    with app.app_context():
        audit = db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.action == "export", AuditEntry.object_type == "case_ledger"))
    assert audit is not None and '"kind": "complaint"' in audit.details


def test_p1_the_monthly_ledger_pdf_lists_the_months_cases(app, client, staff, frozen,
                                                         make_case):
    frozen(MONDAY_10)
    november = make_case("registered")
    frozen(datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    december = make_case("registered", received_at=datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    response = client.get("/service/ledger/monthly.pdf?month=2026-11")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "案件台账 2026-11" in text and number(app, november) in text
    assert number(app, december) not in text
    for odd in ("2026-13", "x", "-1-1", "99999-01", "9999-12", "0001-01"):  # the current month
        assert client.get(f"/service/ledger/monthly.pdf?month={odd}").status_code == 200


def test_p1_a_large_month_prints_in_parts(app, client, staff, frozen, make_case, monkeypatch):
    from intranet.blueprints.service import ledger as views

    monkeypatch.setattr(views, "MONTHLY_PART", 2)
    frozen(MONDAY_10)
    ids = [make_case("registered") for _ in range(3)]
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    first = pdf_text(client.get("/service/ledger/monthly.pdf?month=2026-11").data)
    second = pdf_text(client.get("/service/ledger/monthly.pdf?month=2026-11&part=2").data)
    beyond = pdf_text(client.get("/service/ledger/monthly.pdf?month=2026-11&part=9").data)
    numbers = [number(app, i) for i in ids]
    assert all(n in first for n in numbers[:2]) and numbers[2] not in first
    assert numbers[2] in second and numbers[0] not in second and "第 2 部分，共 2 部分" in second
    assert numbers[2] in beyond  # a part past the end is the last one


def test_p8_the_case_record_holds_the_whole_case_and_hostile_text_stays_inert(
        app, client, staff, frozen, make_case, monkeypatch):
    frozen(MONDAY_10)
    case_id = make_case("closed")
    with app.app_context():
        case = db.session.get(ServiceCase, case_id)
        case.description = HOSTILE
        case.complainant_name = "恶意<script>alert(1)</script>"  # the column holds 50
        db.session.commit()
    opened = []

    def no_network(self, address):
        opened.append(address)
        raise OSError("network disabled in this test")
    monkeypatch.setattr(socket.socket, "connect", no_network)
    login_fast(client, app, staff[Role.SERVICE_DESK])
    page = client.get(f"/service/cases/{case_id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    response = client.get(f"/service/cases/{case_id}/pdf")
    assert response.status_code == 200 and opened == []
    reader = PdfReader(io.BytesIO(response.data))
    # the one attachment is the record's own data: the hostile link attached no file
    assert list(reader.attachments) == ["record.json"]
    assert b"root:" not in reader.attachments["record.json"][0]
    text = pdf_text(response.data)
    for expected in ("客户投诉处理登记表", number(app, case_id), "属实，建议退换货", "同意退换货",
                     "书面答复：已退换", "客户满意", "本案没有被投诉的员工", "SHA-256"):
        assert expected in text, expected
    assert "root:" not in text and "file:///etc/passwd" in text.replace("\n", "")
    monthly = client.get("/service/ledger/monthly.pdf?month=2026-11")
    assert monthly.status_code == 200 and opened == []
    assert list(PdfReader(io.BytesIO(monthly.data)).attachments) == ["record.json"]
    assert "恶意<script>" in pdf_text(monthly.data)


def test_p3_the_queue_shows_each_person_the_cases_waiting_on_them(app, client, staff,
                                                                   make_case):
    to_decide = make_case("awaiting_decision")
    escalated = make_case("awaiting_decision")
    handling = make_case("investigating")
    with app.app_context():
        db.session.get(ServiceCase, escalated).state = "escalated"
        db.session.commit()
    expected = {Role.SALES_MANAGER: {to_decide}, Role.GENERAL_MANAGER: {escalated},
                Role.COMPLAINT_HANDLER: {to_decide, escalated, handling}}
    for role, ids in expected.items():
        login_fast(client, app, staff[role])
        page = client.get("/service/queue").get_data(as_text=True)
        assert numbers_on(page) == {number(app, c) for c in ids}, role
