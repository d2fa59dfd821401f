"""SECURITY.md 3-5 and rule C6: own records only, no mass assignment, fail closed."""
from __future__ import annotations

import pytest
from conftest import counting_selects, login_fast, post

from intranet.core import access
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import AuditEntry, Contact, Customer


@pytest.fixture
def two_reps(app, staff, make_customer):
    mine = make_customer("甲方精密机械有限公司", staff[Role.SALES_REP])
    theirs = make_customer("乙方电子科技有限公司", staff["rep_b"])
    other_dept = make_customer("丙方化工有限公司", staff["rep_other_dept"])
    return {"mine": mine, "theirs": theirs, "other_dept": other_dept}


def test_c6_rep_cannot_read_edit_export_or_delete_another_reps_customer(app, client, staff,
                                                                         two_reps):
    login_fast(client, app, staff[Role.SALES_REP])
    theirs = two_reps["theirs"]
    assert client.get(f"/sales/customers/{theirs}").status_code == 404
    assert client.get(f"/sales/customers/{theirs}/edit").status_code == 404
    response = post(client, f"/sales/customers/{theirs}/edit", {"name": "改名了"})
    assert response.status_code == 404
    assert post(client, f"/sales/customers/{theirs}/delete").status_code == 403
    export = client.get("/sales/customers/export?format=csv").get_data(as_text=True)
    assert "甲方" in export and "乙方" not in export and "丙方" not in export
    with app.app_context():
        assert db.session.get(Customer, theirs).name == "乙方电子科技有限公司"


def test_c6_lists_contain_no_foreign_rows(app, client, staff, two_reps):
    login_fast(client, app, staff[Role.SALES_REP])
    page = client.get("/sales/customers").get_data(as_text=True)
    assert "甲方" in page and "乙方" not in page and "丙方" not in page
    search = client.get("/sales/customers?q=有限公司", headers={
        "HX-Request": "true", "HX-Target": "customer-rows"}).get_data(as_text=True)
    assert "甲方" in search and "乙方" not in search and "<html" not in search


def test_c6_manager_sees_department_gm_sees_all_read_only(app, client, staff, two_reps):
    login_fast(client, app, staff[Role.SALES_MANAGER])
    page = client.get("/sales/customers").get_data(as_text=True)
    assert "甲方" in page and "乙方" in page and "丙方" not in page
    assert client.get(f"/sales/customers/{two_reps['other_dept']}").status_code == 404
    gm = app.test_client()
    login_fast(gm, app, staff[Role.GENERAL_MANAGER])
    page = gm.get("/sales/customers").get_data(as_text=True)
    assert "甲方" in page and "乙方" in page and "丙方" in page
    assert gm.get(f"/sales/customers/{two_reps['theirs']}").status_code == 200
    assert gm.get(f"/sales/customers/{two_reps['theirs']}/edit").status_code == 403


def test_c6_manager_deletes_only_in_own_department(app, client, staff, two_reps):
    login_fast(client, app, staff[Role.SALES_MANAGER])
    assert post(client, f"/sales/customers/{two_reps['other_dept']}/delete").status_code == 404
    assert post(client, f"/sales/customers/{two_reps['theirs']}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(Customer, two_reps["theirs"]) is None
        assert db.session.get(Customer, two_reps["other_dept"]) is not None
        entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "delete"))
        assert entry.object_id == str(two_reps["theirs"]) and entry.username == "manager"


def test_c6_every_view_change_export_and_deletion_is_audited(app, client, staff, two_reps):
    login_fast(client, app, staff[Role.SALES_MANAGER])
    mine = two_reps["mine"]
    client.get(f"/sales/customers/{mine}")
    post(client, f"/sales/customers/{mine}/edit", {"name": "甲方精密机械股份有限公司",
                                                    "region": "上海"})
    client.get("/sales/customers/export?format=csv")
    post(client, f"/sales/customers/{mine}/delete")
    with app.app_context():
        rows = db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.object_type.in_(["customer", "customer_list"]))
            .order_by(AuditEntry.seq)).all()
    assert [r.action for r in rows] == ["view", "update", "export", "delete"]
    assert all(r.username == "manager" and r.role == "sales_manager" for r in rows)
    assert all(r.address == "127.0.0.1" and r.ts is not None for r in rows)
    assert "甲方精密机械股份有限公司" in rows[1].details


def test_4_extra_posted_fields_are_ignored(app, client, staff, two_reps):
    login_fast(client, app, staff[Role.SALES_REP])
    mine = two_reps["mine"]
    response = post(client, f"/sales/customers/{mine}/edit", {
        "name": "甲方新名称有限公司", "region": "江苏",
        "owner_id": str(staff["rep_b"].id), "department_id": "99", "credit_limit": "9999999",
        "state": "approved", "id": "12345"})
    assert response.status_code == 302
    with app.app_context():
        customer = db.session.get(Customer, mine)
        assert customer.name == "甲方新名称有限公司" and customer.region == "江苏"
        assert customer.owner_id == staff[Role.SALES_REP].id
        assert customer.department_id == staff[Role.SALES_REP].department_id
        assert customer.id == mine


def test_4_admin_user_form_ignores_extra_fields(app, client, staff):
    login_fast(client, app, staff[Role.ADMIN])
    rep = staff[Role.SALES_REP]
    post(client, f"/admin/users/{rep.id}", {
        "display_name": "新名字", "department_id": str(rep.department_id), "roles": "sales_rep",
        "locale": "zh_CN", "password_hash": "x", "session_token": "known", "active": "0"})
    from intranet.models import User
    with app.app_context():
        user = db.session.get(User, rep.id)
        assert user.display_name == "新名字"
        assert user.session_token != "known" and user.password_hash != "x" and user.active


def test_5_error_inside_permission_check_denies(app, client, staff, monkeypatch):
    login_fast(client, app, staff[Role.ADMIN])

    def broken(self, user):
        raise RuntimeError("role service down")
    monkeypatch.setattr(access.Permission, "grant_for", broken)
    assert client.get("/admin/users").status_code == 403


def test_5_error_inside_record_scope_shows_nothing(app, client, staff, two_reps, monkeypatch):
    login_fast(client, app, staff[Role.SALES_MANAGER])
    assert "甲方" in client.get("/sales/customers").get_data(as_text=True)

    from intranet.models import User
    monkeypatch.setattr(User, "roles", property(lambda self: 1 / 0))
    monkeypatch.setattr(access.Permission, "grant_for",
                        lambda self, user: access.Grant(Role.SALES_MANAGER))
    page = client.get("/sales/customers")
    assert page.status_code == 200 and "甲方" not in page.get_data(as_text=True)
    assert client.get(f"/sales/customers/{two_reps['mine']}").status_code == 404


def test_5_error_inside_the_button_check_shows_no_button(app, client, staff, two_reps,
                                                      monkeypatch):
    """The page opens (its own scope check passed) but the question behind each edit button
    fails: no button, rather than a button the view might refuse or an error page."""
    mine = two_reps["mine"]
    login_fast(client, app, staff[Role.SALES_REP])
    assert f"/sales/customers/{mine}/edit" in client.get(f"/sales/customers/{mine}").get_data(
        as_text=True)
    real = access._scoped_customer

    def broken(user, customer_id, purpose, roles=None):
        if purpose == "edit":
            raise RuntimeError("scope service down")
        return real(user, customer_id, purpose, roles)
    monkeypatch.setattr(access, "_scoped_customer", broken)
    page = client.get(f"/sales/customers/{mine}")
    assert page.status_code == 200 and "甲方精密机械有限公司" in page.get_data(as_text=True)
    assert f"/sales/customers/{mine}/edit" not in page.get_data(as_text=True)


def test_c6_list_reads_are_audited_with_the_rows_shown(app, client, staff, two_reps):
    login_fast(client, app, staff[Role.SALES_REP])
    client.get("/sales/customers?q=甲方")
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.object_type == "customer_list", AuditEntry.action == "view"))
    assert entry.username == "rep" and f"[{two_reps['mine']}]" in entry.details


def test_c2_registering_an_existing_customer_is_refused_and_shows_the_owner(app, client, staff,
                                                                           two_reps):
    login_fast(client, app, staff["rep_other_dept"])
    response = post(client, "/sales/customers/new", {"name": "甲方精密机械（股份）有限公司",
                                                     "credit_code": "", "region": "上海"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    # The existing owner by name: "Rep" owns it; the header names the signed-in "Rep2".
    assert "该客户已被登记" in page and "甲方精密机械有限公司 的负责人是 Rep（" in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Customer)) == 3


def test_c1_c2_registration_validates_the_credit_code_and_gives_ownership(app, client, staff):
    login_fast(client, app, staff[Role.SALES_REP])
    bad = post(client, "/sales/customers/new", {"name": "新注册有限公司",
                                                "credit_code": "91350100M000100Y44"})
    assert bad.status_code == 200 and "校验码" in bad.get_data(as_text=True)
    good = post(client, "/sales/customers/new", {
        "name": "新注册有限公司", "credit_code": "91350100m000100y43", "region": "福州",
        "contact_name": "林经理", "contact_phone": "+86 139 0000 1111",
        "owner_id": str(staff["rep_b"].id)})
    assert good.status_code == 302
    with app.app_context():
        customer = db.session.scalar(db.select(Customer).where(Customer.name == "新注册有限公司"))
        assert customer.owner_id == staff[Role.SALES_REP].id  # first to register owns it
        assert customer.credit_code == "91350100M000100Y43"
        assert customer.contacts[0].phone_digits == "13900001111"
        assert db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.action == "create", AuditEntry.object_type == "customer")) is not None
    again = app.test_client()
    login_fast(again, app, staff["rep_b"])
    dup = post(again, "/sales/customers/new", {"name": "别的名字有限公司",
                                                "contact_phone": "139-0000-1111"})
    assert dup.status_code == 409 and "联系电话" in dup.get_data(as_text=True)


def _set_figures(app, customer_id, sales, prev, tier="general", blacklisted=False):
    from decimal import Decimal
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        customer.sales_12m, customer.sales_prev_12m = Decimal(sales), Decimal(prev)
        customer.tier, customer.blacklisted = tier, blacklisted
        db.session.commit()


def test_c5_list_ranks_by_year_on_year_growth_and_filters_by_tier(app, client, staff,
                                                                   make_customer):
    rep = staff[Role.SALES_REP]
    slow = make_customer("慢速增长有限公司", rep)
    fast = make_customer("快速增长有限公司", rep)
    new = make_customer("新开发有限公司", rep)
    _set_figures(app, slow, "110000", "100000", tier="key")
    _set_figures(app, fast, "90000", "30000")
    _set_figures(app, new, "50000", "0", blacklisted=True)
    login_fast(client, app, rep)
    page = client.get("/sales/customers?sort=growth").get_data(as_text=True)
    assert page.index("快速增长") < page.index("慢速增长") < page.index("新开发")
    assert "+200%" in page and "+10%" in page
    keyed = client.get("/sales/customers?tier=key").get_data(as_text=True)
    assert "慢速增长" in keyed and "快速增长" not in keyed
    black = client.get("/sales/customers?blacklisted=1").get_data(as_text=True)
    assert "新开发" in black and "慢速增长" not in black
    by_sales = client.get("/sales/customers?sort=sales").get_data(as_text=True)
    assert by_sales.index("慢速增长") < by_sales.index("快速增长")


def test_customer_list_issues_a_constant_number_of_queries(app, client, staff, make_customer):
    rep = staff[Role.SALES_REP]
    make_customer("计数一有限公司", rep)
    login_fast(client, app, rep)

    def count_queries():
        with counting_selects(app) as statements:
            assert client.get("/sales/customers").status_code == 200
        return len(statements)

    count_queries()  # the worker's first read of the settings is not the page's
    few = count_queries()
    for i in range(20):
        make_customer(f"计数{i}号有限公司", staff["rep_b" if i % 2 else Role.SALES_REP])
    assert count_queries() == few


def test_c8_manager_blacklists_with_a_reason_rep_cannot(app, client, staff, two_reps):
    mine = two_reps["mine"]
    login_fast(client, app, staff[Role.SALES_REP])
    assert post(client, f"/sales/customers/{mine}/blacklist", {"reason": "拖欠货款"}
                ).status_code == 403
    manager = app.test_client()
    login_fast(manager, app, staff[Role.SALES_MANAGER])
    post(manager, f"/sales/customers/{mine}/blacklist", {"reason": ""})  # no reason: refused
    with app.app_context():
        assert not db.session.get(Customer, mine).blacklisted
    post(manager, f"/sales/customers/{mine}/blacklist", {"reason": "多次拖欠货款"})
    with app.app_context():
        customer = db.session.get(Customer, mine)
        assert customer.blacklisted and customer.blacklist_reason == "多次拖欠货款"
        entry = db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.reason == "多次拖欠货款"))
        assert entry.username == "manager" and '"blacklisted": true' in entry.details
    page = client.get(f"/sales/customers/{mine}").get_data(as_text=True)
    assert "黑名单" in page and "多次拖欠货款" in page
    assert post(manager, f"/sales/customers/{two_reps['other_dept']}/blacklist",
                {"reason": "越权"}).status_code == 404


def test_c1_full_file_is_edited_with_validation_and_audited(app, client, staff, two_reps):
    mine = two_reps["mine"]
    login_fast(client, app, staff[Role.SALES_REP])
    body = {"name": "甲方精密机械有限公司", "credit_code": "91110000802100433B",
            "legal_representative": "张三", "registered_capital": "5000000",
            "business_scope": "精密机械制造", "industry": "制造业", "size": "medium",
            "region": "上海", "address": "浦东新区张江路1号", "website": "www.jiafang.cn",
            "payment_method": "transfer", "source_channel": "exhibition", "relation": "customer"}
    bad = post(client, f"/sales/customers/{mine}/edit", {**body, "website": "javascript:x()",
                                                          "registered_capital": "很多"})
    assert bad.status_code == 200 and "请输入网址" in bad.get_data(as_text=True)
    assert post(client, f"/sales/customers/{mine}/edit", body).status_code == 302
    page = client.get(f"/sales/customers/{mine}").get_data(as_text=True)
    for text in ("91110000802100433B", "张三", "¥5,000,000.00", "中型", "银行转账", "展会"):
        assert text in page
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.action == "update", AuditEntry.object_id == str(mine)))
        assert "legal_representative" in entry.details and "张三" in entry.details


def test_c2_edit_cannot_rename_into_another_registration(app, client, staff, two_reps):
    login_fast(client, app, staff[Role.SALES_MANAGER])
    response = post(client, f"/sales/customers/{two_reps['mine']}/edit",
                    {"name": "乙方电子科技（股份）有限公司", "relation": "customer"})
    assert response.status_code == 409 and "该客户已被登记" in response.get_data(as_text=True)


def test_contacts_are_added_checked_for_duplicates_and_removed(app, client, staff, two_reps):
    mine, theirs = two_reps["mine"], two_reps["theirs"]
    with app.app_context():
        other = db.session.get(Customer, theirs)
        other.contacts.append(Contact(name="乙方联系人", phone="13700001111"))
        db.session.commit()
    login_fast(client, app, staff[Role.SALES_REP])
    dup = post(client, f"/sales/customers/{mine}/contacts", {"name": "某人",
                                                              "phone": "137 0000 1111"})
    assert dup.status_code == 422 and "该电话号码已登记在" in dup.get_data(as_text=True)
    ok = post(client, f"/sales/customers/{mine}/contacts", {
        "name": "王采购", "title": "采购经理", "phone": "021-5555 6666", "email": "w@x.cn"})
    assert ok.status_code == 302
    with app.app_context():
        contact = db.session.get(Customer, mine).contacts[0]
        assert contact.phone_digits == "02155556666"
        contact_id = contact.id
    assert post(client, f"/sales/customers/{theirs}/contacts",
                {"name": "越权"}).status_code == 404
    post(client, f"/sales/customers/{mine}/contacts/{contact_id}/delete")
    with app.app_context():
        assert db.session.get(Customer, mine).contacts == []


def test_activity_log_records_sales_activity(app, client, staff, two_reps, frozen):
    from datetime import UTC, datetime
    frozen(datetime(2026, 11, 2, 3, 0, tzinfo=UTC))  # 11:00 in Shanghai, after the visit
    mine = two_reps["mine"]
    login_fast(client, app, staff[Role.SALES_REP])
    body = {"kind": "visit", "occurred_at": "2026-11-02T10:30", "summary": "上门拜访，洽谈新订单",
            "next_action_on": "2026-11-09"}
    response = post(client, f"/sales/customers/{mine}/activities", body,
                    headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "上门拜访" in text and "<html" not in text
    assert "HX-Trigger" in response.headers
    bad = post(client, f"/sales/customers/{mine}/activities", {**body, "summary": ""},
               headers={"HX-Request": "true"})
    assert bad.status_code == 422 and "此项为必填项" in bad.get_data(as_text=True)
    with app.app_context():
        customer = db.session.get(Customer, mine)
        # 10:30 in Shanghai is 02:30 UTC: what the reclaim rule (R2) will read
        assert customer.last_activity_at.isoformat() == "2026-11-02T02:30:00+00:00"
    assert post(client, f"/sales/customers/{two_reps['theirs']}/activities",
                body).status_code == 404


def test_customer_page_issues_a_constant_number_of_queries(app, client, staff, two_reps):
    from decimal import Decimal

    from intranet.models import Activity, Order, Payment, Shipment
    mine = two_reps["mine"]
    login_fast(client, app, staff[Role.SALES_REP])

    def count_queries():
        with counting_selects(app) as statements:
            assert client.get(f"/sales/customers/{mine}").status_code == 200
        return len(statements)

    with app.app_context():  # one of each: a kind of row present reads its details once
        from intranet.core import clock
        db.session.add(Activity(customer_id=mine, user_id=staff["rep_b"].id, kind="phone",
                                occurred_at=clock.now(), summary="电话"))
        db.session.commit()
    count_queries()  # the worker's first read of the settings is not the page's
    few = count_queries()
    with app.app_context():
        for i in range(15):
            db.session.add(Contact(customer_id=mine, name=f"联系人{i}", phone=f"1390000{i:04d}"))
            db.session.add(Activity(customer_id=mine, user_id=staff["rep_b"].id, kind="phone",
                                    occurred_at=clock.now(), summary=f"电话{i}"))
            db.session.add(Order(customer_id=mine, number=f"SO-{i}", amount=Decimal(10),
                                 ordered_on=clock.now().date()))
            db.session.add(Shipment(customer_id=mine, amount=Decimal(10),
                                    shipped_on=clock.now().date()))
            db.session.add(Payment(customer_id=mine, amount=Decimal(5),
                                   received_on=clock.now().date()))
        db.session.commit()
    assert count_queries() == few


@pytest.mark.parametrize("role", [Role.SERVICE_DESK, Role.FINANCE, Role.ARCHIVIST,
                                  Role.COMPLAINT_HANDLER])
def test_c6_others_open_a_file_only_after_giving_a_reason(app, client, staff, two_reps, role):
    mine = two_reps["mine"]
    login_fast(client, app, staff[role])
    assert "甲方" not in client.get("/sales/customers").get_data(as_text=True)
    found = client.get("/sales/customers?q=甲方").get_data(as_text=True)
    assert "甲方" in found and "乙方" not in found and "¥" not in found  # names only
    first = client.get(f"/sales/customers/{mine}")
    assert first.status_code == 302 and first.headers["Location"].endswith(
        f"/sales/customers/{mine}/access")
    short = post(client, f"/sales/customers/{mine}/access", {"reason": "看"})
    assert short.status_code == 200
    reason = "客户来电投诉发货延迟，需核对联系人"
    post(client, f"/sales/customers/{mine}/access", {"reason": reason})
    page = client.get(f"/sales/customers/{mine}")
    assert page.status_code == 200 and "甲方精密机械有限公司" in page.get_data(as_text=True)
    assert client.get(f"/sales/customers/{mine}/edit").status_code == 403
    with app.app_context():
        view = db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.action == "view", AuditEntry.object_type == "customer",
            AuditEntry.object_id == str(mine)))
    assert view.reason == reason and view.username == staff[role].username


def test_c6_reason_grant_expires(app, client, staff, two_reps, frozen):
    from datetime import timedelta

    from intranet.core import clock
    mine = two_reps["mine"]
    login_fast(client, app, staff[Role.FINANCE])
    post(client, f"/sales/customers/{mine}/access", {"reason": "核对应收账款"})
    assert client.get(f"/sales/customers/{mine}").status_code == 200
    frozen(clock.now() + timedelta(minutes=20))
    assert client.get(f"/sales/customers/{mine}").status_code == 200
    frozen(clock.now() + timedelta(minutes=15))
    assert client.get(f"/sales/customers/{mine}").status_code == 302


def test_c3_only_a_manager_overrides_the_tier_with_a_reason(app, client, staff, two_reps):
    mine = two_reps["mine"]
    login_fast(client, app, staff[Role.SALES_REP])
    assert post(client, f"/sales/customers/{mine}/tier",
                {"tier": "vip", "reason": "想要"}).status_code == 403
    manager = app.test_client()
    login_fast(manager, app, staff[Role.SALES_MANAGER])
    post(manager, f"/sales/customers/{mine}/tier", {"tier": "vip", "reason": ""})
    with app.app_context():
        assert db.session.get(Customer, mine).tier_override is None  # no reason, no override
    post(manager, f"/sales/customers/{mine}/tier", {"tier": "vip", "reason": "集团战略客户"})
    with app.app_context():
        customer = db.session.get(Customer, mine)
        assert customer.effective_tier == "vip" and customer.tier == "reserve"
        assert customer.tier_override_by_id == staff[Role.SALES_MANAGER].id
    page = client.get(f"/sales/customers/{mine}").get_data(as_text=True)
    assert "经理手动设定：集团战略客户" in page
    listed = client.get("/sales/customers").get_data(as_text=True)
    assert "VIP（A）*" in listed  # shown as overridden


def test_search_finds_a_customer_by_contact_phone_and_filters_by_owner(app, client, staff,
                                                                       two_reps):
    with app.app_context():
        customer = db.session.get(Customer, two_reps["mine"])
        customer.contacts.append(Contact(name="王", phone="021-6888 1234"))
        db.session.commit()
    login_fast(client, app, staff[Role.SALES_MANAGER])
    found = client.get("/sales/customers?q=68881234").get_data(as_text=True)
    assert "甲方" in found and "乙方" not in found
    by_owner = client.get(f"/sales/customers?owner={staff['rep_b'].id}").get_data(as_text=True)
    assert "乙方" in by_owner and "甲方" not in by_owner and "全部负责人" in by_owner


def test_c3_nightly_refresh_moves_tiers_with_the_twelve_month_window(app, staff, make_customer,
                                                                     frozen):
    from datetime import timedelta
    from decimal import Decimal

    from intranet.core import clock
    from intranet.customers import ledger
    from intranet.models import Shipment
    customer_id = make_customer("窗口移动有限公司", staff[Role.SALES_REP])
    with app.app_context():
        db.session.add(Shipment(customer_id=customer_id, amount=Decimal("150000"),
                                shipped_on=ledger.today() - timedelta(days=300)))
        db.session.commit()
    runner = app.test_cli_runner()
    assert "refreshed 1 customers" in runner.invoke(args=["customers", "refresh"]).output
    with app.app_context():
        assert db.session.get(Customer, customer_id).tier == "key"
    frozen(clock.now() + timedelta(days=100))  # the shipment falls out of the window
    runner.invoke(args=["customers", "refresh"])
    with app.app_context():
        assert db.session.get(Customer, customer_id).tier == "general"


def test_c6_opening_the_edit_form_is_an_audited_read(app, client, staff, two_reps):
    """The edit form shows the whole file: opening it is a read of customer data (C6)."""
    login_fast(client, app, staff[Role.SALES_REP])
    assert client.get(f"/sales/customers/{two_reps['mine']}/edit").status_code == 200
    with app.app_context():
        rows = db.session.execute(
            db.select(AuditEntry.action, AuditEntry.object_id, AuditEntry.username)
            .where(AuditEntry.object_type == "customer")).all()
    assert rows == [("view", str(two_reps["mine"]), "rep")]


def test_c6_reason_grants_last_exactly_half_an_hour_each(app, client, staff, make_customer,
                                                         frozen):
    """Each file opened with a reason stays open for 30 minutes from its own reason; opening a
    second file keeps the first one's grant; the cookie keeps the 20 latest grants."""
    from datetime import timedelta

    from intranet.core import clock

    ids = [make_customer(f"查阅{i:02d}有限公司", staff[Role.SALES_REP]) for i in range(21)]
    login_fast(client, app, staff[Role.FINANCE])
    start = clock.now()
    for customer_id in ids:
        post(client, f"/sales/customers/{customer_id}/access", {"reason": "核对应收账款"})
    assert client.get(f"/sales/customers/{ids[0]}").status_code == 302  # the oldest dropped
    assert all(client.get(f"/sales/customers/{c}").status_code == 200 for c in ids[1:])
    frozen(start + timedelta(minutes=30) - timedelta(seconds=1))
    assert client.get(f"/sales/customers/{ids[1]}").status_code == 200
    frozen(start + timedelta(minutes=30))
    assert client.get(f"/sales/customers/{ids[1]}").status_code == 302


def test_21_a_denial_is_logged_with_who_what_and_why(app, client, staff, caplog):
    import logging

    login_fast(client, app, staff[Role.SALES_REP])
    logger = logging.getLogger("intranet.security")
    logger.addHandler(caplog.handler)
    try:
        assert client.get("/admin/users").status_code == 403
    finally:
        logger.removeHandler(caplog.handler)
    assert ("access denied user='rep' endpoint='admin.users' method=GET why=role"
            in caplog.messages)
