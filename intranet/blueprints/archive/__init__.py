from flask import Blueprint

bp = Blueprint("archive", __name__)

# Each page module registers its routes on bp when imported:
from intranet.blueprints.archive import (  # noqa: E402,F401
    browser,
    customer_files,
    documents,
    exports,
    file_card,
    sealed,
    widgets,
)
