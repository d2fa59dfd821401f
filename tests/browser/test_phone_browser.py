"""Approving on a phone (issue 13 §4): at 390 × 844 px the GM's queue is a column of cards with
the customer, the amount, the time left and one-tap approve / reject in view, and a manager
decides a complaint on its page; nothing scrolls sideways. Screenshots go to SHOTS=<folder>
when set."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from browser.pages import sign_in
from browser.test_credit_browser import pending_application
from intranet.core.roles import Role

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def phone(browser, live_server, username: str):
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport=PHONE,
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    # a refused step answers 422 on purpose (the card shows why): not an error of the page
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
            and "422" not in msg.text else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.errors = errors
    sign_in(page, username)
    return page


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide at {PHONE['width']} px"


def shot(page, name: str) -> None:
    if os.environ.get("SHOTS"):
        page.screenshot(path=f"{os.environ['SHOTS']}/{name}.png", full_page=True)


def test_gm_approves_on_a_phone_with_one_tap(browser, live_server, app, staff, make_customer):
    rep = staff[Role.SALES_REP]
    first = pending_application(app, make_customer("上海华兴精密机械有限公司", rep), rep,
                                "120000", timedelta(hours=20))
    pending_application(app, make_customer("苏州恒通电子有限公司", rep), rep, "80000",
                        timedelta(days=2))
    gm = phone(browser, live_server, "gm")
    gm.goto("/management/credit")
    card = gm.locator(f"#credit-row-{first}")
    expect(card).to_be_visible()
    no_sideways_scroll(gm)
    shot(gm, "gm-queue-390")
    # what the GM decides on, and both buttons, on the first screen
    for part in ("td.customer", "[data-testid=limit]", "[data-testid=time-left]",
                 "[data-testid=approve]", "[data-testid=reject]"):
        expect(card.locator(part)).to_be_in_viewport()
    expect(card.locator("[data-testid=limit]")).to_contain_text("120,000")
    expect(card.locator("input[type=checkbox]")).to_be_hidden()
    card.locator("[data-testid=approve]").tap()
    expect(gm.locator(f"#credit-row-{first}")).to_have_attribute("data-testid", "decided-row")
    expect(gm.locator("[data-testid=queue-row]")).to_have_count(1)
    no_sideways_scroll(gm)
    from intranet.extensions import db
    from intranet.models import CreditApplication
    with app.app_context():
        row = db.session.get(CreditApplication, first)
        assert (row.state, row.decided_by_id) == ("approved", staff[Role.GENERAL_MANAGER].id)
    # rejecting without a reason asks for one, in the card
    second = gm.locator("[data-testid=queue-row]").first
    second.locator("[data-testid=reject]").tap()
    expect(gm.locator("[data-testid=queue-row] .error")).to_be_in_viewport()
    gm.locator("[data-testid=queue-row] input[name=comment]").fill("回款记录不足")
    gm.locator("[data-testid=queue-row] [data-testid=reject]").tap()
    expect(gm.locator("[data-testid=queue-row]")).to_have_count(0)
    no_sideways_scroll(gm)
    assert gm.errors == []


def test_manager_decides_a_complaint_on_a_phone(browser, live_server, app, staff,
                                                make_customer, make_case):
    customer = make_customer("上海华兴精密机械有限公司", staff[Role.SALES_REP])
    case_id = make_case(state="awaiting_decision", customer_id=customer)
    manager = phone(browser, live_server, "manager")
    manager.goto(f"/service/cases/{case_id}")
    expect(manager.locator("h1")).to_be_visible()
    no_sideways_scroll(manager)
    shot(manager, "manager-case-390")
    form = manager.locator("[data-testid=actions] form:has(button[data-event=decide])")
    form.locator("[name=comment]").fill("同意退换货，物流部书面致歉")
    expect(form.locator("button[data-event=decide]")).to_be_visible()
    with manager.expect_navigation():
        form.locator("button[data-event=decide]").tap()
    from intranet.extensions import db
    from intranet.models import ServiceCase
    with app.app_context():
        assert db.session.get(ServiceCase, case_id).state == "decided"
    no_sideways_scroll(manager)
    expect(manager.locator("[data-testid=history] [data-step=decide]")).to_contain_text(
        "同意退换货")
    assert manager.errors == []
