"""SECURITY.md "Authentication and session", items 7-14."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from conftest import PASSWORD, csrf_token, login, login_fast, post

from intranet.core import clock, passwords
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import AuditEntry, User, UserRole


def session_cookie(client) -> str:
    return client.get_cookie("intranet_session").value


def test_7_passwords_are_argon2id_hashes(app, make_user):
    make_user("wang", Role.SALES_REP)
    with app.app_context():
        stored = db.session.scalar(db.select(User.password_hash).where(User.username == "wang"))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_7_hash_is_upgraded_on_login_when_parameters_change(app, client, make_user):
    user = make_user("wang", Role.SALES_REP)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with app.app_context():
        db.session.get(User, user.id).password_hash = weak
        db.session.commit()
    assert login(client, "wang").status_code == 302
    with app.app_context():
        stored = db.session.get(User, user.id).password_hash
    assert stored != weak and not passwords.needs_rehash(stored)
    assert passwords.verify(stored, PASSWORD)


@pytest.mark.parametrize(("candidate", "ok"), [
    ("short7!", False),                       # under 8 characters
    ("12345678", False),                      # common
    ("woaini1314", False),                    # common (Chinese)
    ("zhang-is-my-name-zhang", False),        # contains the user name
    ("correct horse battery staple", True),   # no composition rules
    ("长城长江黄河泰山", True),                 # any characters count
    ("x" * 64 + "y" * 36, True),              # 64+ accepted
])
def test_8_password_policy(candidate, ok):
    assert (passwords.problems(candidate, "zhang") == []) is ok


def test_8_password_change_refuses_a_weak_password_with_a_message(app, client, make_user):
    user = make_user("wang", Role.SALES_REP)
    login_fast(client, app, user)
    response = post(client, "/auth/password", {"current": PASSWORD, "new": "12345678",
                                               "confirm": "12345678"})
    assert response.status_code == 200
    assert "该密码过于常见" in response.get_data(as_text=True)


def test_8_no_default_accounts_outside_demo_mode(app):
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0 and "DEMO_MODE" in result.output
    app.config["DEMO_MODE"] = True
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0 and "rep1" in result.output
    with app.app_context():
        accounts = db.session.scalar(db.select(db.func.count()).select_from(User))
        roles = set(db.session.scalars(db.select(UserRole.role)))
    assert roles == {role.value for role in Role}  # an account for every role's work
    result = app.test_cli_runner().invoke(args=["demo"])  # idempotent: no account twice
    assert result.exit_code == 0
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == accounts


def test_9_login_throttled_per_account(app, client, make_user):
    make_user("wang", Role.SALES_REP)
    for attempt in range(5):
        response = login(client, "wang", "wrong password", )
        assert response.status_code == 200, attempt
    # Even the right password is refused now, from another address too.
    other = app.test_client()
    response = other.post("/auth/login", environ_base={"REMOTE_ADDR": "10.9.9.9"}, data={
        "username": "wang", "password": PASSWORD, "csrf_token": csrf_token(other)})
    assert response.status_code == 429
    assert "尝试次数过多" in response.get_data(as_text=True)


def test_9_login_throttled_per_address(app, client, make_user):
    for i in range(20):
        assert login(client, f"user{i}", "wrong password").status_code == 200
    make_user("wang", Role.SALES_REP)
    assert login(client, "wang").status_code == 429


def test_9_successful_logins_do_not_count(app, client, make_user):
    make_user("wang", Role.SALES_REP)
    for _ in range(8):
        assert login(client, "wang").status_code == 302
        post(client, "/auth/logout")


def test_10_cookie_flags(app, client, make_user):
    make_user("wang", Role.SALES_REP)
    response = login(client, "wang", remember=True)
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie_header = next(c for c in cookies if c.startswith("intranet_session="))
    remember = next(c for c in cookies if c.startswith("remember_token="))
    for header in (session_cookie_header, remember):
        assert "HttpOnly" in header and "SameSite=Lax" in header
    assert app.config["REMEMBER_COOKIE_DURATION"] <= timedelta(days=30)
    assert app.config["SESSION_COOKIE_SECURE"] is False  # plain HTTP in tests...


def test_10_cookies_secure_over_https(app, client, make_user):
    """...and Secure when the deployment says it is served over HTTPS (HTTPS=1)."""
    app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    make_user("wang", Role.SALES_REP)
    response = login(client, "wang", remember=True, )
    for header in response.headers.getlist("Set-Cookie"):
        assert "Secure" in header


def test_11_new_session_at_login(app, client, make_user):
    make_user("wang", Role.SALES_REP)
    token_before = csrf_token(client)
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, "wang")
    with client.session_transaction() as session:
        assert "planted" not in session
    assert csrf_token(client) != token_before


@pytest.mark.parametrize(("next_url", "expected"), [
    ("/admin/users?q=x", "/admin/users?q=x"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example/", "/"),
    ("\\\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("http://localhost/notifications", "/notifications"),
])
def test_11_next_only_to_local_paths(app, client, make_user, next_url, expected):
    make_user("wang", Role.SALES_REP)
    response = login(client, "wang", next=next_url)
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_12_logout_ends_the_session_and_old_cookie_is_refused(app, client, make_user):
    make_user("wang", Role.SALES_REP)
    login(client, "wang", remember=True)
    old_session = session_cookie(client)
    old_remember = client.get_cookie("remember_token").value
    assert client.get("/").status_code == 200
    post(client, "/auth/logout")
    replay = app.test_client()
    replay.set_cookie("intranet_session", old_session)
    assert replay.get("/").status_code == 302
    replay = app.test_client()
    replay.set_cookie("remember_token", old_remember)
    assert replay.get("/").status_code == 302


def test_12_disabling_an_account_ends_its_sessions(app, client, staff):
    victim = app.test_client()
    login_fast(victim, app, staff[Role.SALES_REP])
    assert victim.get("/").status_code == 200
    login_fast(client, app, staff[Role.ADMIN])
    response = post(client, f"/admin/users/{staff[Role.SALES_REP].id}/disable")
    assert response.status_code == 302
    assert victim.get("/").status_code == 302
    assert login(app.test_client(), "rep").status_code == 200  # cannot sign in again


def test_12_password_change_ends_other_sessions_but_keeps_this_one(app, client, make_user):
    user = make_user("wang", Role.SALES_REP)
    other = app.test_client()
    login_fast(other, app, user)
    login_fast(client, app, user)
    new = "a much better passphrase"
    response = post(client, "/auth/password", {"current": PASSWORD, "new": new, "confirm": new})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302


def test_13_idle_timeout(app, client, make_user, frozen):
    start = clock.now()
    login_fast(client, app, make_user("wang", Role.SALES_REP))
    frozen(start + timedelta(minutes=29))
    assert client.get("/").status_code == 200
    frozen(start + timedelta(minutes=29 + 31))
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


def test_13_absolute_timeout_even_when_active(app, client, make_user, frozen):
    start = clock.now()
    login_fast(client, app, make_user("wang", Role.SALES_REP))
    for minutes in range(20, 12 * 60, 20):
        frozen(start + timedelta(minutes=minutes))
        assert client.get("/").status_code == 200, minutes
    frozen(start + timedelta(hours=12, minutes=5))
    assert client.get("/").status_code == 302


def test_13_timeouts_are_settings(app, client, staff, frozen):
    login_fast(client, app, staff[Role.ADMIN])
    post(client, "/admin/settings", {"company_name": "测试", "timezone": "Asia/Shanghai",
                                     "session_idle_minutes": "5", "session_absolute_hours": "12"})
    start = clock.now()
    login_fast(client, app, staff[Role.SALES_REP])
    frozen(start + timedelta(minutes=6))
    assert client.get("/").status_code == 302


def test_14_remembered_session_needs_a_fresh_login_for_admin_and_exports(app, client, staff):
    login(client, "admin", remember=True)
    remember = client.get_cookie("remember_token").value
    restored = app.test_client()
    restored.set_cookie("remember_token", remember)
    assert restored.get("/").status_code == 200  # remembered: signed in, but not fresh
    for url in ("/admin/users", "/admin/audit"):
        response = restored.get(url)
        assert response.status_code == 302
        assert "fresh=1" in response.headers["Location"]
    # Re-entering the password makes the session fresh again.
    token = csrf_token(restored)
    response = restored.post("/auth/login?fresh=1", data={
        "username": "admin", "password": PASSWORD, "csrf_token": token,
        "next": "/admin/users"})
    assert response.headers["Location"] == "/admin/users"
    assert restored.get("/admin/users").status_code == 200


def test_login_is_audited_and_failure_is_logged_on_one_line(app, client, make_user, caplog):
    make_user("wang", Role.SALES_REP)
    login(client, "wang")
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "login"))
        assert entry.username == "wang" and entry.address == "127.0.0.1"
    import logging

    from intranet.core.logs import OneLineFormatter
    caplog.set_level(logging.INFO, logger="intranet.security")
    login(app.test_client(), "evil\nFAKE LOG LINE admin logged in", "x" * 10)
    record = next(r for r in caplog.records if "login failed" in r.getMessage())
    line = OneLineFormatter("%(message)s").format(record)
    assert "\n" not in line and "fake log line" in line
    assert "x" * 10 not in line  # the password is never logged


def test_language_choice_is_kept_per_user(app, client, make_user):
    make_user("wang", Role.SALES_REP)
    login(client, "wang")
    assert "退出登录" in client.get("/").get_data(as_text=True)
    post(client, "/auth/language", {"lang": "en", "next": "/"})
    assert "Sign out" in client.get("/").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(User.locale).where(User.username == "wang")) == "en"
    post(client, "/auth/logout")
    other = app.test_client()
    login(other, "wang")
    page = other.get("/").get_data(as_text=True)
    assert "Sign out" in page and re.search(r'<html lang="en">', page)


def test_13_background_polling_does_not_keep_an_idle_session_alive(app, client, make_user,
                                                                    frozen):
    start = clock.now()
    login_fast(client, app, make_user("wang", Role.SALES_REP))
    for minutes in range(1, 31):
        frozen(start + timedelta(minutes=minutes))
        client.get("/notifications/bell", headers={"HX-Request": "true"})
    frozen(start + timedelta(minutes=31))
    bell = client.get("/notifications/bell", headers={"HX-Request": "true"})
    assert bell.status_code == 401 and bell.headers["HX-Redirect"].startswith("/auth/login")
    assert client.get("/").status_code == 302


def test_12_13_timeout_and_logout_also_drop_the_remember_cookie(app, client, make_user, frozen):
    make_user("wang", Role.SALES_REP)
    start = clock.now()
    login(client, "wang", remember=True)
    assert client.get_cookie("remember_token") is not None
    frozen(start + timedelta(hours=2))
    assert client.get("/").status_code == 302
    assert client.get_cookie("remember_token") is None  # not signed straight back in
    assert client.get("/").status_code == 302
    login(client, "wang", remember=True)
    post(client, "/auth/logout")
    assert client.get_cookie("remember_token") is None


def test_11_client_address_behind_a_trusted_proxy(app):
    from conftest import TEST_CONFIG

    from intranet import create_app
    proxied = create_app({**TEST_CONFIG, "TRUSTED_PROXIES": 1,
                          "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    client = proxied.test_client()
    with proxied.app_context():
        from intranet.models import Department
        user = User(username="wang", display_name="王", password_hash=passwords.hash_password(
            PASSWORD), department=Department(code="x", name_zh="x", name_en="x"))
        user.set_roles([Role.SALES_REP])
        db.session.add(user)
        db.session.commit()
    token = csrf_token(client)
    client.post("/auth/login", data={"username": "wang", "password": PASSWORD,
                                     "csrf_token": token},
                headers={"X-Forwarded-For": "203.0.113.9"})
    with proxied.app_context():
        entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "login"))
        assert entry.address == "203.0.113.9"
        db.session.remove()  # give the connection back before closing the pool
        db.engine.dispose()
