"""Warning lights and remaining working days of a task."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from service.domain.calendar import DayOverride, WorkCalendar
from service.models import HumanTask
from service.services.worklist import urgency

BJ = ZoneInfo("Asia/Shanghai")
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=BJ)


def task(created, due, warn=None) -> HumanTask:
    return HumanTask(id="t", created_at=created, due_at=due, warn_at=warn)


def test_no_due_time_means_no_light():
    assert urgency(task(MONDAY_9, None), MONDAY_9, WorkCalendar()).light is None


def test_green_until_the_last_quarter_of_the_limit_then_yellow_then_red():
    t = task(MONDAY_9, MONDAY_9 + timedelta(hours=8))
    calendar = WorkCalendar()
    assert urgency(t, MONDAY_9 + timedelta(hours=5, minutes=59), calendar).light == "green"
    assert urgency(t, MONDAY_9 + timedelta(hours=6), calendar).light == "yellow"
    assert urgency(t, MONDAY_9 + timedelta(hours=8), calendar).light == "red"


def test_an_explicit_warning_time_wins_over_the_quarter_rule():
    t = task(MONDAY_9, MONDAY_9 + timedelta(hours=8), warn=MONDAY_9 + timedelta(hours=1))
    assert urgency(t, MONDAY_9 + timedelta(hours=1), WorkCalendar()).light == "yellow"


def test_remaining_time_counts_working_days_only():
    friday_9 = datetime(2026, 3, 6, 9, 0, tzinfo=BJ)
    next_tuesday_9 = datetime(2026, 3, 10, 9, 0, tzinfo=BJ)
    t = task(friday_9, next_tuesday_9)
    assert urgency(t, friday_9, WorkCalendar()).remaining_days == 2.0      # Friday and Monday
    overdue = urgency(t, datetime(2026, 3, 10, 21, 0, tzinfo=BJ), WorkCalendar())
    assert overdue.light == "red" and overdue.remaining_days == -0.5


def test_a_deadline_past_the_calendar_data_says_so_instead_of_guessing():
    far = datetime(2031, 1, 6, 9, 0, tzinfo=BJ)
    result = urgency(task(MONDAY_9, far), MONDAY_9, WorkCalendar([DayOverride(far.date(), True)]))
    assert result.light == "green"
    assert result.remaining_days is None
    assert "工作日历没有" in result.calendar_problem
