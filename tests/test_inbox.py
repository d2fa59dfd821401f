"""The to-do inbox 待办中心 (issue 13 §1): "waiting for me" is exactly what the machines offer.

Records of every workflow in every state, written directly, with the parties spread over two
departments, deputies and recusals; for every user, the inbox's SQL (each machine's
`waiting_for`) must list exactly the records on which `available_events` offers that user a
step other than the machine's ASIDE events (withdrawing, pausing a clock)."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from itertools import count

import pytest

from intranet.core import clock, settings
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import (
    ArchiveAccessRequest,
    CasePerson,
    ConflictClaim,
    CreditApplication,
    Customer,
    PoolClaim,
    Reclassification,
    Report,
    ServiceCase,
    TransferRequest,
    User,
    WorkflowHistory,
)
from intranet.workflows import engine, inbox
from tests.conftest import counting_selects, login_fast

R = Role


@pytest.fixture
def world(app, staff, make_user, make_delegation):
    """Users (staff, a second department's manager, a second handler and desk agent, and
    deputies) and one record per workflow, state and arrangement of parties."""
    people = dict(staff)
    people["manager2"] = make_user("manager2", R.SALES_MANAGER, department="sales2")
    people["handler2"] = make_user("handler2", R.COMPLAINT_HANDLER, department="service")
    people["desk2"] = make_user("desk2", R.SERVICE_DESK, department="service")
    # deputies: a rep for their manager, a second handler for the first, a manager of the
    # other department for the GM
    make_delegation(staff[R.SALES_MANAGER], staff["rep_b"], R.SALES_MANAGER)
    make_delegation(staff[R.COMPLAINT_HANDLER], people["handler2"], R.COMPLAINT_HANDLER)
    make_delegation(staff[R.GENERAL_MANAGER], people["manager2"], R.GENERAL_MANAGER)
    seq = count(1)
    with app.app_context():
        u = {key: db.session.get(User, person.id) for key, person in people.items()}
        rep, rep_b, rep2 = u[R.SALES_REP], u["rep_b"], u["rep_other_dept"]
        manager, manager2, gm = u[R.SALES_MANAGER], u["manager2"], u[R.GENERAL_MANAGER]
        handler, handler2, desk = u[R.COMPLAINT_HANDLER], u["handler2"], u[R.SERVICE_DESK]
        dept1, dept2 = rep.department_id, rep2.department_id

        def customer(owner, blacklisted=False):
            row = Customer(name=f"客户{next(seq)}", region="上海", owner_id=owner.id,
                           department_id=owner.department_id, blacklisted=blacklisted)
            db.session.add(row)
            db.session.flush()
            return row

        for state in [s.value for s in engine.REGISTRY["credit_application"].states]:
            for applicant in (rep, manager, rep2):
                for blacklisted in (False, True):
                    row = CreditApplication(
                        customer_id=customer(applicant, blacklisted).id, state=state,
                        department_id=applicant.department_id, applicant_id=applicant.id,
                        grade="2", period_start=clock.now().date(),
                        proposed_limit=Decimal("100000"),
                        due_at=clock.now() + timedelta(days=1) if state == "received" else None)
                    db.session.add(row)
                    db.session.flush()
                    if state == "received" and applicant is not manager:
                        # forwarded by the manager, their deputy, or the GM's deputy
                        forwarder = (manager2 if applicant is rep2 else rep_b if blacklisted
                                     else manager)
                        db.session.add(WorkflowHistory(
                            object_type="credit_application", object_id=row.id,
                            event="forward", from_state="submitted", to_state="received",
                            user_id=forwarder.id, role="sales_manager", at=clock.now()))

        def case(state, kind="complaint", handler_id=None, department_id=None, subjects=(),
                 leader_id=None, reply=""):
            row = ServiceCase(
                year=2026, seq=next(seq), kind=kind, channel="phone", state=state,
                received_at=clock.now(), department_id=department_id, description="问题",
                registered_by_id=desk.id, handler_id=handler_id, leader_id=leader_id,
                reply=reply, complainant_name="张先生",
                next_due_at=clock.now() + timedelta(hours=next(seq)))
            db.session.add(row)
            db.session.flush()
            for person in subjects:
                db.session.add(CasePerson(case_id=row.id, user_id=person.id,
                                          relation="subject"))

        for state in ("registered", "assigned", "investigating", "awaiting_decision",
                      "escalated", "decided", "implemented", "replied", "followed_up",
                      "closed"):
            for handler_id in (handler.id, handler2.id):
                for department_id in (dept1, dept2, None):
                    for subjects in ((), (rep,), (manager,), (handler,), (gm,)):
                        for reply in ("", "书面答复"):
                            case(state, handler_id=handler_id if state != "registered"
                                 else None, department_id=department_id, subjects=subjects,
                                 reply=reply)
        for kind in ("consultation", "suggestion"):
            for subjects in ((), (desk,)):
                case("registered", kind=kind, subjects=subjects)
        for state in ("reported", "considered", "closed"):
            for leader in (manager, gm, manager2):
                for subjects in ((), (manager,)):
                    case(state, kind="suggestion", leader_id=leader.id, subjects=subjects,
                         department_id=dept1)

        for state in ("requested", "confirmed", "approved", "rejected", "withdrawn"):
            for owner, other, asker in ((rep, rep_b, rep), (rep, rep_b, rep_b),
                                        (rep2, manager2, manager2), (manager, rep, rep)):
                db.session.add(TransferRequest(
                    customer_id=customer(owner).id, state=state,
                    department_id=owner.department_id, requested_by_id=asker.id,
                    from_user_id=owner.id, to_user_id=other.id))
        for state in ("requested", "approved", "rejected", "withdrawn"):
            for asker in (rep, rep_b, manager, rep2):
                pool_customer = customer(asker)
                db.session.add(PoolClaim(customer_id=pool_customer.id, state=state,
                                         department_id=asker.department_id,
                                         requested_by_id=asker.id))
                db.session.add(ConflictClaim(customer_id=customer(rep).id, state=state,
                                             department_id=dept1, requested_by_id=asker.id,
                                             from_user_id=rep.id if asker is not rep
                                             else rep_b.id))
                db.session.add(Reclassification(customer_id=customer(asker).id, state=state,
                                                department_id=asker.department_id,
                                                requested_by_id=asker.id, proposed_class="A"))
        for state in ("requested", "approved", "rejected", "withdrawn", "expired"):
            for asker in (u[R.ARCHIVIST], gm, manager2):
                db.session.add(ArchiveAccessRequest(
                    customer_id=customer(rep).id, state=state, year=2025,
                    requested_by_id=asker.id, reason="审计", days=3))
        archivist = u[R.ARCHIVIST]
        for state in ("draft", "submitted", "returned", "accepted"):  # rule Q1
            for department_id in (dept1, dept2, None):
                for submitter in (None, manager, manager2, archivist):
                    year = 1900 + next(seq)  # a period of its own
                    db.session.add(Report(
                        kind="consolidated" if department_id is None else "credit_sales",
                        period_start=date(year, 7, 1), period_end=date(year, 9, 30),
                        months=3, department_id=department_id, due_on=date(year, 10, 6),
                        due_at=clock.now() + timedelta(days=next(seq)), state=state,
                        submitted_by_id=submitter.id if submitter else None))
        db.session.commit()
    return people


def _expected(user) -> set[tuple[str, int]]:
    found = set()
    for cls in inbox.machines():
        for row in db.session.scalars(db.select(cls.model_class)):
            if set(engine.available_events(row, user)) - cls.ASIDE:
                found.add((cls.object_type, row.id))
    return found


def _listed(user, **filters) -> set[tuple[str, int]]:
    return {(r.kind, r.id) for r in db.session.execute(inbox.waiting(user, **filters))}


@pytest.mark.parametrize("managers_recused", [False, True])
def test_inbox_lists_exactly_what_the_machines_offer_each_user(app, world, managers_recused):
    with app.test_request_context():
        if managers_recused:
            assert settings.update({"recusal_excludes_manager": "on"}) == {}
            db.session.commit()
    for key, person in world.items():
        with app.test_request_context():
            user = db.session.get(User, person.id)
            expected = _expected(user)
            listed = _listed(user)
            assert listed == expected, (key, sorted(listed - expected)[:5],
                                        sorted(expected - listed)[:5])
            if key in (R.GENERAL_MANAGER, R.SALES_MANAGER, R.COMPLAINT_HANDLER, "rep_b"):
                assert expected, key  # the world gives every acting role something to do


def test_inbox_page_lists_each_tab_and_filters(app, client, world):


    with app.app_context():
        gm = db.session.get(User, world[R.GENERAL_MANAGER].id)
        expected = _expected(gm)
        overdue_case = db.session.scalar(db.select(ServiceCase).where(
            ServiceCase.state == "escalated").limit(1))
        overdue_case.next_due_at = clock.now() - timedelta(hours=3)
        db.session.commit()
        overdue_number = overdue_case.number
    login_fast(client, app, world[R.GENERAL_MANAGER])
    page = client.get("/inbox")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert body.count('data-testid="inbox-row"') == min(len(expected),
                                                         app.config["PAGE_SIZE"])
    # nearest deadline first: the overdue case heads the list
    first_row = body.split('data-testid="inbox-row"')[1]
    assert overdue_number in first_row
    late = client.get("/inbox?overdue=1").get_data(as_text=True)
    assert late.count('data-testid="inbox-row"') == 1 and overdue_number in late
    credit = client.get("/inbox?workflow=credit_application").get_data(as_text=True)
    credit_expected = {i for k, i in expected if k == "credit_application"}
    assert credit.count('data-testid="inbox-row"') == len(credit_expected)
    started = client.get("/inbox?tab=started").get_data(as_text=True)
    assert started.count('data-testid="inbox-row"') == 5  # the GM's access requests
    badge = client.get("/inbox/count").get_data(as_text=True)
    assert f">{len(expected)}<" in badge


def test_inbox_reading_is_audited_and_acting_shows_under_handled(app, client, staff,
                                                                 make_customer,
                                                                 make_application):
    from tests.conftest import login_fast, post

    customer = make_customer("上海华兴精密机械有限公司", staff[R.SALES_REP])
    application = make_application(customer, staff[R.SALES_REP], state="received",
                                   due_at=clock.now() + timedelta(days=2))
    login_fast(client, app, staff[R.GENERAL_MANAGER])
    body = client.get("/inbox").get_data(as_text=True)
    assert "上海华兴精密机械有限公司" in body
    with app.app_context():
        from intranet.models import AuditEntry
        entry = db.session.scalar(db.select(AuditEntry)
                                  .where(AuditEntry.object_type == "inbox")
                                  .order_by(AuditEntry.id.desc()).limit(1))
        assert json.loads(entry.details)["rows"] == [["credit_application", application]]
        version = db.session.get(CreditApplication, application).version
    assert "上海华兴" not in client.get("/inbox?tab=done").get_data(as_text=True)
    answer = post(client, f"/sales/credit/{application}/transition",
                  {"event": "reject", "comment": "回款率过低", "version": version})
    assert answer.status_code == 302
    assert "上海华兴" in client.get("/inbox?tab=done").get_data(as_text=True)
    assert 'data-testid="inbox-row"' not in client.get("/inbox").get_data(as_text=True)


def test_inbox_filters_take_anything(app, client, staff):


    login_fast(client, app, staff[R.SALES_REP])
    for query in ("tab=../x", "workflow=user", "overdue=yes", "page=-1",
                  "tab=done&overdue=1", "tab=started&workflow=pool_claim&overdue=1"):
        assert client.get(f"/inbox?{query}").status_code == 200, query


def test_inbox_statements_do_not_grow_with_its_rows(app, client, staff, make_customer,
                                                    make_application, make_case):
    """One page of the inbox asks the same number of statements for 2 records as for 24 of
    the same two workflows (the union, its count, one statement per workflow on the
    page and its customers)."""
    login_fast(client, app, staff[R.GENERAL_MANAGER])

    def add(n):
        for i in range(n):
            customer = make_customer(f"客户{i}有限公司", staff[R.SALES_REP])
            make_application(customer, staff[R.SALES_REP], state="received",
                             due_at=clock.now() + timedelta(hours=i + 1))
            make_case(state="awaiting_decision", customer_id=customer)

    counts = []
    for n in (1, 11):
        add(n)
        client.get("/inbox")  # warm: settings, the menu
        with counting_selects(app) as statements:
            page = client.get("/inbox").get_data(as_text=True)
        assert page.count('data-testid="inbox-row"') == 2 * sum((1, 11)[:len(counts) + 1])
        counts.append(list(statements))
    assert len(counts[0]) == len(counts[1]), [[s[:120] for s in c] for c in counts]


def test_the_started_tab_asks_the_same_statements_for_more_rows(app, client, staff,
                                                                make_customer, make_case):
    """我发起的 names who holds each record and offers 催办: the holders' roles are asked once
    per (role, department) in a page, a case's parties come with the case, the last urges
    in one statement. The desk started every case here."""
    login_fast(client, app, staff[R.SERVICE_DESK])

    def add(n):
        for i in range(n):
            customer = make_customer(f"客户{i}有限公司", staff[R.SALES_REP])
            make_case(state="awaiting_decision", customer_id=customer,
                      subjects=(staff["rep_b"],))
            make_case(state="investigating", customer_id=customer)

    counts = []
    for n in (1, 11):
        add(n)
        client.get("/inbox?tab=started")  # warm: settings, the menu
        with counting_selects(app) as statements:
            page = client.get("/inbox?tab=started").get_data(as_text=True)
        assert page.count('data-testid="inbox-row"') == 2 * sum((1, 11)[:len(counts) + 1])
        assert page.count('data-testid="urge"') == page.count('data-testid="inbox-row"')
        counts.append(list(statements))
    assert len(counts[0]) == len(counts[1]), [[s[:120] for s in c] for c in counts]


def test_a_party_who_may_no_longer_open_a_record_reads_its_summary(app, client, staff,
                                                                   make_customer,
                                                                   make_application):
    """Every link in the inbox leads somewhere: the applicant whose customer moved to a
    colleague finds their application under 我发起的, linked to its summary and timeline
    (the full page is scoped to the customer, rule C6), not to a 404."""
    rep, rep_b = staff[R.SALES_REP], staff["rep_b"]
    customer = make_customer("上海华兴精密机械有限公司", rep)
    aid = make_application(customer, rep, state="submitted")
    kept = make_application(make_customer("苏州恒通电子有限公司", rep), rep, state="submitted")
    with app.app_context():
        db.session.get(Customer, customer).owner_id = rep_b.id
        db.session.commit()
    login_fast(client, app, rep)
    page = client.get("/inbox?tab=started").get_data(as_text=True)
    links = set(re.findall(r'data-label="[^"]*"><a href="([^"]+)"', page))
    assert links == {f"/inbox/credit_application/{aid}", f"/sales/credit/{kept}"}
    assert client.get(f"/sales/credit/{aid}").status_code == 404
    summary = client.get(f"/inbox/credit_application/{aid}")
    assert summary.status_code == 200 and "上海华兴精密机械有限公司" in summary.get_data(
        as_text=True)
    login_fast(client, app, staff["rep_other_dept"])  # no party: nothing to read
    assert client.get(f"/inbox/credit_application/{aid}").status_code == 404
