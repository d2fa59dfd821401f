"""Search: what the user typed is found as a literal substring (% and _ are not wildcards).

`contains` is the plain LIKE scan, for small tables (users). Large texts are "documents" a
domain registers (`register`): fields of its tables whose text is indexed by n-grams, every
character and every pair of characters of the normalised text (NFKC, lower case), so that a
one- or two-character Chinese term, which trigram indexes cannot serve, is one index look-up.
A longer term intersects the look-ups of its pairs and rechecks the candidates literally.

- SQLite: the side table `search_gram(gram, field, id)` (WITHOUT ROWID, primary key in that
  order, so a look-up is one range of the key), kept by triggers in the same transaction as
  the row; the triggers call `search_grams`, which `register_functions` adds to every
  connection of the app's engine.
- PostgreSQL: no side table; a GIN index per field on the IMMUTABLE SQL function
  `search_grams(column)`, queried with `@>`. A term whose grams are in most rows (by the
  planner's own statistics of the index) is tested on the row instead, as SQLite does.

A `latin` field holds lower-case Latin letters only (a name's pinyin, migration 0021): over 26
letters every pair is in most rows, so it is indexed by its pairs and triples of letters
(`search_grams_latin`) and a term of four letters or more looks its triples up; its recheck
is a plain `instr`.

Migration 0014 creates both for the fields registered today (fields are numbered: a number is
the field's key in `search_gram`, never reused). `matches(document, text)` returns an SQL
condition that is the same on both databases, so callers never see the difference. Another
text (complaints, the ledger) is another document; a pinyin search is a field over a column
holding the name's pinyin, whose `query` keeps only what was typed in Latin letters.
"""
from __future__ import annotations

import json
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import (
    ARRAY,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.sql import Select

from intranet.extensions import db

# Not in the models' metadata: the table exists on SQLite only (migration 0014).
search_gram = Table("search_gram", MetaData(), Column("gram", String, primary_key=True),
                    Column("field", Integer, primary_key=True),
                    Column("id", Integer, primary_key=True))
MAX_PAIRS = 8  # a long term intersects this many of its pairs; the recheck does the rest
PROBES = 2  # SQLite: pairs probed besides the rarest one
COMMON = 20_000  # SQLite: a pair in this many rows is no help
SPREAD = 10_000  # SQLite: a gram in this many rows is probed row by row, in the list's order
COMMON_SHARE, LATIN_COMMON_SHARE = 0.05, 0.25  # PostgreSQL: a gram in this share is no help
STATISTICS_SECONDS = 600  # PostgreSQL: how long a worker keeps an index's gram frequencies
PLAIN = "*[^ -~\u4e00-\u9fff]*"  # GLOB: any character but printable ASCII and CJK ideographs


def contains(column, text: str):
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def normalise(text: str | None) -> str:
    """Full-width digits and letters as half-width, Latin in lower case (both sides)."""
    return unicodedata.normalize("NFKC", text or "").lower()


SIZES, LATIN_SIZES = (1, 2), (2, 3)  # the lengths of the grams a field's index holds


def grams(text: str | None, sizes: tuple[int, ...] = SIZES) -> set[str]:
    """What the index holds for a text: each character and pair of its normal form (`sizes`)."""
    norm = normalise(text)
    return {norm[i:i + n] for n in sizes for i in range(len(norm) - n + 1)}


def register_functions(dbapi_connection) -> None:
    """SQLite: the functions the triggers and the recheck call (PostgreSQL has its own)."""
    dbapi_connection.create_function(
        "search_grams", 1, lambda text: json.dumps(sorted(grams(text)), ensure_ascii=False),
        deterministic=True)
    dbapi_connection.create_function(
        "search_grams_latin", 1, lambda text: json.dumps(sorted(grams(text, LATIN_SIZES))),
        deterministic=True)
    dbapi_connection.create_function(
        "search_has", -1, lambda term, *texts: any(term in normalise(t) for t in texts),
        deterministic=True)


@dataclass(frozen=True)
class Field:
    """A searched column. `number` is its key in search_gram; `target` names the document's
    record (a contact's phone finds its customer); `query` turns what was typed into what
    this field is searched for, or None when the field is not searched for it."""

    number: int
    table: Table
    column: str
    target: str = "id"
    query: Callable[[str], str | None] = lambda text: text
    latin: bool = False  # lower-case Latin letters only; `query` gives two letters or more

    sizes = property(lambda self: LATIN_SIZES if self.latin else SIZES)
    function = property(lambda self: "search_grams_latin" if self.latin else "search_grams")


@dataclass(frozen=True)
class Document:
    name: str
    key: object  # the column the condition tests (e.g. Customer.id)
    fields: dict[str, Field] = field(default_factory=dict)


_DOCUMENTS: dict[str, Document] = {}


def register(document: Document) -> None:
    numbers = [f.number for d in _DOCUMENTS.values() if d.name != document.name
               for f in d.fields.values()]
    taken = numbers + [f.number for f in document.fields.values()]
    if len(set(taken)) != len(taken):
        raise ValueError(f"search field numbers used twice: {sorted(taken)}")
    _DOCUMENTS[document.name] = document


def documents() -> dict[str, Document]:
    return dict(_DOCUMENTS)


@dataclass(frozen=True)
class Match:
    """A search's condition, and how to count its rows fast when that differs: `count_drive`
    turns the list's countable statement (its rows as bare 1s) into one that reads the rows'
    keys from the n-gram index first. Set for the terms a list finds by reading rows in its
    own order and testing each, which finds a page in a few hundred rows but walked ~10,000
    to count 1,001 matches:
    - SQLite's SPREAD terms (see _sqlite; 上海: 15 ms of SQL), counted from the index's
      entries (3-4 ms);
    - PostgreSQL's COMMON_SHARE terms (see _postgresql; 上海: 28 ms, normalising two fields
      of 5,500 rows), counted through a bitmap of the fields' GIN indexes, ANDed to the
      condition (6 ms)."""
    condition: object
    count_drive: Callable | None = None


def matches(document: str, text: str, fields: Iterable[str] | None = None, on=None):
    """The condition "`on` (default: the document's key) is a record whose `fields` (default:
    all) contain `text`" — the literal substring, after normalising both sides."""
    return match(document, text, fields, on).condition


def match(document: str, text: str, fields: Iterable[str] | None = None, on=None) -> Match:
    """`matches`, with the way to count it (Match).
    The index look-ups go into one `IN (subquery)` however many fields: SQLite then drives
    the query from the index's ids (with an OR of several IN terms it scanned the caller's
    other indexes instead). On SQLite a term of three characters or more costs one statement
    here, which counts its pairs' rows."""
    doc = _DOCUMENTS[document]
    on = doc.key if on is None else on
    searches: dict[str, list[Field]] = {}  # normalised term → the fields searched for it
    for searched in (doc.fields[name] for name in (fields or doc.fields)):
        wanted = searched.query(text)
        if wanted is not None:
            searches.setdefault(normalise(wanted), []).append(searched)
    if "" in searches:
        return Match(true())  # as LIKE '%%': every record
    selects, conditions, drives = [], [], []
    indexed, common, drivable = [], False, True  # PostgreSQL's count drive (_Indexed)
    for wanted, group in searches.items():
        targets: dict[tuple, list[Field]] = {}
        for searched in group:  # one look-up per table, target and kind of index
            targets.setdefault((searched.table, searched.target, searched.latin),
                               []).append(searched)
        for (table, target, _latin), fields_ in targets.items():
            search_ = _postgresql if db.engine.dialect.name == "postgresql" else _sqlite
            on_row = target == "id" and on.compare(table.c.id)
            for found in search_(table, table.c[target], fields_, wanted):
                if isinstance(found, _Spread):
                    found, drive = found.condition, found.entries
                else:
                    drive = None
                if isinstance(found, _Indexed):
                    common = common or found.common
                    indexed.append(found.held)
                    drivable = drivable and on_row  # else another table's (contacts' phones)
                    found = found.found
                if isinstance(found, Select):
                    selects.append(found)
                elif on_row:  # a test of the row itself
                    conditions.append(found)
                    drives.append(drive)
                else:
                    selects.append(select(table.c[target]).where(found))
    if selects:
        conditions.append(on.in_(selects[0] if len(selects) == 1 else union_all(*selects)))
    if not conditions:
        return Match(false())
    if common and drivable:
        either = or_(*indexed)

        def drive(countable):
            return countable.where(either)
        return Match(or_(*conditions), drive)
    if drives and all(drives) and len(drives) == len(conditions):
        # every condition is a SPREAD term's, on the row: the rows are those of their
        # drivers' entries (e.g. tech in the name and in its pinyin)
        return Match(or_(*conditions), _entries_drive(on.table, [e for d in drives for e in d]))
    return Match(or_(*conditions))


def _entries_drive(table, entries: list[tuple[str, list[int]]]) -> Callable:
    def drive(countable):
        """`countable`'s rows read from those index entries (DISTINCT: a row may hold several)."""
        entry = search_gram.alias("driver")
        return (countable.with_only_columns(table.c.id)
                .join_from(entry, table, entry.c.id == table.c.id)
                .where(or_(*(and_(entry.c.gram == gram, entry.c.field.in_(numbers))
                             for gram, numbers in entries))).distinct())
    return drive


@dataclass(frozen=True)
class _Indexed:
    """_postgresql's finding for one field: a select of the targets through the GIN index,
    or, for a COMMON_SHARE term, a test on the row; with the index's condition alone on the
    same row (`held`: its rows include the term's), which Match.count_drive ANDs to the
    condition. Only the index's own condition: any other test in that OR would be computed
    on each row the bitmap finds (search_grams() again, 250 ms for 精密机械)."""
    found: object
    held: object
    common: bool


@dataclass(frozen=True)
class _Spread:
    """_sqlite's SPREAD term: its condition, and the (gram, fields) that drive its count."""
    condition: object
    entries: list[tuple[str, list[int]]]


def _pairs(wanted: str, size: int = 2) -> list[str]:
    """The term's grams of the index's longest `size` (pairs; triples in a latin field)."""
    pairs = sorted({wanted[i:i + size] for i in range(len(wanted) - size + 1)})
    if len(pairs) > MAX_PAIRS:  # spread over the term, so a common prefix does not decide
        pairs = [pairs[round(i * (len(pairs) - 1) / (MAX_PAIRS - 1))] for i in range(MAX_PAIRS)]
    return pairs


def _look_ups(fields: list[Field], wanted: str) -> tuple[bool, list[str]]:
    """(exact, grams): the term, a gram the index holds (no recheck), or its longest grams."""
    longest = max(fields[0].sizes)  # the fields of one look-up share their sizes
    return (True, [wanted]) if len(wanted) <= longest else (False, _pairs(wanted, longest))


def _postgresql(table, target, fields: list[Field], wanted: str) -> list:
    """Per field, the rows whose GIN index holds the term (one or two characters) or all its
    pairs, rechecked: one select per field, so that each is a bitmap scan of its index whose
    rows need only the recheck (an OR of the fields made PostgreSQL test the whole OR on each
    row, computing search_grams() again: 36 s for 有限公司 on 100,000 customers).

    A term whose rarest gram is in COMMON_SHARE of the rows or more is a test of the row
    instead (normalise, then strpos: a few µs). With the index condition, PostgreSQL read
    such a term's rows in order and computed search_grams() on each, ~150 µs a row (15 s for
    91310, in every credit code), since the bitmap scan is charged the same per row."""
    exact, wanted_grams = _look_ups(fields, wanted)
    found = []
    for searched in fields:
        column = table.c[searched.column]
        literal_ = func.strpos(column if searched.latin else func.search_norm(column),
                               wanted) > 0
        shares = _gram_shares(f"search_{table.name}_{searched.column}")
        grams_ = getattr(func, searched.function)(column)
        held = grams_.op("@>")(bindparam(None, wanted_grams, type_=ARRAY(Text)))
        # a latin field's matches gather in the list's pinyin order (as on SQLite): its
        # rarer grams are looked up, up to a larger share (shanghai: 222 ms walking the list)
        common = LATIN_COMMON_SHARE if searched.latin else COMMON_SHARE
        if min(shares.get(gram, 0) for gram in wanted_grams) >= common:
            found.append(_Indexed(literal_, held, common=True))
            continue
        rows = select(target).where(grams_.op("@>")(bindparam(None, [
            g for g in wanted_grams if shares.get(g, 0) < common], type_=ARRAY(Text))))
        found.append(_Indexed(rows if exact else rows.where(literal_), held, common=False))
    return found


_shares: tuple[float, dict[str, dict[str, float]]] | None = None  # (read at, index → shares)
_shares_lock = threading.Lock()


def _gram_shares(index: str) -> dict[str, float]:
    """PostgreSQL: the share of rows holding each of the index's most common grams, from the
    statistics ANALYZE keeps of an expression index (pg_stats), read for every search index
    in one statement by a worker at most once per STATISTICS_SECONDS. A gram not listed is
    rarer than all listed; no statistics yet (a new database) reads as "every gram rare", so
    the index is used."""
    global _shares
    now = time.monotonic()
    with _shares_lock:
        kept = _shares
    if kept is None or now - kept[0] >= STATISTICS_SECONDS:
        shares: dict[str, dict[str, float]] = {}
        for index_, gram, share in db.session.execute(text(
                "SELECT s.tablename, e.gram, e.share FROM pg_stats s, "
                "unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) "
                "AS e(gram, share) WHERE s.schemaname = current_schema() "
                "AND s.tablename LIKE 'search\\_%' AND e.gram IS NOT NULL")):
            shares.setdefault(index_, {})[gram] = share
        kept = (now, shares)
        with _shares_lock:
            _shares = kept
    return kept[1].get(index, {})


def _sqlite(table, target, fields: list[Field], wanted: str) -> list:
    """Selects of the targets of the rows whose field contains the term, or a condition on
    the row; nothing when no row can.

    SQLite keeps no statistics of the index: one statement counts the rows of the term (one
    or two characters: the gram is the term, no recheck) or of each of its pairs, up to
    COMMON. Then, by the rarest:
    - in COMMON rows or more (pairs only): the index would only add work, the rows are
      rechecked as the list reads them;
    - in SPREAD rows or more: the list reads rows in its own order and probes each in the
      index by primary key, until the page and the capped count are full (driving from the
      candidates read and sorted every one of them: CPU 40 ms for 上海 and 110 ms for
      精密机械 at 100,000 customers for the page alone, now 1.3 and 2.4 ms; with the count
      53 → 20 ms and 181 → 25 ms);
    - fewer: the candidates drive, one range of the key.
    The next rarest pairs are probed by primary key."""
    numbers = [f.number for f in fields]
    short, grams_ = _look_ups(fields, wanted)
    counts = _gram_counts(grams_, numbers)
    if not min(counts.values()):
        return []
    recheck = None if short else or_(*(_recheck(table.c[f.column], wanted, f.latin)
                                       for f in fields))
    if not short and min(counts.values()) >= COMMON:
        return [recheck]
    driver, *probes = sorted(grams_, key=lambda gram: (counts[gram], gram))[:1 + PROBES]
    found = search_gram.alias("found")

    def probed(query):
        for gram in probes:
            also = search_gram.alias()
            query = query.where(exists().where(also.c.gram == gram, also.c.field == found.c.field,
                                               also.c.id == found.c.id))
        return query

    # A latin field's matches gather in the list's A→Z order when it is by pinyin (shanghai:
    # 上海… all under s), so reading the list in order to probe each row would walk most of
    # it: its candidates drive up to COMMON (shanghai: 170 → 60 ms at 100,000 customers).
    spread = COMMON if all(f.latin for f in fields) else SPREAD
    if counts[driver] >= spread:  # probed row by row, as the list reads them
        candidate = probed(exists().where(found.c.gram == driver, found.c.field.in_(numbers),
                                          found.c.id == table.c.id))
        condition = candidate if short else and_(candidate, recheck)
        return [_Spread(condition, [(driver, numbers)])]
    else:
        ids = probed(select(found.c.id).where(found.c.gram == driver,
                                              found.c.field.in_(numbers)))
        if short and target is table.c.id:
            return [ids]
        candidate = table.c.id.in_(ids)
    # A row holding the pairs in one field and the term in another holds the pairs there
    # too, so rechecking every field is exact.
    return [candidate if short else and_(candidate, recheck)]


def _recheck(column, wanted: str, latin: bool = False):
    """SQLite: `column` contains `wanted` once normalised. Printable ASCII and CJK unified
    ideographs are their own normal form once A-Z are lowered, which SQLite does in C; only
    other text (full-width, compatibility characters, combining marks) costs a Python call."""
    if latin:  # lower-case Latin letters already
        return func.instr(column, wanted) > 0
    return case((column.op("GLOB")(PLAIN), func.search_has(wanted, column) == 1),
                else_=func.instr(func.lower(column), wanted) > 0)


def _gram_counts(grams_: list[str], numbers: list[int]) -> dict[str, int]:
    counts = [select(func.count()).select_from(
        select(literal(1)).where(search_gram.c.gram == gram, search_gram.c.field.in_(numbers))
        .limit(COMMON).subquery()).scalar_subquery() for gram in grams_]
    return dict(zip(grams_, db.session.execute(select(*counts)).one(), strict=True))
