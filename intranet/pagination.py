"""SQL pagination for every list page."""
from flask import current_app, request

from intranet.extensions import db


def paginate(select_stmt):
    page = request.args.get("page", 1, type=int) or 1
    return db.paginate(select_stmt, page=max(page, 1), per_page=current_app.config["PAGE_SIZE"],
                       error_out=False, count=True)
