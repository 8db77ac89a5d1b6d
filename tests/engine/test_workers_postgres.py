"""Several worker processes on PostgreSQL fire every due timer exactly once (SKIP LOCKED)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from conftest import FIXTURES
from service.engine.clock import SystemClock
from service.engine import clock as clock_module
from service.models import InstanceEvent, ProcessInstance, User
from service.services.deployments import deploy, read_folder
from service.services.instances import start_instance

pytestmark = pytest.mark.postgres
TIMERS = 200


@pytest.fixture
def real_clock(core):
    # The worker processes run on the real clock, so this test does too.
    previous = clock_module.get_clock()
    clock_module.set_clock(SystemClock())
    yield
    clock_module.set_clock(previous)


def test_two_worker_processes_fire_200_timers_exactly_once(core, users, real_clock, settings):
    if not core.db.is_postgres:
        pytest.skip("SKIP LOCKED needs PostgreSQL; .ci/run runs this suite on PostgreSQL too")
    bpmn, forms = read_folder(FIXTURES / "bpmn_extra", FIXTURES / "forms")
    fire_at = (datetime.now(timezone.utc) + timedelta(seconds=3)).isoformat()
    with core.uow() as uow:
        deploy(core, uow.session, {"timer_only.bpmn": bpmn["timer_only.bpmn"]}, forms, deployed_by="test")
        admin = uow.session.scalars(select(User).where(User.username == "admin")).one()
        for _ in range(TIMERS):
            start_instance(core, uow.session, admin, "timer_only", {"fire_at": fire_at})
        uow.commit()

    env = {**os.environ, "DATABASE_URL": settings.database_url, "SECRET_KEY": "test", "LOG_LEVEL": "WARNING"}
    workers = [subprocess.Popen([sys.executable, "-m", "service.cli", "worker"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with core.uow() as uow:
                running = uow.session.scalar(select(func.count()).select_from(ProcessInstance)
                                             .where(ProcessInstance.status == "running"))
            if running == 0:
                break
            time.sleep(0.2)
    finally:
        for w in workers:
            w.terminate()
        outputs = [w.communicate(timeout=20)[0].decode(errors="replace") for w in workers]

    with core.uow() as uow:
        fired = uow.session.execute(select(InstanceEvent.instance_id, InstanceEvent.username)
                                    .where(InstanceEvent.kind == "timer_fired")).all()
        reminders = uow.session.scalar(select(func.count()).select_from(InstanceEvent)
                                       .where(InstanceEvent.kind == "reminder"))
        statuses = Counter(uow.session.scalars(select(ProcessInstance.status)))
    per_instance = Counter(instance_id for instance_id, _ in fired)
    assert statuses == {"completed": TIMERS}, outputs
    assert len(per_instance) == TIMERS and set(per_instance.values()) == {1}
    assert reminders == TIMERS
    by_worker = Counter(name for _, name in fired)
    print("timers fired per worker:", dict(by_worker))
