"""The report package (rules Q1, Q2, C6): the reports each period asks for and their due days
under a frozen clock, the small workflow (submit, send back, accept; the submitter never
accepts), reminders, figures counted by hand from a small data set, frozen at submission, the
readers of each report, and the signed PDF with its charts' Chinese labels as text."""
import base64
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from intranet.core import jobs, settings
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import (
    Activity,
    Customer,
    Notification,
    Order,
    Payment,
    Report,
    Shipment,
    TierChange,
    WorkflowHistory,
)
from intranet.workflows import engine
from tests.conftest import login_fast, post

Q3_CLOSED = datetime(2026, 10, 1, 1, tzinfo=UTC)  # 09:00 on 1 October in Shanghai


def run(app, job: str) -> int:
    with app.test_request_context():
        return jobs.JOBS[job]()


def reports(app) -> dict[tuple[str, int | None], Report]:
    with app.app_context():
        rows = db.session.scalars(db.select(Report).order_by(Report.id)).all()
        db.session.expunge_all()
        return {(r.kind, r.department_id): r for r in rows}


def charts(client, report_id: int) -> dict[str, tuple[str, list[list[str]], str]]:
    """{chart key: (the SVG, the table's rows of cells, the note)} of a report's page."""
    response = client.get(f"/management/reports/{report_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    found = {}
    for key, body in re.findall(r'data-chart="(\w+)">(.*?)</section>', page, re.S):
        uri = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', body)
        svg = base64.b64decode(uri.group(1)).decode() if uri else ""
        rows = [re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row)
                for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>")[-1], re.S)]
        note = re.search(r'<p class="muted">([^<]*)</p>', body)
        found[key] = (svg, rows if "<tbody>" in body else [], note.group(1) if note else "")
    return found


@pytest.fixture
def customers(staff, make_customer):
    """A customer in each sales department: a department without any writes no report."""
    make_customer("上海客户有限公司", staff[Role.SALES_REP])
    make_customer("南京客户有限公司", staff["rep_other_dept"])


# --- rule Q1: what each period asks for, by when -------------------------------------------

def test_q1_after_the_quarter_each_report_is_prepared_with_its_due_day(app, staff, frozen,
                                                                       customers, make_user):
    make_user("deputy", Role.SALES_MANAGER, department="gmo")  # an office without customers
    frozen(Q3_CLOSED)
    assert run(app, "report_package") == 4  # two department reports (one department has a
    found = reports(app)                    # manager) and two company reports
    dept = staff[Role.SALES_MANAGER].department_id
    assert {key: (r.period_start, r.period_end, r.due_on) for key, r in found.items()} == {
        ("credit_sales", dept): (date(2026, 7, 1), date(2026, 9, 30), date(2026, 10, 6)),
        ("consolidated", None): (date(2026, 7, 1), date(2026, 9, 30), date(2026, 10, 8)),
        ("visit_market", dept): (date(2026, 7, 1), date(2026, 9, 30), date(2026, 10, 10)),
        ("archive_visit", None): (date(2026, 7, 1), date(2026, 9, 30), date(2026, 10, 15))}
    # due at the end of the due day, company time (16:00 UTC is midnight in Shanghai)
    assert found["credit_sales", dept].due_at.replace(tzinfo=UTC) == datetime(
        2026, 10, 6, 16, tzinfo=UTC)
    assert {r.state for r in found.values()} == {"draft"}
    assert run(app, "report_package") == 0  # a second run adds nothing
    with app.app_context():  # its authors are told: the manager, and the archive room
        told = dict(db.session.execute(db.select(Notification.user_id, db.func.count()).where(
            Notification.kind == "report_prepared").group_by(Notification.user_id)).all())
    assert told == {staff[Role.SALES_MANAGER].id: 2, staff[Role.ARCHIVIST].id: 2}


def test_q1_the_last_day_of_the_quarter_still_asks_for_the_quarter_before(app, staff, frozen,
                                                                          customers):
    frozen(datetime(2026, 9, 30, 15, 59, tzinfo=UTC))  # 23:59 on 30 September in Shanghai
    run(app, "report_package")
    assert {r.period_start for r in reports(app).values()} == {date(2026, 4, 1)}


def test_q1_due_days_and_a_monthly_cycle_are_settings(app, staff, frozen,
                                                      customers):
    frozen(datetime(2026, 11, 2, 1, tzinfo=UTC))
    with app.test_request_context():
        assert settings.update({"report_cycle": "1", "report_due_credit_sales": "5"}) == {}
        db.session.commit()
    run(app, "report_package")
    found = reports(app)
    dept = staff[Role.SALES_MANAGER].department_id
    assert (found["credit_sales", dept].period_start, found["credit_sales", dept].period_end,
            found["credit_sales", dept].due_on, found["credit_sales", dept].months) == (
        date(2026, 10, 1), date(2026, 10, 31), date(2026, 11, 5), 1)
    assert found["archive_visit", None].due_on == date(2026, 11, 15)


def test_q1_authors_are_reminded_before_the_due_day_and_once_overdue(app, staff, frozen,
                                                                     customers):
    frozen(Q3_CLOSED)
    run(app, "report_package")
    manager, gm = staff[Role.SALES_MANAGER].id, staff[Role.GENERAL_MANAGER].id

    def told(kind):
        with app.app_context():
            return sorted(db.session.scalars(db.select(Notification.user_id).where(
                Notification.kind == kind)))
    assert run(app, "report_reminders") == 0  # 1 October: nothing due within three days
    frozen(datetime(2026, 10, 3, 1, tzinfo=UTC))  # three days before the 6th
    assert run(app, "report_reminders") == 1
    assert told("report_due") == [manager]
    assert run(app, "report_reminders") == 0  # not twice
    frozen(datetime(2026, 10, 6, 16, 1, tzinfo=UTC))  # just after the end of the 6th
    run(app, "report_reminders")
    assert told("report_overdue") == sorted([manager, gm])


# --- the workflow ------------------------------------------------------------------------

@pytest.fixture
def prepared(app, staff, frozen, customers):
    frozen(Q3_CLOSED)
    run(app, "report_package")
    return {key: r.id for key, r in reports(app).items()}


def test_q1_the_manager_submits_the_gm_sends_back_then_accepts(app, client, staff, prepared):
    dept = staff[Role.SALES_MANAGER].department_id
    report_id = prepared["credit_sales", dept]
    url = f"/management/reports/{report_id}"
    login_fast(client, app, staff[Role.SALES_MANAGER])
    assert post(client, f"{url}/text", {"text": "第三季度销售增长"}).status_code == 302  # v2
    refused = post(client, f"{url}/transition", {"event": "submit", "version": "2", "text": " "})
    assert refused.status_code == 422 and "请先写好" in refused.get_data(as_text=True)
    assert post(client, f"{url}/transition", {"event": "submit", "version": "2",
                                              "text": "第三季度增长，回款良好"}).status_code == 302
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    blank = post(client, f"{url}/transition", {"event": "send_back", "version": "3"})
    assert blank.status_code == 422  # sending back needs a reason
    assert post(client, f"{url}/transition", {"event": "send_back", "version": "3",
                                              "comment": "请补充回款分析"}).status_code == 302
    login_fast(client, app, staff[Role.SALES_MANAGER])
    assert "请补充回款分析" in client.get(url).get_data(as_text=True)
    assert post(client, f"{url}/transition", {"event": "submit", "version": "4",
                                              "text": "已补充回款分析"}).status_code == 302
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    # resubmitted, not reviewed yet: the earlier reason is in the history, not the verdict
    assert 'data-testid="decision"' not in client.get(url).get_data(as_text=True)
    assert post(client, f"{url}/transition", {"event": "accept", "version": "5"}
                ).status_code == 302
    with app.app_context():
        row = db.session.get(Report, report_id)
        assert (row.state, row.text, row.decided_by_id) == (
            "accepted", "已补充回款分析", staff[Role.GENERAL_MANAGER].id)
        events = db.session.scalars(db.select(WorkflowHistory.event).where(
            WorkflowHistory.object_type == "report", WorkflowHistory.object_id == report_id)
            .order_by(WorkflowHistory.id)).all()
    assert events == ["created", "submit", "send_back", "submit", "accept"]


def test_q1_whoever_submitted_never_accepts(app, staff, make_user, prepared):
    both = make_user("boss", Role.SALES_MANAGER, Role.GENERAL_MANAGER)  # same department
    report_id = prepared["credit_sales", staff[Role.SALES_MANAGER].department_id]
    with app.test_request_context():
        from intranet.models import User
        row, user = db.session.get(Report, report_id), db.session.get(User, both.id)
        engine.fire(row, "submit", user=user, text="分析")
        assert engine.available_events(row, user) == []
        with pytest.raises(engine.NotAllowed):
            engine.fire(row, "accept", user=user)
        gm = db.session.get(User, staff[Role.GENERAL_MANAGER].id)
        assert set(engine.available_events(row, gm)) == {"accept", "send_back"}


def test_q1_only_the_author_writes_and_only_the_gm_decides(app, client, staff, prepared):
    dept = staff[Role.SALES_MANAGER].department_id
    company = prepared["consolidated", None]
    department = prepared["credit_sales", dept]
    login_fast(client, app, staff[Role.GENERAL_MANAGER])  # the GM reads, but writes no draft
    assert client.get(f"/management/reports/{department}").status_code == 200
    assert post(client, f"/management/reports/{department}/text",
                {"text": "x"}).status_code == 403  # not an author's role
    login_fast(client, app, staff[Role.SALES_MANAGER])  # a company report is not the manager's
    assert client.get(f"/management/reports/{company}").status_code == 404
    login_fast(client, app, staff[Role.ARCHIVIST])  # the archive room writes it
    assert post(client, f"/management/reports/{company}/transition",
                {"event": "submit", "version": "1", "text": "档案维护正常"}).status_code == 302
    assert post(client, f"/management/reports/{department}/transition",
                {"event": "submit", "version": "1", "text": "x"}).status_code == 409


def test_c6_each_reader_lists_the_reports_they_may_read(app, client, staff, make_user, frozen,
                                                        customers):
    manager2 = make_user("manager2", Role.SALES_MANAGER, department="sales2")
    frozen(Q3_CLOSED)
    run(app, "report_package")
    found = reports(app)
    assert len(found) == 6  # both departments now have a manager

    def listed(user):
        login_fast(client, app, user)
        page = client.get("/management/reports").get_data(as_text=True)
        return {int(i) for i in re.findall(r'data-report="(\d+)"', page)}
    dept1, dept2 = staff[Role.SALES_MANAGER].department_id, manager2.department_id
    assert listed(staff[Role.SALES_MANAGER]) == {r.id for (k, d), r in found.items()
                                                  if d == dept1}
    assert listed(manager2) == {r.id for (k, d), r in found.items() if d == dept2}
    assert listed(staff[Role.GENERAL_MANAGER]) == {r.id for r in found.values()}
    company = {r.id for (k, d), r in found.items() if d is None}
    assert {int(i) for i in re.findall(r'data-report="(\d+)"', client.get(
        "/management/reports?department=company").get_data(as_text=True))} == company
    assert listed(staff[Role.ARCHIVIST]) == {r.id for r in found.values()}
    login_fast(client, app, staff[Role.SALES_MANAGER])
    other = found["credit_sales", dept2].id
    assert client.get(f"/management/reports/{other}").status_code == 404
    assert client.get(f"/management/reports/{other}/pdf").status_code == 404
    for role in (Role.SALES_REP, Role.SERVICE_DESK, Role.FINANCE):
        login_fast(client, app, staff[role])
        assert client.get("/management/reports").status_code == 403


def test_q1_the_reports_wait_in_their_authors_and_the_gm_s_inboxes(app, client, staff,
                                                                  prepared, frozen):
    from intranet.models import User
    from intranet.workflows import inbox
    with app.test_request_context():
        manager = db.session.get(User, staff[Role.SALES_MANAGER].id)
        waiting = {(r.kind, r.id) for r in db.session.execute(inbox.waiting(manager))}
        dept = manager.department_id
        assert waiting >= {("report", prepared["credit_sales", dept]),
                           ("report", prepared["visit_market", dept])}
        engine.fire(db.session.get(Report, prepared["credit_sales", dept]), "submit",
                    user=manager, text="分析")
        db.session.commit()
        gm = db.session.get(User, staff[Role.GENERAL_MANAGER].id)
        assert {(r.kind, r.id) for r in db.session.execute(inbox.waiting(gm))} == {
            ("report", prepared["credit_sales", dept])}
        # past the author's due day: late for the author, not for the GM who just got it
        frozen(datetime(2026, 10, 20, 1, tzinfo=UTC))
        late_for = {(r.kind, r.id) for r in db.session.execute(inbox.waiting(manager,
                                                                                overdue=True))}
        assert ("report", prepared["visit_market", dept]) in late_for
        assert list(db.session.execute(inbox.waiting(gm, overdue=True))) == []


# --- rule Q2: the figures, counted by hand --------------------------------------------------

@pytest.fixture
def data(app, staff, make_customer, make_case, frozen):
    """Q3 2026 in the manager's department: 甲 and 乙 (the rep's), 丙 (rep B's); another
    department: 外. Orders, shipments, payments, tier changes, visits and cases, some on
    either side of the quarter."""
    frozen(Q3_CLOSED)
    rep, rep_b, elsewhere = staff[Role.SALES_REP], staff["rep_b"], staff["rep_other_dept"]
    ids = {name: make_customer(name, owner) for name, owner in (
        ("甲", rep), ("乙", rep), ("丙", rep_b), ("外", elsewhere))}
    at = lambda y, m, d: datetime(y, m, d, 2, tzinfo=UTC)  # noqa: E731
    with app.app_context():
        for name, tier in (("甲", "vip"), ("乙", "key"), ("丙", "general"), ("外", "key")):
            db.session.get(Customer, ids[name]).tier = tier
        for n, (name, on, amount, status) in enumerate((
                ("甲", date(2026, 8, 10), "1000", "shipped"),
                ("甲", date(2026, 5, 10), "400", "shipped"),  # the quarter before
                ("甲", date(2026, 8, 11), "5000", "cancelled"),
                ("甲", date(2026, 10, 1), "7777", "open"),  # after the quarter
                ("乙", date(2026, 9, 30), "300", "open"),
                ("丙", date(2026, 7, 1), "200", "shipped"),
                ("丙", date(2026, 6, 30), "500", "shipped"),  # 丙 shrank
                ("外", date(2026, 8, 1), "9999", "shipped"))):
            db.session.add(Order(customer_id=ids[name], number=f"SO{n}", ordered_on=on,
                                 amount=Decimal(amount), status=status))
        for name, on, amount in (("甲", date(2026, 8, 10), "1000"),
                                 ("甲", date(2026, 5, 10), "400"),
                                 ("丙", date(2026, 7, 1), "200"),
                                 ("甲", date(2026, 10, 2), "50"),
                                 ("外", date(2026, 8, 1), "9999")):
            db.session.add(Shipment(customer_id=ids[name], shipped_on=on, amount=Decimal(amount)))
        for name, on, amount in (("甲", date(2026, 8, 20), "600"),
                                 ("甲", date(2026, 9, 5), "100"),
                                 ("甲", date(2026, 5, 30), "400")):
            db.session.add(Payment(customer_id=ids[name], received_on=on,
                                   amount=Decimal(amount)))
        for name, when, old, new in (("甲", at(2026, 7, 15), "general", "key"),
                                     ("甲", at(2026, 9, 1), "key", "vip"),
                                     ("乙", at(2026, 8, 1), "key", "general"),
                                     ("乙", at(2026, 9, 10), "general", "key"),
                                     ("丙", at(2026, 6, 30), "reserve", "general"),
                                     ("外", at(2026, 8, 2), "general", "key")):
            db.session.add(TierChange(customer_id=ids[name], changed_at=when, from_tier=old,
                                      to_tier=new))
        for name, kind, when, purpose, satisfaction in (
                ("甲", "visit", at(2026, 8, 1), "sales", 4),
                ("乙", "phone", at(2026, 9, 15), "relationship", 2),
                ("甲", "email", at(2026, 10, 1), "sales", 5),  # after the quarter
                ("外", "visit", at(2026, 8, 3), "sales", 1)):
            db.session.add(Activity(customer_id=ids[name], user_id=rep.id, kind=kind,
                                    purpose=purpose, satisfaction=satisfaction,
                                    summary="拜访", occurred_at=when))
        db.session.commit()
    frozen(at(2026, 8, 6))  # cases are registered within a month of their receipt
    make_case(kind="complaint", customer_id=ids["甲"], received_at=at(2026, 8, 5))
    make_case(kind="consultation", customer_id=ids["外"], received_at=at(2026, 8, 5))
    frozen(Q3_CLOSED)
    make_case(kind="complaint", customer_id=ids["乙"], received_at=at(2026, 10, 1))
    run(app, "report_package")
    return {key: r.id for key, r in reports(app).items()}


def test_q2_the_department_s_credit_and_sales_report_counted_by_hand(app, client, staff,
                                                                     data):
    login_fast(client, app, staff[Role.SALES_MANAGER])
    found = charts(client, data["credit_sales", staff[Role.SALES_MANAGER].department_id])
    assert list(found) == ["tiers", "tier_moves", "growth", "sales_by_rep", "receivables",
                           "over_limit"]
    assert found["tiers"][1] == [["VIP（A）", "1"], ["重点（B）", "1"], ["一般（C）", "1"],
                                 ["储备", "0"]]
    # 甲 general → key → VIP is one move; 乙 went down and back; 丙 moved before the quarter
    assert found["tier_moves"][1] == [["一般（C） → VIP（A）", "1"]]
    # 甲 1000 against 400; 乙 300 against nothing; 丙 shrank; the cancelled order is no sale
    assert found["growth"][1] == [["甲", "¥600.00", "¥1,000.00", "¥400.00", "150.0%"],
                                  ["乙", "¥300.00", "¥300.00", "¥0.00", "—"]]
    assert found["sales_by_rep"][1] == [["Rep", "¥1,300.00", "2"], ["Repb", "¥200.00", "1"]]
    assert found["receivables"][1] == [["2026-07", "¥200.00", "¥0.00", "0.0%"],
                                       ["2026-08", "¥1,000.00", "¥600.00", "60.0%"],
                                       ["2026-09", "¥0.00", "¥100.00", "—"]]
    # 700 paid of 1200 invoiced; owed at the end: 1600 invoiced − 1100 paid
    assert "58.3%" in found["receivables"][2] and "¥500.00" in found["receivables"][2]


def test_q2_the_company_reports_count_every_department(app, client, staff, data):
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    consolidated = charts(client, data["consolidated", None])
    assert consolidated["tier_moves"][1] == [["一般（C） → VIP（A）", "1"],
                                             ["一般（C） → 重点（B）", "1"]]
    assert consolidated["sales_by_department"][1] == [["sales2", "¥9,999.00", "1"],
                                                      ["sales1", "¥1,500.00", "3"]]
    assert consolidated["complaints"][1] == [["咨询", "1"], ["建议", "0"], ["投诉", "1"]]
    archive = charts(client, data["archive_visit", None])
    # 甲, 乙, 外 visited of the important 甲, 乙, 外; satisfaction (4 + 2 + 1) / 3
    assert archive["visits"][2] == "重要客户拜访：3 家中 3 家（100.0%）。平均满意度：2.3。"
    assert archive["visits"][1] == [["电话", "1"], ["现场拜访", "2"]]


def test_q2_the_visit_report_counts_the_department_s_visits(app, client, staff, data):
    login_fast(client, app, staff[Role.SALES_MANAGER])
    found = charts(client, data["visit_market", staff[Role.SALES_MANAGER].department_id])
    assert found["visits"][1] == [["电话", "1"], ["现场拜访", "1"]]
    # 甲 (VIP) and 乙 (key) both contacted; 丙 is a general customer
    assert found["visits"][2] == "重要客户拜访：2 家中 2 家（100.0%）。平均满意度：3.0。"
    assert found["visit_purposes"][1] == [["产品销售", "1", "4.0"], ["客情建设", "1", "2.0"]]
    assert found["complaints"][1][2] == ["投诉", "1"]  # 乙's complaint came in October


def test_q2_every_chart_s_numbers_are_its_table_s(app, client, staff, data):
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    for report_id in data.values():
        for key, (svg, rows, _) in charts(client, report_id).items():
            if not rows:
                continue
            drawn = re.findall(r'<desc class="value">([^<]*)</desc>', svg)
            series = {"receivables": 2}.get(key, 1)
            tabled = [row[1 + s] for s in range(series) for row in rows if row[1 + s] != "—"]
            assert sorted(drawn) == sorted(tabled), key
            for label in (row[0] for row in rows):  # the labels are text in the SVG
                assert f">{label}<" in svg, (key, label)


def test_q2_the_figures_are_frozen_when_the_report_is_submitted(app, client, staff, data):
    dept = staff[Role.SALES_MANAGER].department_id
    report_id = data["credit_sales", dept]
    login_fast(client, app, staff[Role.SALES_MANAGER])
    post(client, f"/management/reports/{report_id}/transition",
         {"event": "submit", "version": "1", "text": "分析"})
    with app.app_context():  # an order of 乙 entered late, inside the quarter
        db.session.add(Order(customer_id=db.session.scalar(db.select(Customer.id).where(
            Customer.name == "乙")), number="LATE", ordered_on=date(2026, 9, 1),
            amount=Decimal("5000"), status="open"))
        db.session.commit()
    assert charts(client, report_id)["sales_by_rep"][1][0] == ["Rep", "¥1,300.00", "2"]
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    consolidated = charts(client, data["consolidated", None])  # still open: the data of now
    assert ["sales1", "¥6,500.00", "3"] in consolidated["sales_by_department"][1]


def test_q1_the_signed_pdf_carries_the_charts_labels_as_text(app, client, staff, data):
    dept = staff[Role.SALES_MANAGER].department_id
    login_fast(client, app, staff[Role.SALES_MANAGER])
    report_id = data["credit_sales", dept]
    post(client, f"/management/reports/{report_id}/transition",
         {"event": "submit", "version": "1", "text": "第三季度回款率偏低"})
    response = client.get(f"/management/reports/{report_id}/pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    for words in ("资信与销售分析", "第三季度回款率偏低", "增长排名", "一般（C） → VIP（A）",
                  "按业务员的销售额", "甲", "Manager"):
        assert words.replace(" ", "") in text.replace(" ", ""), words
    with app.app_context():
        from intranet.models import IssuedDocument
        issued = db.session.scalar(db.select(IssuedDocument).where(
            IssuedDocument.record_type == "report"))
        assert issued.record_id == report_id and issued.issued_to_id == staff[
            Role.SALES_MANAGER].id


def test_q2_a_manual_tier_override_and_a_recomputed_tier_are_movements(app, client, staff,
                                                                       make_customer, frozen):
    frozen(Q3_CLOSED)
    customer_id = make_customer("动", staff[Role.SALES_REP])
    with app.test_request_context():
        from intranet.customers import ledger
        customer = db.session.get(Customer, customer_id)
        db.session.add(Order(customer_id=customer_id, number="T1", ordered_on=date(2026, 9, 1),
                             amount=Decimal("100"), status="shipped"))
        db.session.add(Shipment(customer_id=customer_id, shipped_on=date(2026, 9, 1),
                                amount=Decimal("100")))
        db.session.flush()
        ledger.refresh([customer])  # reserve → general: its first transaction
        db.session.commit()
    login_fast(client, app, staff[Role.SALES_MANAGER])
    assert post(client, f"/sales/customers/{customer_id}/tier",
                {"tier": "key", "reason": "战略合作"}).status_code == 302
    with app.app_context():
        moves = db.session.execute(db.select(TierChange.from_tier, TierChange.to_tier).where(
            TierChange.customer_id == customer_id).order_by(TierChange.id)).all()
    assert [tuple(m) for m in moves] == [("reserve", "general"), ("general", "key")]
