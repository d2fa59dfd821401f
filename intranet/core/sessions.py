"""Idle and absolute session timeouts (SECURITY.md 13), values from the company settings."""
from flask import flash, g, request, session
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin, current_user

from intranet.core import clock, settings


def start_session() -> None:
    """Called right after login: a brand-new session (SECURITY.md 11)."""
    now = int(clock.now().timestamp())
    session["since"] = now
    session["seen"] = now


# Requests the page makes by itself (polling) are not activity: they must not keep an
# unattended session alive.
PASSIVE_ENDPOINTS = frozenset({"home.notification_bell"})


def enforce_session_timeouts():
    if not current_user.is_authenticated:
        return None
    now = int(clock.now().timestamp())
    since = session.get("since", now)
    seen = session.get("seen", now)
    idle_limit = settings.get("session_idle_minutes") * 60
    absolute_limit = settings.get("session_absolute_hours") * 3600
    if now - seen > idle_limit or now - since > absolute_limit:
        end_session()
        g._login_user = AnonymousUserMixin()
        flash(_("Your session has expired. Please sign in again."), "warning")
        return None
    session.setdefault("since", since)
    if request.endpoint not in PASSIVE_ENDPOINTS:
        session["seen"] = now
    return None


def end_session() -> None:
    """Empty the session but keep the language; tell Flask-Login to delete the remember-me
    cookie too, so a timed-out or signed-out browser is not signed back in by it."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session["_remember"] = "clear"
