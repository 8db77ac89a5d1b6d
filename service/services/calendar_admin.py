"""Administrators' overrides of the working-day calendar.

chinesecalendar knows the State Council's schedules up to its release; the next year's schedule
(published around November) is entered here, day by day or as a whole year from the notice.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select

from ..domain.calendar import year_schedule_overrides
from ..errors import Forbidden, Invalid, NotFound
from ..models import CalendarOverride, User


def _require_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("只有系统管理员可以修改工作日历")


def list_overrides(session, year: int | None = None) -> list[CalendarOverride]:
    stmt = select(CalendarOverride).order_by(CalendarOverride.day)
    if year is not None:
        stmt = stmt.where(CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31))
    return list(session.scalars(stmt))


def set_override(session, user: User, day: date, is_working: bool, note: str = "") -> CalendarOverride:
    _require_admin(user)
    if len(note or "") > 200:
        raise Invalid("说明过长", {"note": ["说明不能超过 200 个字符"]})
    row = session.scalar(select(CalendarOverride).where(CalendarOverride.day == day))
    if row is None:
        row = CalendarOverride(day=day, is_working=is_working, note=note or "")
        session.add(row)
    else:
        row.is_working, row.note = is_working, note or ""
    session.flush()
    return row


def delete_override(session, user: User, day: date) -> None:
    _require_admin(user)
    if session.execute(delete(CalendarOverride).where(CalendarOverride.day == day)).rowcount == 0:
        raise NotFound(f"{day.isoformat()} 没有人工设置")


def load_year(session, user: User, year: int, holidays: list[date], workdays: list[date], note: str) -> int:
    """Enter a whole year's schedule: listed holidays off, listed make-up days on, else Mon–Fri."""
    _require_admin(user)
    try:
        days = year_schedule_overrides(year, holidays, workdays, note)
    except ValueError as err:
        raise Invalid("节假日安排有误", {"holidays": [str(err)]}) from None
    session.execute(delete(CalendarOverride).where(CalendarOverride.day >= date(year, 1, 1),
                                                    CalendarOverride.day <= date(year, 12, 31)))
    session.add_all(CalendarOverride(day=d.day, is_working=d.is_working, note=d.note) for d in days)
    session.flush()
    return len(days)
