"""SQL pagination for every list page (issue 12: fast at 100,000 customers).

A page costs a bounded amount of work however many rows match:
- the rows: one statement, LIMIT per_page + 1 (the extra row says whether a next page exists,
  so the links never need the total);
- the count: one statement that stops at PAGE_COUNT_CAP + 1 rows (`SELECT count(*) FROM (…
  LIMIT cap + 1)`); above the cap the page says "1,000+" instead of walking every match;
- deep pages: a list that passes its sort key (`keyset=`) gets "next" links carrying the last
  row's key (?after=), so page 50 seeks in the list's index instead of skipping 1,225 rows.
  ?page=N alone still works everywhere (an offset walk, in the index when one matches).
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask import current_app, request
from flask_babel import format_decimal
from sqlalchemy import Integer, and_, func, literal, literal_column, or_, select
from sqlalchemy import inspect as sa_inspect

from intranet.core.querystring import MAX_ID, int_arg, url_with_query
from intranet.extensions import db

MAX_PAGE = 100_000
# The PAGE_COUNT_CAP default (config.py): 40 pages of 25 rows is more than anyone pages through
# (past that one narrows the filter), and counting 1,001 index entries costs well under a
# millisecond, where 10,001 would cost ten times that on every page of the big lists.
COUNT_CAP = 1_000
MAX_CURSOR = 1_000  # characters of ?after=; a real cursor is far shorter


@dataclass(frozen=True)
class Key:
    """One column of a list's sort key (the last must be unique, e.g. the id)."""
    column: object  # an ORM attribute
    descending: bool = False

    @property
    def clause(self):
        return self.column.desc() if self.descending else self.column


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int | None  # exact when at most `cap` rows match, else None
    cap: int
    has_next: bool
    after: str | None = None  # the cursor of the next page, for keyset lists
    keyset: bool = field(default=False, repr=False)
    counted: bool = True  # False: the list was not counted (paginate(count=False))

    @property
    def capped(self) -> bool:
        return self.total is None

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    @property
    def pages(self) -> int:
        """The number of pages when it is known; when capped, the pages the count reached."""
        known = self.cap if self.total is None else self.total
        return max(1, -(-known // self.per_page))

    @property
    def total_label(self) -> str:
        """The count for the reader: "979", or "1,000" for a capped count (the template adds
        the translated "+")."""
        return format_decimal(self.cap if self.total is None else self.total)

    def next_url(self, endpoint: str) -> str:
        return url_with_query(endpoint, page=self.next_num, after=self.after)

    def prev_url(self, endpoint: str) -> str:
        return url_with_query(endpoint, page=self.prev_num, after=None)


def count_cap() -> int:
    return current_app.config.get("PAGE_COUNT_CAP", COUNT_CAP)


def paginate(select_stmt, keyset: list[Key] | tuple[Key, ...] | None = None,
             few=None, tuples: bool = False, count: bool = True,
             count_drive=None) -> Page:
    """The page the query string asks for (?page=; anything not a page number in range is the
    first page). `keyset`: the list's full sort key, which `select_stmt` must already be
    ordered by; a valid ?after= cursor then replaces the offset.

    `few`: the same rows in the same order, read the way that suits at most the count cap of
    matches (e.g. found in a covering index, then sorted), where `select_stmt` suits many
    (walking the sort's index until a page has matched, which reads every row in scope when
    few match). The count then comes first and decides which one reads the page.

    `tuples`: the items are the rows of `select_stmt`'s columns, not its first column's
    entities.

    `count=False`: no count at all, for a list whose matches can only be counted by reading
    each of them (e.g. groups of rows, each checked against the reader's scope); the pager
    then shows the page number and its neighbours only.

    `count_drive`: a search's Match.count_drive, which the count then goes through."""
    per_page = current_app.config["PAGE_SIZE"]
    number = int_arg("page", maximum=MAX_PAGE) or 1
    cursor = _read_cursor(keyset) if keyset and number > 1 else None
    cap = count_cap()
    counted = _count(select_stmt, cap, count_drive) if few is not None else None
    rows_stmt = few if counted is not None and counted <= cap else select_stmt
    if cursor is not None:
        rows_stmt = rows_stmt.where(_after(keyset, cursor)).limit(_fixed(per_page + 1))
    elif number > 1:
        rows_stmt = _late_columns(rows_stmt, per_page + 1, (number - 1) * per_page)
    else:
        rows_stmt = rows_stmt.limit(_fixed(per_page + 1))
    result = db.session.execute(rows_stmt)
    rows = result.all() if tuples else list(result.unique().scalars())
    if counted is None and count:
        counted = _count(select_stmt, cap, count_drive)
    items = rows[:per_page]
    after = _write_cursor(keyset, items[-1]) if keyset and items else None
    return Page(items=items, page=number, per_page=per_page,
                total=counted if count and counted <= cap else None, cap=cap,
                has_next=len(rows) > per_page, after=after, keyset=bool(keyset),
                counted=count)


def _late_columns(select_stmt, limit: int, offset: int):
    """Page `offset // limit` of `select_stmt`: the rows' ids are found first and only they get
    their columns. PostgreSQL computes the select list of every row an OFFSET skips, so page
    50 of a list ran its owner-name subquery for 1,250 rows (25 ms); the ids alone come from
    the list's index. Lists whose rows are not one entity's (DISTINCT, GROUP BY) skip as
    before."""
    described = select_stmt.column_descriptions[0]
    entity = described.get("entity")
    if entity is None or select_stmt._distinct or select_stmt._group_by_clauses:
        return select_stmt.limit(_fixed(limit)).offset(_fixed(offset))
    key = sa_inspect(entity).primary_key
    if len(key) != 1:
        return select_stmt.limit(_fixed(limit)).offset(_fixed(offset))
    ids = (select_stmt.with_only_columns(key[0], maintain_column_froms=True)
           .limit(_fixed(limit)).offset(_fixed(offset)).subquery("page_ids"))
    return select_stmt.join(ids, key[0] == ids.c[key[0].key])


def capped_count(select_stmt) -> tuple[int, bool]:
    """(matches counted up to the cap, whether there are more): a widget's figure that need
    not read 100,000 index entries on every home page (issue 12)."""
    cap = count_cap()
    counted = _count(select_stmt, cap)
    return min(counted, cap), counted > cap


def count_label(count: int, more: bool):
    """A count as a widget shows it: 979, or "1,000+"."""
    return f"{format_decimal(count)}+" if more else count


def _count(select_stmt, cap: int, drive=None) -> int:
    """The matches, counted up to cap + 1."""
    countable = _countable(select_stmt)
    if drive is not None:
        countable = drive(countable)
    return db.session.scalar(select(func.count()).select_from(
        countable.limit(_fixed(cap + 1)).subquery()))


def _fixed(number: int):
    """A LIMIT or OFFSET written into the SQL, not bound: psycopg prepares a statement after
    its fifth run, and PostgreSQL then tries a plan for any parameters. For an unknown LIMIT
    it assumes a tenth of the rows, so the capped count of a handler's 1,100 open cases became
    a scan of every case that stops early (3 → 33-70 ms from the tenth request); with the
    number in the SQL the generic plan is the custom one. The page's rows likewise."""
    return literal(int(number), Integer, literal_execute=True)


def _countable(select_stmt):
    """The rows of `select_stmt` as bare 1s: with a LIMIT the subquery is not flattened, and
    asking it for every column would read each counted row from the table, where the 1s are
    counted in the index alone. A DISTINCT list keeps its columns (they make the rows)."""
    unordered = select_stmt.order_by(None)
    if unordered._distinct:
        return unordered
    return unordered.with_only_columns(literal_column("1"), maintain_column_froms=True)


# --- keyset cursors ------------------------------------------------------------------------

def _after(keyset, values):
    """Rows after `values` in the order of `keyset`: (a, b, id) > (va, vb, vid) spelled out
    per column, so mixed directions work on both databases; the leading column's range is
    repeated on its own so the index seeks to it rather than testing every earlier row."""
    first = keyset[0]
    lead = first.column <= values[0] if first.descending else first.column >= values[0]
    branches = []
    for i, key in enumerate(keyset):
        step = key.column < values[i] if key.descending else key.column > values[i]
        equal = [k.column == v for k, v in zip(keyset[:i], values[:i], strict=True)]
        branches.append(and_(*equal, step))
    return and_(lead, or_(*branches))


def _write_cursor(keyset, row) -> str:
    values = []
    for key in keyset:
        value = getattr(row, key.column.key)
        values.append(value.isoformat() if isinstance(value, datetime)
                      else str(value) if isinstance(value, Decimal) else value)
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _read_cursor(keyset) -> list | None:
    """The ?after= values typed as the key's columns, or None when absent or not a cursor of
    this key (then the page number's offset applies: a stale or altered link still works)."""
    raw = request.args.get("after") or ""
    if not raw or len(raw) > MAX_CURSOR:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(values, list) or len(values) != len(keyset):
            return None
        return [_typed(key, value) for key, value in zip(keyset, values, strict=True)]
    except (ValueError, TypeError, InvalidOperation, binascii.Error, RecursionError):
        return None


def _typed(key: Key, value):
    column_type = key.column.type  # a TypeDecorator (UTCDateTime) types as its impl
    kind = getattr(column_type, "impl_instance", column_type).python_type
    if value is None:
        raise ValueError("the keyset columns are NOT NULL")
    if kind is int:
        if type(value) is not int or not -MAX_ID - 1 <= value <= MAX_ID:
            raise ValueError("not an id")
        return value
    if not isinstance(value, str) or len(value) > 200:
        raise ValueError("not a cursor value")
    if kind is Decimal:
        number = Decimal(value)
        if not number.is_finite() or abs(number) >= Decimal("1e15"):
            raise ValueError("not an amount")
        return number
    if kind is datetime:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment
    if kind is str:
        return value
    raise ValueError("unsupported key column")
