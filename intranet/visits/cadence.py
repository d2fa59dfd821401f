"""Visit obligations by tier (rule V2): who must visit which customers how often.

"At least once a quarter" means once in every calendar quarter: a visit on 1 January and one
on 31 March both leave the next one due by 30 June. A visit of a kind (a mark on the customer:
the day of the last such visit) covers the customer up to the end of its calendar period.

An obligation is checked every period of its first alternative and met by any
of its alternatives: a general customer needs its rep every month, unless the head visited it
on site in that half year (003 第十一条(三)4). So the customer is covered up to the latest end
of its alternatives' covered periods, and the obligation falls due at the end of the checked
period after that. A customer never visited counts from the day it was added, for the checked
alternative only (a customer added in January owes its rep a visit by the end of February,
not the head by the end of the year).

Overdue is derived in SQL as the same comparison on the marks: due before day D ⟺ every
alternative's last visit fell before a threshold day computed here. One definition, both
sides, tested against each other on random data.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, or_

from intranet.core import clock, settings
from intranet.core.i18n import lazy_gettext as _l
from intranet.models import Customer

MARKS = {"head": Customer.visit_head_on, "gm": Customer.visit_gm_on, "rep": Customer.visit_rep_on}
MARK_LABELS = {"head": _l("On-site visit by a head of sales or the GM"),
               "gm": _l("On-site visit by the general manager"),
               "rep": _l("Visit by the customer's rep")}


@dataclass(frozen=True)
class Alternative:
    mark: str  # a key of MARKS
    setting: str  # months per period


@dataclass(frozen=True)
class Obligation:
    key: str
    tier: str
    label: object
    alternatives: tuple[Alternative, ...]


OBLIGATIONS = (
    Obligation("vip_head", "vip", _l("Head of sales or deputy GM on site"),
               (Alternative("head", "visit_vip_head_months"),)),
    Obligation("vip_gm", "vip", _l("General manager on site"),
               (Alternative("gm", "visit_vip_gm_months"),)),
    Obligation("key_head", "key", _l("Responsible head on site"),
               (Alternative("head", "visit_key_head_months"),)),
    # The head visits general customers selectively; those the head did not visit in the
    # period are visited by their rep every month instead (003 第十一条(三)4).
    Obligation("general", "general", _l("The rep, unless the head visited on site"),
               (Alternative("rep", "visit_general_rep_months"),
                Alternative("head", "visit_general_head_months"))),
)
BY_KEY = {o.key: o for o in OBLIGATIONS}
IMPORTANT_TIERS = ("vip", "key")  # "important customers 100 % visited"


def months(alternative: Alternative) -> int:
    return int(settings.get(alternative.setting))


def check_months(obligation: Obligation) -> int:
    return months(obligation.alternatives[0])


def period_start(day: date, months_: int) -> date:
    index = day.year * 12 + day.month - 1
    index -= index % months_
    return date(index // 12, index % 12 + 1, 1)


def shift(start: date, periods: int, months_: int) -> date:
    index = start.year * 12 + start.month - 1 + periods * months_
    return date(index // 12, index % 12 + 1, 1)


def period_end(day: date, months_: int) -> date:
    return shift(period_start(day, months_), 1, months_) - timedelta(days=1)


def covered_until(last: date, months_: int) -> date:
    return period_end(last, months_)


def due_day(lasts, since: date) -> date:
    """`lasts`: (months, last visit or None) per alternative, the checked one first."""
    check = lasts[0][0]
    ends = [covered_until(last, m) for m, last in lasts if last is not None]
    if lasts[0][1] is None:
        ends.append(covered_until(since, check))
    return period_end(shift(period_start(max(ends), check), 1, check), check)


def threshold(day: date, months_: int) -> date:
    """Due before `day` ⟺ covered only up to before this day (the start of the checked period
    before `day`'s)."""
    return shift(period_start(day, months_), -1, months_)


def effective_tier():
    return func.coalesce(Customer.tier_override, Customer.tier)


def local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(), settings.tz()).astimezone(UTC)


def due_before(obligation: Obligation, day: date):
    """SQL: the customer has this obligation and it falls due before `day`: no alternative
    covers it up to the threshold (a visit covers up to its period's end, so: each last visit
    fell before the start of its period containing the threshold)."""
    limit = threshold(day, check_months(obligation))
    parts = [effective_tier() == obligation.tier]
    for n, alternative in enumerate(obligation.alternatives):
        before = period_start(limit, months(alternative))
        mark = MARKS[alternative.mark]
        if n == 0:  # never visited: counted from the day the customer was added
            parts.append(or_(mark < before, and_(
                mark.is_(None), Customer.created_at < local_midnight_utc(before))))
        else:
            parts.append(or_(mark.is_(None), mark < before))
    return and_(*parts)


@dataclass(frozen=True)
class Status:
    obligation: Obligation
    lasts: tuple  # (alternative, months, last visit day or None) per alternative
    due_on: date

    def overdue(self, today: date) -> bool:
        return self.due_on < today


def statuses(customer: Customer, today: date) -> list[Status]:
    """The customer's obligations with their due days, for the customer page."""
    tier = customer.effective_tier
    since = customer.created_at.astimezone(settings.tz()).date() if customer.created_at \
        else today
    found = []
    for obligation in OBLIGATIONS:
        if obligation.tier != tier:
            continue
        lasts = tuple((a, months(a), getattr(customer, MARKS[a.mark].key))
                      for a in obligation.alternatives)
        due = due_day([(m, last) for _, m, last in lasts], since)
        found.append(Status(obligation, lasts, due))
    return found


def due_between(obligation: Obligation, today: date, days: int):
    """SQL: due in the next `days` days, not yet overdue."""
    return and_(due_before(obligation, today + timedelta(days=days + 1)),
                ~due_before(obligation, today))


def quarter_bounds(day: date) -> tuple[date, date]:
    return period_start(day, 3), period_end(day, 3)


def coverage(scope, start: date, end: date) -> tuple[int, int]:
    """Rule V2's "important customers 100 % visited": of the VIP and key customers in `scope`,
    how many had a visit or contact logged from `start` to `end` (local days), and how many
    there are (their tiers of today)."""
    from sqlalchemy import select

    from intranet.extensions import db
    from intranet.models import Activity

    important = and_(scope, effective_tier().in_(IMPORTANT_TIERS))
    today = clock.now().astimezone(settings.tz()).date()
    if start <= today <= end:
        # The quarter running: a contact since its start is the customer's last activity
        # (none is logged ahead of now), read on the customer row, not probed per customer.
        visited = Customer.last_activity_at >= local_midnight_utc(start)
    else:
        visited = select(Activity.id).where(
            Activity.customer_id == Customer.id,
            Activity.occurred_at >= local_midnight_utc(start),
            Activity.occurred_at < local_midnight_utc(end + timedelta(days=1))).exists()
    total, done = db.session.execute(select(
        func.count(), func.count().filter(visited)).select_from(Customer).where(
        important)).one()
    return done or 0, total or 0
