from flask import Blueprint

from intranet.core.clock import local_minutes

bp = Blueprint("home", __name__)
# app-wide: the `when` macro of every page prints its dates through it
bp.add_app_template_filter(local_minutes, "local_minutes")

from intranet.blueprints.home import views, widgets  # noqa: E402,F401
