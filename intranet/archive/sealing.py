"""Sealed customer files (rule C7): which years are sealed, who holds a grant to open a sealed
file, the one gate every page that opens one passes (`open_sealed_file`), and the SQL filters
that keep sealed files out of lists, searches, exports and PDFs for anyone without a grant.

A customer file (客户档案表) exists per customer per year: the file for year Y is the card as
of the end of Y. Sealing a year seals every customer's file of that year. The live customer
page (sales' working file) is not a sealed file and is never affected.

Years are calendar years in the company's time zone (settings "timezone")."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, not_, or_, select, true
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Forbidden

from intranet.core import audit, clock, settings
from intranet.core.errors import FieldError
from intranet.core.i18n import lazy_gettext as _l
from intranet.extensions import db
from intranet.models import ArchiveAccessRequest, SealedPeriod
from intranet.workflows.archive_access_states import AccessState

A = ArchiveAccessRequest
OBJECT = "sealed_file"  # the audit object of every opening
FIRST_YEAR = 1990  # no company file predates this; a year before it is a typing error


class SealedFileRefused(Forbidden):
    """403: the file of a sealed year without a grant. The archive's blueprint answers it with
    a page that explains and links to the request form."""

    def __init__(self, customer_id: int, year: int):
        super().__init__(str(_l("This file is sealed.")))
        self.customer_id, self.year = customer_id, year


# --- years ---------------------------------------------------------------------------------

def current_year(now: datetime | None = None) -> int:
    return (now or clock.now()).astimezone(settings.tz()).year


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """[start, end) of a calendar year in the company's time zone, as aware datetimes."""
    tz = settings.tz()
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


def closed_years(count: int = 15) -> list[int]:
    """The most recent closed years, newest first: those a seal form offers."""
    last = current_year() - 1
    return [y for y in range(last, last - count, -1) if y >= FIRST_YEAR]


def is_sealed(year: int) -> bool:
    return db.session.scalar(select(SealedPeriod.id).where(SealedPeriod.year == year)
                             .limit(1)) is not None


def sealed_years() -> set[int]:
    return set(db.session.scalars(select(SealedPeriod.year)))


def check_sealable(year: int) -> None:
    """FieldError unless `year` has ended and is not sealed yet (asked before confirming)."""
    if year < FIRST_YEAR:
        raise FieldError("year", _l("Choose a year from %(first)s on.", first=FIRST_YEAR))
    if year >= current_year():
        raise FieldError("year", _l("Only a year that has ended can be sealed."))
    if is_sealed(year):
        raise FieldError("year", _l("%(year)s is already sealed.", year=year))


def seal(year: int, user, note: str = "") -> SealedPeriod:
    """Seal a closed year: refused for the current year, a future one or one already sealed.
    Recorded with who, when and the note, and audited; the application never unseals."""
    check_sealable(year)
    period = SealedPeriod(year=year, sealed_by_id=user.id, sealed_at=clock.now(),
                          note=(note or "").strip())
    try:
        with db.session.begin_nested():  # a colleague sealing it at the same moment
            db.session.add(period)
    except IntegrityError:
        raise FieldError("year", _l("%(year)s is already sealed.", year=year)) from None
    audit.record(audit.Action.CREATE, "sealed_period", period.id, user=user,
                 details={"year": year, "note": period.note})
    return period


# --- grants --------------------------------------------------------------------------------

def _live(now: datetime):
    return and_(A.state == AccessState.APPROVED.value, A.expires_at > now)


def grant_for(user, customer_id: int, year: int) -> ArchiveAccessRequest | None:
    """The user's own approved request for this file that has not expired now, or None."""
    if user is None:
        return None
    return db.session.scalar(
        select(A).where(A.requested_by_id == user.id, A.customer_id == customer_id,
                        A.year == year, _live(clock.now()))
        .order_by(A.expires_at.desc()).limit(1))


def open_sealed_file(user, customer_id: int, year: int) -> ArchiveAccessRequest | None:
    """The gate of every page, PDF and export that opens a customer's file of `year`.

    Not sealed: None (open it as usual). Sealed with a grant: the grant, and the opening is
    logged. Sealed without one: SealedFileRefused (403), whoever asks — archivists and the GM
    included."""
    if not is_sealed(year):
        return None
    grant = grant_for(user, customer_id, year)
    if grant is None:
        raise SealedFileRefused(customer_id, year)
    audit.record(audit.Action.VIEW, OBJECT, customer_id, user=user,
                 details={"customer": customer_id, "year": year, "request": grant.number})
    return grant


def granted_files(user) -> set[tuple[int, int]]:
    """(customer_id, year) of every sealed file the user may open now."""
    if user is None:
        return set()
    return set(db.session.execute(select(A.customer_id, A.year).where(
        A.requested_by_id == user.id, _live(clock.now()))).all())


# --- SQL filters for lists, searches, exports and PDFs -----------------------------------

def sealed_filter(user, customer_id, year):
    """A WHERE condition: true for the customer files (customer_id, year) — columns, SQL
    expressions or plain values — that `user` may see: the year is not sealed, or the user
    holds a live grant for that very file. Use it on every list, search and export of customer
    files; a sealed file without a grant is left out, never shown."""
    now = clock.now()
    sealed = exists(select(SealedPeriod.id).where(SealedPeriod.year == year))
    if user is None:
        return not_(sealed)
    granted = exists(select(A.id).where(A.requested_by_id == user.id,
                                        A.customer_id == customer_id, A.year == year,
                                        _live(now)))
    return or_(not_(sealed), granted)


def sealed_at_filter(user, customer_id, moment):
    """A WHERE condition for records dated by a timestamp column `moment` (a closed complaint,
    a credit decision) about the customer `customer_id`: true unless the moment falls in a
    sealed year whose file of that customer the user holds no live grant for. One range test
    per sealed year (there are few), so indexes on `moment` still serve."""
    years = sorted(sealed_years())
    if not years:
        return true()
    now = clock.now()
    clauses = []
    for year in years:
        start, end = year_bounds(year)
        inside = and_(moment >= start, moment < end)
        if user is None:
            clauses.append(not_(inside))
            continue
        granted = exists(select(A.id).where(A.requested_by_id == user.id,
                                            A.customer_id == customer_id, A.year == year,
                                            _live(now)))
        clauses.append(or_(not_(inside), granted))
    return and_(*clauses)


def year_of(moment: datetime) -> int:
    """The file year a moment belongs to (company time zone)."""
    return moment.astimezone(settings.tz()).year
