"""SQL pagination for every list page."""
from flask import current_app, request, url_for

from intranet.extensions import db

MAX_PAGE = 100_000


def paginate(select_stmt):
    page = request.args.get("page", 1, type=int) or 1
    return db.paginate(select_stmt, page=min(max(page, 1), MAX_PAGE),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False, count=True)


def page_url(endpoint: str, number: int) -> str:
    """The current list URL with another page number; query keys that url_for would treat
    as its own arguments are dropped (a crafted ?endpoint= or ?_method= must not break it)."""
    args = {key: value for key, value in request.args.items()
            if key != "page" and key != "endpoint" and not key.startswith("_")}
    return url_for(endpoint, page=number, **args)
