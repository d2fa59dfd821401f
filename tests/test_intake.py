"""Lead intake at the desk, re-classification requests (rule C4) and conflict claims (rule C2):
the class follows the value by settings, a wrong class is corrected only by the sales manager
and marks the agent who gave it, an agent with too many marks in a month is paused, and a
refused registration can claim the registered customer without seeing its file (C6)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from conftest import login_fast, post

from intranet.core import settings
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import (
    AuditEntry,
    ConflictClaim,
    Customer,
    Notification,
    OwnershipRecord,
    Reclassification,
    User,
)
from intranet.resources import intake, ownership

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Monday


def register_lead(app, client, staff, value="500000", **fields):
    login_fast(client, app, staff[Role.SERVICE_DESK])
    data = {"name": "苏州新星电子有限公司", "deal_value": value, "contact_phone": "13900001111",
            **fields}
    return post(client, "/service/leads/new", data)


def newest_customer(app) -> Customer:
    with app.app_context():
        customer = db.session.scalar(db.select(Customer).order_by(Customer.id.desc()))
        db.session.expunge(customer)
        return customer


def allocate(app, customer_id, user):
    """What the director's allocation (another part of the issue) does: the first owner."""
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        director = db.session.scalar(db.select(User).where(User.username == "manager"))
        ownership.change_owner(customer, db.session.get(User, user.id), "allocation",
                               actor=director, approved_by=director)
        db.session.commit()


@pytest.fixture
def lead(app, client, staff, frozen):
    """A class-B lead registered by the desk and allocated to the rep."""
    frozen(T0)
    assert register_lead(app, client, staff).status_code == 302
    customer_id = newest_customer(app).id
    allocate(app, customer_id, staff[Role.SALES_REP])
    return customer_id


# --- intake -------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("800000", "A"), ("799999.99", "B"), ("400000", "B"), ("399999", "C"),
    ("200000", "C"), ("199999.99", "D"), ("0", "D")])
def test_c4_the_class_follows_the_expected_deal_value(app, client, staff, value, expected):
    response = register_lead(app, client, staff, value)
    assert response.status_code == 302 and response.location.endswith("/service/leads")
    lead = newest_customer(app)
    assert (lead.deal_class, lead.deal_value) == (expected, Decimal(value))
    assert lead.classified_by_id == staff[Role.SERVICE_DESK].id
    assert lead.created_by_id == staff[Role.SERVICE_DESK].id


def test_c4_a_lead_waits_in_the_pool_without_owner_or_ownership_record(app, client, staff):
    assert register_lead(app, client, staff).status_code == 302
    lead = newest_customer(app)
    assert (lead.owner_id, lead.owned_since, lead.department_id) == (None, None, None)
    with app.app_context():
        assert lead.pool_id == intake.default_pool().id
        assert db.session.scalar(db.select(db.func.count()).select_from(OwnershipRecord)
                                 .where(OwnershipRecord.customer_id == lead.id)) == 0
        entry = db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.object_type == "customer", AuditEntry.object_id == str(lead.id),
            AuditEntry.action == "create"))
        assert entry.user_id == staff[Role.SERVICE_DESK].id and '"deal_class": "B"' in entry.details
    page = client.get("/service/leads").get_data(as_text=True)
    assert "苏州新星电子有限公司" in page and "¥500,000" in page


def test_c4_the_desk_may_set_another_class(app, client, staff):
    assert register_lead(app, client, staff, "100000", deal_class="A").status_code == 302
    assert newest_customer(app).deal_class == "A"
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.object_type == "customer", AuditEntry.action == "create"))
        assert '"overridden": true' in entry.details and '"computed_class": "D"' in entry.details


def test_c4_the_thresholds_are_settings(app, client, staff):
    login_fast(client, app, staff[Role.SERVICE_DESK])
    assert "¥800,000" in client.get("/service/leads/new").get_data(as_text=True)
    with app.test_request_context():
        assert settings.update({"deal_class_a_min_yuan": "1000000"}) == {}
        db.session.commit()
    assert register_lead(app, client, staff, "900000").status_code == 302
    assert newest_customer(app).deal_class == "B"


def test_c4_c2_a_lead_that_is_already_registered_is_refused(app, client, staff,
                                                           make_customer):
    existing = make_customer("苏州新星电子股份公司", staff[Role.SALES_REP])
    response = register_lead(app, client, staff, name="苏州新星电子（股份）公司")
    assert response.status_code == 409
    assert "该客户已被登记" in response.get_data(as_text=True)
    assert newest_customer(app).id == existing


def test_c4_bad_values_are_field_errors(app, client, staff):
    for value in ("", "abc", "NaN", "-5", "1e400"):
        response = register_lead(app, client, staff, value)
        assert response.status_code == 422, value


# --- re-classification (资源重新申请表) -------------------------------------------------------

def file_request(app, client, user, customer_id, proposed="A", reason="客户年采购额超过一百万"):
    login_fast(client, app, user)
    return post(client, f"/sales/customers/{customer_id}/reclassification",
                {"proposed_class": proposed, "reason": reason})


def decide(app, client, user, url, event, comment="", version=None):
    login_fast(client, app, user)
    if version is None:
        with app.app_context():
            kind = Reclassification if "reclass" in url else ConflictClaim
            version = db.session.get(kind, int(url.rstrip("/").rsplit("/", 1)[1])).version
    return post(client, url + "/transition", {"event": event, "version": str(version),
                                              "comment": comment})


def notes(app, user, kind):
    with app.app_context():
        return db.session.scalars(db.select(Notification).where(
            Notification.user_id == user.id, Notification.kind == kind)).all()


def test_c4_the_owner_asks_and_the_manager_changes_the_class(app, client, staff, lead):
    login_fast(client, app, staff[Role.SALES_REP])
    page = client.get(f"/sales/customers/{lead}").get_data(as_text=True)
    assert f"/sales/customers/{lead}/reclassification" in page
    response = file_request(app, client, staff[Role.SALES_REP], lead)
    assert response.status_code == 302
    url = response.location
    assert len(notes(app, staff[Role.SALES_MANAGER], "reclassification_requested")) == 1
    assert newest_customer(app).deal_class == "B"  # nothing changes before the decision
    assert decide(app, client, staff[Role.SALES_MANAGER], url, "approve").status_code == 302
    with app.app_context():
        customer = db.session.get(Customer, lead)
        assert customer.deal_class == "A"
        assert customer.classified_by_id == staff[Role.SALES_MANAGER].id
        assert intake.marks_this_month(staff[Role.SERVICE_DESK].id) == 1
    assert len(notes(app, staff[Role.SALES_REP], "reclassification_decided")) == 1
    assert len(notes(app, staff[Role.SERVICE_DESK], "classification_marked")) == 1
    login_fast(client, app, staff[Role.SERVICE_DESK])  # the agent reads why
    assert "客户年采购额超过一百万" in client.get(url).get_data(as_text=True)


def test_c4_a_rejection_needs_a_comment_and_marks_nobody(app, client, staff, lead):
    url = file_request(app, client, staff[Role.SALES_REP], lead).location
    assert decide(app, client, staff[Role.SALES_MANAGER], url, "reject").status_code == 422
    assert decide(app, client, staff[Role.SALES_MANAGER], url, "reject",
                  "预计金额有合同依据").status_code == 302
    with app.app_context():
        assert db.session.get(Customer, lead).deal_class == "B"
        assert intake.marks_this_month(staff[Role.SERVICE_DESK].id) == 0
        row = db.session.scalar(db.select(Reclassification))
        assert (row.state, row.decision_comment) == ("rejected", "预计金额有合同依据")
    assert len(notes(app, staff[Role.SALES_REP], "reclassification_decided")) == 1
    assert notes(app, staff[Role.SERVICE_DESK], "classification_marked") == []


def test_c4_only_the_owner_asks(app, client, staff, lead):
    assert file_request(app, client, staff["rep_b"], lead).status_code == 404  # not in scope
    response = file_request(app, client, staff[Role.SALES_MANAGER], lead)  # in scope, not owner
    assert response.status_code == 409
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Reclassification)) == 0


def test_c4_requester_is_never_the_approver(app, client, staff, frozen):
    """A sales manager who owns a lead files the request: nobody but another manager of the
    department decides it (separation of duties)."""
    frozen(T0)
    assert register_lead(app, client, staff).status_code == 302
    customer_id = newest_customer(app).id
    allocate(app, customer_id, staff[Role.SALES_MANAGER])
    url = file_request(app, client, staff[Role.SALES_MANAGER], customer_id).location
    response = decide(app, client, staff[Role.SALES_MANAGER], url, "approve")
    assert response.status_code == 409
    login_fast(client, app, staff[Role.SALES_MANAGER])
    assert 'data-event="approve"' not in client.get(url).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Customer, customer_id).deal_class == "B"


def test_c4_a_manager_of_another_department_cannot_decide(app, client, staff, make_user, lead):
    other = make_user("manager2", Role.SALES_MANAGER, department="sales2")
    url = file_request(app, client, staff[Role.SALES_REP], lead).location
    assert decide(app, client, other, url, "approve", version=1).status_code == 404
    assert decide(app, client, staff[Role.SALES_REP], url, "approve").status_code == 409
    assert decide(app, client, staff[Role.SALES_MANAGER], url, "approve",
                  version=0).status_code == 409  # a stale page
    with app.app_context():
        assert db.session.get(Customer, lead).deal_class == "B"


def test_c4_crafted_fields_are_ignored(app, client, staff, lead):
    login_fast(client, app, staff[Role.SALES_REP])
    response = post(client, f"/sales/customers/{lead}/reclassification", {
        "proposed_class": "A", "reason": "理由", "state": "approved", "classified_by_id": "1",
        "department_id": "99"})
    assert response.status_code == 302
    with app.app_context():
        row = db.session.scalar(db.select(Reclassification))
        assert (row.state, row.classified_by_id) == ("requested", staff[Role.SERVICE_DESK].id)
        assert row.department_id == staff[Role.SALES_REP].department_id


# --- the pause of a desk agent ------------------------------------------------------------

def marks_at(app, staff, *moments):
    """Approved re-classifications marking the desk agent, decided at `moments`."""
    with app.app_context():
        customer = Customer(name="标记客户", deal_class="A")
        db.session.add(customer)
        db.session.flush()
        for at in moments:
            db.session.add(Reclassification(
                customer_id=customer.id, requested_by_id=staff[Role.SALES_REP].id,
                department_id=staff[Role.SALES_REP].department_id, proposed_class="A",
                state="approved", classified_by_id=staff[Role.SERVICE_DESK].id,
                decided_at=at, created_at=at))
        db.session.commit()


@pytest.mark.parametrize(("count", "paused"), [(2, False), (3, True)])
def test_c4_three_wrong_classifications_in_a_month_pause_intake(app, client, staff, frozen,
                                                                count, paused):
    frozen(T0 + timedelta(days=5))
    marks_at(app, staff, *[T0 + timedelta(days=i) for i in range(count)])
    response = register_lead(app, client, staff)
    assert response.status_code == (409 if paused else 302)
    home = client.get("/").get_data(as_text=True)
    assert ("暂停" in home) == paused
    if paused:
        assert "暂停" in response.get_data(as_text=True)
        assert "2026-11-11" in home  # the third mark (4 November) + the seven-day pause


def test_c4_marks_of_two_months_do_not_add_up(app, client, staff, frozen):
    frozen(T0 + timedelta(days=3))
    marks_at(app, staff, T0 - timedelta(days=3), T0 - timedelta(days=2), T0)  # Oct, Oct, Nov
    assert register_lead(app, client, staff).status_code == 302


@pytest.mark.parametrize(("after", "paused"), [(timedelta(days=7, minutes=-1), True),
                                               (timedelta(days=7), False)])
def test_c4_the_pause_ends_after_the_set_days(app, client, staff, frozen, after, paused):
    third = T0 + timedelta(days=2)
    marks_at(app, staff, T0, T0 + timedelta(days=1), third)
    frozen(third + after)
    assert (register_lead(app, client, staff).status_code == 409) == paused


def test_c4_the_limit_and_the_pause_are_settings(app, client, staff, frozen):
    with app.test_request_context():
        assert settings.update({"intake_wrong_class_limit": "2", "intake_pause_days": "30"}) == {}
        db.session.commit()
    marks_at(app, staff, T0, T0 + timedelta(days=1))
    frozen(T0 + timedelta(days=29))
    assert register_lead(app, client, staff).status_code == 409


# --- conflict claims ----------------------------------------------------------------------

@pytest.fixture
def refused(app, client, staff, make_customer, frozen):
    """The rep owns 上海华东机械; rep B's registration of the same company is refused."""
    frozen(T0)
    existing = make_customer("上海华东机械有限公司", staff[Role.SALES_REP], region="浦东新区")
    with app.app_context():
        customer = db.session.get(Customer, existing)
        customer.address = "张江路 88 号"
        ownership.first_owner(customer, "registered", None)
        db.session.commit()
    login_fast(client, app, staff["rep_b"])
    response = post(client, "/sales/customers/new", {"name": "上海华东机械有限公司 ",
                                                     "relation": "customer"})
    assert response.status_code == 409
    return existing, response.get_data(as_text=True)


def claim(client, reason="我去年就在跟进这家客户", name="上海华东机械有限公司 ", **extra):
    return post(client, "/sales/conflicts/new", {"name": name, "reason": reason, **extra})


def test_c2_the_refusal_offers_a_conflict_claim(app, client, staff, refused):
    existing, page = refused
    form = page.split('data-testid="conflict-claim"')[1].split("</form>")[0]
    assert 'name="name" value="上海华东机械有限公司 "' in form and "customer_id" not in form
    response = claim(client)
    assert response.status_code == 302
    url = response.location
    with app.app_context():
        row = db.session.scalar(db.select(ConflictClaim))
        assert (row.customer_id, row.from_user_id, row.requested_by_id) == (
            existing, staff[Role.SALES_REP].id, staff["rep_b"].id)
        assert row.department_id == staff[Role.SALES_REP].department_id
    assert len(notes(app, staff[Role.SALES_MANAGER], "conflict_requested")) == 1
    # rule R3: the first registration keeps it until the manager decides otherwise
    with app.app_context():
        assert db.session.get(Customer, existing).owner_id == staff[Role.SALES_REP].id
    assert url.startswith("/sales/conflicts/")


def test_c2_r3_transfer_moves_the_customer_by_an_ownership_record(app, client, staff,
                                                                  refused):
    existing, _ = refused
    url = claim(client).location
    assert decide(app, client, staff[Role.SALES_MANAGER], url, "transfer").status_code == 302
    with app.app_context():
        assert db.session.get(Customer, existing).owner_id == staff["rep_b"].id
        record = ownership.history(existing)[-1]
        assert (record.kind, record.from_user_id, record.to_user_id, record.object_type) == (
            "transfer", staff[Role.SALES_REP].id, staff["rep_b"].id, "conflict_claim")
        row = db.session.scalar(db.select(ConflictClaim))
        assert (row.outcome, row.state, row.ownership_record_id) == (
            "transfer", "approved", record.id)
    assert len(notes(app, staff[Role.SALES_REP], "conflict_decided")) == 1


@pytest.mark.parametrize("event", ["keep", "share"])
def test_c2_keep_or_share_records_the_decision_and_keeps_the_owner(app, client, staff,
                                                                   refused, event):
    existing, _ = refused
    url = claim(client).location
    if event == "keep":
        assert decide(app, client, staff[Role.SALES_MANAGER], url, "keep").status_code == 422
    assert decide(app, client, staff[Role.SALES_MANAGER], url, event,
                  "先登记者保留").status_code == 302
    with app.app_context():
        assert db.session.get(Customer, existing).owner_id == staff[Role.SALES_REP].id
        record = ownership.history(existing)[-1]
        assert (record.kind, record.from_user_id, record.to_user_id) == (
            "conflict", staff[Role.SALES_REP].id, staff[Role.SALES_REP].id)
        assert ("Repb" in record.reason) == (event == "share")
        assert ownership.owner_on(existing, T0 + timedelta(days=1)) == staff[Role.SALES_REP].id
        assert db.session.scalar(db.select(ConflictClaim)).outcome == event
    assert len(notes(app, staff["rep_b"], "conflict_decided")) == 1


def test_c2_the_claimant_sees_nothing_of_the_file(app, client, staff, refused):
    """Rule C6: the claim shows what the refusal showed (name, owner), never the file."""
    existing, _ = refused
    url = claim(client).location
    page = client.get(url).get_data(as_text=True)
    assert "上海华东机械有限公司" in page and "Rep" in page
    assert f"/sales/customers/{existing}" not in page
    assert "浦东新区" not in page and "张江路" not in page
    assert client.get(f"/sales/customers/{existing}").status_code == 404
    login_fast(client, app, staff["rep_other_dept"])
    assert client.get(url).status_code == 404
    assert "上海华东机械" not in client.get("/sales/conflicts").get_data(as_text=True)


def test_c2_a_claim_cannot_be_aimed_at_a_customer_by_its_id(app, client, staff, refused,
                                                           make_customer):
    secret = make_customer("北京保密科技有限公司", staff["rep_other_dept"])
    login_fast(client, app, staff["rep_b"])
    response = claim(client, name="不存在的公司", customer_id=str(secret))
    assert response.status_code == 422
    assert "北京保密" not in response.get_data(as_text=True)
    assert "北京保密" not in client.get(
        "/sales/conflicts/new?name=不存在的公司").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ConflictClaim)) == 0


def test_c2_claimant_and_owner_never_decide(app, client, staff, refused, make_delegation):
    existing, _ = refused
    url = claim(client).location
    assert decide(app, client, staff["rep_b"], url, "transfer").status_code == 409
    # the owner standing in for the manager may not decide a claim on their own customer
    make_delegation(staff[Role.SALES_MANAGER], staff[Role.SALES_REP], Role.SALES_MANAGER)
    assert decide(app, client, staff[Role.SALES_REP], url, "keep", "不给").status_code == 409
    with app.app_context():
        assert db.session.scalar(db.select(ConflictClaim)).state == "requested"
    assert decide(app, client, staff["rep_b"], url, "withdraw").status_code == 422  # why?
    assert decide(app, client, staff["rep_b"], url, "withdraw", "已与业务员协商").status_code == 302


def test_c2_a_second_open_claim_is_refused(app, client, staff, refused):
    assert claim(client).status_code == 302
    assert claim(client).status_code == 422


def test_c2_c4_the_manager_home_lists_what_waits(app, client, staff, refused, lead):
    login_fast(client, app, staff["rep_b"])
    assert claim(client).status_code == 302
    assert file_request(app, client, staff[Role.SALES_REP], lead).status_code == 302
    login_fast(client, app, staff[Role.SALES_MANAGER])
    home = client.get("/").get_data(as_text=True)
    assert "/sales/conflicts?state=requested" in home
    assert "/sales/reclassifications?state=requested" in home
    listing = client.get("/sales/conflicts?state=requested").get_data(as_text=True)
    assert "上海华东机械有限公司" in listing
