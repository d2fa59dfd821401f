from flask import Blueprint

bp = Blueprint("sales", __name__)

from intranet.blueprints.sales import credit, orders, views  # noqa: E402,F401
