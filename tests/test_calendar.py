"""The business calendar behind workflow deadlines (rule K6's three days; also P5, R2)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import login_fast, post

from intranet.core import settings
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.workflows import calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_k6_three_calendar_days_by_default(app):
    with app.app_context():
        received = at(2026, 11, 6, 16, 30)  # a Friday afternoon
        assert calendar.add_days(received, 3) == at(2026, 11, 9, 16, 30)


def test_k6_working_days_skip_the_weekend(app):
    with app.app_context():
        assert settings.update({"business_calendar": "working"}) == {}
        received = at(2026, 11, 6, 16, 30)  # Friday
        assert calendar.add_days(received, 3) == at(2026, 11, 11, 16, 30)  # Wednesday
        assert calendar.add_days(at(2026, 11, 7, 9, 0), 1) == at(2026, 11, 9, 9, 0)  # Sat→Mon


def test_k6_holidays_are_skipped_and_make_up_days_count(app):
    with app.app_context():
        assert settings.update({
            "business_calendar": "working",
            "holidays": "2026-10-01, 2026-10-02 2026-10-05，2026-10-06 2026-10-07",
            "extra_working_days": "2026-10-10"}) == {}
        received = at(2026, 9, 30, 10, 0)  # the day before National Day
        # 10-01..10-07 off (10-03/04 weekend), 10-08 and 10-09 work, 10-10 Saturday works
        assert calendar.add_days(received, 3) == at(2026, 10, 10, 10, 0)


def test_k6_deadline_keeps_utc_storage_consistent(app):
    with app.app_context():
        settings.update({"business_calendar": "working"})
        received = datetime(2026, 11, 6, 15, 0, tzinfo=UTC)  # 23:00 Friday in Shanghai
        due = calendar.add_days(received, 1)
        assert due.tzinfo == UTC and due.astimezone(SHANGHAI) == at(2026, 11, 9, 23, 0)


@pytest.mark.parametrize(("due", "now", "expected"), [
    (at(2026, 11, 9, 16, 0), at(2026, 11, 9, 11, 0), (False, 0, 5)),   # due in 5 h
    (at(2026, 11, 9, 16, 0), at(2026, 11, 10, 19, 0), (True, 1, 3)),   # overdue by 1 d 3 h
])
def test_k6_time_left_for_the_queue(due, now, expected):
    assert calendar.describe(due, now) == expected


def test_calendar_settings_are_validated_and_audited(app, client, staff):
    login_fast(client, app, staff[Role.ADMIN])
    bad = post(client, "/admin/settings", {"holidays": "2026-13-01"})
    assert bad.status_code == 200 and "请按 2026-10-01 的格式" in bad.get_data(as_text=True)
    post(client, "/admin/settings", {"business_calendar": "working",
                                     "holidays": "2026-10-02 2026-10-01"})
    with app.app_context():
        assert settings.get("holidays") == ["2026-10-01", "2026-10-02"]
        from intranet.models import AuditEntry
        entry = db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.object_id == "holidays"))
        assert entry is not None and "2026-10-01" in entry.details


# China's official schedule (chinesecalendar): 2026 Spring Festival is 15-23 February, with
# Saturday 14 and Saturday 28 February as make-up working days (调休); National Day 1-7 October.

def end_of(*args) -> datetime:
    return at(*args, 23, 59, 59, 999_999)


def test_k6_statutory_holidays_and_make_up_days_come_built_in(app):
    with app.app_context():
        assert settings.update({"business_calendar": "working"}) == {}
        assert settings.get("holidays") == [] and settings.get("extra_working_days") == []
        assert calendar.is_working_day(date(2026, 2, 14))  # a Saturday, 调休
        assert not calendar.is_working_day(date(2026, 2, 16))  # a Monday, Spring Festival
        assert not calendar.is_working_day(date(2026, 10, 1))  # a Thursday, National Day
        assert calendar.is_working_day(date(2026, 2, 24))  # an ordinary Tuesday
        assert not calendar.is_working_day(date(2026, 3, 7))  # an ordinary Saturday


def test_k6_add_days_across_the_2026_spring_festival(app):
    with app.app_context():
        settings.update({"business_calendar": "working"})
        received = at(2026, 2, 13, 10, 0)  # Friday before the festival
        # Sat 14 works (1), 15..23 off, Tue 24 (2), Wed 25 (3)
        assert calendar.add_days(received, 3) == at(2026, 2, 25, 10, 0)
        assert calendar.add_days(at(2026, 2, 14, 9, 0), 1) == at(2026, 2, 24, 9, 0)


def test_k6_admin_overrides_beat_the_package_both_ways(app):
    with app.app_context():
        assert settings.update({"business_calendar": "working",
                                "holidays": "2026-02-14",
                                "extra_working_days": "2026-02-16"}) == {}
        assert not calendar.is_working_day(date(2026, 2, 14))  # 调休 Saturday given off
        assert calendar.is_working_day(date(2026, 2, 16))  # festival Monday worked
        # Fri 13 + 1: Sat 14 now off, Mon 16 now works
        assert calendar.add_days(at(2026, 2, 13, 10, 0), 1) == at(2026, 2, 16, 10, 0)
        assert calendar.add_days(at(2026, 2, 13, 10, 0), 2) == at(2026, 2, 24, 10, 0)


def test_k6_a_settings_change_is_seen_at_once_and_parsed_once(app):
    with app.app_context():
        settings.update({"business_calendar": "working"})
        assert not calendar.is_working_day(date(2026, 2, 16))
        assert calendar._overrides() is calendar._overrides()  # cached for the request
        settings.update({"extra_working_days": "2026-02-16"})
        assert calendar.is_working_day(date(2026, 2, 16))
        settings.update({"extra_working_days": ""})
        assert not calendar.is_working_day(date(2026, 2, 16))


def test_k6_years_beyond_the_package_fall_back_to_weekends_and_overrides(app):
    first, last = calendar.STATUTORY_YEARS
    assert first <= 2026 <= last < 2099
    with app.app_context():
        settings.update({"business_calendar": "working"})
        assert calendar.is_working_day(date(2099, 10, 1))  # a Thursday: no schedule known
        assert calendar.is_working_day(date(2099, 1, 1))  # a Thursday
        assert not calendar.is_working_day(date(2099, 10, 3))  # a Saturday
        assert calendar.add_days(at(2099, 9, 30, 9, 0), 3) == at(2099, 10, 5, 9, 0)
        assert settings.update({"holidays": "2099-10-01 2099-10-02",
                                "extra_working_days": "2099-10-03"}) == {}
        assert not calendar.is_working_day(date(2099, 10, 1))
        assert calendar.is_working_day(date(2099, 10, 3))
        # Wed 30 Sep + 3: Thu/Fri off, Sat 3 works (1), Sun off, Mon 5 (2), Tue 6 (3)
        assert calendar.add_days(at(2099, 9, 30, 9, 0), 3) == at(2099, 10, 6, 9, 0)


def test_p5_end_of_working_day_on_a_working_friday_evening(app):
    with app.app_context():
        settings.update({"business_calendar": "working"})
        moment = datetime(2026, 11, 6, 12, 15, tzinfo=UTC)  # Friday 20:15 in Shanghai
        end = calendar.end_of_working_day(moment)
        assert end == end_of(2026, 11, 6) and end.tzinfo is UTC
        assert end + timedelta(microseconds=1) == at(2026, 11, 7)
        # 00:30 on Saturday in Shanghai, though still Friday in UTC: Monday's end
        late = datetime(2026, 11, 6, 16, 30, tzinfo=UTC)
        assert calendar.end_of_working_day(late) == end_of(2026, 11, 9)


def test_p5_end_of_working_day_on_a_saturday(app):
    with app.app_context():
        settings.update({"business_calendar": "working"})
        assert calendar.end_of_working_day(at(2026, 11, 7, 10, 0)) == end_of(2026, 11, 9)
        # a make-up Saturday is itself a working day
        assert calendar.end_of_working_day(at(2026, 2, 14, 8, 0)) == end_of(2026, 2, 14)


def test_p5_end_of_working_day_on_a_statutory_holiday(app):
    with app.app_context():
        settings.update({"business_calendar": "working"})
        assert calendar.end_of_working_day(at(2026, 10, 1, 9, 0)) == end_of(2026, 10, 8)
        assert calendar.end_of_working_day(at(2026, 2, 16, 0, 0)) == end_of(2026, 2, 24)
        settings.update({"extra_working_days": "2026-02-16"})
        assert calendar.end_of_working_day(at(2026, 2, 16, 0, 0)) == end_of(2026, 2, 16)


def test_p5_end_of_working_day_in_calendar_mode(app):
    with app.app_context():
        assert settings.get("business_calendar") == "calendar"
        assert calendar.end_of_working_day(at(2026, 11, 7, 10, 0)) == end_of(2026, 11, 7)
        assert calendar.end_of_working_day(at(2026, 10, 1, 9, 0)) == end_of(2026, 10, 1)
        with pytest.raises(ValueError):
            calendar.end_of_working_day(datetime(2026, 10, 1, 9, 0))


def test_p5_end_of_working_day_is_in_the_company_time_zone(app):
    with app.app_context():
        settings.update({"business_calendar": "working", "timezone": "Europe/London"})
        moment = at(2026, 11, 9, 6, 0)  # Sunday 22:00 in London
        end = calendar.end_of_working_day(moment)
        assert end == datetime(2026, 11, 9, 23, 59, 59, 999_999, tzinfo=ZoneInfo("Europe/London"))
        assert end.tzinfo is SHANGHAI


def test_k6_settings_page_names_the_years_built_in(app, client, staff, make_user):
    first, last = calendar.STATUTORY_YEARS
    login_fast(client, app, staff[Role.ADMIN])
    page = client.get("/admin/settings").get_data(as_text=True)
    assert f"系统已内置 {first}–{last} 年的国家法定节假日和调休上班日" in page
    assert f"{last} 年以后或 {first} 年以前的日期只把周末算作休息日，另加下方列出的日期" in page
    english = make_user("admin_en", Role.ADMIN, department="it", locale="en")
    client = app.test_client()
    login_fast(client, app, english)
    page = client.get("/admin/settings").get_data(as_text=True)
    assert f"are built in for {first}–{last}." in page
    assert (f"Dates after {last} or before {first} count only weekends as days off, plus the "
            "listed dates.") in page
