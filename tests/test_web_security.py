"""SECURITY.md 15-18: CSRF, inert hostile input, headers, no 500 on bad input."""
from __future__ import annotations

import pytest
from conftest import csrf_token, login_fast, post

from intranet.core.roles import Role

HOSTILE = ['"><img src=x onerror=alert(1)>', 'hx-get="/admin/users" hx-trigger="load"',
           'hx-on:click="alert(1)"', "javascript:alert(1)", "<script>alert(1)</script>"]


@pytest.mark.parametrize(("url", "data"), [
    ("/auth/login", {"username": "rep", "password": "x"}),
    ("/auth/logout", {}),
    ("/auth/language", {"lang": "en"}),
    ("/notifications/read-all", {}),
])
def test_15_unsafe_requests_without_csrf_token_are_refused(app, client, staff, url, data):
    login_fast(client, app, staff[Role.SALES_REP])
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    assert client.get("/").status_code == 200  # still signed in: logout did not happen


def test_15_htmx_requests_carry_the_token_in_a_header(app, client, staff):
    login_fast(client, app, staff[Role.SALES_REP])
    headers = {"HX-Request": "true"}
    refused = client.post("/notifications/read-all", headers=headers)
    assert refused.status_code == 400 and refused.headers["HX-Retarget"] == "#flash"
    headers["X-CSRFToken"] = csrf_token(client)
    assert client.post("/notifications/read-all", headers=headers).status_code == 200


def test_15_token_from_another_session_is_refused(app, client, staff):
    other = app.test_client()
    foreign_token = csrf_token(other)
    login_fast(client, app, staff[Role.SALES_REP])
    response = client.post("/auth/logout", data={"csrf_token": foreign_token})
    assert response.status_code == 400


def test_15_get_never_changes_state(app, client, staff):
    login_fast(client, app, staff[Role.SALES_REP])
    for url in ("/auth/logout", "/notifications/read-all", "/auth/language?lang=en"):
        assert client.get(url).status_code == 405
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("payload", HOSTILE)
def test_16_hostile_input_renders_inert(app, client, staff, make_customer, payload):
    customer_id = make_customer("正常名称有限公司", staff[Role.SALES_REP])
    login_fast(client, app, staff[Role.SALES_REP])
    post(client, f"/sales/customers/{customer_id}/edit", {"name": payload, "region": payload})
    for url in (f"/sales/customers/{customer_id}", "/sales/customers"):
        page = client.get(url).get_data(as_text=True)
        assert payload not in page or payload == "javascript:alert(1)"
        assert "<img src=x" not in page and "<script>alert" not in page
        assert 'hx-get="/admin/users"' not in page and 'hx-on:click="alert' not in page
        assert 'href="javascript:' not in page


def test_16_hostile_user_name_in_notifications_and_home(app, client, staff, make_user):
    login_fast(client, app, staff[Role.ADMIN])
    post(client, f"/admin/users/{staff[Role.SALES_REP].id}", {
        "display_name": HOSTILE[0], "department_id": str(staff[Role.SALES_REP].department_id),
        "roles": "sales_rep", "locale": "zh_CN"})
    page = client.get("/admin/users").get_data(as_text=True)
    assert "<img src=x" not in page and "&#34;&gt;&lt;img src=x" in page


def test_17_security_headers(app, client, staff):
    login_fast(client, app, staff[Role.SALES_REP])
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'",
                      "script-src 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in response.vary
    assert "Strict-Transport-Security" not in response.headers
    secure = client.get("/", base_url="https://localhost")
    assert "max-age" in secure.headers["Strict-Transport-Security"]


def test_17_no_inline_script_or_style_and_no_cdn(app, client, staff):
    login_fast(client, app, staff[Role.ADMIN])
    for url in ("/", "/admin/users", "/admin/settings", "/admin/deputies", "/notifications"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>" not in page and " style=" not in page and "onclick" not in page
        assert "http://" not in page and "https://" not in page, url
    with client.get("/static/vendor/htmx.min.js") as vendored:
        assert vendored.status_code == 200 and b"htmx" in vendored.data


def test_18_errors_are_pages_in_the_users_language_without_tracebacks(app, client, staff):
    assert "不存在" in client.get("/no/such/page").get_data(as_text=True)
    login_fast(client, app, staff[Role.SALES_REP])
    denied = client.get("/admin/users")
    assert denied.status_code == 403 and "您无权执行此操作" in denied.get_data(as_text=True)
    assert client.get("/sales/customers/999999").status_code == 404


def test_18_oversized_request_is_refused_with_413(app, client, staff):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    login_fast(client, app, staff[Role.SALES_REP])
    response = post(client, "/auth/password", {"current": "x" * 4096})
    assert response.status_code == 413


# The property-based tests (no 500 from any form or query string) are test_fuzz_forms.py and
# test_fuzz_lists.py, every example on a fresh database; the explicit regression tests for
# the odd inputs they found are test_untrusted_input.py.


def test_18_nul_bytes_are_refused_with_a_clear_400(app, client, staff):
    login_fast(client, app, staff[Role.SALES_REP])
    assert client.get("/sales/customers?q=a%00b").status_code == 400
    response = post(client, "/auth/password", {"current": "a\x00b"})
    assert response.status_code == 400 and "请求无效，无法处理" in response.get_data(as_text=True)
