"""The timer worker: fires due timers within a second of their due time.

On PostgreSQL each due instance is taken with ``FOR UPDATE SKIP LOCKED``, so any number of
workers on any number of machines fire each timer exactly once; on SQLite run one worker.
The worker sleeps until the earliest due time, but never longer than ``worker_max_sleep``
(a timer created by another process is seen within that bound).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import func, select

from .engine import clock
from .engine.store import Actor, EngineError
from .models import ProcessInstance
from .services.instances import fire_timers, record_timer_failure
from .uploads import UploadStore

log = logging.getLogger("shudi.worker")
HOUSEKEEPING_EVERY = 3600.0  # seconds between prunes of abandoned uploads


class TimerWorker:
    def __init__(self, core, name: str | None = None):
        self.core = core
        self.name = name or f"worker:{socket.gethostname()}:{os.getpid()}"
        # Events written by this worker carry its name, so a trace shows who fired what.
        self.actor = Actor(None, self.name[:64])
        self._stop = threading.Event()
        self.fired = 0
        self._next_housekeeping = 0.0

    def _due_query(self, now: datetime):
        stmt = (select(ProcessInstance)
                .where(ProcessInstance.status == "running", ProcessInstance.next_timer_at < now)
                .order_by(ProcessInstance.next_timer_at).limit(1))
        if self.core.db.is_postgres:
            stmt = stmt.with_for_update(skip_locked=True, of=ProcessInstance)
        return stmt

    def run_once(self, limit: int = 1000) -> int:
        """Fire every timer due now; returns how many instances were stepped."""
        count = 0
        while count < limit and not self._stop.is_set():
            if not self._fire_one(clock.now()):
                break
            count += 1
        self.fired += count
        return count

    def _fire_one(self, now: datetime) -> bool:
        with self.core.uow() as uow:
            instance = uow.session.execute(self._due_query(now)).unique().scalar_one_or_none()
            if instance is None:
                return False
            instance_id = instance.id
            try:
                fire_timers(self.core, uow.session, instance, self.actor)
                uow.commit()
                return True
            except EngineError as err:
                uow.rollback()
                failure = err
        log.warning("timer of instance %s failed: %s", instance_id, failure)
        self.core.engine.workflows.drop(instance_id)
        with self.core.uow() as uow:
            instance = uow.session.get(ProcessInstance, instance_id, with_for_update=True)
            if instance is not None and instance.status == "running":
                record_timer_failure(self.core, uow.session, instance, failure, self.actor)
                uow.commit()
        return True

    def seconds_until_next(self) -> float:
        with self.core.uow() as uow:
            earliest = uow.session.scalar(select(func.min(ProcessInstance.next_timer_at))
                                          .where(ProcessInstance.status == "running"))
        limit = self.core.settings.worker_max_sleep
        if earliest is None:
            return limit
        return max(0.0, min(limit, (earliest - clock.now()).total_seconds()))

    def housekeeping(self) -> int:
        """Delete uploaded files no accepted submission ever carried (abandoned forms)."""
        settings = self.core.settings
        store = UploadStore(settings.var_dir, settings.upload_max_bytes)
        pruned = store.prune(timedelta(hours=settings.upload_retention_hours))
        if pruned:
            log.info("pruned %d abandoned uploads older than %s h", pruned, settings.upload_retention_hours)
        return pruned

    def run_forever(self) -> None:
        log.info("%s started", self.name)
        while not self._stop.is_set():
            try:
                if time.monotonic() >= self._next_housekeeping:
                    self._next_housekeeping = time.monotonic() + HOUSEKEEPING_EVERY
                    self.housekeeping()
                self.run_once()
                delay = self.seconds_until_next()
            except Exception:  # noqa: BLE001 - a database hiccup must not kill the worker
                log.exception("worker loop failed; retrying in 1 s")
                delay = 1.0
            self._stop.wait(delay)

    def stop(self) -> None:
        self._stop.set()

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name=self.name, daemon=True)
        thread.start()
        return thread
