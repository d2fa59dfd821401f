"""A report in Chromium (rule Q1): 提交 asks first and 保存草稿 does not (the question sits on
the button: app.js reads the submitting button's data-confirm); the text keeps its lines; the
GM's 审阅通过 asks first too."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser.pages import sign_in
from intranet.core import jobs
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import Report

pytestmark = pytest.mark.browser


def test_q1_submitting_and_accepting_ask_first_saving_a_draft_does_not(page, app, staff,
                                                                        make_customer):
    make_customer("浏览器报表有限公司", staff[Role.SALES_REP])
    with app.test_request_context():
        jobs.JOBS["report_package"]()
        report_id = db.session.scalar(db.select(Report.id).where(
            Report.kind == "credit_sales"))
    sign_in(page, "manager")
    page.goto(f"/management/reports/{report_id}")
    page.fill("textarea[name=text]", "回款率下降。\n下季度重点催收。")
    page.get_by_role("button", name="保存草稿").click()  # no question: nothing is final
    expect(page.locator("#flash .flash-success")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="提交").click()
    expect(page.locator("[data-testid=state]")).to_have_text("待编写")  # nothing happened
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="提交").click()
    expect(page.locator("[data-testid=state]")).to_have_text("待总经理审阅")
    analysis = page.locator("[data-testid=report-analysis]")
    assert analysis.inner_text() == "回款率下降。\n下季度重点催收。"  # two lines, as typed

    page.get_by_role("button", name="退出登录").click()
    sign_in(page, "gm")
    page.goto(f"/management/reports/{report_id}")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="审阅通过").click()
    expect(page.locator("[data-testid=state]")).to_have_text("待总经理审阅")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="审阅通过").click()
    expect(page.locator("[data-testid=state]")).to_have_text("已审阅通过")
    assert page.csp_violations == []
