"""Transfers between reps, the director's reassignments and claims from the shared pool (rules
R1, R4, R5, R6): nothing moves without both reps and the director, or the director alone with
a reason; every move is one ownership record; what was open goes along; the pool's limits
hold; and nobody reaches another rep's customer through a request (C6)."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from conftest import login_fast, post

from intranet.core import clock, settings
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import (
    CreditApplication,
    Customer,
    CustomerPool,
    Notification,
    OwnershipRecord,
    PoolClaim,
    ResourceRequest,
    TransferRequest,
    User,
    WorkflowHistory,
)
from intranet.resources import ownership, reclaim


def _client(app, user):
    client = app.test_client()
    login_fast(client, app, user)
    return client


def _version(app, request_id):
    with app.app_context():
        return str(db.session.get(ResourceRequest, request_id).version)


def _act(app, user, request_id, event, comment=""):
    return post(_client(app, user), f"/sales/requests/{request_id}/transition",
                {"event": event, "version": _version(app, request_id), "comment": comment})


def _records(app, customer_id):
    with app.app_context():
        return [(r.kind, r.from_user_id, r.to_user_id, r.approved_by_id)
                for r in ownership.history(customer_id)]


def _owner(app, customer_id):
    with app.app_context():
        return db.session.get(Customer, customer_id).owner_id


def _last_request(app, kind=ResourceRequest):
    with app.app_context():
        return db.session.scalar(db.select(kind.id).order_by(kind.id.desc()).limit(1))


def _in_pool(app, name, department_id=None):
    with app.app_context():
        reclaim.ensure_defaults()
        pool = db.session.scalar(db.select(CustomerPool).order_by(
            CustomerPool.id).limit(1))
        customer = Customer(name=name, region="上海", pool_id=pool.id,
                            department_id=department_id)
        db.session.add(customer)
        db.session.commit()
        return customer.id


@pytest.fixture
def transfer(app, staff, make_customer):
    """The owner (rep) asks to transfer a customer to rep_b."""
    rep, rep_b = staff[Role.SALES_REP], staff["rep_b"]
    cid = make_customer("上海东方精密机械有限公司", rep)
    response = post(_client(app, rep), f"/sales/customers/{cid}/transfer",
                    {"to_user_id": str(rep_b.id), "reason": "客户迁到浦东，由张敏就近服务"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return cid, _last_request(app, TransferRequest)


def test_r1_transfer_needs_the_other_rep_and_then_the_director(app, staff, transfer):
    cid, rid = transfer
    rep, rep_b, manager = staff[Role.SALES_REP], staff["rep_b"], staff[Role.SALES_MANAGER]
    # the director cannot act before the other rep agrees
    assert _act(app, manager, rid, "approve").status_code == 409
    assert _owner(app, cid) == rep.id
    assert _act(app, rep_b, rid, "confirm").status_code == 302
    assert _owner(app, cid) == rep.id  # agreeing moves nothing
    assert _act(app, manager, rid, "approve").status_code == 302
    assert _owner(app, cid) == rep_b.id
    transfer_records = [r for r in _records(app, cid) if r[0] == "transfer"]
    assert transfer_records == [("transfer", rep.id, rep_b.id, manager.id)]
    with app.app_context():
        row = db.session.get(ResourceRequest, rid)
        assert row.state == "approved" and row.ownership_record.object_id == rid
        events = [h.event for h in db.session.scalars(db.select(WorkflowHistory).where(
            WorkflowHistory.object_type == "transfer_request", WorkflowHistory.object_id == rid)
            .order_by(WorkflowHistory.id))]
        assert events == ["created", "confirm", "approve"]
        told = {n.user_id: n.kind for n in db.session.scalars(db.select(Notification))}
    assert told[rep_b.id] in ("transfer_requested", "transfer_decided")
    assert told[manager.id] == "transfer_confirmed" and told[rep.id] == "transfer_decided"
    # the customer page's owners over time: who gave, who took, who approved, by name
    page = _client(app, rep_b).get(f"/sales/customers/{cid}").get_data(as_text=True)
    owners = re.search(r'<table data-testid="owners">(.*?)</table>', page, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", row).split("\n") for row in re.findall(
        r"<tr><td>.*?</tr>", owners, re.S)]
    last = [c.strip() for c in cells[-1] if c.strip()]
    with app.app_context():
        names = [db.session.get(User, u.id).display_name for u in (rep, rep_b, manager)]
    assert last[-3:] == names
    assert names[2] not in "".join(map(str, cells[:-1]))


def test_r1_neither_rep_approves_and_only_the_other_agrees(app, staff, transfer):
    _, rid = transfer
    rep, rep_b = staff[Role.SALES_REP], staff["rep_b"]
    assert _act(app, rep, rid, "confirm").status_code == 409  # the requester cannot agree
    assert _act(app, rep_b, rid, "confirm").status_code == 302
    for person in (rep, rep_b, staff["rep_other_dept"]):
        assert _act(app, person, rid, "approve").status_code in (404, 409)
    other_director = _client(app, staff[Role.SALES_MANAGER])
    assert other_director  # the department's director can still decide
    with app.app_context():
        assert db.session.get(ResourceRequest, rid).state == "confirmed"


def test_r1_a_director_of_another_department_cannot_approve(app, staff, transfer, make_user):
    _, rid = transfer
    _act(app, staff["rep_b"], rid, "confirm")
    outsider = make_user("manager2", Role.SALES_MANAGER, department="sales2")
    assert _act(app, outsider, rid, "approve").status_code == 404  # not in their scope


def test_r1_the_other_rep_may_decline_with_a_reason(app, staff, transfer):
    cid, rid = transfer
    assert _act(app, staff["rep_b"], rid, "decline").status_code == 422
    assert _act(app, staff["rep_b"], rid, "decline", "我手上客户已满").status_code == 302
    with app.app_context():
        assert db.session.get(ResourceRequest, rid).state == "rejected"
    assert _owner(app, cid) == staff[Role.SALES_REP].id


def test_r1_a_colleague_asks_to_take_over_by_the_exact_name(app, staff, make_customer):
    rep, rep_b, manager = staff[Role.SALES_REP], staff["rep_b"], staff[Role.SALES_MANAGER]
    cid = make_customer("杭州西湖电子有限公司", rep)
    client = _client(app, rep_b)
    response = post(client, "/sales/transfers/take-over", {"q": "杭州西湖", "reason": "老客户"})
    assert response.status_code == 422  # a fragment finds nothing: no fishing for names
    response = post(client, "/sales/transfers/take-over",
                    {"q": "杭州西湖电子有限公司", "reason": "客户点名由我跟进"})
    assert response.status_code == 302
    rid = _last_request(app, TransferRequest)
    assert _act(app, rep_b, rid, "confirm").status_code == 409  # the owner must agree
    assert _act(app, rep, rid, "confirm").status_code == 302
    assert _act(app, manager, rid, "approve").status_code == 302
    assert _owner(app, cid) == rep_b.id


def test_r1_open_credit_applications_follow_the_customer(app, staff, transfer,
                                                          make_application):
    cid, rid = transfer
    rep, rep_b = staff[Role.SALES_REP], staff["rep_b"]
    open_id = make_application(cid, rep, state="submitted")
    done_id = make_application(cid, rep, state="rejected")
    _act(app, rep_b, rid, "confirm")
    _act(app, staff[Role.SALES_MANAGER], rid, "approve")
    with app.app_context():
        assert db.session.get(CreditApplication, open_id).applicant_id == rep_b.id
        assert db.session.get(CreditApplication, done_id).applicant_id == rep.id
        assert db.session.get(ResourceRequest, rid).handed_over == \
            f"credit_application:{open_id}"
    page = _client(app, rep_b).get(f"/sales/requests/{rid}").get_data(as_text=True)
    assert f"#{open_id}" in page.split('data-testid="followed"')[1].split("</td>")[0]


def test_r1_a_request_against_an_owner_since_changed_cannot_be_carried_out(app, staff,
                                                                            transfer, make_user):
    cid, rid = transfer
    rep_c = make_user("repc", Role.SALES_REP)
    _act(app, staff["rep_b"], rid, "confirm")
    response = post(_client(app, staff[Role.SALES_MANAGER]), f"/sales/customers/{cid}/reassign",
                    {"to_user_id": str(rep_c.id), "reason": "客户投诉原业务员态度"})
    assert response.status_code == 302
    assert _act(app, staff[Role.SALES_MANAGER], rid, "approve").status_code == 409
    assert _owner(app, cid) == rep_c.id


def test_r1_only_the_owner_offers_a_customer_and_only_to_a_colleague(app, staff,
                                                                      make_customer):
    rep, rep_b = staff[Role.SALES_REP], staff["rep_b"]
    cid = make_customer("苏州工业园区测试有限公司", rep)
    outsider = staff["rep_other_dept"]
    response = post(_client(app, rep), f"/sales/customers/{cid}/transfer",
                    {"to_user_id": str(outsider.id), "reason": "跨部门"})
    assert response.status_code == 422
    response = post(_client(app, rep_b), f"/sales/customers/{cid}/transfer",
                    {"to_user_id": str(rep_b.id), "reason": "我想要"})
    assert response.status_code == 404  # not rep_b's customer: not even in scope
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ResourceRequest)) == 0


def test_r4_the_director_reassigns_alone_with_the_reason_recorded(app, staff, make_customer):
    rep, rep_b, manager = staff[Role.SALES_REP], staff["rep_b"], staff[Role.SALES_MANAGER]
    cid = make_customer("宁波港口物流有限公司", rep)
    client = _client(app, manager)
    url = f"/sales/customers/{cid}/reassign"
    assert post(client, url, {"to_user_id": str(rep_b.id), "reason": " "}).status_code == 422
    assert _owner(app, cid) == rep.id
    assert post(client, url, {"to_user_id": str(rep_b.id),
                              "reason": "原业务员与客户发生冲突"}).status_code == 302
    assert _owner(app, cid) == rep_b.id
    with app.app_context():
        record = db.session.scalar(db.select(OwnershipRecord).where(
            OwnershipRecord.customer_id == cid, OwnershipRecord.kind == "reassignment"))
        assert (record.reason, record.approved_by_id) == ("原业务员与客户发生冲突", manager.id)
    # a rep cannot reassign, whatever they post
    assert post(_client(app, rep_b), url, {"to_user_id": str(rep.id),
                                           "reason": "x"}).status_code == 403


def test_r4_a_leaving_reps_customers_are_handed_over_in_bulk(app, staff, make_customer):
    rep, rep_b, manager = staff[Role.SALES_REP], staff["rep_b"], staff[Role.SALES_MANAGER]
    ids = [make_customer(f"离职交接客户{i}有限公司", rep) for i in range(3)]
    kept = make_customer("他人客户有限公司", rep_b)
    response = post(_client(app, manager), "/sales/handover", {
        "from_user_id": str(rep.id), "to_user_id": str(rep_b.id), "reason": "业务员离职"})
    assert response.status_code == 302
    assert [_owner(app, cid) for cid in ids] == [rep_b.id] * 3
    assert _owner(app, kept) == rep_b.id
    assert all(("reassignment", rep.id, rep_b.id, manager.id) in _records(app, cid)
               for cid in ids)


def test_r4_a_deputy_director_hands_over_the_principals_department(
        app, staff, make_customer, make_user, make_delegation):
    """A deputy standing in for the sales manager sees and hands over the principal's reps,
    not those of the deputy's own department (an empty page before)."""
    rep, rep_b, manager = staff[Role.SALES_REP], staff["rep_b"], staff[Role.SALES_MANAGER]
    deputy = make_user("deputy_other", Role.FINANCE, department="finance")
    make_delegation(manager, deputy, Role.SALES_MANAGER)
    ids = [make_customer(f"代理交接客户{i}有限公司", rep) for i in range(2)]
    client = _client(app, deputy)
    page = client.get("/sales/handover").get_data(as_text=True)
    assert f'value="{rep.id}"' in page and f'value="{rep_b.id}"' in page
    response = post(client, "/sales/handover", {
        "from_user_id": str(rep.id), "to_user_id": str(rep_b.id), "reason": "业务员离职"})
    assert response.status_code == 302
    assert [_owner(app, cid) for cid in ids] == [rep_b.id] * 2


def test_r5_a_claim_from_the_pool_is_approved_by_the_director(app, staff):
    rep, rep_b, manager = staff[Role.SALES_REP], staff["rep_b"], staff[Role.SALES_MANAGER]
    cid = _in_pool(app, "公海客户甲有限公司")
    page = _client(app, rep).get("/sales/pool").get_data(as_text=True)
    assert "公海客户甲有限公司" in page
    assert post(_client(app, rep), f"/sales/pool/{cid}/claim", {"reason": ""}).status_code == 422
    assert post(_client(app, rep), f"/sales/pool/{cid}/claim",
                {"reason": "曾拜访过，客户有采购意向"}).status_code == 302
    first = _last_request(app, PoolClaim)
    assert post(_client(app, rep_b), f"/sales/pool/{cid}/claim",
                {"reason": "同区域"}).status_code == 302
    second = _last_request(app, PoolClaim)
    assert _owner(app, cid) is None  # a claim alone moves nothing
    assert _act(app, rep, first, "approve").status_code == 409
    assert _act(app, manager, first, "approve").status_code == 302
    assert _owner(app, cid) == rep.id
    assert [r for r in _records(app, cid) if r[0] == "claim"] == [
        ("claim", None, rep.id, manager.id)]
    with app.app_context():
        rival = db.session.get(ResourceRequest, second)
        assert rival.state == "rejected" and rival.decision_comment
        assert db.session.get(Customer, cid).pool_id is None
    # the customer has left the pool
    assert "公海客户甲有限公司" not in _client(app, rep_b).get("/sales/pool").get_data(
        as_text=True)
    assert _client(app, rep_b).get(f"/sales/pool/{cid}/claim").status_code == 404


def test_r5_a_rep_at_the_cap_cannot_claim_and_the_director_cannot_exceed_it(app, staff,
                                                                            make_customer):
    rep, manager = staff[Role.SALES_REP], staff[Role.SALES_MANAGER]
    cid = _in_pool(app, "公海客户乙有限公司")
    assert post(_client(app, rep), f"/sales/pool/{cid}/claim",
                {"reason": "有意向"}).status_code == 302
    rid = _last_request(app, PoolClaim)
    make_customer("已有客户有限公司", rep)
    with app.test_request_context():
        settings.update({"resources_max_customers": "1"})
        db.session.commit()
    assert _act(app, manager, rid, "approve").status_code == 422  # would go over the cap
    assert _owner(app, cid) is None
    other = _in_pool(app, "公海客户丙有限公司")
    response = post(_client(app, rep), f"/sales/pool/{other}/claim", {"reason": "有意向"})
    assert response.status_code == 422 and "1" in response.get_data(as_text=True)


def test_r5_claims_per_day_are_limited(app, staff):
    rep = staff[Role.SALES_REP]
    with app.test_request_context():
        settings.update({"resources_claims_per_day": "2"})
        db.session.commit()
    ids = [_in_pool(app, f"公海客户{i}号有限公司") for i in range(3)]
    codes = [post(_client(app, rep), f"/sales/pool/{cid}/claim",
                  {"reason": "有意向"}).status_code for cid in ids]
    assert codes == [302, 302, 422]


@pytest.mark.parametrize(("days_ago", "allowed"), [(29, False), (31, True)])
def test_r6_a_previous_owner_waits_before_claiming_again(app, staff, frozen, days_ago,
                                                         allowed):
    rep = staff[Role.SALES_REP]
    cid = _in_pool(app, "回流客户有限公司")
    now = clock.now()
    with app.app_context():
        db.session.add(OwnershipRecord(customer_id=cid, kind="reclaim", from_user_id=rep.id,
                                       to_user_id=None, at=now - timedelta(days=days_ago)))
        db.session.commit()
    response = post(_client(app, rep), f"/sales/pool/{cid}/claim", {"reason": "再次跟进"})
    assert response.status_code == (302 if allowed else 422)
    # another rep is never kept waiting
    assert post(_client(app, staff["rep_b"]), f"/sales/pool/{cid}/claim",
                {"reason": "新跟进"}).status_code == 302


def test_c6_nobody_reaches_another_reps_customer_through_a_request(app, staff, transfer):
    cid, rid = transfer
    outsiders = (staff["rep_other_dept"], staff[Role.SERVICE_DESK])
    for user in outsiders:
        client = _client(app, user)
        assert client.get(f"/sales/requests/{rid}").status_code in (403, 404)
        assert client.get(f"/sales/requests/{rid}/pdf").status_code in (403, 404)
        listing = client.get("/sales/requests")
        assert "上海东方精密机械有限公司" not in listing.get_data(as_text=True)
    # an owned customer is never in the pool nor claimable
    rep_b = _client(app, staff["rep_b"])
    assert rep_b.get(f"/sales/pool/{cid}/claim").status_code == 404
    assert post(rep_b, f"/sales/pool/{cid}/claim", {"reason": "x"}).status_code == 404
    # the party who is not the owner sees the request, but the file stays closed to them
    page = rep_b.get(f"/sales/requests/{rid}").get_data(as_text=True)
    assert "上海东方精密机械有限公司" in page and f"/sales/customers/{cid}\"" not in page


def test_r1_two_directors_approving_at_once_one_wins_one_409(app, staff, transfer, make_user):
    cid, rid = transfer
    _act(app, staff["rep_b"], rid, "confirm")
    second = make_user("manager_b", Role.SALES_MANAGER)
    clients = []
    for user in (staff[Role.SALES_MANAGER], second):
        client = _client(app, user)
        page = client.get(f"/sales/requests/{rid}").get_data(as_text=True)
        token = page.split('name="csrf-token" content="')[1].split('"')[0]
        clients.append((client, token))
    version = _version(app, rid)
    barrier = threading.Barrier(2)
    results = [None, None]

    def approve(index):
        client, token = clients[index]
        barrier.wait()
        response = client.post(f"/sales/requests/{rid}/transition", data={
            "csrf_token": token, "event": "approve", "version": version})
        results[index] = response.status_code

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [302, 409], results
    assert [r for r in _records(app, cid) if r[0] == "transfer"] != []
    assert len([r for r in _records(app, cid) if r[0] == "transfer"]) == 1


def test_the_request_record_prints_as_a_pdf(app, staff, transfer):
    import subprocess
    import tempfile

    _, rid = transfer
    _act(app, staff["rep_b"], rid, "confirm")
    _act(app, staff[Role.SALES_MANAGER], rid, "approve")
    response = _client(app, staff[Role.SALES_MANAGER]).get(f"/sales/requests/{rid}/pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(response.data)
        handle.flush()
        text = subprocess.run(["pdftotext", handle.name, "-"], capture_output=True,
                              text=True, check=True).stdout
    assert "客户资源调配记录" in text and "上海东方精密机械有限公司" in text
    assert "客户迁到浦东" in text.replace("\n", "") and "已转移" in text


def test_r2_each_reclaim_run_is_a_batch_with_its_pdf_record(app, staff, make_customer, frozen,
                                                            make_user):
    import subprocess
    import tempfile

    from intranet.core import jobs
    from intranet.models import ReclaimRule

    rep, manager = staff[Role.SALES_REP], staff[Role.SALES_MANAGER]
    with app.app_context():
        reclaim.ensure_defaults()
        rule = db.session.scalar(db.select(ReclaimRule).where(ReclaimRule.kind == "no_activity"))
        rule.enabled = True
        db.session.commit()
    mine = [make_customer(f"沉睡客户{i}有限公司", rep) for i in range(2)]
    elsewhere = make_customer("外部门沉睡客户有限公司", staff["rep_other_dept"])
    frozen(clock.now() + timedelta(days=61))
    with app.test_request_context():
        jobs.run_all()
    assert [_owner(app, cid) for cid in (*mine, elsewhere)] == [None, None, None]
    client = _client(app, manager)
    page = client.get("/sales/reclaims").get_data(as_text=True)
    assert "无销售活动" in page
    count = page.split('data-testid="reclaim-batches"')[1].split('class="num">')[1]
    assert count.startswith("2<")  # the other department's customer is not this director's
    link = page.split('href="/sales/reclaims/')[1].split('"')[0]
    response = client.get(f"/sales/reclaims/{link}")
    assert response.status_code == 200
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(response.data)
        handle.flush()
        text = subprocess.run(["pdftotext", handle.name, "-"], capture_output=True,
                              text=True, check=True).stdout
    assert "客户资源调配记录" in text and "沉睡客户0有限公司" in text
    assert "外部门沉睡客户有限公司" not in text
    outsider = make_user("manager2", Role.SALES_MANAGER, department="sales2")
    assert _client(app, outsider).get(f"/sales/reclaims/{link}").status_code == 404


def test_r4_r7_a_handover_spread_by_the_ranking_skips_suspended_reps(app, staff, make_customer,
                                                                     make_user):
    from intranet.resources import suspensions

    rep, rep_b, manager = staff[Role.SALES_REP], staff["rep_b"], staff[Role.SALES_MANAGER]
    rep_c = make_user("repc", Role.SALES_REP)
    ids = [make_customer(f"分配交接客户{i}有限公司", rep) for i in range(3)]
    from intranet.models import User

    with app.test_request_context():
        suspensions.record(db.session.get(User, rep_c.id), "违规私下交换客户",
                           db.session.get(User, manager.id))
        db.session.commit()
    response = post(_client(app, manager), "/sales/handover", {
        "from_user_id": str(rep.id), "to_user_id": "-1", "reason": "业务员离职"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert [_owner(app, cid) for cid in ids] == [rep_b.id] * 3  # rep_c is suspended


def test_r1_a_director_who_is_a_party_does_not_approve_their_own_transfer(app, staff,
                                                                          make_customer,
                                                                          make_user):
    """Separation of duties: someone both rep and director of the department gives a customer
    away; the other director decides, never they."""
    both = make_user("repdirector", Role.SALES_REP, Role.SALES_MANAGER)
    rep_b, manager = staff["rep_b"], staff[Role.SALES_MANAGER]
    cid = make_customer("自批测试有限公司", both)
    assert post(_client(app, both), f"/sales/customers/{cid}/transfer",
                {"to_user_id": str(rep_b.id), "reason": "调整分工"}).status_code == 302
    rid = _last_request(app, TransferRequest)
    assert _act(app, rep_b, rid, "confirm").status_code == 302
    assert _act(app, both, rid, "approve").status_code == 409
    assert _owner(app, cid) == both.id
    assert _act(app, manager, rid, "approve").status_code == 302
    assert _owner(app, cid) == rep_b.id


def test_the_asker_withdraws_a_transfer_saying_why(app, staff, transfer):
    """Issue 13 §2: 撤回 with a reason, asked for on the request's page."""
    cid, rid = transfer
    client = _client(app, staff[Role.SALES_REP])
    page = client.get(f"/sales/requests/{rid}").get_data(as_text=True)
    form = page.split('value="withdraw"')[1].split("</form>")[0]
    assert 'name="comment"' in form and " required" in form
    assert _act(app, staff[Role.SALES_REP], rid, "withdraw").status_code == 422
    assert _act(app, staff[Role.SALES_REP], rid, "withdraw", "客户决定暂不迁址").status_code == 302
    with app.app_context():
        assert db.session.get(ResourceRequest, rid).state == "withdrawn"
    assert _owner(app, cid) == staff[Role.SALES_REP].id


def test_the_asker_urges_and_copies_in_from_the_request_page(app, staff, transfer):
    """Issue 13 §2: 催办 and 抄送 on the transfer's own page (workflows/_steps.html); the
    reminder goes to the rep who must agree, and the asker lands back on the page."""
    _cid, rid = transfer
    rep, rep_b = staff[Role.SALES_REP], staff["rep_b"]
    asker = _client(app, rep)
    page = asker.get(f"/sales/requests/{rid}").get_data(as_text=True)
    assert 'data-testid="urge-form"' in page and 'data-testid="copy"' in page
    assert 'data-testid="urge-form"' not in _client(app, rep_b).get(
        f"/sales/requests/{rid}").get_data(as_text=True)  # only the one who started it
    answer = post(asker, f"/inbox/transfer_request/{rid}/urge",
                  {"next": f"/sales/requests/{rid}"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(
        f"/sales/requests/{rid}")
    with app.app_context():
        assert db.session.scalar(db.select(Notification.user_id).where(
            Notification.kind == "urged")) == rep_b.id
    again = asker.get(f"/sales/requests/{rid}").get_data(as_text=True)
    assert 'data-testid="urge-refusal"' in again and 'data-event="urge"' not in again
    finance = staff[Role.FINANCE]
    assert post(asker, f"/inbox/transfer_request/{rid}/copy",
                {"user_ids": [finance.id]}).status_code == 302
    assert _client(app, finance).get(f"/inbox/transfer_request/{rid}").status_code == 200
