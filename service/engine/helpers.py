"""Named helper functions that BPMN expressions and scripts may call.

Diagrams stay readable for civil servants by calling a named helper (``工作日期限``-style
arithmetic, catalog lookups) instead of carrying Python. Each helper runs inside a step context
that tells it the clock, the working-day calendar and where to record events.
"""
from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from ..domain.calendar import WorkCalendar
from . import clock

_HELPERS: dict[str, Callable] = {}


@dataclass
class StepContext:
    calendar: WorkCalendar
    instance_id: int | None = None
    events: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    # The instance's database session, for helpers that read domain data (the catalog);
    # None where no instance is involved (deploy-time checks).
    session: Any = None


_context: contextvars.ContextVar[StepContext | None] = contextvars.ContextVar("shudi_step", default=None)


def current() -> StepContext:
    ctx = _context.get()
    if ctx is None:
        raise RuntimeError("helper called outside an engine step")
    return ctx


class step_context:
    """``with step_context(ctx):`` — helpers called inside see ``ctx``."""

    def __init__(self, ctx: StepContext):
        self.ctx = ctx
        self._token = None

    def __enter__(self) -> StepContext:
        self._token = _context.set(self.ctx)
        return self.ctx

    def __exit__(self, *exc):
        _context.reset(self._token)


def helper(name: str | None = None):
    """Register a function under ``name`` for use in BPMN expressions."""
    def register(fn):
        _HELPERS[name or fn.__name__] = fn
        return fn
    return register


def registered_helpers() -> dict[str, Callable]:
    return dict(_HELPERS)


def parse_instant(value) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"时间「{value}」缺少时区")
    return moment


def _local_now() -> datetime:
    return clock.now().astimezone(current().calendar.tz)


@helper("now")
def now_iso() -> str:
    """The current time (Beijing time) as an ISO 8601 string."""
    return _local_now().isoformat()


@helper()
def working_days_later(days: int, start: str | None = None) -> str:
    """The deadline ``days`` working days after ``start`` (default: now), 调休 included."""
    begin = parse_instant(start) if start else _local_now()
    return current().calendar.add_working_days(begin, int(days)).isoformat()


@helper()
def hours_later(hours: float, start: str | None = None) -> str:
    """The instant ``hours`` clock hours after ``start`` (default: now)."""
    begin = parse_instant(start) if start else _local_now()
    return current().calendar.add_working_hours(begin, float(hours)).isoformat()


@helper()
def hours_before(deadline: str, hours: float) -> str:
    """When the yellow warning before ``deadline`` starts."""
    return current().calendar.warning_at(parse_instant(deadline), float(hours)).isoformat()


@helper()
def record_event(kind: str, message: str, **data) -> bool:
    """Write an entry to the instance's event log (e.g. an escalation)."""
    current().events.append({"kind": str(kind)[:32], "message": str(message), "data": data or None})
    return True


@helper()
def set_summary(**fields) -> bool:
    """Searchable facts about the instance (title, township, catalog item …) for lists."""
    current().summary.update(fields)
    return True
