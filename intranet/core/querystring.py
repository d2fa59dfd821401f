"""The query string, read and written in one place (SECURITY.md 18, 19a): integer filters
within the range the database binds, free text without control characters, and links that
carry the current filters without letting a query key act as a `url_for` argument."""
from __future__ import annotations

import re

from flask import current_app, request, url_for

from intranet.core.forms import strip_bidi

# The `int` URL converter's bound (see create_app): every record id fits a signed 32-bit
# column, and SQLite cannot bind anything beyond 64 bits at all.
MAX_ID = 2**31 - 1
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")  # ASCII digits only: int() also takes "٣" and "1_0"


def parse_int(raw, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    """`raw` as an integer within [minimum, maximum], or None if it is not one."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not _INTEGER.fullmatch(text):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def int_arg(name: str, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    """An integer filter (?owner=, ?department=, ?page=): None when absent or not a whole
    number in range, so the filter is ignored rather than sent to the database."""
    return parse_int(request.args.get(name), minimum, maximum)


def text_arg(name: str, max_length: int = 100) -> str:
    """A free-text filter (?q=): trimmed, shortened, without bidirectional controls."""
    return strip_bidi(request.args.get(name) or "").strip()[:max_length]


def url_with_query(endpoint: str, **overrides) -> str:
    """A link to `endpoint` carrying the current query string (every value of a repeated key),
    with `overrides` applied (None removes a key). Keys url_for would take as its own
    arguments (`endpoint`, `_external`, `_scheme`, `_anchor`, `_method`, anything starting
    with "_") or as the rule's path arguments are dropped, so a crafted query can neither
    break the link nor point it elsewhere."""
    rule_arguments = set()
    for rule in current_app.url_map.iter_rules(endpoint):
        rule_arguments |= rule.arguments
    values = {key: request.args.getlist(key) for key in request.args
              if key != "endpoint" and not key.startswith("_") and key not in rule_arguments
              and key not in overrides}
    values.update(overrides)
    return url_for(endpoint, **values)


_PLACEHOLDER = MAX_ID  # a value no real id takes in the same page's links


def url_pattern(endpoint: str, key: str, **values) -> str:
    """`url_for(endpoint, key=<id>, **values)` as a `%d` pattern: a list page fills it for
    each row (`pattern % row.id`) instead of building one URL per row through the routing
    map (issue 12: two url_for per row were a tenth of the GM queue's CPU)."""
    url = url_for(endpoint, **{key: _PLACEHOLDER}, **values)
    head, found, tail = url.partition(str(_PLACEHOLDER))
    if not found or "?" in head:  # a key not in the rule would land in the query string
        raise ValueError(f"{endpoint} does not take {key} in its path")
    return head.replace("%", "%%") + "%d" + tail.replace("%", "%%")
