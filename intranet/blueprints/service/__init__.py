from flask import Blueprint

bp = Blueprint("service", __name__)

from intranet.blueprints.service import (  # noqa: E402,F401
    case_file,
    cases,
    intake,
    ledger,
    widgets,
)
