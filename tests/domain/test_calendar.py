"""Specification of the working-day calendar (service.domain.calendar).

Dates of the 2026 schedule are those in chinese_calendar 1.11.0's data
(chinese_calendar.constants), i.e. the State Council notice for 2026.
"""

import ast
import pickle
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from service.domain import calendar as calendar_module
from service.domain.calendar import (
    CalendarOutOfRange,
    DayOverride,
    WorkCalendar,
    default_calendar,
    year_schedule_overrides,
)

SH = ZoneInfo("Asia/Shanghai")


def sh(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SH)


@pytest.fixture
def cal():
    return default_calendar()


# --- the official 2026 schedule ------------------------------------------------


class TestSpringFestival2026:
    """春节: 2-15 … 2-23 off; Saturdays 2-14 and 2-28 are make-up working days (调休)."""

    @pytest.mark.parametrize("day", [date(2026, 2, 14), date(2026, 2, 28)])
    def test_make_up_saturdays_are_working_days(self, cal, day):
        assert day.weekday() == 5  # Saturday
        assert cal.is_working_day(day)

    def test_the_whole_holiday_is_off_including_weekdays(self, cal):
        for offset in range(9):
            assert not cal.is_working_day(date(2026, 2, 15) + timedelta(days=offset))

    def test_around_the_holiday(self, cal):
        assert cal.is_working_day(date(2026, 2, 13))  # Friday before
        assert cal.is_working_day(date(2026, 2, 24))  # first day back (Tuesday)
        assert not cal.is_working_day(date(2026, 3, 1))  # ordinary Sunday

    def test_deadline_counts_the_make_up_saturday_and_skips_the_holiday(self, cal):
        # Fri 2-13 10:00 + 1 → Sat 2-14 (调休), + 2 → Tue 2-24 (after the holiday).
        assert cal.add_working_days(sh(2026, 2, 13, 10), 1) == sh(2026, 2, 14, 10)
        assert cal.add_working_days(sh(2026, 2, 13, 10), 2) == sh(2026, 2, 24, 10)


class TestNationalDayAndMidAutumn2026:
    """中秋 9-25 … 9-27 and 国庆 10-1 … 10-7 off; Sun 9-20 and Sat 10-10 are working days."""

    def test_make_up_weekend_days_are_working_days(self, cal):
        assert date(2026, 9, 20).weekday() == 6 and cal.is_working_day(date(2026, 9, 20))
        assert date(2026, 10, 10).weekday() == 5 and cal.is_working_day(date(2026, 10, 10))

    def test_mid_autumn_friday_is_off(self, cal):
        assert date(2026, 9, 25).weekday() == 4
        assert not cal.is_working_day(date(2026, 9, 25))

    def test_national_day_week_is_off(self, cal):
        for d in range(1, 8):
            assert not cal.is_working_day(date(2026, 10, d))
        assert cal.is_working_day(date(2026, 10, 8))

    def test_deadline_across_national_day(self, cal):
        # Wed 9-30 09:00: 10-8 (Thu) 1, 10-9 (Fri) 2, 10-10 (Sat, 调休) 3.
        assert cal.add_working_days(sh(2026, 9, 30, 9), 3) == sh(2026, 10, 10, 9)


def test_five_working_day_deadline_across_labour_day_2026(cal):
    # 劳动节 5-1 … 5-5 off, Sat 5-9 worked. From Thu 4-30 14:30:
    # 5-6 (1), 5-7 (2), 5-8 (3), 5-9 Sat (4), 5-11 Mon (5).
    assert cal.add_working_days(sh(2026, 4, 30, 14, 30), 5) == sh(2026, 5, 11, 14, 30)
    # A Monday-to-Friday rule would have said Fri 5-8 — wrong in both directions.


# --- overrides ----------------------------------------------------------------


def test_override_makes_a_day_working_and_another_a_holiday():
    cal = WorkCalendar(
        overrides=[
            DayOverride(date(2026, 3, 7), True, "县里集中办公日"),  # a Saturday
            DayOverride(date(2026, 3, 9), False, "地方性假日"),  # a Monday
        ]
    )
    assert cal.is_working_day(date(2026, 3, 7))
    assert not cal.is_working_day(date(2026, 3, 9))
    # Without overrides the library's answer stands.
    assert not default_calendar().is_working_day(date(2026, 3, 7))
    assert default_calendar().is_working_day(date(2026, 3, 9))
    # Deadlines follow the overrides: Fri 3-6 + 2 → Sat 3-7, (Sun off, Mon 3-9 off) Tue 3-10.
    assert cal.add_working_days(sh(2026, 3, 6, 10), 2) == sh(2026, 3, 10, 10)


def test_later_override_for_the_same_day_wins():
    cal = WorkCalendar([DayOverride(date(2026, 3, 9), False), DayOverride(date(2026, 3, 9), True, "撤销")])
    assert cal.is_working_day(date(2026, 3, 9))
    assert cal.overrides[date(2026, 3, 9)].note == "撤销"


def test_override_rejects_a_datetime_as_its_day():
    with pytest.raises(TypeError):
        DayOverride(datetime(2026, 3, 9, 12, tzinfo=SH), True)


# --- beyond the library's data ------------------------------------------------


def test_known_range_is_the_library_range(cal):
    assert cal.known_range() == (date(2004, 1, 1), date(2026, 12, 31))
    # Overrides do not extend it.
    assert WorkCalendar([DayOverride(date(2027, 1, 4), True)]).known_range() == cal.known_range()


def test_2027_without_override_raises_with_chinese_message_naming_the_date(cal):
    with pytest.raises(CalendarOutOfRange) as info:
        cal.is_working_day(date(2027, 1, 4))
    assert info.value.day == date(2027, 1, 4)
    assert str(info.value) == "工作日历没有 2027-01-04 的数据：请管理员录入该年度节假日安排"


def test_before_2004_also_raises(cal):
    with pytest.raises(CalendarOutOfRange):
        cal.is_working_day(date(2003, 12, 31))


def test_out_of_range_error_survives_pickling():
    err = pickle.loads(pickle.dumps(CalendarOutOfRange(date(2027, 1, 4))))
    assert err.day == date(2027, 1, 4) and "2027-01-04" in str(err)


def test_a_2027_date_with_override_is_answered_but_its_neighbours_are_not():
    cal = WorkCalendar([DayOverride(date(2027, 1, 4), True), DayOverride(date(2027, 1, 1), False, "元旦")])
    assert cal.is_working_day(date(2027, 1, 4))
    assert not cal.is_working_day(date(2027, 1, 1))
    with pytest.raises(CalendarOutOfRange) as info:
        cal.is_working_day(date(2027, 1, 5))
    assert info.value.day == date(2027, 1, 5)


def test_a_deadline_running_into_an_unknown_year_raises(cal):
    # Thu 2026-12-31 + 1 needs 2027-01-01, which nobody has declared.
    with pytest.raises(CalendarOutOfRange) as info:
        cal.add_working_days(sh(2026, 12, 31, 10), 1)
    assert info.value.day == date(2027, 1, 1)


def test_loading_a_whole_year_schedule_makes_it_usable():
    # A hypothetical 2027 New Year notice: 1-1 (Fri) … 1-3 off, no make-up days;
    # plus a make-up Saturday later in the year.
    overrides = year_schedule_overrides(
        2027,
        holidays=[date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)],
        workdays=[date(2027, 2, 6)],
        note="2027 年国务院安排",
    )
    assert len(overrides) == 365
    cal = WorkCalendar(overrides)
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.is_working_day(date(2027, 1, 4))
    assert cal.is_working_day(date(2027, 2, 6))  # Saturday, 调休
    assert not cal.is_working_day(date(2027, 1, 9))  # ordinary Saturday
    # Thu 2026-12-31 10:00 + 1 → Mon 2027-01-04 10:00.
    assert cal.add_working_days(sh(2026, 12, 31, 10), 1) == sh(2027, 1, 4, 10)


def test_year_schedule_rejects_dates_of_another_year_or_in_both_lists():
    with pytest.raises(ValueError):
        year_schedule_overrides(2027, holidays=[date(2026, 12, 31)])
    with pytest.raises(ValueError):
        year_schedule_overrides(2027, holidays=[date(2027, 2, 6)], workdays=[date(2027, 2, 6)])


# --- add_working_days: the counting rule -----------------------------------------


def test_zero_days_returns_start_unchanged_even_on_a_holiday(cal):
    start = sh(2026, 10, 3, 16, 45)  # National Day holiday
    assert cal.add_working_days(start, 0) is start


def test_negative_days_are_rejected(cal):
    with pytest.raises(ValueError):
        cal.add_working_days(sh(2026, 3, 2, 10), -1)


def test_naive_start_is_rejected(cal):
    with pytest.raises(ValueError):
        cal.add_working_days(datetime(2026, 3, 2, 10), 1)


def test_on_a_working_day_the_deadline_keeps_the_clock_time(cal):
    assert cal.add_working_days(sh(2026, 3, 2, 10), 1) == sh(2026, 3, 3, 10)  # Mon → Tue
    assert cal.add_working_days(sh(2026, 3, 6, 17, 30), 1) == sh(2026, 3, 9, 17, 30)  # Fri → Mon


def test_start_on_a_holiday_counts_from_midnight_of_the_next_working_day(cal):
    # Tue 2-17 (春节) 15:30: the clock starts Tue 2-24 00:00, so 1 working day
    # is all of 2-24 and the deadline is Wed 2-25 00:00.
    assert cal.add_working_days(sh(2026, 2, 17, 15, 30), 1) == sh(2026, 2, 25)
    # Labour Day (Fri 5-1) + 5: 5-6, 5-7, 5-8, 5-9 (Sat), 5-11 full → Tue 5-12 00:00.
    assert cal.add_working_days(sh(2026, 5, 1, 9), 5) == sh(2026, 5, 12)


def test_start_on_an_ordinary_sunday(cal):
    assert cal.add_working_days(sh(2026, 3, 8, 20), 1) == sh(2026, 3, 10)


@pytest.mark.parametrize(
    "start, n",
    [
        (sh(2026, 2, 13, 10), 3),
        (sh(2026, 2, 17, 15, 30), 2),
        (sh(2026, 4, 30, 23, 59), 5),
        (sh(2026, 9, 30, 0), 7),
        (sh(2026, 3, 6), 1),
    ],
)
def test_deadline_is_exactly_n_working_days_of_working_time_away(cal, start, n):
    assert cal.working_days_between(start, cal.add_working_days(start, n)) == pytest.approx(n)


# --- time zones -----------------------------------------------------------------


def test_days_are_judged_in_china_time_and_the_result_keeps_starts_zone(cal):
    # 2026-02-13 18:00 UTC is Saturday 2-14 02:00 in Beijing — a 调休 working day,
    # although in UTC it is still Friday.
    start = datetime(2026, 2, 13, 18, 0, tzinfo=timezone.utc)
    deadline = cal.add_working_days(start, 1)
    assert deadline.tzinfo is timezone.utc
    # Next working day after 2-14 is 2-24; 02:00 Beijing = 2-23 18:00 UTC.
    assert deadline == datetime(2026, 2, 23, 18, 0, tzinfo=timezone.utc)
    assert deadline == sh(2026, 2, 24, 2)


def test_another_calendar_zone_can_be_chosen():
    utc_cal = WorkCalendar(tz="UTC")
    start = datetime(2026, 2, 13, 18, 0, tzinfo=timezone.utc)  # Friday in UTC
    assert utc_cal.add_working_days(start, 1) == datetime(2026, 2, 14, 18, 0, tzinfo=timezone.utc)


# --- working_days_between --------------------------------------------------------


def test_between_counts_only_working_day_time(cal):
    assert cal.working_days_between(sh(2026, 3, 6, 12), sh(2026, 3, 9, 12)) == pytest.approx(1.0)  # Fri→Mon
    assert cal.working_days_between(sh(2026, 3, 2, 6), sh(2026, 3, 2, 18)) == pytest.approx(0.5)
    assert cal.working_days_between(sh(2026, 3, 7), sh(2026, 3, 8, 23)) == 0.0  # inside a weekend
    # Across the Spring Festival: Fri 2-13 00:00 → Wed 2-25 00:00 is 2-13, 2-14 (调休) and 2-24.
    assert cal.working_days_between(sh(2026, 2, 13), sh(2026, 2, 25)) == pytest.approx(3.0)


def test_between_is_negative_when_the_deadline_has_passed(cal):
    deadline = sh(2026, 3, 3, 10)
    now = sh(2026, 3, 4, 16)
    assert cal.working_days_between(now, deadline) == pytest.approx(-1.25)
    assert cal.working_days_between(deadline, now) == pytest.approx(1.25)
    assert cal.working_days_between(now, now) == 0.0


def test_between_accepts_mixed_zones(cal):
    start = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)  # Mon 10:00 Beijing
    assert cal.working_days_between(start, sh(2026, 3, 3, 10)) == pytest.approx(1.0)


def test_between_ending_at_midnight_needs_no_data_for_the_next_day(cal):
    assert cal.working_days_between(sh(2026, 12, 31, 12), sh(2027, 1, 1)) == pytest.approx(0.5)


# --- clock-hour helpers ----------------------------------------------------------


def test_working_hours_are_plain_clock_hours(cal):
    # Even across a holiday: hour limits are clock hours.
    assert cal.add_working_hours(sh(2026, 9, 30, 20), 24) == sh(2026, 10, 1, 20)
    utc_start = datetime(2026, 3, 2, 1, tzinfo=timezone.utc)
    result = cal.add_working_hours(utc_start, 1.5)
    assert result == datetime(2026, 3, 2, 2, 30, tzinfo=timezone.utc) and result.tzinfo is timezone.utc


def test_warning_starts_the_given_clock_hours_before_the_deadline(cal):
    deadline = sh(2026, 5, 11, 14, 30)
    assert cal.warning_at(deadline, 24) == sh(2026, 5, 10, 14, 30)
    assert cal.warning_at(deadline, 0) == deadline
    with pytest.raises(ValueError):
        cal.warning_at(deadline, -1)


# --- layering ------------------------------------------------------------------


def test_module_stays_free_of_framework_imports():
    tree = ast.parse(Path(calendar_module.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"flask", "sqlalchemy", "SpiffWorkflow", "spiffworkflow"}
