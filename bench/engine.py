"""Engine throughput: the service layer (SQLite, PostgreSQL) against bare SpiffWorkflow in memory.

Each instance of the test diagram runs start → 4 user tasks (with the gateway and a boundary
timer) → end. The baseline is SpiffWorkflow alone on the same diagram, in the same run.

Per database it also measures the durable writes alone: the five transactions an instance
commits (one per call, as the API must), with the statements the service issues and a workflow
text of the service's size, but no engine, no validation, no ORM — once through SQLAlchemy Core
with prepared statements and once through the bare driver. Any service that commits each call
is bounded by ``1 / (1/bare + 1/writes)``; the "ceiling" column prints that bound as a ratio.

    .venv/bin/python -m bench.engine [N]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, delete, insert, select, update

from bench._setup import FIXTURES, STEPS, database_urls, fresh_core  # noqa: E402
from service.engine import helpers
from service.engine.helpers import StepContext, step_context
from service.domain.calendar import default_calendar
from service.db import utcnow
from service.models import HumanTask, InstanceEvent, ProcessDefinition, ProcessInstance, User
from service.services.auth import load_user
from service.services.instances import complete_task, start_instance


def bare_spiff(n: int) -> float:
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(FIXTURES / "bpmn" / "simple_call.bpmn"))
    spec = parser.get_spec("simple_call")
    subprocesses = parser.get_subprocess_specs("simple_call")
    started = time.perf_counter()
    # record_event and hours_later are our helpers; the bare engine gets them as plain globals.
    with step_context(StepContext(calendar=default_calendar())):
        for _ in range(n):
            workflow = BpmnWorkflow(spec, subprocesses)
            workflow.script_engine.environment.globals.update(helpers.registered_helpers())
            for task in workflow.get_tasks(state=TaskState.READY):
                task.data.update({"title": "渣土遗撒"})
            workflow.do_engine_steps()
            for _, data in STEPS:
                task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
                task.data.update(data)
                task.run()
                workflow.do_engine_steps()
            assert workflow.is_completed()
    return n / (time.perf_counter() - started)


def service_layer(url: str, n: int) -> float:
    """What the API does per call, without HTTP: load the user, run the use case, commit; the next
    task comes from the previous call's answer, as a client gets it."""
    core = fresh_core(url)
    with core.uow() as uow:
        users = {u.username: u.id for u in uow.session.scalars(select(User))}
    started = time.perf_counter()
    for _ in range(n):
        with core.uow() as uow:
            user = load_user(uow.session, users["t01_office"])
            _, tasks = start_instance(core, uow.session, user, "simple_call", {"title": "渣土遗撒"})
            uow.commit()
        for username, data in STEPS:
            with core.uow() as uow:
                user = load_user(uow.session, users[username])
                _, tasks = complete_task(core, uow.session, user, tasks[0].id, data)
                uow.commit()
    rate = n / (time.perf_counter() - started)
    with core.uow() as uow:
        size = max(len(text) for text in uow.session.scalars(select(ProcessInstance.serialized)))
    core.close()
    return rate, size



_PI, _HT, _EV = ProcessInstance.__table__, HumanTask.__table__, InstanceEvent.__table__
_SELECT_TASK = select(_HT, _PI.c.version).join(_PI, _PI.c.id == _HT.c.instance_id).where(_HT.c.id == bindparam("tid"))
_UPDATE_INSTANCE = (update(_PI).where(_PI.c.id == bindparam("iid"), _PI.c.version == bindparam("old"))
                    .values(version=bindparam("new"), serialized=bindparam("text"), updated_at=bindparam("now")))
_DELETE_TASK = delete(_HT).where(_HT.c.id == bindparam("tid"))


def _writes_fixture(url: str):
    core = fresh_core(url)
    with core.db.engine.begin() as conn:
        definition_id = conn.execute(select(ProcessDefinition.id)).scalars().first()
        conn.execute(insert(_PI), [dict(id=1, definition_id=definition_id, process_key="simple_call", status="running",
                                        serialized="{}", version=1, summary={})])
        conn.execute(insert(_HT), [dict(id="t0", instance_id=1, process_key="simple_call", element_id="e", title="登记")])
    return core


def _event(kind: str) -> dict:
    return dict(instance_id=1, at=utcnow(), kind=kind, username="bench", message="任务", data={"changed": {}})


def writes_through_core(url: str, n: int, size: int) -> float:
    """Instances/s of the durable writes alone, through SQLAlchemy Core with prepared statements."""
    core = _writes_fixture(url)
    engine, text = core.db.engine, "x" * size
    started = time.perf_counter()
    for step in range(n * 5):
        with engine.begin() as conn:
            row = conn.execute(_SELECT_TASK, {"tid": f"t{step}"}).one()
            result = conn.execute(_UPDATE_INSTANCE, {"iid": 1, "old": row.version, "new": row.version + 1,
                                                     "text": text, "now": utcnow()})
            assert result.rowcount == 1
            conn.execute(_DELETE_TASK, {"tid": f"t{step}"})
            conn.execute(insert(_HT), [dict(id=f"t{step + 1}", instance_id=1, process_key="simple_call",
                                            element_id="e", title="登记", created_at=utcnow())])
            conn.execute(insert(_EV), [_event("task_completed"), _event("task_ready")])
    rate = n / (time.perf_counter() - started)
    core.close()
    return rate


def writes_through_driver(url: str, n: int, size: int) -> float:
    """The same writes through the bare DB-API driver: the floor of the database itself."""
    core = _writes_fixture(url)
    mark = "%s" if core.db.is_postgres else "?"
    q = lambda sql: sql.replace("?", mark)  # noqa: E731
    raw = core.db.engine.raw_connection()
    cursor, text, now = raw.cursor(), "x" * size, utcnow().isoformat()
    started = time.perf_counter()
    for step in range(n * 5):
        cursor.execute(q("SELECT h.*, p.version FROM human_task h JOIN process_instance p ON p.id = h.instance_id "
                         "WHERE h.id = ?"), (f"t{step}",))
        version = cursor.fetchone()[-1]
        cursor.execute(q("UPDATE process_instance SET version = ?, serialized = ?, updated_at = ? "
                         "WHERE id = 1 AND version = ?"), (version + 1, text, now, version))
        assert cursor.rowcount == 1
        cursor.execute(q("DELETE FROM human_task WHERE id = ?"), (f"t{step}",))
        cursor.execute(q("INSERT INTO human_task (id, instance_id, process_key, element_id, title, created_at) "
                         "VALUES (?, 1, 'simple_call', 'e', '登记', ?)"), (f"t{step + 1}", now))
        cursor.executemany(q("INSERT INTO instance_event (instance_id, at, kind, username, message, data) "
                             "VALUES (1, ?, ?, 'bench', '任务', '{}')"), [(now, "task_completed"), (now, "task_ready")])
        raw.commit()
    rate = n / (time.perf_counter() - started)
    raw.close()
    core.close()
    return rate


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    bare_spiff(20)  # warm-up: imports, parser caches
    baseline = bare_spiff(n)

    def line(label, rate, note=""):
        print(f"{label:50s} {rate:8.1f} instances/s   {rate / baseline:5.2f}x   {note}")

    def ceiling(writes):
        return f"ceiling {1 / (1 + baseline / writes):.2f}x"

    line("bare SpiffWorkflow (memory)", baseline)
    for label, url in database_urls().items():
        rate, size = service_layer(url, n)
        core_writes = writes_through_core(url, n, size)
        driver_writes = writes_through_driver(url, n, size)
        line(f"{label}: durable writes alone, bare driver", driver_writes, ceiling(driver_writes))
        line(f"{label}: durable writes alone, SQLAlchemy Core", core_writes, ceiling(core_writes))
        line(f"service layer, {label}", rate, f"(workflow text {size / 1024:.1f} KB)")


if __name__ == "__main__":
    main()
