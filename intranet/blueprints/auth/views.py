"""Sign-in, sign-out, own password, language (SECURITY.md 7-15)."""
import logging

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_fresh, login_user, logout_user
from sqlalchemy import select

from intranet.blueprints.auth import bp
from intranet.blueprints.auth.forms import LoginForm, PasswordChangeForm
from intranet.core import audit, clock, passwords
from intranet.core.http import local_path, redirect_to
from intranet.core.sessions import end_session, start_session
from intranet.extensions import db, limiter
from intranet.models import User

log = logging.getLogger("intranet.security")


def _account_key() -> str:
    return "account:" + (request.form.get("username") or "").strip().lower()[:64]


def _failed(response) -> bool:
    """Only failed attempts count against the limits (SECURITY.md 9)."""
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=_account_key,
               methods=["POST"], deduct_when=_failed, scope="login-account")
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], key_func=get_remote_address,
               methods=["POST"], deduct_when=_failed, scope="login-address")
def login():
    reauth = bool(request.args.get("fresh")) and current_user.is_authenticated
    if current_user.is_authenticated and not reauth and login_fresh() and request.method == "GET":
        return redirect(url_for("home.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if reauth:
            form.username.data = current_user.username
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        user = db.session.scalar(select(User).where(User.username == username))
        ok = passwords.verify(user.password_hash if user else None, form.password.data)
        if user is not None and ok and user.active:
            _sign_in(user, remember=form.remember.data)
            return redirect(local_path(form.next.data) or url_for("home.index"))
        log.warning("login failed username=%r address=%s", username, request.remote_addr)
        flash(_("Wrong user name or password, or the account is disabled."), "error")
    return render_template("auth/login.html", form=form, reauth=reauth)


def _sign_in(user: User, remember: bool) -> None:
    lang = session.get("lang")
    session.clear()  # a brand-new session: nothing from before the login survives
    if lang:
        session["lang"] = lang
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(request.form["password"])
    user.last_login_at = clock.now()
    login_user(user, remember=remember, fresh=True)
    start_session()
    audit.record(audit.Action.LOGIN, "user", user.id, user=user)
    log.info("login ok username=%r address=%s", user.username, request.remote_addr)


@bp.route("/logout", methods=["POST"])
def logout():
    user = current_user._get_current_object()
    user.rotate_session_token()  # every copy of this user's cookies is dead from now on
    audit.record(audit.Action.LOGOUT, "user", user.id)
    logout_user()
    end_session()
    flash(_("You have signed out."), "info")
    return redirect_to(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    user = current_user._get_current_object()
    form = PasswordChangeForm(user.username)
    if form.validate_on_submit():
        if not passwords.verify(user.password_hash, form.current.data):
            form.current.errors.append(_("The current password is wrong."))
        else:
            user.password_hash = passwords.hash_password(form.new.data)
            user.rotate_session_token()  # other sessions end; this one is renewed below
            login_user(user, fresh=True)
            audit.record(audit.Action.UPDATE, "user", user.id, details={"field": "password"})
            flash(_("Your password was changed. Other sessions were signed out."), "success")
            return redirect(url_for("home.index"))
    return render_template("auth/password.html", form=form)


@bp.route("/language", methods=["POST"])
def language():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
    back = local_path(request.form.get("next")) or url_for("home.index")
    return redirect_to(back)
