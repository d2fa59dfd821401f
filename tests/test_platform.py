"""Deputies, settings, notifications, home pages, pagination, database faults."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from conftest import login_fast, post

from intranet.core import clock, notifications, settings
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import AuditEntry, Delegation, Notification, Setting


def name_deputy(client, principal, deputy, role: Role, starts, ends):
    local = settings.SETTINGS["timezone"].default
    fmt = "%Y-%m-%dT%H:%M"
    return post(client, "/admin/deputies", {
        "principal_id": str(principal.id), "deputy_id": str(deputy.id), "role": role.value,
        "starts_at": starts.astimezone(ZoneInfo(local)).strftime(fmt),
        "ends_at": ends.astimezone(ZoneInfo(local)).strftime(fmt), "reason": "总经理出差"})


def test_deputy_acts_for_absent_approver_only_during_the_period(app, client, staff, frozen):
    admin = app.test_client()
    login_fast(admin, app, staff[Role.ADMIN])
    now = clock.now().replace(second=0, microsecond=0)
    deputy = staff[Role.SALES_MANAGER]
    response = name_deputy(admin, staff[Role.GENERAL_MANAGER], deputy, Role.GENERAL_MANAGER,
                           now + timedelta(hours=1), now + timedelta(days=2))
    assert response.status_code == 302
    login_fast(client, app, deputy)
    assert client.get("/admin/audit").status_code == 403  # not yet
    frozen(now + timedelta(hours=2))
    login_fast(client, app, deputy)
    assert client.get("/admin/audit").status_code == 200
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.object_type == "audit_trail").order_by(AuditEntry.seq.desc()))
    assert (entry.username, entry.role, entry.on_behalf_of_name) == (
        "manager", "general_manager", "gm")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "代表 gm" in page or "on behalf of gm" in page
    assert "总经理" in client.get("/").get_data(as_text=True)  # home shows whom they stand in for
    frozen(now + timedelta(days=3))
    login_fast(client, app, deputy)
    assert client.get("/admin/audit").status_code == 403  # period over


def test_deputy_period_can_be_revoked_and_is_notified(app, client, staff):
    login_fast(client, app, staff[Role.ADMIN])
    now = clock.now()
    name_deputy(client, staff[Role.GENERAL_MANAGER], staff[Role.FINANCE], Role.GENERAL_MANAGER,
                now - timedelta(hours=1), now + timedelta(days=1))
    with app.app_context():
        delegation = db.session.scalar(db.select(Delegation))
        assert db.session.scalar(db.select(Notification.kind).where(
            Notification.user_id == staff[Role.FINANCE].id).order_by(
            Notification.id.desc())) == "deputy_named"
    deputy = app.test_client()
    login_fast(deputy, app, staff[Role.FINANCE])
    assert deputy.get("/admin/audit").status_code == 200
    post(client, f"/admin/deputies/{delegation.id}/revoke")
    assert deputy.get("/admin/audit").status_code == 403


def test_deputy_must_hold_a_role_the_principal_has(app, client, staff):
    login_fast(client, app, staff[Role.ADMIN])
    now = clock.now()
    response = name_deputy(client, staff[Role.SALES_REP], staff["rep_b"], Role.GENERAL_MANAGER,
                           now, now + timedelta(days=1))
    assert response.status_code == 200 and "不具有此角色" in response.get_data(as_text=True)
    response = name_deputy(client, staff[Role.GENERAL_MANAGER], staff[Role.GENERAL_MANAGER],
                           Role.GENERAL_MANAGER, now, now + timedelta(days=1))
    assert "不能指定本人" in response.get_data(as_text=True)
    response = name_deputy(client, staff[Role.GENERAL_MANAGER], staff[Role.FINANCE],
                           Role.GENERAL_MANAGER, now, now - timedelta(days=1))
    assert "结束时间必须晚于开始时间" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Delegation)) == 0


def test_settings_change_is_validated_and_audited(app, client, staff):
    login_fast(client, app, staff[Role.ADMIN])
    base = {"company_name": "华东贸易有限公司", "timezone": "Asia/Shanghai",
            "session_idle_minutes": "45", "session_absolute_hours": "12"}
    assert post(client, "/admin/settings", base).status_code == 302
    bad = post(client, "/admin/settings", {**base, "session_idle_minutes": "abc",
                                           "company_name": "改不了"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "请输入整数" in text and 'aria-invalid="true"' in text
    too_small = post(client, "/admin/settings", {**base, "session_idle_minutes": "1"})
    assert "不能小于 5" in too_small.get_data(as_text=True)
    with app.app_context():
        assert settings.get("session_idle_minutes") == 45
        assert settings.get("company_name") == "华东贸易有限公司"  # nothing half-saved
        entries = db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.object_type == "setting")).all()
        assert {e.object_id for e in entries} == {"company_name", "session_idle_minutes"}
        assert all(e.username == "admin" for e in entries)
        assert '"new": 45' in next(e.details for e in entries
                                   if e.object_id == "session_idle_minutes")
        assert db.session.scalar(db.select(db.func.count()).select_from(Setting)) == 2
    assert "华东贸易有限公司" in client.get("/").get_data(as_text=True)


def test_notification_bell_counts_unread_and_marks_read(app, client, staff):
    rep = staff[Role.SALES_REP]
    with app.app_context():
        for _ in range(3):
            notifications.notify(rep.id, "welcome")
        other = notifications.notify(staff["rep_b"].id, "welcome")
        db.session.commit()
        mine = db.session.scalar(db.select(Notification.id).where(Notification.user_id == rep.id))
        other_id = other.id
    login_fast(client, app, rep)
    bell = client.get("/notifications/bell").get_data(as_text=True)
    assert ">3<" in bell
    assert post(client, f"/notifications/{other_id}/read").status_code == 404  # not mine
    post(client, f"/notifications/{mine}/read")
    assert ">2<" in client.get("/notifications/bell").get_data(as_text=True)
    page = client.get("/notifications").get_data(as_text=True)
    assert "欢迎使用客户管理内网系统" in page
    post(client, "/notifications/read-all")
    assert "hidden" in client.get("/notifications/bell").get_data(as_text=True)
    with app.app_context():
        assert notifications.unread_count(staff["rep_b"].id) == 1


def test_notification_text_follows_the_readers_language(app, client, make_user):
    user = make_user("lee", Role.FINANCE, locale="en")
    with app.app_context():
        notifications.notify(user.id, "welcome")
        db.session.commit()
    login_fast(client, app, user)
    assert "Welcome to the customer-management intranet." in client.get(
        "/notifications").get_data(as_text=True)


def test_home_page_shows_what_waits_for_each_role(app, client, staff, make_customer):
    make_customer("首页客户有限公司", staff[Role.SALES_REP])
    expectations = {
        Role.SALES_REP: "我可查看的客户",
        Role.ADMIN: "用户账户",
        Role.FINANCE: "未读通知",
    }
    for role, text in expectations.items():
        login_fast(client, app, staff[role])
        page = client.get("/").get_data(as_text=True)
        assert text in page, role
    login_fast(client, app, staff[Role.FINANCE])
    assert "我可查看的客户" not in client.get("/").get_data(as_text=True)


def test_lists_paginate_in_sql(app, client, staff, make_user):
    for i in range(30):
        make_user(f"user{i:02d}", Role.SALES_REP)
    login_fast(client, app, staff[Role.ADMIN])
    first = client.get("/admin/users").get_data(as_text=True)
    assert "第 1 / 2 页" in first and "user29" not in first
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert "user29" in second
    search = client.get("/admin/users?q=user0", headers={"HX-Request": "true",
                                                        "HX-Target": "user-rows"})
    body = search.get_data(as_text=True)
    assert "user05" in body and "user15" not in body and "<html" not in body


def test_database_outage_gives_503_and_the_next_request_recovers(app, client, staff,
                                                                 monkeypatch):
    login_fast(client, app, staff[Role.SALES_REP])
    from sqlalchemy.exc import OperationalError

    from intranet.blueprints.home import views

    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    monkeypatch.setattr(views, "widgets_for", down)
    response = client.get("/")
    assert response.status_code == 503 and "数据库暂时不可用" in response.get_data(as_text=True)
    monkeypatch.undo()
    assert client.get("/").status_code == 200


def test_real_connection_failure_gives_the_503_page_to_signed_in_users(app, client, staff,
                                                                       monkeypatch):
    login_fast(client, app, staff[Role.SALES_REP])
    assert client.get("/").status_code == 200
    with app.app_context():  # requests must not run inside this context: they would share g
        engine = db.engine
        engine.dispose()
    dialect = engine.dialect

    def refuse(*args, **kwargs):
        raise dialect.loaded_dbapi.OperationalError("connection refused")
    monkeypatch.setattr(dialect, "connect", refuse)
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get("/", headers=headers)
        assert response.status_code == 503, headers
        assert "数据库暂时不可用" in response.get_data(as_text=True)
    monkeypatch.undo()
    assert client.get("/").status_code == 200  # recovers on the next request


def test_deputy_reach_is_attributed_and_ends_with_the_principals_role(app, client, staff,
                                                                      make_user, make_customer):
    outsider = make_user("outsider", Role.SALES_REP, department="sales2")
    customer_id = make_customer("代理测试有限公司", staff[Role.SALES_REP])
    manager = staff[Role.SALES_MANAGER]
    with app.app_context():
        now = clock.now()
        db.session.add(Delegation(principal_id=manager.id, deputy_id=outsider.id,
                                  role=Role.SALES_MANAGER.value, starts_at=now - timedelta(hours=1),
                                  ends_at=now + timedelta(days=1), reason="休假",
                                  created_by_id=staff[Role.ADMIN].id))
        db.session.commit()
    login_fast(client, app, outsider)
    assert client.get(f"/sales/customers/{customer_id}").status_code == 200
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.object_type == "customer", AuditEntry.action == "view"))
    assert (entry.username, entry.role, entry.on_behalf_of_name) == (
        "outsider", "sales_manager", "manager")
    with app.app_context():
        from intranet.models import User
        db.session.get(User, manager.id).set_roles([Role.SALES_REP])
        db.session.commit()
    assert client.get(f"/sales/customers/{customer_id}").status_code == 404


def test_crafted_query_strings_never_break_lists(app, client, staff, make_user):
    for i in range(30):
        make_user(f"user{i:02d}", Role.SALES_REP)
    login_fast(client, app, staff[Role.ADMIN])
    for query in ("endpoint=x", "_method=PATCH", "page=99999999999999999999", "page=-5",
                  "from=0001-01-01", "to=9999-12-31", "from=2026-13-45"):
        for url in ("/admin/users", "/admin/audit", "/notifications", "/admin/deputies"):
            response = client.get(f"{url}?{query}")
            assert response.status_code == 200, (url, query)


def test_admin_cannot_grant_themselves_business_roles_or_deputyship(app, client, staff):
    admin = staff[Role.ADMIN]
    login_fast(client, app, admin)
    response = post(client, f"/admin/users/{admin.id}", {
        "display_name": "管理员", "department_id": str(admin.department_id),
        "roles": ["admin", "general_manager"], "locale": "zh_CN"})
    assert "必须由另一位管理员" in response.get_data(as_text=True)
    now = clock.now()
    response = name_deputy(client, staff[Role.GENERAL_MANAGER], admin, Role.GENERAL_MANAGER,
                           now, now + timedelta(days=1))
    assert "必须由另一位管理员" in response.get_data(as_text=True)
    with app.app_context():
        from intranet.models import User
        assert db.session.get(User, admin.id).roles == {Role.ADMIN}
        assert db.session.scalar(db.select(db.func.count()).select_from(Delegation)) == 0


def test_deputy_notification_names_the_role_in_the_readers_language(app, client, staff):
    admin = app.test_client()
    login_fast(admin, app, staff[Role.ADMIN])
    now = clock.now()
    name_deputy(admin, staff[Role.GENERAL_MANAGER], staff[Role.FINANCE], Role.GENERAL_MANAGER,
                now, now + timedelta(days=1))
    login_fast(client, app, staff[Role.FINANCE])
    page = client.get("/notifications").get_data(as_text=True)
    assert "担任总经理" in page and "general_manager" not in page


def test_deputy_period_already_over_is_refused(app, client, staff):
    login_fast(client, app, staff[Role.ADMIN])
    now = clock.now()
    response = name_deputy(client, staff[Role.GENERAL_MANAGER], staff[Role.FINANCE],
                           Role.GENERAL_MANAGER, now - timedelta(days=2), now - timedelta(days=1))
    assert "该期间已经结束" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Delegation)) == 0


def test_search_text_is_literal(app, client, staff, make_customer):
    make_customer("百分之百有限公司", staff[Role.SALES_REP])
    make_customer("下划线_科技有限公司", staff[Role.SALES_REP])
    login_fast(client, app, staff[Role.SALES_REP])
    for q, expected in (("%", 0), ("_", 1), ("百分", 1)):
        page = client.get("/sales/customers", query_string={"q": q}).get_data(as_text=True)
        assert page.count('data-testid="customer-row"') == expected, q


def test_c6_deputy_powers_reach_only_the_principals_records(app, client, staff, make_user,
                                                            make_customer, make_delegation):
    """A rep standing in for another department's sales manager passes the manager-only
    routes (tier, blacklist, delete) by the delegation: there only the manager's department is
    in scope, never the rep's own customers, which neither of them may manage as a manager.
    Routes open to reps still reach the rep's own customers."""
    outsider = make_user("outsider", Role.SALES_REP, department="sales2")
    own = make_customer("自有客户有限公司", outsider)
    principals = make_customer("代理部门客户有限公司", staff[Role.SALES_REP])
    make_delegation(staff[Role.SALES_MANAGER], outsider, Role.SALES_MANAGER)
    login_fast(client, app, outsider)
    tier = {"tier": "vip", "reason": "代理调整"}
    assert post(client, f"/sales/customers/{own}/tier", tier).status_code == 404
    assert post(client, f"/sales/customers/{own}/blacklist", {"reason": "x"}).status_code == 404
    assert post(client, f"/sales/customers/{own}/delete").status_code == 404
    page = client.get(f"/sales/customers/{own}").get_data(as_text=True)
    assert f"/sales/customers/{own}/tier" not in page  # no button the view would refuse
    assert f"/sales/customers/{own}/edit" in page  # as the rep who owns it
    assert post(client, f"/sales/customers/{principals}/tier", tier).status_code == 302
    with app.app_context():
        from intranet.models import Customer
        assert db.session.get(Customer, own).tier_override is None
        assert db.session.get(Customer, own).blacklisted is False
        assert db.session.get(Customer, principals).tier_override == "vip"


def test_c6_the_gms_deputy_reads_every_file_and_changes_none(app, client, staff, make_user,
                                                             make_customer, make_delegation):
    """Standing in for the GM widens what a deputy reads to every customer, read-only, as for
    the GM; their own department's files stay theirs to manage."""
    deputy = make_user("gm_deputy", Role.SALES_MANAGER, department="sales3")
    elsewhere = make_customer("他部客户有限公司", staff[Role.SALES_REP])
    make_delegation(staff[Role.GENERAL_MANAGER], deputy, Role.GENERAL_MANAGER, reason="出差")
    with app.app_context():
        from decimal import Decimal

        from intranet.models import CreditBreach
        db.session.add(CreditBreach(customer_id=elsewhere, credit_limit=Decimal("1000"),
                                    receivables=Decimal("5000")))
        db.session.commit()
    login_fast(client, app, deputy)
    assert client.get(f"/sales/customers/{elsewhere}").status_code == 200
    assert client.get(f"/sales/customers/{elsewhere}/edit").status_code == 404
    home = client.get("/").get_data(as_text=True)
    assert "他部客户有限公司" not in home  # not among the customers they answer for (K3)
    assert post(client, f"/sales/customers/{elsewhere}/tier",
                {"tier": "vip", "reason": "代理"}).status_code == 404
