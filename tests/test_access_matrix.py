"""SECURITY.md 1-2: one declared matrix (role × endpoint × method), deny by default, and every
route of the app in it. Every role is tried on every route."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import csrf_token, login_fast

from intranet import create_app
from intranet.core import clock, notifications
from intranet.core.access import MATRIX, REASON_READERS, permission_for
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import (
    ArchiveExport,
    Attachment,
    CaseAttachment,
    ConflictClaim,
    Contact,
    CorrectiveAction,
    CreditApplication,
    Delegation,
    Order,
    Penalty,
    Reclassification,
    User,
)

APP = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
ROUTES = sorted(
    (rule.endpoint, method)
    for rule in APP.url_map.iter_rules()
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    if rule.endpoint != "static"
)

# A body that an allowed request may send; validation may refuse it, but never with 403.
POST_BODIES = {
    "auth.login": {"username": "nobody", "password": "wrong password"},
    "auth.language": {"lang": "en"},
    "admin.settings": {"company_name": "测试有限公司", "timezone": "Asia/Shanghai",
                       "session_idle_minutes": "30", "session_absolute_hours": "12"},
}


# Staff outside sales are asked for a reason before a customer file opens (rule C6).
REASON_FIRST = {"sales.customer", "sales.attachment_download"}

# An approved application is no longer editable: the page says so (409), not a permission.
STATE_REFUSALS = {("sales.credit_edit", "GET")}
# Steps only one party to the record may take (here the world's applicant), and pages only a
# party or someone copied in may read (None: nobody in the world); anyone else is told
# nothing (404).
PARTY_ONLY = {("home.urge", "POST"): Role.SALES_REP, ("home.copy", "POST"): Role.SALES_REP,
              ("sales.visit_plan_delete", "POST"): Role.SALES_REP,
              ("home.hand_on", "POST"): None, ("home.copied_record", "GET"): Role.SALES_REP}

# A signed-in user asking for the sign-in page is sent home.
SIGNED_IN_REDIRECTS = {("auth.login", "GET"): "/"}


def test_every_route_is_declared_in_the_matrix():
    missing = [(e, m) for e, m in ROUTES if permission_for(e, m) is None]
    assert missing == [], f"routes missing from access.MATRIX: {missing}"


def test_matrix_declares_no_dead_entries():
    routes = set(ROUTES) | {("static", "GET")}
    dead = [(e, m) for e, methods in MATRIX.items() for m in methods if (e, m) not in routes]
    assert dead == [], f"MATRIX entries without a route: {dead}"


def test_undeclared_route_is_denied(app, client, staff):
    app.add_url_rule("/undeclared", "undeclared", lambda: "secret")
    login_fast(client, app, staff[Role.ADMIN])
    assert client.get("/undeclared").status_code == 403


@pytest.fixture
def world(app, staff, make_customer, make_case, tmp_path):
    customer = make_customer("上海测试机械有限公司", staff[Role.SALES_REP])
    case_id = make_case("closed", customer_id=customer)
    with app.app_context():
        contact = Contact(customer_id=customer, name="王经理", phone="13800000000")
        attachment = Attachment(customer_id=customer, filename="执照.pdf", kind="pdf", size=9,
                                data=b"%PDF-1.4\n", uploaded_by_id=staff[Role.SALES_REP].id)
        db.session.add_all([contact, attachment])
        now = clock.now()
        delegation = Delegation(principal_id=staff[Role.GENERAL_MANAGER].id,
                                deputy_id=staff[Role.SALES_MANAGER].id,
                                role=Role.GENERAL_MANAGER.value, starts_at=now + timedelta(days=1),
                                ends_at=now + timedelta(days=2), reason="出差",
                                created_by_id=staff[Role.ADMIN].id)
        db.session.add(delegation)
        application = CreditApplication(
            customer_id=customer, department_id=staff[Role.SALES_REP].department_id,
            applicant_id=staff[Role.SALES_REP].id, state="approved", grade="1",
            period_start=date(2027, 1, 1), proposed_limit=100000, approved_limit=100000,
            decided_at=now)
        order = Order(customer_id=customer, number="SO-1", ordered_on=date(2026, 11, 1),
                      amount=1000)
        db.session.add_all([application, order])
        case_material = CaseAttachment(case_id=case_id, filename="投诉信.pdf", kind="pdf", size=9,
                                       data=b"%PDF-1.4\n",
                                       uploaded_by_id=staff[Role.SERVICE_DESK].id)
        action = CorrectiveAction(case_id=case_id, what="加强质检", due_on=date(2027, 1, 1),
                                  owner_id=staff[Role.COMPLAINT_HANDLER].id,
                                  created_by_id=staff[Role.COMPLAINT_HANDLER].id)
        db.session.add_all([case_material, action])
        from intranet.models import Customer, OwnershipRecord, TransferRequest
        from intranet.resources import reclaim

        reclaim.ensure_defaults()
        in_pool = Customer(name="公海测试有限公司", region="上海", pool_id=1)
        transfer = TransferRequest(customer_id=customer, department_id=application.department_id,
                                   requested_by_id=staff[Role.SALES_REP].id,
                                   from_user_id=staff[Role.SALES_REP].id,
                                   to_user_id=staff["rep_b"].id, reason="就近服务")
        returned = Customer(name="退回测试有限公司", region="上海", pool_id=1,
                            department_id=application.department_id)
        db.session.add_all([in_pool, transfer, returned])
        db.session.flush()
        batch = OwnershipRecord(customer_id=returned.id, kind="reclaim",
                                from_user_id=staff[Role.SALES_REP].id, pool_id=1,
                                object_type="reclaim_rule", object_id=1, at=now)
        db.session.add(batch)
        # Rules C2, C4: a re-classification the rep filed on their lead (classed by the
        # desk), and rep B's conflict claim on the rep's customer.
        reclassification = Reclassification(
            customer_id=customer, department_id=staff[Role.SALES_REP].department_id,
            requested_by_id=staff[Role.SALES_REP].id, from_user_id=staff[Role.SALES_REP].id,
            proposed_class="A", classified_by_id=staff[Role.SERVICE_DESK].id)
        conflict = ConflictClaim(
            customer_id=customer, department_id=staff[Role.SALES_REP].department_id,
            requested_by_id=staff["rep_b"].id, from_user_id=staff[Role.SALES_REP].id)
        db.session.add_all([reclassification, conflict])
        # rules R7, R9: a lead without an owner to allocate, a penalty on the rep to lift
        lead = Customer(name="总台登记线索有限公司", region="上海")
        penalty = Penalty(user_id=staff[Role.SALES_REP].id, number=1, reason="违规",
                          recorded_by_id=staff[Role.SALES_MANAGER].id, starts_at=now,
                          ends_at=now + timedelta(days=7), lift_reason="")
        db.session.add_all([lead, penalty])
        # issue 11: a finished batch export of the archivist's and one of the GM's (each
        # downloads only their own)
        app.config["EXPORT_DIR"] = str(tmp_path / "exports")
        (tmp_path / "exports").mkdir()
        exports = {}
        for role in (Role.ARCHIVIST, Role.GENERAL_MANAGER):
            row = ArchiveExport(requested_by_id=staff[role].id, record_types="x", total=0,
                                period_start=date(2026, 11, 1), period_end=date(2026, 11, 2),
                                state="done", file_name="f")
            db.session.add(row)
            db.session.flush()
            (tmp_path / "exports" / f"export-{row.id}.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
            exports[role] = row.id
        # rule C7: last year sealed, and the archivist's request to open the customer's file
        from intranet.archive import access, sealing

        archivist = db.session.get(User, staff[Role.ARCHIVIST].id)
        sealed_year = sealing.current_year() - 1
        sealing.seal(sealed_year, archivist)
        access_request = access.request_access(archivist, db.session.get(Customer, customer),
                                               sealed_year, "审计调阅", 3)
        from intranet.models import VisitPlan
        plan = VisitPlan(user_id=staff[Role.SALES_REP].id, customer_id=customer,
                         planned_on=date.today() + timedelta(days=40))
        db.session.add(plan)
        from intranet.models import Report
        from intranet.workflows import engine
        report = Report(kind="credit_sales", period_start=date(2026, 7, 1),
                        period_end=date(2026, 9, 30), months=3,
                        department_id=staff[Role.SALES_MANAGER].department_id,
                        due_on=date(2026, 10, 6), due_at=datetime(2026, 10, 6, 16, tzinfo=UTC))
        engine.start(report, user=None)
        notes = {}
        for key, user in staff.items():
            notes[key] = notifications.notify(user.id, "welcome")
        db.session.commit()
        note_ids = {key: note.id for key, note in notes.items()}
        return {"customer_id": customer, "user_id": staff["rep_b"].id, "contact_id": contact.id,
                "application_id": application.id, "order_id": order.id,
                "attachment_id": attachment.id, "case_id": case_id, "action_id": action.id,
                "rule_id": 1, "request_id": transfer.id, "pool_customer_id": in_pool.id,
                "record_id": batch.id, "reclassification_id": reclassification.id,
                "conflict_id": conflict.id, "lead_id": lead.id, "rep_id": staff[Role.SALES_REP].id,
                "penalty_id": penalty.id, "access_id": access_request.id, "plan_id": plan.id,
                "report_id": report.id, "kind": "credit_application",
                "delegation_id": delegation.id, "note_ids": note_ids, "export_ids": exports}


# Routes whose record is a different one of the world's than the argument's name says.
ARGUMENTS = {("sales.pool_claim", "customer_id"): "pool_customer_id",
             **{(endpoint, "record_id"): "application_id"
                for endpoint in ("home.urge", "home.copy", "home.hand_on", "home.copied_record")},
             ("archive.record", "record_id"): "application_id",
             ("archive.record_pdf", "record_id"): "application_id"}


def url_for_route(app, endpoint: str, world: dict, role) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {}
    for arg in rule.arguments:
        key = ARGUMENTS.get((endpoint, arg), arg)
        if arg in ("note_id", "export_id"):  # records of one's own
            values[arg] = world[arg.replace("_id", "_ids")].get(role, 0)
        else:
            values[arg] = world[key]
    with app.test_request_context():
        from flask import url_for
        return url_for(endpoint, **values)


def call(client, method: str, url: str, endpoint: str, htmx: bool = False):
    headers = {"HX-Request": "true"} if htmx else {}
    if method == "GET":
        response = client.get(url, headers=headers)
        response.close()  # a streamed file (an export's ZIP) is not left open
        return response
    token = csrf_token(client)
    body = {"csrf_token": token, **POST_BODIES.get(endpoint, {})}
    return client.post(url, data=body, headers=headers)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("endpoint", "method"), ROUTES)
def test_role_on_route(app, client, staff, world, role, endpoint, method):
    permission = permission_for(endpoint, method)
    login_fast(client, app, staff[role])
    response = call(client, method, url_for_route(app, endpoint, world, role), endpoint)
    allowed = permission.public or role in permission.roles
    if (endpoint, method) in SIGNED_IN_REDIRECTS:
        assert response.headers["Location"] == SIGNED_IN_REDIRECTS[endpoint, method]
    elif endpoint in REASON_FIRST and method == "GET" and role in REASON_READERS:
        # rule C6: staff outside sales are asked for a reason before the file opens
        assert response.status_code == 302 and response.headers["Location"].endswith("/access")
    elif allowed:
        # An allowed POST may still be refused by validation (422) or as a duplicate (409).
        expected = (200,) if method == "GET" else (200, 302, 409, 422)
        if (endpoint, method) in STATE_REFUSALS:
            expected = (409,)
        if PARTY_ONLY.get((endpoint, method), role) != role:
            expected = (404,)
        assert response.status_code in expected, (role, endpoint, response.status_code,
                                                  response.headers.get("Location"))
    else:
        assert response.status_code == 403, (role, endpoint, response.status_code)


@pytest.mark.parametrize(("endpoint", "method"), ROUTES)
def test_anonymous_on_route(app, client, staff, world, endpoint, method):
    permission = permission_for(endpoint, method)
    response = call(client, method, url_for_route(app, endpoint, world, None), endpoint)
    if permission.public:
        assert response.status_code in (200, 302)
        assert "/auth/login" not in response.headers.get("Location", "") or \
            endpoint == "auth.language"
    else:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login")


@pytest.mark.parametrize(("endpoint", "method"),
                         [r for r in ROUTES if not permission_for(*r).public])
def test_anonymous_htmx_request_gets_hx_redirect(app, client, staff, world, endpoint, method):
    response = call(client, method, url_for_route(app, endpoint, world, None), endpoint,
                    htmx=True)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/auth/login")


def test_denied_htmx_request_is_a_403_toast_not_a_page(app, client, staff):
    login_fast(client, app, staff[Role.SALES_REP])
    response = client.get("/admin/users", headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert response.headers["HX-Retarget"] == "#flash"
    assert "<html" not in response.get_data(as_text=True)


# SECURITY.md 14: approvals, exports, PDFs, the audit trail and the whole admin area need a
# fresh password login; a remember-me session is sent to sign in again. Declared here on its
# own, so dropping `fresh=True` from the matrix is caught, not mirrored.
MUST_BE_FRESH = {
    ("auth.password", "POST"), ("admin.audit", "GET"),
    ("sales.customers_export", "GET"), ("sales.customer_delete", "POST"),
    ("sales.credit_transition", "POST"), ("sales.credit_pdf", "GET"),
    ("sales.reclassification_transition", "POST"), ("sales.conflict_transition", "POST"),
    ("management.credit_decide", "POST"), ("management.credit_bulk", "POST"),
    ("finance.order_release", "POST"),
} | {(e, m) for e, m in ROUTES if e.startswith("admin.")}


def test_14_fresh_login_is_declared_wherever_security_requires_it():
    declared = {(e, m) for e, methods in MATRIX.items() for m, p in methods.items() if p.fresh}
    assert MUST_BE_FRESH - declared == set()


@pytest.mark.parametrize(("endpoint", "method"), sorted(MUST_BE_FRESH))
def test_14_remembered_session_must_sign_in_again(app, client, staff, world, endpoint, method):
    role = sorted(permission_for(endpoint, method).roles)[0]
    login_fast(client, app, staff[role])
    with client.session_transaction() as session:
        session["_fresh"] = False  # restored from the remember-me cookie
    response = call(client, method, url_for_route(app, endpoint, world, role), endpoint)
    assert response.status_code == 302, (endpoint, response.status_code)
    assert response.headers["Location"].startswith("/auth/login") and \
        "fresh=1" in response.headers["Location"]
