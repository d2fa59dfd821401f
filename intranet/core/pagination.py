"""SQL pagination for every list page."""
from flask import current_app

from intranet.core.querystring import int_arg, url_with_query
from intranet.extensions import db

MAX_PAGE = 100_000


def paginate(select_stmt):
    """The page the query string asks for (?page=; anything not a page number in range is
    the first page)."""
    page = int_arg("page", maximum=MAX_PAGE) or 1
    return db.paginate(select_stmt, page=page, per_page=current_app.config["PAGE_SIZE"],
                       error_out=False, count=True)


def page_url(endpoint: str, number: int) -> str:
    """The current list URL with another page number (see querystring.url_with_query)."""
    return url_with_query(endpoint, page=number)
