"""The business calendar behind every workflow deadline (K6 three-day sign-off, P5 24-hour
answer, R2 two-month reclaim).

Deadlines are stored timestamps computed once from the receipt time; "overdue" is then a plain
comparison in SQL, right even if no background job ran. Calendar days by default; with the
`business_calendar` setting on "working", weekends and listed holidays are skipped and listed
make-up working days (调休) count.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from intranet.core import settings


def _dates(key: str) -> frozenset[date]:
    return frozenset(date.fromisoformat(d) for d in settings.get(key))


def is_working_day(day: date) -> bool:
    if day in _dates("extra_working_days"):
        return True
    if day in _dates("holidays"):
        return False
    return day.weekday() < 5


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


def describe(due: datetime, now: datetime) -> tuple[bool, int, int]:
    """(overdue, days, hours) between now and the deadline, for "due in 5 h" displays."""
    delta = due - now
    overdue = delta.total_seconds() < 0
    seconds = abs(int(delta.total_seconds()))
    return overdue, seconds // 86400, (seconds % 86400) // 3600
