"""The credit-limit approval workflow in real Chromium: a rep writes and submits an application
(state, diagram, allowed buttons); the GM decides in the queue, row by row and in bulk, with
htmx. No CSP violation and no console error on the way."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from browser.pages import sign_in
from intranet.core.roles import Role

pytestmark = pytest.mark.browser

HIGHLIGHT = "rgb(255, 213, 79)"  # app.css: .state-diagram .node.current rect


@pytest.fixture
def console_errors(page):
    """Console errors (htmx's own error log, failed requests) and uncaught exceptions."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    return errors


def zh(app, text) -> str:
    """A lazy message as the Chinese interface renders it."""
    from flask_babel import force_locale
    with app.test_request_context(), force_locale("zh_CN"):
        return str(text)


def data_events(page) -> list[str]:
    return page.locator("[data-testid=actions] button[data-event]").evaluate_all(
        "buttons => buttons.map(b => b.dataset.event)")


def pending_application(app, customer_id: int, applicant, limit: str, due_in: timedelta,
                        grade: str = "2") -> int:
    """An application already with the GM (state received), due `due_in` from now."""
    from intranet.extensions import db
    from intranet.models import CreditApplication
    now = datetime.now(UTC)
    due = now + due_in
    with app.app_context():
        application = CreditApplication(
            customer_id=customer_id, department_id=applicant.department_id,
            applicant_id=applicant.id, state="received", period_start=date(2027, 1, 1),
            grade=grade, proposed_limit=Decimal(limit), reason="季度评审",
            submitted_at=due - timedelta(days=4), received_at=due - timedelta(days=3),
            due_at=due)
        db.session.add(application)
        db.session.commit()
        return application.id


def test_rep_writes_saves_and_submits_an_application(page, app, staff, make_customer,
                                                     console_errors):
    from intranet.workflows.credit import CreditFlow
    customer_id = make_customer("苏州工业园区精工有限公司", staff[Role.SALES_REP])
    sign_in(page, "rep")
    page.goto(f"/sales/customers/{customer_id}")
    page.locator(f"a[href='/sales/customers/{customer_id}/credit/new']").click()
    page.wait_for_url(f"**/sales/customers/{customer_id}/credit/new")
    expect(page.locator("[data-testid=suggestion]")).to_be_visible()
    page.select_option("#grade", "2")
    page.fill("#proposed_limit", "200000")
    page.fill("#reason", "年度框架协议，月结30天")
    page.locator("main form[method=post] button[type=submit]").click()

    page.wait_for_url("**/sales/credit/*")
    application_url = page.url
    expect(page.locator("#flash .flash-success")).to_be_visible()
    expect(page.locator("[data-testid=state]")).to_have_text(
        zh(app, CreditFlow.STATE_LABELS["draft"]))
    current = page.locator("[data-testid=current-state]")
    expect(current).to_have_count(1)
    expect(current).to_contain_text(zh(app, CreditFlow.STATE_LABELS["draft"]))
    assert sorted(data_events(page)) == ["submit", "withdraw"]

    page.locator("[data-testid=actions] button[data-event=submit]").click()
    expect(page.locator("[data-testid=state]")).to_have_text(
        zh(app, CreditFlow.STATE_LABELS["submitted"]))
    assert page.url == application_url  # back on the application (post/redirect/get)
    expect(page.locator("#flash .flash-success")).to_be_visible()

    # The diagram highlights the new state, and only it.
    current = page.locator("[data-testid=current-state]")
    expect(current).to_have_count(1)
    expect(current).to_have_class("node current")
    expect(current).to_contain_text(zh(app, CreditFlow.STATE_LABELS["submitted"]))
    fills = page.locator(".state-diagram .node rect").evaluate_all(
        "rects => rects.map(r => getComputedStyle(r).fill)")
    assert fills.count(HIGHLIGHT) == 1
    assert current.locator("rect").evaluate("r => getComputedStyle(r).fill") == HIGHLIGHT

    # Only what the machine allows the applicant now: withdraw, never a decision.
    assert data_events(page) == ["withdraw"]
    for event in ("submit", "approve", "reject", "forward", "return_for_revision"):
        expect(page.locator(f"[data-testid=actions] [data-event={event}]")).to_have_count(0)
    expect(page.locator("[data-testid=history] li.timeline-entry")).to_have_count(1)

    from intranet.extensions import db
    from intranet.models import CreditApplication, WorkflowHistory
    with app.app_context():
        application = db.session.scalars(db.select(CreditApplication)).one()
        assert application_url.endswith(f"/sales/credit/{application.id}")
        assert (application.state, application.grade) == ("submitted", "2")
        assert application.proposed_limit == Decimal("200000")
        assert application.applicant_id == staff[Role.SALES_REP].id
        assert application.submitted_at is not None and application.received_at is None
        history = db.session.scalars(db.select(WorkflowHistory)).all()
        assert [(h.object_id, h.event, h.from_state, h.to_state, h.user_id) for h in history] == [
            (application.id, "submit", "draft", "submitted", staff[Role.SALES_REP].id)]
    assert page.csp_violations == []
    assert console_errors == []


def three_pending(app, staff, make_customer) -> tuple[int, int, int]:
    """Overdue by a day; due in a day; due in almost three days (grade 1)."""
    rep = staff[Role.SALES_REP]
    return (pending_application(app, make_customer("无锡太湖纺织有限公司", rep), rep, "80000",
                                -timedelta(days=1, hours=2)),
            pending_application(app, make_customer("常州龙城电机有限公司", rep), rep, "120000",
                                timedelta(days=1, hours=5)),
            pending_application(app, make_customer("宁波港城物流有限公司", rep), rep, "300000",
                                timedelta(days=2, hours=20), grade="1"))


def open_queue(page, ids: tuple[int, ...]) -> str:
    """The GM's queue, most urgent first, only the overdue row (the first) marked overdue."""
    sign_in(page, "gm")
    page.goto("/management/credit")
    rows = page.locator("[data-testid=queue-row]")
    expect(rows).to_have_count(len(ids))
    assert rows.evaluate_all("rows => rows.map(r => r.id)") == [f"credit-row-{i}" for i in ids]
    expect(page.locator(f"#credit-row-{ids[0]} [data-testid=time-left]")).to_have_class(
        "overdue")
    for other in ids[1:]:
        expect(page.locator(f"#credit-row-{other} [data-testid=time-left]")).not_to_have_class(
            re.compile(r"\boverdue\b"))
    return page.url


def approve_ticked_in_bulk(page, ids: tuple[int, ...]) -> None:
    """Tick the rows, press the bulk button, accept the confirm() question."""
    dialogs: list[str] = []

    def accept(dialog):
        dialogs.append(dialog.type)
        dialog.accept()
    page.on("dialog", accept)
    for i in ids:
        page.locator(f"#credit-row-{i} input[type=checkbox][name=ids]").check()
    toasts = page.locator("#flash [role=status]").count()
    page.locator("button[type=submit][form=bulk]").click()
    for i in ids:
        expect(page.locator(f"#credit-row-{i}")).to_have_count(0)
    expect(page.locator("#flash [role=status]")).to_have_count(toasts + 1)
    expect(page.locator("#flash [role=status]").last).to_contain_text(str(len(ids)))
    assert dialogs == ["confirm"]


def decisions(app) -> tuple[dict, list]:
    """{id: (state, approved_limit, decided_by_id, decision_comment)} and the history rows."""
    from intranet.extensions import db
    from intranet.models import CreditApplication, WorkflowHistory
    with app.app_context():
        rows = {a.id: (a.state, a.approved_limit, a.decided_by_id, a.decision_comment)
                for a in db.session.scalars(db.select(CreditApplication))}
        history = sorted((h.object_id, h.event, h.from_state, h.to_state, h.user_id, h.role)
                         for h in db.session.scalars(db.select(WorkflowHistory)))
        return rows, history


def test_gm_approves_a_row_with_a_changed_amount_then_the_rest_in_bulk(
        page, app, staff, make_customer, console_errors):
    overdue, single, later = three_pending(app, staff, make_customer)
    queue_url = open_queue(page, (overdue, single, later))

    # One decision with a changed amount. The GM types, pauses (longer than the filter
    # form's 400 ms debounce), then decides: what was typed must still be there.
    row = page.locator(f"#credit-row-{single}")
    row.locator("input[name=amount]").fill("150000")
    row.locator("input[name=comment]").fill("首季度先按15万执行")
    page.wait_for_timeout(1000)
    assert row.locator("input[name=amount]").input_value() == "150000", (
        "the amount typed in the row was lost: the queue's filter reloaded the rows")
    assert page.url == queue_url, "typing in a row ran the queue's filter (hx-push-url)"
    row.locator("button[name=event][value=approve]").click()
    # htmx replaces the row in place: no navigation, a toast
    decided = page.locator(f"#credit-row-{single}")
    expect(decided).to_have_attribute("data-testid", "decided-row")
    expect(decided).to_contain_text("150,000.00")
    expect(page.locator("#flash [role=status]")).to_contain_text("ZX-2027Q1-")
    assert page.url == queue_url
    expect(page.locator("[data-testid=queue-row]")).to_have_count(2)

    approve_ticked_in_bulk(page, (overdue, later))
    expect(page.locator("[data-testid=queue-row]")).to_have_count(0)
    expect(page.locator("#queue-rows .empty")).to_be_visible()
    assert page.url == queue_url

    gm = staff[Role.GENERAL_MANAGER].id
    rows, history = decisions(app)
    assert rows[single] == ("approved", Decimal("150000"), gm, "首季度先按15万执行")
    assert rows[overdue][:3] == ("approved", Decimal("80000"), gm)  # at the proposed limits
    assert rows[later][:3] == ("approved", Decimal("300000"), gm)
    assert history == sorted((i, "approve", "received", "approved", gm, "general_manager")
                             for i in (overdue, single, later))
    assert page.csp_violations == []
    assert console_errors == []


def test_gm_approves_ticked_rows_in_bulk_after_confirming(page, app, staff, make_customer,
                                                         console_errors):
    overdue, single, later = three_pending(app, staff, make_customer)
    queue_url = open_queue(page, (overdue, single, later))

    approve_ticked_in_bulk(page, (overdue, later))
    remaining = page.locator("[data-testid=queue-row]")
    expect(remaining).to_have_count(1)
    expect(remaining).to_have_id(f"credit-row-{single}")
    assert page.url == queue_url

    gm = staff[Role.GENERAL_MANAGER].id
    rows, history = decisions(app)
    assert rows[overdue][:3] == ("approved", Decimal("80000"), gm)
    assert rows[later][:3] == ("approved", Decimal("300000"), gm)
    assert rows[single] == ("received", None, None, "")
    assert history == sorted((i, "approve", "received", "approved", gm, "general_manager")
                             for i in (overdue, later))
    from intranet.extensions import db
    from intranet.models import CreditApplication
    with app.app_context():
        assert db.session.get(CreditApplication, later).customer.credit_grade == "1"  # K1
    assert page.csp_violations == []
    assert console_errors == []
