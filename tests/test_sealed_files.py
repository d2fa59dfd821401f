"""Sealed customer files (rule C7): a closed year is sealed by an archivist or the GM; from
then on anyone — archivists and the GM included — opens a customer's file of that year only
with an approved, unexpired access request of their own, decided by the GM who is not the
requester; every opening is logged; sealed files stay out of lists for those without a grant;
the live customer page is not affected."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from conftest import login_fast, post
from flask_login import current_user
from sqlalchemy import literal, select

from intranet.archive import access, sealing
from intranet.core import clock, settings
from intranet.core.access import MATRIX
from intranet.core.errors import FieldError
from intranet.core.permissions import ALL_ROLES, allow
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import (
    ArchiveAccessRequest,
    AuditEntry,
    Customer,
    Notification,
    SealedPeriod,
    User,
    WorkflowHistory,
)
from intranet.workflows import engine

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
SEALED = 2025


@pytest.fixture
def world(app, staff, make_customer, frozen, monkeypatch):
    """Year 2025 sealed by the archivist; a customer; a test page that opens a customer's
    file of a year through the one gate (the lead's archive pages call the same)."""
    customer = make_customer("上海测试机械有限公司", staff[Role.SALES_REP])

    def view(customer_id, year):
        grant = sealing.open_sealed_file(current_user._get_current_object(), customer_id,
                                         year)
        return f"file {customer_id} {year} {grant.number if grant else '-'}"

    app.add_url_rule("/test-file/<int:customer_id>/<int:year>", "test_file", view)
    monkeypatch.setitem(MATRIX, "test_file", {"GET": allow(*ALL_ROLES)})
    with app.test_request_context():
        sealing.seal(SEALED, _u(staff[Role.ARCHIVIST]), "年度归档")
        db.session.commit()
    return {"customer": customer}


def _u(user) -> User:
    return db.session.get(User, user.id)


def _client(app, user):
    client = app.test_client()
    login_fast(client, app, user)
    return client


def _request(app, user, customer_id, year=SEALED, days=3, reason="审计调阅"):
    with app.test_request_context():
        row = access.request_access(_u(user), db.session.get(Customer, customer_id), year,
                                    reason, days)
        db.session.commit()
        return row.id


def _fire(app, user, request_id, event, comment=""):
    with app.test_request_context():
        row = db.session.get(ArchiveAccessRequest, request_id)
        engine.fire(row, event, user=_u(user), comment=comment)
        db.session.commit()
        return row.state


def _opens(app, user, customer_id, year=SEALED) -> bool:
    """Whether the gate lets `user` open the file (and logs it)."""
    with app.test_request_context():
        try:
            sealing.open_sealed_file(_u(user), customer_id, year)
        except sealing.SealedFileRefused:
            db.session.rollback()
            return False
        db.session.commit()
        return True


def _openings(app, customer_id):
    with app.app_context():
        return [json.loads(e.details) for e in db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "view", AuditEntry.object_type == "sealed_file",
            AuditEntry.object_id == str(customer_id))).all()]


# --- sealing ---------------------------------------------------------------------------------

def test_c7_sealing_the_current_or_a_future_year_is_refused(app, staff, frozen):
    with app.test_request_context():
        archivist = _u(staff[Role.ARCHIVIST])
        for year in (2026, 2027):
            with pytest.raises(FieldError):
                sealing.seal(year, archivist)
        sealing.seal(2025, archivist)
        with pytest.raises(FieldError):  # once is enough
            sealing.seal(2025, archivist)
    client = _client(app, staff[Role.GENERAL_MANAGER])
    response = post(client, "/archive/seals", {"year": "2026", "confirm": "1"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(SealedPeriod.id).where(SealedPeriod.year == 2026)) \
            is None


def test_c7_the_last_day_of_a_year_is_still_open(app, staff, frozen):
    """Years are counted in the company's time zone: at 23:59 on 31 December in Shanghai
    (15:59 UTC) the year has not ended; at 00:01 on 1 January (16:01 UTC) it has."""
    frozen(datetime(2026, 12, 31, 15, 59, tzinfo=UTC))  # 23:59 in Shanghai
    with app.test_request_context():
        with pytest.raises(FieldError):
            sealing.seal(2026, _u(staff[Role.ARCHIVIST]))
    frozen(datetime(2026, 12, 31, 16, 1, tzinfo=UTC))  # 00:01 on 1 January in Shanghai
    with app.test_request_context():
        sealing.seal(2026, _u(staff[Role.ARCHIVIST]))


def test_c7_sealing_asks_for_confirmation_and_is_recorded(app, staff, frozen):
    client = _client(app, staff[Role.ARCHIVIST])
    first = post(client, "/archive/seals", {"year": "2024", "note": "三年归档"})
    assert first.status_code == 200 and 'data-testid="seal-confirm"' in first.text
    with app.app_context():
        assert sealing.sealed_years() == set()
    done = post(client, "/archive/seals", {"year": "2024", "note": "三年归档", "confirm": "1"})
    assert done.status_code == 302
    with app.app_context():
        period = db.session.scalar(select(SealedPeriod))
        assert (period.year, period.sealed_by_id, period.sealed_at, period.note) == (
            2024, staff[Role.ARCHIVIST].id, NOW, "三年归档")
        entry = db.session.scalar(select(AuditEntry).where(
            AuditEntry.object_type == "sealed_period", AuditEntry.action == "create"))
        assert entry.username == "archivist" and json.loads(entry.details)["year"] == 2024
    page = client.get("/archive/seals").text
    assert "三年归档" in page and 'value="2024"' not in page  # not offered again
    again = post(client, "/archive/seals", {"year": "2024"})  # refused before confirming
    assert again.status_code == 422 and 'data-testid="seal-confirm"' not in again.text


def test_c7_only_archive_keepers_seal(app, staff, frozen):
    for role in (Role.SALES_MANAGER, Role.SALES_REP, Role.ADMIN, Role.FINANCE):
        client = _client(app, staff[role])
        assert post(client, "/archive/seals", {"year": "2024", "confirm": "1"}).status_code \
            == 403
    with app.app_context():
        assert sealing.sealed_years() == set()


# --- the gate --------------------------------------------------------------------------------

def test_c7_no_approval_no_access(app, staff, world):
    customer = world["customer"]
    for role in (Role.ARCHIVIST, Role.GENERAL_MANAGER):
        assert not _opens(app, staff[role], customer)
    _request(app, staff[Role.ARCHIVIST], customer)  # asked, not yet approved
    assert not _opens(app, staff[Role.ARCHIVIST], customer)
    assert _opens(app, staff[Role.ARCHIVIST], customer, year=2024)  # not sealed: open
    response = _client(app, staff[Role.ARCHIVIST]).get(f"/test-file/{customer}/{SEALED}")
    assert response.status_code == 403
    assert 'data-testid="sealed-refused"' in response.text
    assert "/archive/access/" in response.text  # the waiting request, linked
    gm = _client(app, staff[Role.GENERAL_MANAGER]).get(f"/test-file/{customer}/{SEALED}")
    assert gm.status_code == 403
    assert f"/archive/access/new?customer={customer}&amp;year={SEALED}" in gm.text
    assert _openings(app, customer) == []
    with app.app_context():  # the refusals are evidence too
        assert db.session.scalar(select(db.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "refused", AuditEntry.object_type == "sealed_file")) == 2


def test_c7_rejected_no_access(app, staff, world):
    request_id = _request(app, staff[Role.ARCHIVIST], world["customer"])
    assert _fire(app, staff[Role.GENERAL_MANAGER], request_id, "reject", "理由不充分") == \
        "rejected"
    assert not _opens(app, staff[Role.ARCHIVIST], world["customer"])


def test_c7_reject_needs_an_opinion(app, staff, world):
    request_id = _request(app, staff[Role.ARCHIVIST], world["customer"])
    client = _client(app, staff[Role.GENERAL_MANAGER])
    response = post(client, f"/archive/access/{request_id}/transition",
                    {"event": "reject", "version": "1", "comment": " "})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(ArchiveAccessRequest, request_id).state == "requested"


def test_c7_approval_opens_the_file_until_it_expires(app, staff, world, frozen):
    """Frozen clock: approved at T for 3 days, the file opens at T + 3 d − 1 min and not at
    T + 3 d, nor a minute later — whether or not the job has run."""
    customer = world["customer"]
    request_id = _request(app, staff[Role.ARCHIVIST], customer, days=3)
    assert _fire(app, staff[Role.GENERAL_MANAGER], request_id, "approve", "同意") == "approved"
    with app.app_context():
        row = db.session.get(ArchiveAccessRequest, request_id)
        assert (row.granted_from, row.expires_at) == (NOW, NOW + timedelta(days=3))
    frozen(NOW + timedelta(days=3) - timedelta(minutes=1))
    assert _opens(app, staff[Role.ARCHIVIST], customer)
    frozen(NOW + timedelta(days=3))
    assert not _opens(app, staff[Role.ARCHIVIST], customer)
    frozen(NOW + timedelta(days=3, minutes=1))
    assert not _opens(app, staff[Role.ARCHIVIST], customer)
    response = _client(app, staff[Role.ARCHIVIST]).get(f"/test-file/{customer}/{SEALED}")
    assert response.status_code == 403


def test_c7_a_grant_is_the_requesters_alone_and_for_one_file(app, staff, world,
                                                             make_customer):
    other = make_customer("杭州其他客户有限公司", staff[Role.SALES_REP])
    request_id = _request(app, staff[Role.ARCHIVIST], world["customer"])
    _fire(app, staff[Role.GENERAL_MANAGER], request_id, "approve")
    assert _opens(app, staff[Role.ARCHIVIST], world["customer"])
    assert not _opens(app, staff[Role.GENERAL_MANAGER], world["customer"])  # not theirs
    assert not _opens(app, staff[Role.ARCHIVIST], other)  # another customer's file
    with app.test_request_context():
        sealing.seal(2024, _u(staff[Role.ARCHIVIST]))
        db.session.commit()
    assert not _opens(app, staff[Role.ARCHIVIST], world["customer"], year=2024)


def test_c7_the_gm_too_needs_approval(app, staff, world, make_user):
    customer = world["customer"]
    request_id = _request(app, staff[Role.GENERAL_MANAGER], customer)
    assert not _opens(app, staff[Role.GENERAL_MANAGER], customer)
    with app.test_request_context():
        row = db.session.get(ArchiveAccessRequest, request_id)
        assert engine.available_events(row, _u(staff[Role.GENERAL_MANAGER])) == ["withdraw"]
    second_gm = make_user("gm2", Role.GENERAL_MANAGER, department="gmo")
    _fire(app, second_gm, request_id, "approve", "同意")
    assert _opens(app, staff[Role.GENERAL_MANAGER], customer)


def test_c7_requester_never_approves_their_own_request(app, staff, world, make_user):
    """Separation of duties, with a user who is both the GM and the requester."""
    both = make_user("gmarchivist", Role.GENERAL_MANAGER, Role.ARCHIVIST, department="gmo")
    request_id = _request(app, both, world["customer"])
    for event in ("approve", "reject"):
        with app.test_request_context(), pytest.raises(engine.NotAllowed):
            engine.fire(db.session.get(ArchiveAccessRequest, request_id), event,
                        user=_u(both), comment="自批")
    client = _client(app, both)
    response = post(client, f"/archive/access/{request_id}/transition",
                    {"event": "approve", "version": "1", "comment": "自批"})
    assert response.status_code == 409
    page = client.get(f"/archive/access/{request_id}").text
    assert 'data-event="approve"' not in page and 'data-event="withdraw"' in page
    assert not _opens(app, both, world["customer"])
    _fire(app, staff[Role.GENERAL_MANAGER], request_id, "approve")  # another GM may
    assert _opens(app, both, world["customer"])


def test_c7_a_deputy_never_approves_the_request_of_the_gm_they_stand_in_for(
        app, staff, world, make_user, make_delegation):
    gm = staff[Role.GENERAL_MANAGER]
    deputy = make_user("gm_deputy", Role.SALES_MANAGER, department="sales")
    make_delegation(gm, deputy, Role.GENERAL_MANAGER)
    request_id = _request(app, gm, world["customer"])
    for event in ("approve", "reject"):
        with app.test_request_context(), pytest.raises(engine.NotAllowed):
            engine.fire(db.session.get(ArchiveAccessRequest, request_id), event,
                        user=_u(deputy), comment="代批")
    archivists_request = _request(app, staff[Role.ARCHIVIST], world["customer"])
    _fire(app, deputy, archivists_request, "approve")  # another's request: the deputy may
    assert _opens(app, staff[Role.ARCHIVIST], world["customer"])


def test_c7_every_opening_during_a_grant_is_logged(app, staff, world):
    customer = world["customer"]
    request_id = _request(app, staff[Role.ARCHIVIST], customer)
    _fire(app, staff[Role.GENERAL_MANAGER], request_id, "approve")
    client = _client(app, staff[Role.ARCHIVIST])
    for _ in range(3):
        response = client.get(f"/test-file/{customer}/{SEALED}")
        assert response.status_code == 200
    with app.app_context():
        number = db.session.get(ArchiveAccessRequest, request_id).number
    assert number.startswith("FA-2026-")
    assert _openings(app, customer) == [
        {"customer": customer, "year": SEALED, "request": number}] * 3


def test_c7_withdrawing(app, staff, world):
    request_id = _request(app, staff[Role.ARCHIVIST], world["customer"])
    with app.test_request_context(), pytest.raises(engine.NotAllowed):  # not the GM's to do
        engine.fire(db.session.get(ArchiveAccessRequest, request_id), "withdraw",
                    user=_u(staff[Role.GENERAL_MANAGER]), comment="不再需要")
    client = _client(app, staff[Role.ARCHIVIST])
    response = post(client, f"/archive/access/{request_id}/transition",
                    {"event": "withdraw", "version": "1", "comment": "审计已结束"})
    assert response.status_code == 302
    with app.test_request_context():
        row = db.session.get(ArchiveAccessRequest, request_id)
        assert row.state == "withdrawn"
        assert engine.available_events(row, _u(staff[Role.GENERAL_MANAGER])) == []
    assert not _opens(app, staff[Role.ARCHIVIST], world["customer"])
    _request(app, staff[Role.ARCHIVIST], world["customer"])  # may ask again


def test_c7_notices(app, staff, world):
    request_id = _request(app, staff[Role.ARCHIVIST], world["customer"])

    def kinds(user):
        with app.app_context():
            return [n.kind for n in db.session.scalars(select(Notification).where(
                Notification.user_id == user.id, Notification.kind.like("archive_%")))]

    assert kinds(staff[Role.GENERAL_MANAGER]) == ["archive_access_requested"]
    assert kinds(staff[Role.ARCHIVIST]) == []
    _fire(app, staff[Role.GENERAL_MANAGER], request_id, "reject", "不予调阅")
    assert kinds(staff[Role.ARCHIVIST]) == ["archive_access_decided"]
    with app.test_request_context():
        from intranet.core.notifications import text_of

        note = db.session.scalar(select(Notification).where(
            Notification.kind == "archive_access_decided"))
        assert "不予调阅" in text_of(note) and note.link == f"/archive/access/{request_id}"


def test_c7_the_request_form(app, staff, world):
    customer = world["customer"]
    client = _client(app, staff[Role.ARCHIVIST])
    page = client.get(f"/archive/access/new?customer={customer}&year={SEALED}")
    assert page.status_code == 200 and "上海测试机械有限公司" in page.text
    base = {"customer": str(customer), "year": str(SEALED), "days": "5", "reason": "审计调阅"}
    for bad in ({"reason": ""}, {"days": "0"}, {"days": "31"}, {"days": "x"},
                {"year": "2024"}, {"customer": "不存在的公司"}):
        response = post(client, "/archive/access/new", {**base, **bad})
        assert response.status_code == 422, bad
    assert post(client, "/archive/access/new", {**base, "customer": "上海测试机械有限公司"}) \
        .status_code == 302
    again = post(client, "/archive/access/new", base)
    assert again.status_code == 422  # one waiting request per file is enough
    with app.app_context():
        settings.update({access.MAX_DAYS: "60"})
        db.session.commit()
    assert post(_client(app, staff[Role.GENERAL_MANAGER]), "/archive/access/new",
                {**base, "days": "45"}).status_code == 302
    for role in (Role.SALES_MANAGER, Role.SALES_REP, Role.SERVICE_DESK):
        assert post(_client(app, staff[role]), "/archive/access/new", base).status_code == 403


def test_c7_who_sees_which_request(app, staff, world, make_user):
    mine = _request(app, staff[Role.ARCHIVIST], world["customer"])
    other_archivist = make_user("archivist2", Role.ARCHIVIST, department="archive")
    theirs = _request(app, other_archivist, world["customer"])
    client = _client(app, staff[Role.ARCHIVIST])
    assert client.get(f"/archive/access/{mine}").status_code == 200
    assert client.get(f"/archive/access/{theirs}").status_code == 404
    listing = client.get("/archive/access").text
    assert f"/archive/access/{mine}" in listing and f"/archive/access/{theirs}" not in listing
    gm = _client(app, staff[Role.GENERAL_MANAGER])
    assert gm.get(f"/archive/access/{theirs}").status_code == 200
    _fire(app, staff[Role.GENERAL_MANAGER], mine, "approve")
    listing = gm.get("/archive/access").text  # waiting requests first
    assert listing.index(f"/archive/access/{theirs}\"") < listing.index(
        f"/archive/access/{mine}\"")


# --- lists, searches, exports ----------------------------------------------------------------

def test_c7_sealed_files_stay_out_of_lists_without_a_grant(app, staff, world, make_customer):
    """sealed_filter over (customer, year) pairs as the archive browser lists them."""
    other = make_customer("杭州其他客户有限公司", staff[Role.SALES_REP])
    customer = world["customer"]
    request_id = _request(app, staff[Role.ARCHIVIST], customer)
    _fire(app, staff[Role.GENERAL_MANAGER], request_id, "approve")

    def files(user):
        with app.test_request_context():
            rows = []
            for y in (2024, SEALED):
                year = literal(y)
                rows += [(cid, y) for cid in db.session.scalars(
                    select(Customer.id).where(
                        sealing.sealed_filter(_u(user) if user else None, Customer.id, year))
                    .order_by(Customer.id))]
            return sorted(rows)

    assert files(staff[Role.ARCHIVIST]) == sorted([(customer, 2024), (other, 2024),
                                                   (customer, SEALED)])
    assert files(staff[Role.GENERAL_MANAGER]) == sorted([(customer, 2024), (other, 2024)])
    assert files(None) == sorted([(customer, 2024), (other, 2024)])
    frozen_end = NOW + timedelta(days=3)
    clock.freeze(frozen_end)
    assert files(staff[Role.ARCHIVIST]) == sorted([(customer, 2024), (other, 2024)])


def test_c7_dated_records_of_a_sealed_year_stay_out(app, staff, world):
    """sealed_at_filter: a record dated inside a sealed year (company time zone) is left out
    unless the user holds the grant for that customer and year."""
    customer = world["customer"]
    moments = {"before": datetime(2024, 12, 31, 15, 59, tzinfo=UTC),  # 2024-12-31 23:59 +8
               "first": datetime(2024, 12, 31, 16, 0, tzinfo=UTC),    # 2025-01-01 00:00 +8
               "last": datetime(2025, 12, 31, 15, 59, tzinfo=UTC),
               "after": datetime(2025, 12, 31, 16, 0, tzinfo=UTC)}

    def visible(user):
        with app.test_request_context():
            found = []
            for name, moment in moments.items():
                condition = sealing.sealed_at_filter(_u(user), literal(customer),
                                                     literal(moment, Customer.created_at.type))
                if db.session.scalar(select(literal(1)).where(condition)):
                    found.append(name)
            return found

    assert visible(staff[Role.ARCHIVIST]) == ["before", "after"]
    request_id = _request(app, staff[Role.ARCHIVIST], customer)
    _fire(app, staff[Role.GENERAL_MANAGER], request_id, "approve")
    assert visible(staff[Role.ARCHIVIST]) == ["before", "first", "last", "after"]
    assert visible(staff[Role.GENERAL_MANAGER]) == ["before", "after"]


def test_c7_the_live_customer_page_is_not_affected(app, staff, world):
    client = _client(app, staff[Role.SALES_REP])
    assert client.get(f"/sales/customers/{world['customer']}").status_code == 200


# --- the expiry job --------------------------------------------------------------------------

def test_c7_the_job_marks_expired_grants_set_based(app, staff, world, frozen, make_customer):
    ids = []
    for n in range(3):
        customer = make_customer(f"过期测试{n}有限公司", staff[Role.SALES_REP])
        ids.append(_request(app, staff[Role.ARCHIVIST], customer, days=1 + n))
        _fire(app, staff[Role.GENERAL_MANAGER], ids[-1], "approve")
    frozen(NOW + timedelta(days=2, minutes=1))
    with app.test_request_context():
        assert access.expire() == 2
        db.session.commit()
        assert access.expire() == 0
        states = [db.session.get(ArchiveAccessRequest, i).state for i in ids]
        assert states == ["expired", "expired", "approved"]
        history = db.session.scalars(select(WorkflowHistory).where(
            WorkflowHistory.object_type == "archive_access_request",
            WorkflowHistory.event == "expire").order_by(WorkflowHistory.object_id)).all()
        assert [(h.object_id, h.from_state, h.to_state, h.role, h.at) for h in history] == [
            (i, "approved", "expired", "system", clock.now()) for i in ids[:2]]
        assert [db.session.get(ArchiveAccessRequest, i).version for i in ids] == [3, 3, 2]


def test_c7_home_widgets(app, staff, world):
    _request(app, staff[Role.ARCHIVIST], world["customer"])
    gm_home = _client(app, staff[Role.GENERAL_MANAGER]).get("/").text
    assert "FA-2026-" in gm_home
    archivist_home = _client(app, staff[Role.ARCHIVIST]).get("/")
    assert archivist_home.status_code == 200
    with app.test_request_context():
        from intranet.blueprints.archive.sealed import access_to_decide, my_access_requests

        assert my_access_requests(_u(staff[Role.ARCHIVIST])).count == 1
        assert access_to_decide(_u(staff[Role.GENERAL_MANAGER])).count == 1


def test_c7_a_year_sealed_twice_at_once_is_refused_not_a_500(app, staff, frozen,
                                                             monkeypatch):
    with app.test_request_context():
        sealing.seal(2024, _u(staff[Role.ARCHIVIST]))
        db.session.commit()
        # the race: both saw the year unsealed before either wrote
        monkeypatch.setattr(sealing, "is_sealed", lambda year: False)
        with pytest.raises(FieldError):
            sealing.seal(2024, _u(staff[Role.GENERAL_MANAGER]))
        db.session.rollback()
        assert db.session.scalar(select(SealedPeriod.sealed_by_id)) == staff[Role.ARCHIVIST].id


def test_the_requester_urges_the_gm_and_copies_in_from_the_request_page(app, staff, world):
    """Issue 13 §2: 催办 and 抄送 on an access request's page (workflows/_steps.html)."""
    archivist, gm = staff[Role.ARCHIVIST], staff[Role.GENERAL_MANAGER]
    rid = _request(app, archivist, world["customer"])
    requester = _client(app, archivist)
    page = requester.get(f"/archive/access/{rid}").get_data(as_text=True)
    assert 'data-testid="urge-form"' in page and 'data-testid="copy"' in page
    assert 'data-testid="urge-form"' not in _client(app, gm).get(
        f"/archive/access/{rid}").get_data(as_text=True)
    answer = post(requester, f"/inbox/archive_access_request/{rid}/urge",
                  {"next": f"/archive/access/{rid}"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(
        f"/archive/access/{rid}")
    with app.app_context():
        assert db.session.scalars(db.select(Notification.user_id).where(
            Notification.kind == "urged")).all() == [gm.id]
