"""Injectable time.

SpiffWorkflow reads ``datetime.now(timezone.utc)`` inside its timer module; we point that module
at a ``datetime`` subclass whose ``now()`` asks our clock, so tests drive timers by moving a
clock instead of sleeping, and the service, the worker and the engine all agree on "now".
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that only moves when told to (tests, simulations)."""

    def __init__(self, start: datetime | None = None):
        self._now = start or datetime.now(timezone.utc)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when

    def advance(self, **delta) -> datetime:
        with self._lock:
            self._now = self._now + timedelta(**delta)
            return self._now


_current = SystemClock()


def get_clock():
    return _current


def set_clock(clock) -> None:
    global _current
    _current = clock


def now() -> datetime:
    return _current.now()


class _ClockDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        value = _current.now()
        return value.astimezone(tz) if tz is not None else value.astimezone().replace(tzinfo=None)


_spiff_timer.datetime = _ClockDatetime
