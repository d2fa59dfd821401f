from flask import Blueprint

from intranet.core.clock import local_day, local_minutes

bp = Blueprint("home", __name__)
# app-wide: the `when` macro and the list pages print their dates through these
bp.add_app_template_filter(local_minutes, "local_minutes")
bp.add_app_template_filter(local_day, "local_day")

from intranet.blueprints.home import views, widgets  # noqa: E402,F401
