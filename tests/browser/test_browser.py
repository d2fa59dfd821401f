"""Log in, see the role's home page, use htmx, switch language, log out: in real Chromium."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser.pages import sign_in
from intranet.core.roles import Role

pytestmark = pytest.mark.browser


def give_unread_notifications(app, user, count: int = 2) -> None:
    from intranet.core import notifications
    from intranet.extensions import db
    with app.app_context():
        for _ in range(count):
            notifications.notify(user.id, "welcome")
        db.session.commit()


def test_login_home_language_logout(page, staff, make_customer):
    make_customer("浏览器测试有限公司", staff[Role.SALES_REP])
    sign_in(page, "rep")
    assert page.locator("[data-testid=role]").first.inner_text() == "业务员"
    assert page.get_by_text("我可查看的客户").is_visible()
    assert page.locator("html").get_attribute("lang") == "zh-CN"

    page.select_option("select[name=lang]", "en")  # app.js submits the form on change
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.get_by_role("button", name="Sign out").is_visible()
    assert page.locator("[data-testid=role]").first.inner_text() == "Sales rep"

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/auth/login")
    page.goto("/")
    assert "/auth/login" in page.url  # the session is really gone
    assert page.csp_violations == []


def test_htmx_live_search_sends_csrf_safe_get_and_swaps_rows(page, staff, make_customer):
    make_customer("杭州西湖电子有限公司", staff[Role.SALES_REP])
    make_customer("南京金陵包装有限公司", staff[Role.SALES_REP])
    sign_in(page, "rep")
    page.goto("/sales/customers")
    assert page.locator("[data-testid=customer-row]").count() == 2
    page.fill("input[name=q]", "西湖")
    expect(page.locator("[data-testid=customer-row]")).to_have_count(1)
    assert "西湖" in page.locator("[data-testid=customer-row]").inner_text()
    assert "q=" in page.url  # hx-push-url keeps the search in the address bar
    assert page.csp_violations == []


def test_destructive_action_asks_first_and_htmx_post_carries_csrf(page, app, staff):
    give_unread_notifications(app, staff[Role.ADMIN])
    sign_in(page, "admin")
    page.goto(f"/admin/users/{staff[Role.SALES_REP].id}")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="停用账户").click()
    assert page.get_by_role("button", name="停用账户").is_visible()  # nothing happened
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="停用账户").click()
    expect(page.get_by_role("button", name="启用账户")).to_be_visible()

    page.goto("/notifications")
    page.get_by_role("button", name="全部标为已读").click()  # an htmx POST, then HX-Redirect
    expect(page.locator("#flash .flash-success")).to_be_visible()
    expect(page.locator("[data-testid=unread-count]")).to_be_hidden()
    expect(page.get_by_role("button", name="全部标为已读")).to_have_count(0)
    assert page.csp_violations == []


def test_htmx_errors_show_as_a_message_and_expired_sessions_go_to_login(page, app, staff):
    give_unread_notifications(app, staff[Role.SALES_REP])
    sign_in(page, "rep")
    page.goto("/notifications")
    # A stale token (e.g. the session was renewed in another tab): the server refuses the
    # htmx POST and the refusal is shown in the page, not silently dropped.
    page.locator("meta[name=csrf-token]").evaluate("m => m.setAttribute('content', 'stale')")
    page.locator("main input[name=csrf_token]").evaluate_all(
        "inputs => inputs.forEach(i => i.value = 'stale')")
    page.get_by_role("button", name="全部标为已读").click()
    expect(page.locator("#flash .flash-error")).to_contain_text("表单已过期")

    # The account is disabled meanwhile: the next htmx request leads to the sign-in page.
    # The header's inbox badge loads itself by htmx once the page is up; the reload waits for
    # it, or that request, not the click, would be the one that meets the rotated session.
    page.reload(wait_until="networkidle")
    with app.app_context():
        from intranet.extensions import db
        from intranet.models import User
        db.session.get(User, staff[Role.SALES_REP].id).rotate_session_token()
        db.session.commit()
    page.get_by_role("button", name="全部标为已读").click()
    page.wait_for_url("**/auth/login**")


def test_rep_searches_opens_a_customer_and_records_an_activity(page, staff, make_customer):
    make_customer("杭州西湖精密机械有限公司", staff[Role.SALES_REP])
    make_customer("南京金陵包装材料有限公司", staff[Role.SALES_REP])
    make_customer("别人的西湖有限公司", staff["rep_b"])
    sign_in(page, "rep")
    page.goto("/sales/customers")
    expect(page.locator("[data-testid=customer-row]")).to_have_count(2)
    page.fill("input[name=q]", "西湖")
    expect(page.locator("[data-testid=customer-row]")).to_have_count(1)  # never rep_b's
    page.get_by_role("link", name="杭州西湖精密机械有限公司").click()
    expect(page.locator("h1")).to_have_text("杭州西湖精密机械有限公司")
    page.get_by_text("记录拜访或联系").click()
    page.select_option("#kind", "visit")
    page.fill("#summary", "上门拜访采购经理，沟通年度框架协议")
    page.get_by_role("button", name="保存").click()  # htmx swaps the activity log in place
    expect(page.locator("[data-testid=activity]")).to_have_count(1)
    expect(page.locator("[data-testid=activity]")).to_contain_text("年度框架协议")
    expect(page.locator("#flash .flash-success")).to_contain_text("拜访/联系记录已保存")
    assert page.csp_violations == []
