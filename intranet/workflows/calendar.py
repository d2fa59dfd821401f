"""The business calendar behind every workflow deadline (K6 three-day sign-off, P5 24-hour
answer, R2 two-month reclaim).

Deadlines are stored timestamps computed once from the receipt time; "overdue" is then a plain
comparison in SQL, right even if no background job ran. Calendar days by default; with the
`business_calendar` setting on "working", China's statutory holidays and make-up working days
(调休) come from the `chinesecalendar` package, and the admin's `holidays` and
`extra_working_days` settings override it (a listed holiday is off, a listed extra working day
works). Years the package has no data for count weekends as off, plus the listed dates.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import chinese_calendar
from flask import g, has_app_context

from intranet.core import settings

# The years whose official schedule the installed package knows (it raises
# NotImplementedError outside them).
STATUTORY_YEARS: tuple[int, int] = (min(d.year for d in chinese_calendar.holidays),
                                    max(d.year for d in chinese_calendar.holidays))


@lru_cache(maxsize=8192)
def _statutory_working_day(day: date) -> bool:
    """China's official answer, or the plain weekend rule for a year the package lacks.
    Cached: the package re-checks its year range on every call, and its data never changes
    while the process runs."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def _overrides() -> tuple[frozenset[date], frozenset[date]]:
    """(extra working days, holidays) from the settings, parsed once per request: the cache is
    kept while the settings hold the same lists (settings.get hands out copies, so compare the
    values; a few dates at most)."""
    raw = (settings.get("extra_working_days"), settings.get("holidays"))
    cached = g.get("_calendar_overrides") if has_app_context() else None
    if cached is not None and cached[0] == raw:
        return cached[1]
    parsed = tuple(frozenset(date.fromisoformat(d) for d in days) for days in raw)
    if has_app_context():
        g._calendar_overrides = (raw, parsed)
    return parsed


def is_working_day(day: date) -> bool:
    extra_working_days, holidays = _overrides()
    if day in extra_working_days:
        return True
    if day in holidays:
        return False
    return _statutory_working_day(day)


def add_days(start: datetime, days: int) -> datetime:
    """`start` plus `days` days of the company's calendar, at the same local time of day."""
    if start.tzinfo is None:
        raise ValueError("add_days needs an aware datetime")
    if settings.get("business_calendar") != "working":
        return start + timedelta(days=days)
    zone = settings.tz()
    local = start.astimezone(zone)
    day, remaining = local.date(), days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return datetime.combine(day, local.timetz().replace(tzinfo=None), zone).astimezone(
        start.tzinfo)


def end_of_working_day(moment: datetime) -> datetime:
    """The last instant of `moment`'s day in the company's time zone if that is a working day,
    else of the next working day (rule P5: "the same working day"); every day works on the
    "calendar" setting. The start of the following day less one microsecond, in `moment`'s
    time zone."""
    if moment.tzinfo is None:
        raise ValueError("end_of_working_day needs an aware datetime")
    zone = settings.tz()
    day = moment.astimezone(zone).date()
    if settings.get("business_calendar") == "working":
        while not is_working_day(day):
            day += timedelta(days=1)
    next_midnight = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    return (next_midnight - timedelta(microseconds=1)).astimezone(moment.tzinfo)


def describe(due: datetime, now: datetime) -> tuple[bool, int, int]:
    """(overdue, days, hours) between now and the deadline, for "due in 5 h" displays."""
    delta = due - now
    overdue = delta.total_seconds() < 0
    seconds = abs(int(delta.total_seconds()))
    return overdue, seconds // 86400, (seconds % 86400) // 3600
