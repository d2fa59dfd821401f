"""SECURITY.md 18, 19a: the inputs a black-box fuzzer turned into server errors (issue 8), one
explicit test per class, each red without its fix: special decimal values in amounts (and ¥0
refused as "required"), query keys that url_for takes as its own arguments, integers beyond
64 bits in filters, and bidirectional control characters in text."""
from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from conftest import login_fast, post
from test_import_export import upload

from intranet.core.money import parse_amount
from intranet.core.querystring import int_arg, parse_int, text_arg, url_with_query
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import CreditApplication, Customer, Order

AMOUNT_ERROR = "请输入以元为单位的金额，例如 200000。"
RLO, PDF, LRI, PDI = "\u202e", "\u202c", "\u2066", "\u2069"


def page_of(response) -> str:
    return response.get_data(as_text=True)


# --- amounts -------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("200000", Decimal("200000.00")), ("200,000", Decimal("200000.00")),
    ("２００，０００", Decimal("200000.00")), (" 1.5e5 ", Decimal("150000.00")),
    ("¥5,000.5", Decimal("5000.50")), ("0", Decimal("0.00")), ("-0", Decimal("0.00")),
    ("999999999999.99", Decimal("999999999999.99")),
    ("sNaN", None), ("NaN", None), ("-NaN", None), ("Infinity", None), ("-Infinity", None),
    ("1e999999", None), ("1E+999999999999999999", None), ("-1", None),
    ("1000000000000", None), ("", None), ("abc", None), (None, None),
])
def test_19a_one_amount_parser(raw, expected):
    assert parse_amount(raw) == expected
    if expected is not None:
        assert str(parse_amount(raw)) == str(expected)  # "-0" is 0.00, not -0.00


def test_19a_exact_amounts_refuse_fractions_of_a_fen():
    assert parse_amount("1.005") == Decimal("1.00")
    assert parse_amount("1.005", exact=True) is None
    assert parse_amount("1.50", exact=True) == Decimal("1.50")


NOW = datetime.now(UTC)
RECEIVED = {"state": "received", "received_at": NOW, "due_at": NOW + timedelta(days=3)}
SPECIAL = ["sNaN", "NaN", "Infinity", "-Infinity", "1e999999", "1E+999999999999999999", "-1"]


@pytest.fixture
def rep_and_customer(app, client, staff, make_customer):
    customer_id = make_customer("上海测试机械有限公司", staff[Role.SALES_REP])
    login_fast(client, app, staff[Role.SALES_REP])
    return customer_id


@pytest.mark.parametrize("value", SPECIAL)
def test_19a_special_decimals_in_registered_capital_are_field_errors(client, rep_and_customer,
                                                                     value):
    new = post(client, "/sales/customers/new", {"name": "杭州新公司有限公司",
                                                "registered_capital": value})
    edit = post(client, f"/sales/customers/{rep_and_customer}/edit", {
        "name": "上海测试机械有限公司", "registered_capital": value})
    for response in (new, edit):
        assert response.status_code == 200 and AMOUNT_ERROR in page_of(response)


@pytest.mark.parametrize("value", SPECIAL)
def test_19a_special_decimals_in_order_and_credit_amounts_are_field_errors(app, client,
                                                                          rep_and_customer,
                                                                          value):
    order = post(client, f"/sales/customers/{rep_and_customer}/orders/new", {
        "number": "SO-9", "ordered_on": "2026-11-02", "amount": value})
    application = post(client, f"/sales/customers/{rep_and_customer}/credit/new", {
        "period_start": quarter(client, rep_and_customer), "grade": "2",
        "proposed_limit": value})
    for response in (order, application):
        assert response.status_code == 422 and AMOUNT_ERROR in page_of(response)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Order)) == 0


@pytest.mark.parametrize("value", ["sNaN", "-Infinity", "1e999999"])
def test_19a_special_decimals_in_an_approved_amount_are_field_errors(app, client, staff,
                                                                    make_customer,
                                                                    make_application, value):
    customer = make_customer("上海测试机械有限公司", staff[Role.SALES_REP])
    application_id = make_application(customer, staff[Role.SALES_REP], **RECEIVED)
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    body = {"event": "approve", "version": "1", "amount": value}
    for url in (f"/management/credit/{application_id}/decide",
                f"/sales/credit/{application_id}/transition"):
        response = post(client, url, body)
        assert response.status_code == 422 and AMOUNT_ERROR in page_of(response), url
    rejected = post(client, f"/management/credit/{application_id}/decide",
                    {**body, "event": "reject", "comment": "材料不全"})
    assert rejected.status_code == 200  # the amount box counts only for an approval
    with app.app_context():
        assert db.session.get(CreditApplication, application_id).state == "rejected"


def test_19a_amounts_are_read_as_people_type_them(app, client, rep_and_customer):
    response = post(client, f"/sales/customers/{rep_and_customer}/edit", {
        "name": "上海测试机械有限公司", "registered_capital": " 5,000,000 "})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Customer, rep_and_customer).registered_capital == Decimal(
            "5000000.00")
    zero = post(client, f"/sales/customers/{rep_and_customer}/orders/new", {
        "number": "SO-0", "ordered_on": "2026-11-02", "amount": "0"})
    assert zero.status_code == 422 and "请输入大于零的金额" in page_of(zero)  # K7: no ¥0 order


def quarter(client, customer_id) -> str:
    page = page_of(client.get(f"/sales/customers/{customer_id}/credit/new"))
    return re.search(r'<select[^>]*name="period_start"[^>]*>\s*<option[^>]*value="([^"]+)"',
                     page).group(1)


def test_19a_a_prospects_application_prefilled_with_zero_can_be_saved(app, client,
                                                                      rep_and_customer):
    """A prospect has no sales, so the formula suggests ¥0; the pre-filled form must save
    (DataRequired took 0 for an empty field and answered "required")."""
    form = page_of(client.get(f"/sales/customers/{rep_and_customer}/credit/new"))
    prefilled = re.search(r'<input[^>]*name="proposed_limit"[^>]*>', form).group(0)
    assert 'value="0.00"' in prefilled
    grade = re.search(r'<option selected value="(\d)"', form).group(1)
    response = post(client, f"/sales/customers/{rep_and_customer}/credit/new", {
        "period_start": quarter(client, rep_and_customer), "grade": grade,
        "proposed_limit": "0.00"})
    assert response.status_code == 302, re.findall(r'class="error"[^>]*>([^<]+)',
                                                   page_of(response))
    with app.app_context():
        application = db.session.scalar(db.select(CreditApplication))
        assert application.proposed_limit == Decimal("0.00")
        assert application.customer.relation == "prospect"


# --- query keys that url_for takes ----------------------------------------------------------

CLASHING = ["endpoint", "_external", "_anchor", "_scheme", "_method", "values", "format",
            "page", "customer_id"]


@pytest.mark.parametrize("key", CLASHING)
def test_18_query_keys_url_for_would_take_leave_the_list_and_its_links_intact(app, client, staff,
                                                                              key):
    login_fast(client, app, staff[Role.SALES_MANAGER])
    response = client.get("/sales/customers", query_string=[
        ("tier", "vip"), ("tier", "key"), (key, "https://evil.example/#x"), (key, "x")])
    assert response.status_code == 200
    links = re.findall(r'href="([^"]*/customers/export[^"]*)"', page_of(response))
    assert len(links) == 2
    for link in links:  # relative, on this page's filters, no fragment, no url_for argument
        assert link.startswith("/sales/customers/export?tier=vip&amp;tier=key") and "#" not in link
        query_keys = {pair.split("=")[0] for pair in link.split("?")[1].split("&amp;")}
        assert not {k for k in query_keys if k == "endpoint" or k.startswith("_")}
        assert "page" not in query_keys  # the export is the whole list
    assert "format" not in links[0] and links[1].endswith("format=csv")


def test_18_url_with_query_keeps_repeated_keys_and_drops_url_for_arguments(app):
    query = ("/sales/customers?tier=vip&tier=key&q=%E4%B8%8A&endpoint=x&_anchor=y&_external=1"
             "&_scheme=javascript&_method=DELETE&page=3&customer_id=9")
    with app.test_request_context(query):
        assert url_with_query("sales.customers", page=4) == (
            "/sales/customers?tier=vip&tier=key&q=%E4%B8%8A&customer_id=9&page=4")
        assert url_with_query("sales.customers", page=None, q=None) == (
            "/sales/customers?tier=vip&tier=key&customer_id=9")
        # a path argument of the rule comes from the override, never from the query
        assert url_with_query("sales.customer", customer_id=5).startswith(
            "/sales/customers/5?")


def test_18_pager_links_carry_the_filters(app, client, staff, make_customer):
    """The pager builds its links with url_with_query: every filter value is kept (a repeated
    key too), url_for's own arguments are not."""
    app.config["PAGE_SIZE"] = 1
    for name in ("上海甲机械有限公司", "上海乙机械有限公司"):
        make_customer(name, staff[Role.SALES_REP])
    login_fast(client, app, staff[Role.SALES_REP])
    page = page_of(client.get("/sales/customers?q=上海&sort=name&sort=sales&_anchor=x&endpoint=y"
                              "&_external=1"))
    link = re.search(r'<nav class="pager".*?href="([^"]+)"', page, re.S).group(1)
    path, _, query = link.partition("?")
    # the customer list's "next" link also carries the last row's key (?after=, issue 12)
    pairs = sorted(p for p in query.split("&amp;") if not p.startswith("after="))
    assert path == "/sales/customers" and pairs == [
        "page=2", "q=%E4%B8%8A%E6%B5%B7", "sort=name", "sort=sales"]


# --- integers beyond 64 bits ----------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("7", 7), (" 7 ", 7), ("+7", 7), (str(2**31 - 1), 2**31 - 1), (str(2**31), None),
    (str(2**64 + 1), None), (str(-2**70), None), ("0", None), ("-1", None), ("٣", None),
    ("1_0", None), ("1.0", None), ("", None), (None, None), ("9" * 5000, None),
])
def test_19a_one_integer_parser(raw, expected):
    assert parse_int(raw) == expected


def test_19a_int_and_text_args(app):
    with app.test_request_context(f"/?owner={2**64 + 1}&page=2&q=%20a{RLO}b{PDF}%20"):
        assert int_arg("owner") is None and int_arg("page") == 2 and int_arg("none") is None
        assert text_arg("q") == "ab" and text_arg("q", 1) == "a"


@pytest.mark.parametrize("value", [str(2**64 + 1), str(-2**70), "99999999999999999999"])
def test_19a_integer_filters_beyond_64_bits_are_ignored(app, client, staff, make_customer,
                                                       make_application, value):
    customer = make_customer("上海测试机械有限公司", staff[Role.SALES_REP])
    make_application(customer, staff[Role.SALES_REP], **RECEIVED)
    login_fast(client, app, staff[Role.SALES_MANAGER])
    for query in ({"owner": value}, {"page": value}, {"owner": value, "page": value}):
        response = client.get("/sales/customers", query_string=query)
        assert response.status_code == 200 and "上海测试机械有限公司" in page_of(response)
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    for query in ({"department": value}, {"page": value}):
        response = client.get("/management/credit", query_string=query)
        assert response.status_code == 200 and "上海测试机械有限公司" in page_of(response)


@pytest.mark.parametrize("ids", [f"{2**64 + 1}:1", f"1:{2**64 + 1}", f"{-2**70}:1", "٣:1",
                                 "1", "1:2:3", ""])
def test_19a_ticked_ids_that_are_not_record_ids_are_refused(app, client, staff, ids):
    login_fast(client, app, staff[Role.GENERAL_MANAGER])
    response = post(client, "/management/credit/bulk", {"ids": ids})
    assert response.status_code == 422 and "请至少勾选一项申请" in page_of(response)


# --- bidirectional controls -----------------------------------------------------------------

def test_19a_bidi_controls_are_stripped_from_every_text_field_of_every_form(app):
    """Every text field of every form (passwords excepted: compared as typed)."""
    from flask_wtf import FlaskForm
    from wtforms import PasswordField, StringField

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    forms = [cls for cls in subclasses(FlaskForm) if cls.__module__.startswith("intranet.")]
    app.config["WTF_CSRF_ENABLED"] = False
    checked = 0
    for cls in forms:
        with app.test_request_context("/", method="POST", data={
                name: f"a{RLO}b{LRI}c{PDI}\u200fd" for name in dir(cls)}):
            form = cls("user") if "username" in cls.__init__.__code__.co_varnames else cls()
            for field in form:
                if isinstance(field, StringField) and not isinstance(field, PasswordField):
                    assert field.data == "abcd", (cls.__name__, field.name)
                    checked += 1
    assert checked > 30


def test_19a_customer_name_with_a_right_to_left_override_is_stored_without_it(app, client,
                                                                            staff):
    login_fast(client, app, staff[Role.SALES_REP])
    response = post(client, "/sales/customers/new", {
        "name": f"上海{RLO}械机试测{PDF}有限公司", "region": f"{LRI}上海{PDI}",
        "contact_name": f"王{RLO}经理", "contact_phone": "13800000000"})
    assert response.status_code == 302
    with app.app_context():
        customer = db.session.scalar(db.select(Customer))
        assert customer.name == "上海械机试测有限公司" and customer.region == "上海"
        assert customer.contacts[0].name == "王经理"


def test_19a_search_text_is_matched_without_bidi_controls(app, client, staff, make_customer):
    make_customer("上海测试机械有限公司", staff[Role.SALES_REP])
    login_fast(client, app, staff[Role.SALES_REP])
    page = page_of(client.get(f"/sales/customers?q=测{RLO}试"))
    assert "上海测试机械有限公司" in page and 'name="q" value="测试"' in page


def test_19a_bidi_controls_are_stripped_from_settings_and_imports(app, client, staff):
    from intranet.core import settings

    login_fast(client, app, staff[Role.ADMIN])
    response = post(client, "/admin/settings", {
        "company_name": f"华东{RLO}贸易{PDF}有限公司", "timezone": "Asia/Shanghai",
        "session_idle_minutes": "30", "session_absolute_hours": "12"})
    assert response.status_code == 302
    with app.app_context():
        assert settings.get("company_name") == "华东贸易有限公司"
    login_fast(client, app, staff[Role.SALES_REP])
    csv = f"公司名称,地区\n杭州{RLO}新公司{PDF}有限公司,{LRI}杭州{PDI}\n".encode()
    assert upload(client, "/sales/customers/import", csv, "c.csv").status_code == 200
    with app.app_context():
        customer = db.session.scalar(db.select(Customer))
        assert (customer.name, customer.region) == ("杭州新公司有限公司", "杭州")


def test_19a_attachment_names_lose_bidi_controls_too():
    from intranet.customers.attachments import secure_name

    assert secure_name(f"invoice{RLO}fdp.exe") == "invoicefdp.exe"
    assert secure_name(f"{LRI}{PDI}") == "attachment"


def test_18_a_multipart_part_whose_name_breaks_its_header_is_no_500(app, client, staff):
    """Found by the fuzz: a line break in a part's name leaves a form entry without a key."""
    login_fast(client, app, staff[Role.SALES_REP])
    response = post(client, "/notifications/read-all",
                    {"\n": "x", "file": (io.BytesIO(b"%PDF-1.4"), "a.pdf")})
    assert response.status_code == 302
    nul = post(client, "/notifications/read-all",
               {"\n": "a\x00b", "file": (io.BytesIO(b"%PDF-1.4"), "a.pdf")})
    assert nul.status_code in (302, 400)


def test_18_a_csv_file_with_a_nul_byte_is_reported_not_a_500(app, client, staff):
    """Found by the fuzz: csv.reader raises on NUL instead of returning rows."""
    login_fast(client, app, staff[Role.SALES_REP])
    response = upload(client, "/sales/customers/import", b"\xe5\x85\xac\r\x00", "c.csv")
    assert response.status_code == 422 and "无法读取该 CSV 文件" in page_of(response)


@pytest.mark.parametrize("blank", ["", " ", "\u3000"])
def test_19a_a_blank_amount_is_required_not_stored_as_nothing(app, client, rep_and_customer,
                                                             blank):
    """Found by the fuzz: a blank proposed limit passed InputRequired and reached the
    database as NULL."""
    response = post(client, f"/sales/customers/{rep_and_customer}/credit/new", {
        "period_start": quarter(client, rep_and_customer), "grade": "2",
        "proposed_limit": blank})
    assert response.status_code == 422 and "此项为必填项" in page_of(response)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(CreditApplication)) == 0
