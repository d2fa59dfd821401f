"""Application factory."""
from __future__ import annotations

import hmac
import logging

from flask import Flask, g, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from intranet.config import Config, normalise_database_uri
from intranet.extensions import babel, csrf, db, limiter, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_object(Config())
    if config:
        app.config.update(config)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_uri(
        app.config["SQLALCHEMY_DATABASE_URI"])
    _configure_logging(app)
    from intranet.pdf import check_pdf_environment

    check_pdf_environment(app)
    register_extensions(app)
    register_converters(app)
    register_domains(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_hooks(app)
    register_commands(app)
    return app


def _configure_logging(app: Flask) -> None:
    from intranet.core.logs import OneLineFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    for name in ("intranet.security", "intranet.pdf", "weasyprint"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    # WeasyPrint's progress messages (eight per PDF) are not news; its warnings still are.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def register_extensions(app: Flask) -> None:
    from intranet import models  # noqa: F401  (the whole schema, for Alembic)
    from intranet.core.db_engine import configure_engine

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=_select_timezone)
    from intranet.core import i18n

    i18n.install(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.refresh_view = "auth.login"
    login_manager.login_message = None
    login_manager.needs_refresh_message = None
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    login_manager.needs_refresh_handler(_needs_refresh)
    with app.app_context():
        configure_engine(db.engine, app.config["PG_PARALLEL_WORKERS"])


def _load_user(user_id: str):
    """Cookie → user, only while the cookie's session token is the user's current one.

    Read afresh at every request (a removed role or a disabled account counts at the next
    one), but once: the user, their roles and whether they are anyone's deputy now come in one
    statement; most users are nobody's deputy, and then no delegation query follows. The
    settings' version and the unread count come with it and are handed to their modules."""
    from intranet.core import notifications, settings
    from intranet.models import User

    raw_id, _, token = user_id.partition(":")
    if not raw_id.isdigit() or not token or int(raw_id) > 2**31 - 1:
        return None
    loaded = User.load_for_request(int(raw_id))
    if loaded is None:
        return None
    user = loaded.user
    if not user.active or not hmac.compare_digest(user.session_token, token):
        return None
    notifications.remember_unread(user.id, loaded.unread)
    settings.remember_version(loaded.settings_version)
    return user


def _redirect_to_login(fresh: bool):
    from flask import redirect, url_for

    from intranet.core.http import htmx_redirect, is_htmx, local_path

    target = request.full_path.rstrip("?") if request.method == "GET" else None
    if is_htmx():  # come back to the page, not to the fragment it asked for
        target = local_path(request.headers.get("HX-Current-URL", ""))
    url = url_for("auth.login", next=target, fresh=1 if fresh else None)
    if is_htmx():
        return htmx_redirect(url, status=401)
    return redirect(url)


def _unauthorized():
    return _redirect_to_login(fresh=False)


def _needs_refresh():
    return _redirect_to_login(fresh=True)


def _select_locale() -> str:
    languages = Config.LANGUAGES
    if not has_request_context():
        return Config.BABEL_DEFAULT_LOCALE
    if g.get("database_suspect"):  # loading the user would query a failing database
        return session.get("lang") or Config.BABEL_DEFAULT_LOCALE
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return Config.BABEL_DEFAULT_LOCALE


def _select_timezone() -> str:
    from intranet.core import settings

    try:
        return settings.get("timezone")
    except Exception:  # settings table unreachable: fall back rather than fail a page
        return Config.BABEL_DEFAULT_TIMEZONE


def register_converters(app: Flask) -> None:
    """Record ids in URLs stay within the database's integer range: /orders/99999999999999999999
    is a 404, not an overflow deep in the driver (SQLite) or a refused value (PostgreSQL)."""
    from werkzeug.routing import IntegerConverter

    class RecordIdConverter(IntegerConverter):
        def __init__(self, url_map, *args, **kwargs):
            kwargs.setdefault("max", 2**31 - 1)
            super().__init__(url_map, *args, **kwargs)

    app.url_map.converters["int"] = RecordIdConverter


# The domains: each one's init_app registers what the platform needs from it (jobs,
# notification texts, commands, template labels); the platform never imports a domain.
DOMAINS = ("intranet.archive", "intranet.customers", "intranet.credit", "intranet.complaints",
           "intranet.resources", "intranet.visits", "intranet.reports")


def register_domains(app: Flask) -> None:
    from importlib import import_module

    for name in DOMAINS:
        import_module(name).init_app(app)


def register_blueprints(app: Flask) -> None:
    from intranet.blueprints.admin import bp as admin_bp
    from intranet.blueprints.archive import bp as archive_bp
    from intranet.blueprints.auth import bp as auth_bp
    from intranet.blueprints.finance import bp as finance_bp
    from intranet.blueprints.home import bp as home_bp
    from intranet.blueprints.management import bp as management_bp
    from intranet.blueprints.sales import bp as sales_bp
    from intranet.blueprints.service import bp as service_bp

    app.register_blueprint(home_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(sales_bp, url_prefix="/sales")
    app.register_blueprint(finance_bp, url_prefix="/finance")
    app.register_blueprint(service_bp, url_prefix="/service")
    app.register_blueprint(management_bp, url_prefix="/management")
    app.register_blueprint(archive_bp, url_prefix="/archive")


def register_errorhandlers(app: Flask) -> None:
    from intranet.core.errors import register

    register(app)


def register_hooks(app: Flask) -> None:
    from intranet.core import clock
    from intranet.core.access import enforce_matrix
    from intranet.core.db_engine import read_requests
    from intranet.core.http import commit_or_rollback, reject_nul_bytes, security_headers
    from intranet.core.menu import menu_links
    from intranet.core.querystring import url_with_query
    from intranet.core.roles import role_label
    from intranet.core.sessions import enforce_session_timeouts

    app.jinja_env.globals["url_with_query"] = url_with_query
    app.jinja_env.globals["menu_links"] = menu_links
    # the `when` macro and the lists print dates through these (a tenth of Babel's cost)
    app.jinja_env.filters["local_minutes"] = clock.local_minutes
    app.jinja_env.filters["local_day"] = clock.local_day
    app.jinja_env.globals["role_name"] = role_label
    from intranet.workflows.steps import LABELS as shared_step_labels
    app.jinja_env.globals["shared_step_labels"] = shared_step_labels  # urge, hand on, copy
    read_requests(app)
    app.before_request(reject_nul_bytes)
    app.before_request(enforce_session_timeouts)
    app.before_request(enforce_matrix)
    app.after_request(commit_or_rollback)
    app.after_request(security_headers)

    @app.context_processor
    def inject():
        from intranet.core import i18n, settings
        from intranet.core.access import can
        from intranet.core.roles import Role

        if g.get("database_suspect"):
            return {"current_locale": Config.BABEL_DEFAULT_LOCALE, "languages": Config.LANGUAGES,
                    "company_name": settings.SETTINGS["company_name"].default, "unread": 0,
                    **i18n.for_render()}
        return {
            **i18n.for_render(),
            "current_locale": str(get_locale()),
            "languages": Config.LANGUAGES,
            "company_name": settings.get("company_name"),
            "Role": Role,
            "grant": g.get("grant"),
            "can": can,
            "unread": _unread_count(),
        }


def _unread_count() -> int:
    from intranet.core.notifications import unread_count

    if current_user and current_user.is_authenticated:
        return unread_count(current_user.id)
    return 0


def register_commands(app: Flask) -> None:
    from intranet.core.commands import register
    from intranet.demo import demo_command

    register(app)
    app.cli.add_command(demo_command)
