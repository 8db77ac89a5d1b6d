"""The Flask-free application core: settings, database and engine, shared by web, CLI and worker."""
from __future__ import annotations

import threading
import time

from sqlalchemy import select

from .config import Settings
from .db import Database
from .domain.calendar import DayOverride, WorkCalendar
from .engine.runtime import Engine


class CalendarProvider:
    """The working-day calendar with the administrators' overrides, re-read at most every 30 s."""

    TTL = 30.0

    def __init__(self, db: Database):
        self._db = db
        self._calendar: WorkCalendar | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> WorkCalendar:
        if self._calendar is None or time.monotonic() - self._loaded_at > self.TTL:
            self.reload()
        return self._calendar

    def reload(self) -> None:
        from .models import CalendarOverride

        with self._lock:
            try:
                with self._db.session_factory() as session:
                    rows = session.scalars(select(CalendarOverride)).all()
                    overrides = [DayOverride(r.day, r.is_working, r.note or "") for r in rows]
            except Exception:  # noqa: BLE001 - before migrations ran there is no table yet
                overrides = []
            self._calendar = WorkCalendar(overrides)
            self._loaded_at = time.monotonic()


class Core:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.db = Database(settings.database_url)
        self.calendar = CalendarProvider(self.db)
        # Importing the domain helpers registers them before the script engine is built.
        from .domain import engine_helpers  # noqa: F401

        self.engine = Engine(self.calendar)

    def uow(self):
        return self.db.uow()

    def close(self) -> None:
        self.db.dispose()
