from flask import Blueprint

bp = Blueprint("home", __name__)

from intranet.blueprints.home import inbox, views, widgets  # noqa: E402,F401
