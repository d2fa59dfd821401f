"""Company settings: declared here with type, default and limits; overrides stored in the DB.

Every number in RULES.md that is a company's choice becomes a setting (later issues add theirs
to SETTINGS). Every change goes through `update()` and is audited.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo, available_timezones

from flask import current_app, g, has_app_context
from sqlalchemy import select

from intranet.core import audit, clock
from intranet.core.forms import strip_bidi
from intranet.core.i18n import lazy_gettext as _l
from intranet.extensions import db
from intranet.models import Setting, SettingsVersion


class SettingError(ValueError):
    pass


@dataclass(frozen=True)
class SettingDef:
    key: str
    kind: str  # "str", "int", "bool", "choice", "dates", "days"
    default: object
    label: object
    help: object = ""
    minimum: int | None = None
    maximum: int | None = None
    max_length: int = 200
    choices: tuple = field(default_factory=tuple)
    choice_labels: dict = field(default_factory=dict)  # what the settings page shows

    def parse(self, raw: str):
        raw = strip_bidi(raw or "").strip()  # text people read, like every form field
        if self.kind == "bool":
            return raw in {"1", "true", "on", "yes"}
        if self.kind == "dates":
            try:
                days = sorted({date.fromisoformat(d).isoformat()
                               for d in raw.replace("，", ",").replace(",", " ").split()})
            except ValueError:
                raise SettingError(_l("List dates like 2026-10-01, separated by commas or "
                                      "spaces.")) from None
            return days
        if self.kind == "days":  # a list of day counts, e.g. the follow-ups 3 30 60
            try:
                days = sorted({int(d) for d in raw.replace("，", ",").replace(",", " ").split()})
            except ValueError:
                raise SettingError(_l("List whole numbers of days, separated by spaces.")) from None
            if any(not (self.minimum or 0) <= d <= (self.maximum or 3650) for d in days):
                raise SettingError(_l("Each number must be between %(low)s and %(high)s.",
                                      low=self.minimum or 0, high=self.maximum or 3650))
            return days
        if self.kind == "int":
            try:
                value = int(raw)
            except ValueError:
                raise SettingError(_l("Enter a whole number.")) from None
            if self.minimum is not None and value < self.minimum:
                raise SettingError(_l("Must be at least %(n)s.", n=self.minimum))
            if self.maximum is not None and value > self.maximum:
                raise SettingError(_l("Must be at most %(n)s.", n=self.maximum))
            return value
        if not raw:
            raise SettingError(_l("This field is required."))
        if len(raw) > self.max_length:
            raise SettingError(_l("At most %(n)s characters.", n=self.max_length))
        if self.kind == "choice" and raw not in self.choices:
            raise SettingError(_l("Choose one of the listed values."))
        return raw


# The zones a company in or trading with China plausibly runs on; all exist in tzdata.
TIMEZONES = tuple(tz for tz in (
    "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei", "Asia/Urumqi",
    "Asia/Singapore", "Asia/Tokyo", "Asia/Seoul", "Asia/Bangkok", "Asia/Kolkata", "Asia/Dubai",
    "Europe/London", "Europe/Berlin", "Europe/Moscow", "America/New_York",
    "America/Los_Angeles", "Australia/Sydney", "UTC") if tz in available_timezones())

TIMEZONE_LABELS = {
    "Asia/Shanghai": _l("China (Beijing time)"), "Asia/Hong_Kong": _l("Hong Kong"),
    "Asia/Macau": _l("Macau"), "Asia/Taipei": _l("Taipei"), "Asia/Urumqi": _l("Urumqi"),
    "Asia/Singapore": _l("Singapore"), "Asia/Tokyo": _l("Tokyo"), "Asia/Seoul": _l("Seoul"),
    "Asia/Bangkok": _l("Bangkok"), "Asia/Kolkata": _l("India (Kolkata)"),
    "Asia/Dubai": _l("Dubai"), "Europe/London": _l("London"), "Europe/Berlin": _l("Berlin"),
    "Europe/Moscow": _l("Moscow"), "America/New_York": _l("New York"),
    "America/Los_Angeles": _l("Los Angeles"), "Australia/Sydney": _l("Sydney"),
    "UTC": _l("Coordinated Universal Time (UTC)"),
}

SETTINGS: dict[str, SettingDef] = {s.key: s for s in [
    SettingDef("company_name", "str", "示例贸易有限公司", _l("Company name"),
               _l("Shown in the page header and on printed records.")),
    SettingDef("timezone", "choice", "Asia/Shanghai", _l("Time zone"),
               _l("Times are stored in UTC and shown in this zone."), choices=TIMEZONES,
               choice_labels=TIMEZONE_LABELS),
    SettingDef("session_idle_minutes", "int", 30, _l("Idle timeout (minutes)"),
               _l("A session unused this long is ended."), minimum=5, maximum=480),
    SettingDef("session_absolute_hours", "int", 12, _l("Absolute session limit (hours)"),
               _l("Sign in again after this long, however active."), minimum=1, maximum=72),
    # Deadlines of every workflow (K6, P5, R2) run on this calendar.
    SettingDef("business_calendar", "choice", "calendar", _l("Deadlines count"),
               choices=("calendar", "working"), choice_labels={
                   "calendar": _l("Calendar days: every day counts"),
                   "working": _l("Working days: weekends and public holidays are skipped")}),
    SettingDef("holidays", "dates", [], _l("Public holidays"),
               _l("Dates skipped by the working-day calendar, e.g. 2026-10-01 2026-10-02.")),
    SettingDef("extra_working_days", "dates", [], _l("Make-up working days (调休)"),
               _l("Dates that are working days, even on a weekend or a public holiday.")),
    SettingDef("deadline_warn_first_percent", "int", 50,
               _l("First deadline warning at this percentage of the time"),
               _l("Whoever holds a record is reminded once when this share of a deadline's "
                  "time has gone."), minimum=1, maximum=99),
    SettingDef("deadline_warn_second_percent", "int", 80,
               _l("Second deadline warning at this percentage of the time"), minimum=1, maximum=99),
    # Rule C3 thresholds (trailing 12 months of shipments)
    SettingDef("tier_vip_min_yuan", "int", 500_000, _l("VIP tier from (yuan per year)"),
               _l("With a good payment record."), minimum=0, maximum=10**11),
    SettingDef("tier_key_min_yuan", "int", 100_000, _l("Key tier from (yuan per year)"),
               _l("Sales over the trailing 12 months."), minimum=0, maximum=10**11),
    SettingDef("tier_vip_min_payment_percent", "int", 90,
               _l("Good payment record: at least this share paid (%)"),
               _l("Payments over shipments in the last 12 months."),
               minimum=0, maximum=100),
    # Rules K1/K2: the suggested limit and grade of the quarterly review (credit/__init__.py)
    SettingDef("credit_months_of_sales", "int", 2, _l("Suggested limit: months of sales"),
               _l("Limit = average monthly sales × this many months × the grade's share."),
               minimum=0, maximum=24),
    SettingDef("credit_grade1_min_payment_percent", "int", 95,
               _l("Grade 1 (一级) from a payment rate of (%)"),
               _l("By the payment rate over the last 12 months."),
               minimum=0, maximum=100),
    SettingDef("credit_grade2_min_payment_percent", "int", 80,
               _l("Grade 2 (二级) from a payment rate of (%)"),
               _l("Below this, grade 3 (三级)."), minimum=0, maximum=100),
    SettingDef("credit_grade2_share_percent", "int", 60,
               _l("Grade 2: share of the full limit (%)"), _l("Grade 1 gets 100%."),
               minimum=0, maximum=100),
    SettingDef("credit_grade3_share_percent", "int", 30,
               _l("Grade 3: share of the full limit (%)"), minimum=0, maximum=100),
]}


def register(*definitions: SettingDef) -> None:
    """A domain adds its settings (at import); the admin page lists them after the platform's."""
    for definition in definitions:
        known = SETTINGS.get(definition.key)
        if known is not None and known != definition:
            raise ValueError(f"setting {definition.key!r} declared twice")
        SETTINGS[definition.key] = definition


# The settings are kept in memory per app (one per worker process) together with the version
# they were read at; each request asks the database for the current version once, with one
# tiny query, and re-reads the table only when it changed (issue 12). A change made in any
# worker therefore applies at the next request in every worker.
_VERSION = SettingsVersion.__table__
_READ_VERSION = select(_VERSION.c.version).where(_VERSION.c.id == 1)
_CACHE = "intranet.settings"
_UNREAD_VERSION = object()  # not read with the user (no one signed in, or not yet)


def _stored() -> dict[str, object]:
    if not has_app_context():
        return _read_table()
    cache = g.get("_settings")
    if cache is None:
        cache = g._settings = _current_values()
    return cache


def remember_version(version: str | None) -> None:
    """The version read with the signed-in user (User.load_for_request): this request's
    first look at the settings then asks nothing more unless the version changed."""
    g._settings_version = version


def _current_values() -> dict[str, object]:
    # The version first, then the table: a change committed between the two reads leaves
    # newer values under the older version, which the next request reads again; the reverse
    # order could keep old values under the new version for good.
    version = g.pop("_settings_version", _UNREAD_VERSION)
    if version is _UNREAD_VERSION:
        version = db.session.connection().scalar(_READ_VERSION)
    kept = current_app.extensions.get(_CACHE)
    if kept is not None and kept[0] == version:
        return kept[1]
    values = _read_table()
    current_app.extensions[_CACHE] = (version, values)
    return values


def _read_table() -> dict[str, object]:
    return {row.key: json.loads(row.value) for row in db.session.scalars(db.select(Setting))}


def _bump_version() -> None:
    """In the transaction of the change: rolled back with it, seen by others with it."""
    version = secrets.token_hex(16)
    changed = db.session.execute(
        _VERSION.update().where(_VERSION.c.id == 1).values(version=version)).rowcount
    if not changed:  # the row is gone (an emptied database): put it back
        db.session.execute(_VERSION.insert().values(id=1, version=version))


def get(key: str):
    definition = SETTINGS[key]
    value = _stored().get(key, definition.default)
    # The stored values are shared by every request of the worker: a caller gets its own list
    return list(value) if isinstance(value, list) else value


def tz() -> ZoneInfo:
    return ZoneInfo(get("timezone"))


def update(changes: dict[str, str]) -> dict[str, SettingError]:
    """Validate raw form values; if all are valid, store and audit each change."""
    errors: dict[str, SettingError] = {}
    parsed = {}
    for key, raw in changes.items():
        try:
            parsed[key] = SETTINGS[key].parse(raw)
        except SettingError as exc:
            errors[key] = exc
    if errors:
        return errors
    changed = False
    for key, value in parsed.items():
        old = get(key)
        if old == value:
            continue
        row = db.session.get(Setting, key) or Setting(key=key)
        row.value = json.dumps(value, ensure_ascii=False)
        row.updated_at = clock.now()
        db.session.add(row)
        audit.record(audit.Action.UPDATE, "setting", key, details={"old": old, "new": value})
        changed = True
    if changed:
        _bump_version()
    g.pop("_settings", None)
    g.pop("_settings_version", None)  # read before the change
    return {}
