from flask import Blueprint

bp = Blueprint("management", __name__)

from intranet.blueprints.management import reports, views, widgets  # noqa: E402,F401
