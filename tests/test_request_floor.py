"""The request floor (issue 12 §4): what every signed-in page asks the database, settings kept
per worker yet changed everywhere at the next request, roles and deputies read afresh at every
request (SECURITY.md: a removed role is refused at the next request), and no subquery over all
customers for whom sees every customer (rule C6)."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from conftest import PG_URL, TEST_CONFIG, counting_selects, login_fast, post
from flask_babel import force_locale
from sqlalchemy import text
from test_platform import name_deputy

from intranet import create_app
from intranet.core import access, clock, i18n, notifications, settings
from intranet.core.roles import ROLE_LABELS, Role
from intranet.extensions import db
from intranet.models import Delegation, User

DEFAULT_NAME = settings.SETTINGS["company_name"].default


def kinds(statements: list[str]) -> list[str]:
    """Each SELECT named by what it asks (quotes dropped: PostgreSQL quotes "user")."""
    named = []
    for statement in statements:
        sql = " ".join(statement.replace('"', "").split())
        if re.search(r"FROM user LEFT OUTER JOIN user_role", sql) and "EXISTS" in sql:
            named.append("user+roles+deputy")
        elif "FROM settings_version" in sql:
            named.append("settings version")
        elif re.search(r"FROM setting\b", sql):
            named.append("settings table")
        elif re.search(r"count\(\*\).* FROM notification WHERE notification.user_id = \S+ "
                       r"AND notification.read_at IS NULL$", sql):
            named.append("unread count")
        elif re.search(r"FROM user_role\b", sql) and "JOIN" not in sql:
            named.append("roles")
        elif re.search(r"FROM delegation\b", sql):
            named.append("delegations")
        else:
            named.append(sql[:80])
    return named


@contextmanager
def second_worker(app):
    """Another worker process of the same deployment: its own app (its own settings in memory,
    its own connections) on the same database."""
    other = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI":
                        app.config["SQLALCHEMY_DATABASE_URI"]})
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


# --- statements per page ----------------------------------------------------------------

def test_smallest_signed_in_page_asks_one_statement_for_user_settings_version_and_unread(
        app, client, staff):
    """The user, their roles, whether they deputise, the settings' version and the unread
    count (the bell) come in one statement: on PostgreSQL each is a round trip."""
    manager = staff[Role.SALES_MANAGER]
    login_fast(client, app, manager)
    client.get("/auth/password")  # the worker reads the settings table once
    with counting_selects(app) as statements:
        body = client.get("/auth/password").get_data(as_text=True)
    assert kinds(statements) == ["user+roles+deputy"]
    assert re.search(r'data-testid="unread-count" hidden>0<', body), body
    with app.app_context():
        for _ in range(3):
            notifications.notify(manager.id, "welcome")
        db.session.commit()
    with counting_selects(app) as statements:
        body = client.get("/auth/password").get_data(as_text=True)
    assert kinds(statements) == ["user+roles+deputy"]
    assert re.search(r'data-testid="unread-count" >3<', body), body


@pytest.mark.parametrize("path", ["/", "/sales/customers"])
def test_home_and_a_list_ask_the_floor_once_and_a_constant_number(app, client, staff,
                                                                  make_customer, path):
    manager = staff[Role.SALES_MANAGER]
    make_customer("华东恒通贸易有限公司", staff[Role.SALES_REP])
    login_fast(client, app, manager)
    client.get(path)
    with counting_selects(app) as first:
        assert client.get(path).status_code == 200
    for i in range(30):  # more rows and unread notifications change no count of statements
        make_customer(f"华东精密机械{i}有限公司", staff[Role.SALES_REP])
    with app.app_context():
        for _ in range(5):
            notifications.notify(manager.id, "welcome")
        db.session.commit()
    with counting_selects(app) as second:
        assert client.get(path).status_code == 200
    assert len(first) == len(second)
    named = kinds(second)
    assert named[0] == "user+roles+deputy" and named.count("user+roles+deputy") == 1
    # the settings' version and the unread count (the bell and the home widget) came with it
    assert not {"settings version", "unread count", "settings table", "roles",
                "delegations"} & set(named)


def test_a_deputy_has_their_delegations_read_once_per_request(app, client, staff,
                                                              make_delegation):
    manager = staff[Role.SALES_MANAGER]
    make_delegation(staff[Role.GENERAL_MANAGER], manager, Role.GENERAL_MANAGER)
    login_fast(client, app, manager)
    client.get("/")
    with counting_selects(app) as statements:
        assert client.get("/management/credit").status_code == 200  # the GM's page, as deputy
    assert kinds(statements).count("delegations") == 1


# --- settings: per worker, changed everywhere at the next request -----------------------

def test_a_setting_changed_in_one_worker_applies_in_another_at_the_next_request(app, staff):
    admin = app.test_client()
    login_fast(admin, app, staff[Role.ADMIN])
    with second_worker(app) as other:
        reader = other.test_client()
        login_fast(reader, other, staff[Role.SALES_MANAGER])
        assert DEFAULT_NAME in reader.get("/auth/password").get_data(as_text=True)
        with counting_selects(other) as unchanged:
            reader.get("/auth/password")
        assert "settings table" not in kinds(unchanged)  # kept in the worker's memory

        assert post(admin, "/admin/settings", {"company_name": "华东恒通贸易有限公司",
                                               "session_idle_minutes": "45"}).status_code == 302

        with counting_selects(other) as changed:
            page = reader.get("/auth/password").get_data(as_text=True)
        assert "华东恒通贸易有限公司" in page and DEFAULT_NAME not in page
        assert kinds(changed).count("settings table") == 1
        with other.app_context():
            assert settings.get("session_idle_minutes") == 45
        with counting_selects(other) as again:
            reader.get("/auth/password")
        assert "settings table" not in kinds(again)


def test_a_rolled_back_setting_change_is_not_kept_by_the_worker(app, staff):
    with app.test_request_context():
        assert settings.update({"company_name": "未提交的名字"}) == {}
        assert settings.get("company_name") == "未提交的名字"  # seen inside its transaction
        db.session.rollback()
    with app.test_request_context():
        assert settings.get("company_name") == DEFAULT_NAME
    with app.test_request_context():  # a later change, whatever its version, is read afresh
        assert settings.update({"company_name": "华东恒通贸易有限公司"}) == {}
        db.session.commit()
    with app.test_request_context():
        assert settings.get("company_name") == "华东恒通贸易有限公司"


def test_a_caller_cannot_change_the_workers_settings_by_mutating_a_value(app):
    with app.test_request_context():
        assert settings.update({"holidays": "2026-10-01"}) == {}
        db.session.commit()
    with app.test_request_context():
        settings.get("holidays").append("2026-10-02")
    with app.test_request_context():
        assert settings.get("holidays") == ["2026-10-01"]


# --- roles and deputies: read afresh at every request (SECURITY.md) ----------------------

def test_a_role_removed_in_one_worker_is_refused_at_the_next_request_in_another(app, staff):
    manager = staff[Role.SALES_MANAGER]
    admin = app.test_client()
    login_fast(admin, app, staff[Role.ADMIN])
    with second_worker(app) as other:
        worker_b = other.test_client()
        login_fast(worker_b, other, manager)
        worker_a = app.test_client()
        login_fast(worker_a, app, manager)
        assert worker_b.get("/sales/credit/review").status_code == 200
        assert worker_a.get("/sales/credit/review").status_code == 200

        response = post(admin, f"/admin/users/{manager.id}", {
            "display_name": "Manager", "department_id": str(manager.department_id),
            "roles": ["sales_rep"], "locale": "zh_CN"})
        assert response.status_code == 302

        assert worker_b.get("/sales/credit/review").status_code == 403
        assert worker_a.get("/sales/credit/review").status_code == 403
        assert worker_b.get("/sales/customers").status_code == 200  # as the rep they now are


def test_a_revoked_deputy_is_refused_at_the_next_request_in_another_worker(app, staff):
    manager = staff[Role.SALES_MANAGER]
    admin = app.test_client()
    login_fast(admin, app, staff[Role.ADMIN])
    now = clock.now().replace(second=0, microsecond=0)
    assert name_deputy(admin, staff[Role.GENERAL_MANAGER], manager, Role.GENERAL_MANAGER,
                       now - timedelta(minutes=1), now + timedelta(days=1)).status_code == 302
    with app.app_context():
        delegation_id = db.session.scalar(db.select(Delegation.id))
    with second_worker(app) as other:
        deputy = other.test_client()
        login_fast(deputy, other, manager)
        assert deputy.get("/management/credit").status_code == 200
        assert post(admin, f"/admin/deputies/{delegation_id}/revoke").status_code == 302
        assert deputy.get("/management/credit").status_code == 403


def test_a_deputy_period_that_starts_later_counts_from_then(app, staff, frozen,
                                                            make_delegation):
    """The one statement that loads the user also decides "deputy now?" at the request's
    time: a period starting later is not in force yet, and is once it has begun."""
    manager = staff[Role.SALES_MANAGER]
    start = clock.now() + timedelta(hours=1)
    make_delegation(staff[Role.GENERAL_MANAGER], manager, Role.GENERAL_MANAGER,
                    starts_at=start, ends_at=start + timedelta(days=1))
    client = app.test_client()
    login_fast(client, app, manager)
    assert client.get("/management/credit").status_code == 403
    frozen(start + timedelta(minutes=1))
    login_fast(client, app, manager)
    assert client.get("/management/credit").status_code == 200


def test_a_disabled_user_in_the_request_cache_is_still_refused(app, client, staff):
    rep = staff[Role.SALES_REP]
    login_fast(client, app, rep)
    assert client.get("/sales/customers").status_code == 200
    with app.app_context():
        db.session.get(User, rep.id).active = False
        db.session.commit()
    assert client.get("/sales/customers").status_code == 302  # to the login page


# --- scope: no subquery for "everything" (rule C6) --------------------------------------

def test_the_gms_scoped_queries_have_no_subquery_over_all_customers(app, staff, make_customer,
                                                                    make_application):
    rep, manager, gm = staff[Role.SALES_REP], staff[Role.SALES_MANAGER], \
        staff[Role.GENERAL_MANAGER]
    customer = make_customer("华东精密机械有限公司", rep)
    application = make_application(customer, rep, state="received")
    gm_client, manager_client = app.test_client(), app.test_client()
    login_fast(gm_client, app, gm)
    login_fast(manager_client, app, manager)
    paths = ["/sales/credit", f"/sales/credit/{application}", "/finance/over-limit",
             "/sales/reclaims"]
    with counting_selects(app) as statements:
        for path in paths:
            assert gm_client.get(path).status_code == 200, path
    over_all = [s for s in statements if re.search(r"IN \(SELECT \S*customer\S*\.id",
                                                   s.replace('"', ""))]
    assert over_all == []
    with counting_selects(app) as statements:  # the manager's scope is still a condition
        assert manager_client.get("/sales/credit").status_code == 200
    assert any("EXISTS (SELECT" in s and "customer.department_id" in s.replace('"', "")
               for s in statements)
    assert f"/sales/credit/{application}" in gm_client.get("/sales/credit").get_data(
        as_text=True)


def test_customer_scope_of_whom_sees_everything_is_the_bare_constant(app, staff,
                                                                     make_delegation):
    with app.test_request_context():
        gm = db.session.get(User, staff[Role.GENERAL_MANAGER].id)
        manager = db.session.get(User, staff[Role.SALES_MANAGER].id)
        assert access.sees_everything(access.customer_scope(gm))
        assert not access.sees_everything(access.customer_scope(gm, "edit"))
        assert not access.sees_everything(access.customer_scope(manager))
    make_delegation(staff[Role.GENERAL_MANAGER], staff[Role.SALES_MANAGER],
                    Role.GENERAL_MANAGER)
    with app.test_request_context():  # the GM's deputy sees everything too, read-only
        manager = db.session.get(User, staff[Role.SALES_MANAGER].id)
        assert access.sees_everything(access.customer_scope(manager))


# --- translations: resolved once, still per locale ---------------------------------------

def test_translations_kept_per_request_follow_a_forced_locale(app, client, staff):
    with app.test_request_context():
        with force_locale("zh_CN"):
            chinese = i18n.resolved(ROLE_LABELS)
            assert i18n.translations().ugettext("Sign out") == "退出登录"
        with force_locale("en"):
            english = i18n.resolved(ROLE_LABELS)
            assert i18n.translations().ugettext("Sign out") == "Sign out"
        assert chinese[Role.GENERAL_MANAGER] == "总经理"
        assert english[Role.GENERAL_MANAGER] == "General manager"
    login_fast(client, app, staff[Role.SALES_MANAGER])
    assert "退出登录" in client.get("/").get_data(as_text=True)


def test_postgresql_pages_plan_without_parallel_workers(app):
    """A page's statements read a few dozen rows; starting workers for them cost ~10 ms."""
    if not PG_URL:
        pytest.skip("PostgreSQL's planner setting")
    with app.app_context():
        assert db.session.scalar(text("SHOW max_parallel_workers_per_gather")) == "0"

