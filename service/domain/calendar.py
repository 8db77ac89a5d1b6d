"""Working-day calendar for Chinese administrative time limits.

Administrative time limits are stated in working days, and China moves weekend
days to make up for public holidays (调休), so a Monday–Friday rule gives wrong
deadlines. The official schedule comes from ``chinese_calendar``; administrators
can override single days (for example to load next year's State Council
schedule before the library knows it).

Pure domain code: no Flask, SQLAlchemy or SpiffWorkflow.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from types import MappingProxyType
from zoneinfo import ZoneInfo

import chinese_calendar

__all__ = [
    "CalendarOutOfRange",
    "DayOverride",
    "WorkCalendar",
    "default_calendar",
    "year_schedule_overrides",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _library_range() -> tuple[date, date]:
    # chinese_calendar validates by whole years (it raises NotImplementedError
    # for any year outside its holiday table), so its data covers 1 January of
    # the first year to 31 December of the last year it lists.
    years = [d.year for d in chinese_calendar.holidays]
    return date(min(years), 1, 1), date(max(years), 12, 31)


_LIBRARY_FIRST, _LIBRARY_LAST = _library_range()


class CalendarOutOfRange(Exception):
    """No schedule is known for ``day``: neither the library nor an override covers it."""

    def __init__(self, day: date) -> None:
        self.day = day
        # The message is shown to users as is, so it is in Chinese and names the date.
        super().__init__(f"工作日历没有 {day.isoformat()} 的数据：请管理员录入该年度节假日安排")

    def __reduce__(self):
        # Rebuild from the date, not from the message (keeps pickling / copying working).
        return (type(self), (self.day,))


@dataclass(frozen=True)
class DayOverride:
    """An administrator's decision that ``day`` is (or is not) a working day."""

    day: date
    is_working: bool
    note: str = ""

    def __post_init__(self) -> None:
        # A datetime is a date subclass, but which calendar day it means depends
        # on a time zone; accepting it would silently pick one.
        if not isinstance(self.day, date) or isinstance(self.day, datetime):
            raise TypeError(f"DayOverride.day must be a date, got {self.day!r}")
        if not isinstance(self.is_working, bool):
            raise TypeError(f"DayOverride.is_working must be a bool, got {self.is_working!r}")


class WorkCalendar:
    """Chinese working-day calendar: overrides first, then chinese_calendar.

    Days outside the library's data and without an override raise
    CalendarOutOfRange: a guessed Monday–Friday week would produce wrong
    legal deadlines without anyone noticing.
    """

    def __init__(self, overrides: Iterable[DayOverride] = (), tz: tzinfo | str = SHANGHAI) -> None:
        self.tz: tzinfo = ZoneInfo(tz) if isinstance(tz, str) else tz
        by_day: dict[date, DayOverride] = {}
        for override in overrides:
            if not isinstance(override, DayOverride):
                raise TypeError(f"expected DayOverride, got {override!r}")
            # Later entries win, so local adjustments can be layered over a
            # bulk-loaded year (see year_schedule_overrides).
            by_day[override.day] = override
        self._overrides = by_day

    @property
    def overrides(self) -> Mapping[date, DayOverride]:
        """The effective overrides by day (read-only)."""
        return MappingProxyType(self._overrides)

    def known_range(self) -> tuple[date, date]:
        """First and last date covered by chinese_calendar's data (overrides not included)."""
        return _LIBRARY_FIRST, _LIBRARY_LAST

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is a working day; raises CalendarOutOfRange if unknown."""
        if not isinstance(d, date) or isinstance(d, datetime):
            # Same reason as DayOverride: a datetime's day depends on the time zone.
            raise TypeError(f"is_working_day expects a date, got {d!r}")
        override = self._overrides.get(d)
        if override is not None:
            return override.is_working
        if not (_LIBRARY_FIRST <= d <= _LIBRARY_LAST):
            raise CalendarOutOfRange(d)
        try:
            return chinese_calendar.is_workday(d)
        except NotImplementedError as exc:  # defensive: library range changed under us
            raise CalendarOutOfRange(d) from exc

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """Deadline ``n`` working days after ``start``.

        Rule (computed on the wall clock of the calendar's time zone):

        * ``start`` on a working day: the deadline is the same clock time on the
          n-th working day after start's day (Mon 10:00 + 1 → Tue 10:00; Fri
          10:00 + 1 → next working day 10:00).
        * ``start`` on a non-working day: the clock starts at 00:00 of the next
          working day, so the deadline is 00:00 of the n-th working day after
          that one (holiday Sun 15:00 + 1 → Tue 00:00, i.e. all of Monday).
        * ``n == 0`` returns ``start`` unchanged; ``n < 0`` raises ValueError.

        Equivalently: the deadline is the instant at which exactly ``n`` days of
        working-day time have elapsed (``working_days_between(start, result) ==
        n``), and it always falls on a working day. The result is aware, in
        start's time zone.
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, got {n!r}")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        local = self._to_local(start, "start")
        if n == 0:
            return start
        day, clock = local.date(), local.time()
        if not self.is_working_day(day):
            day, clock = self._next_working_day(day), time(0)
        for _ in range(n):
            day = self._next_working_day(day)
        return datetime.combine(day, clock, tzinfo=self.tz).astimezone(start.tzinfo)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """``start`` plus ``hours`` elapsed clock hours.

        Hour-based limits are applied as plain clock hours (nights, weekends and
        holidays included), which is how short limits such as "24 小时内" are
        handled in practice; this is deliberately not working-hour arithmetic.
        """
        if hours < 0:
            raise ValueError(f"hours must be >= 0, got {hours}")
        self._to_local(start, "start")
        return _shift(start, timedelta(hours=hours))

    def working_days_between(self, start: datetime, end: datetime) -> float:
        """Working-day time from ``start`` to ``end``, in days (negative if end < start).

        Only time that falls on working days counts, each working day weighing
        1.0; e.g. Friday 12:00 → Monday 12:00 across a normal weekend is 1.0.
        Used for "remaining time in working days" in task lists.
        """
        a = self._to_local(start, "start")
        b = self._to_local(end, "end")
        if b < a:
            return -self.working_days_between(end, start)
        total = 0.0
        day = a.date()
        while day <= b.date():
            day_start = self._midnight(day)
            day_end = self._midnight(day + timedelta(days=1))
            lo, hi = max(a, day_start), min(b, day_end)
            # Skip empty overlaps before asking the calendar: an interval that
            # ends at 00:00 must not require data for the day it ends on.
            if hi > lo and self.is_working_day(day):
                total += _seconds(lo, hi) / _seconds(day_start, day_end)
            day += timedelta(days=1)
        return total

    def warning_at(self, deadline: datetime, warn_before_hours: float) -> datetime:
        """When the yellow warning starts: ``deadline`` minus clock hours, in deadline's time zone."""
        if warn_before_hours < 0:
            raise ValueError(f"warn_before_hours must be >= 0, got {warn_before_hours}")
        self._to_local(deadline, "deadline")
        return _shift(deadline, -timedelta(hours=warn_before_hours))

    # -- helpers ---------------------------------------------------------------

    def _next_working_day(self, d: date) -> date:
        # Terminates: within the library's data there is always a working day
        # ahead, and past it every day without an override raises.
        d += timedelta(days=1)
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def _midnight(self, d: date) -> datetime:
        return datetime.combine(d, time(0), tzinfo=self.tz)

    def _to_local(self, value: datetime, name: str) -> datetime:
        if not isinstance(value, datetime):
            raise TypeError(f"{name} must be a datetime, got {value!r}")
        # A naive datetime has no defined instant; guessing a zone would shift deadlines.
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware, got {value!r}")
        return value.astimezone(self.tz)


def _seconds(a: datetime, b: datetime) -> float:
    # Subtract in UTC: aware datetimes sharing a tzinfo subtract as wall clock,
    # which is wrong across DST changes for zones that have them.
    return (b.astimezone(timezone.utc) - a.astimezone(timezone.utc)).total_seconds()


def _shift(moment: datetime, delta: timedelta) -> datetime:
    # Elapsed-time arithmetic (in UTC), returned in the caller's zone.
    return (moment.astimezone(timezone.utc) + delta).astimezone(moment.tzinfo)


def default_calendar() -> WorkCalendar:
    """A WorkCalendar in Asia/Shanghai without overrides."""
    return WorkCalendar()


def year_schedule_overrides(
    year: int,
    holidays: Collection[date],
    workdays: Collection[date] = (),
    note: str = "",
) -> list[DayOverride]:
    """One DayOverride for every day of ``year`` from a published schedule.

    ``holidays`` are days off (on weekdays or weekends), ``workdays`` the
    make-up weekend days (调休); every other day follows Monday–Friday. Because
    the calendar never guesses beyond its data, loading a new year means
    covering every day, which this builds from the short official notice.
    """
    holidays, workdays = set(holidays), set(workdays)
    stray = sorted(d for d in holidays | workdays if d.year != year)
    if stray:
        raise ValueError(f"dates outside {year}: {', '.join(d.isoformat() for d in stray)}")
    both = sorted(holidays & workdays)
    if both:
        raise ValueError(f"dates both holiday and workday: {', '.join(d.isoformat() for d in both)}")
    result = []
    d = date(year, 1, 1)
    while d.year == year:
        working = d in workdays or (d.weekday() < 5 and d not in holidays)
        result.append(DayOverride(d, working, note))
        d += timedelta(days=1)
    return result
