from flask import Blueprint

bp = Blueprint("finance", __name__)

from intranet.blueprints.finance import views  # noqa: E402,F401
