"""Customer resources in real Chromium (rules R1, R5), in the Chinese interface, each person in
their own browser: a rep offers a customer to a colleague, the colleague agrees from the home
page, the director approves and the customer changes hands; a rep claims a customer from the
shared pool and the director approves the claim. Each page offers exactly the steps of the
person acting; no CSP violation, no console error."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import Customer

pytestmark = pytest.mark.browser


def events_offered(page) -> list[str]:
    return sorted(page.locator("[data-testid=actions] button[data-event]").evaluate_all(
        "buttons => buttons.map(b => b.dataset.event)"))


def step(page, event: str, text: str | None = None) -> None:
    form = page.locator(f"[data-testid=actions] form:has(button[data-event={event}])")
    if text is not None:
        form.locator("[name=comment]").fill(text)
    with page.expect_navigation():
        form.locator(f"button[data-event={event}]").click()


def owner(app, customer_id):
    with app.app_context():
        return db.session.get(Customer, customer_id).owner_id


def test_a_transfer_agreed_by_the_colleague_and_approved_by_the_director(people, app, staff,
                                                                         make_customer):
    rep, rep_b = staff[Role.SALES_REP], staff["rep_b"]
    customer_id = make_customer("无锡太湖精密机械有限公司", rep)

    offering = people("rep")
    offering.goto(f"/sales/customers/{customer_id}")
    offering.locator(f"a[href='/sales/customers/{customer_id}/transfer']").click()
    offering.select_option("#to_user_id", str(rep_b.id))
    offering.fill("#reason", "客户迁往新区，由同事就近服务")
    offering.locator("main form[method=post] button[type=submit]").click()
    offering.wait_for_url("**/sales/requests/*")
    request_url = offering.url
    expect(offering.locator("[data-testid=state]")).to_have_text("待对方业务员确认")
    assert events_offered(offering) == ["withdraw"]

    colleague = people("repb")
    colleague.locator("a[href='/sales/requests?waiting=1']").first.click()
    colleague.locator("[data-testid=requests] a", has_text="ZY-").first.click()
    assert events_offered(colleague) == ["confirm", "decline"]
    step(colleague, "confirm")
    expect(colleague.locator("[data-testid=state]")).to_have_text("待市场总监审批")
    assert owner(app, customer_id) == rep.id

    director = people("manager")
    director.goto(request_url)
    assert events_offered(director) == ["approve", "reject"]
    step(director, "approve", "同意，注意交接在途订单")
    expect(director.locator("[data-testid=state]")).to_have_text("已转移")
    expect(director.locator("[data-testid=ownership-record]")).to_be_visible()
    assert owner(app, customer_id) == rep_b.id
    assert events_offered(director) == []
    assert people.errors == [] and people.csp == []


def test_a_claim_from_the_shared_pool_approved_by_the_director(people, app, staff):
    from intranet.resources import reclaim

    with app.app_context():
        reclaim.ensure_defaults()
        customer = Customer(name="常州公海机电有限公司", region="常州", pool_id=1)
        db.session.add(customer)
        db.session.commit()
        customer_id = customer.id

    claimant = people("rep")
    claimant.goto("/sales/pool")
    row = claimant.locator("[data-testid=pool] tr", has_text="常州公海机电有限公司")
    row.locator(f"a[href='/sales/pool/{customer_id}/claim']").click()
    claimant.fill("#reason", "展会上留过名片，客户有采购意向")
    claimant.locator("main form[method=post] button[type=submit]").click()
    claimant.wait_for_url("**/sales/requests/*")
    expect(claimant.locator("[data-testid=state]")).to_have_text("待市场总监审批")

    director = people("manager")
    director.locator("a[href='/sales/requests?waiting=1']").first.click()
    director.locator("[data-testid=requests] a", has_text="ZY-").first.click()
    step(director, "approve")
    expect(director.locator("[data-testid=state]")).to_have_text("已认领")
    assert owner(app, customer_id) == staff[Role.SALES_REP].id
    claimant.goto("/sales/pool")
    expect(claimant.locator("main")).not_to_contain_text("常州公海机电有限公司")
    assert people.errors == [] and people.csp == []
