from flask import Blueprint

bp = Blueprint("service", __name__)

from intranet.blueprints.service import case_file, cases, ledger, widgets  # noqa: E402,F401
