"""The to-do inbox in a real browser (issue 13 §1, §2, §4): at 1366 px a manager finds what waits
for them, filters it, opens a credit application from it, forwards it with an opinion and
finds it under 我已处理; the applicant sees who holds it now and urges them. At 390 px the
inbox is a column of cards with nothing scrolling sideways. Screenshots go to SHOTS=<folder>
when set."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser.pages import sign_in
from browser.test_phone_browser import no_sideways_scroll, phone, shot
from intranet.core.roles import Role

pytestmark = pytest.mark.browser

DESK = {"width": 1366, "height": 768}


def desk(browser, live_server, username: str):
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport=DESK)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.errors = errors
    sign_in(page, username)
    return page


def test_a_manager_works_the_inbox_and_the_applicant_urges(browser, live_server, app, staff,
                                                           make_customer, make_application,
                                                           make_case):
    rep = staff[Role.SALES_REP]
    customer = make_customer("上海华兴精密机械有限公司", rep)
    aid = make_application(customer, rep, state="submitted", limit="150000")
    make_case(state="awaiting_decision", customer_id=customer)
    manager = desk(browser, live_server, "manager")
    expect(manager.locator("[data-testid=inbox-count]")).to_have_text("2")
    manager.locator("[data-testid=inbox-link]").click()
    rows = manager.locator("[data-testid=inbox-row]")
    expect(rows).to_have_count(2)
    shot(manager, "manager-inbox-1366")
    manager.locator("select[name=workflow]").select_option("credit_application")
    manager.get_by_role("button", name="筛选").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("上海华兴精密机械有限公司")
    rows.first.locator("a").click()
    form = manager.locator("[data-testid=actions] form:has(button[data-event=forward])")
    form.locator("[name=comment]").fill("回款稳定，建议批准")
    form.locator("button[data-event=forward]").click()
    expect(manager.locator("[data-testid=history] [data-step=forward]")).to_contain_text(
        "回款稳定，建议批准")
    manager.goto("/inbox?tab=done")
    expect(manager.locator("[data-testid=inbox-row]")).to_have_count(1)
    expect(manager.locator("[data-testid=inbox-count]")).to_have_text("1")  # the case
    assert manager.errors == []

    applicant = desk(browser, live_server, "rep")
    applicant.goto("/inbox?tab=started")
    row = applicant.locator("[data-testid=inbox-row]", has_text="上海华兴精密机械有限公司")
    expect(row.locator("[data-testid=holders]")).to_contain_text("Gm")  # the GM holds it now
    row.locator("[data-testid=urge]").click()
    expect(applicant.locator("#flash .flash")).to_have_text("已向 1 人发出催办提醒。")
    expect(applicant.locator("[data-testid=inbox-row] [data-testid=urge]")).to_have_count(0)
    applicant.goto(f"/sales/credit/{aid}")
    expect(applicant.locator("[data-testid=history] [data-step=urge]")).to_be_visible()
    assert applicant.errors == []


def test_the_inbox_is_a_column_of_cards_on_a_phone(browser, live_server, app, staff,
                                                   make_customer, make_application):
    rep = staff[Role.SALES_REP]
    for name in ("上海华兴精密机械有限公司", "苏州恒通电子有限公司", "杭州西湖智联信息有限公司"):
        make_application(make_customer(name, rep), rep, state="received")
    gm = phone(browser, live_server, "gm")
    gm.goto("/inbox")
    cards = gm.locator("[data-testid=inbox-row]")
    expect(cards).to_have_count(3)
    # the department links fold behind 菜单, so the cards start near the top
    menu = gm.locator("ul.menu")
    expect(menu).to_be_hidden()
    no_sideways_scroll(gm)
    shot(gm, "gm-inbox-390")
    first = cards.first
    for part in ("a", "td[data-label]"):
        expect(first.locator(part).first).to_be_in_viewport()
    gm.locator("[data-testid=menu-toggle]").tap()
    expect(menu.locator("a").first).to_be_visible()
    no_sideways_scroll(gm)
    shot(gm, "gm-menu-390")
    first.locator("a").tap()
    expect(gm.locator("button[data-event=approve]")).to_be_visible()
    no_sideways_scroll(gm)
    assert gm.errors == []
