"""Engine throughput: the service layer (SQLite, PostgreSQL) against bare SpiffWorkflow in memory.

Each instance of the test diagram runs start → 4 user tasks (with the gateway and a boundary
timer) → end. The baseline is SpiffWorkflow alone on the same diagram, in the same run.

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
from sqlalchemy import select

from bench._setup import FIXTURES, STEPS, database_urls, fresh_core  # noqa: E402
from service.engine import helpers
from service.engine.helpers import StepContext, step_context
from service.domain.calendar import default_calendar
from service.models import HumanTask, User
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
    core = fresh_core(url)
    with core.uow() as uow:
        users = {u.username: u.id for u in uow.session.scalars(select(User))}
    started = time.perf_counter()
    for _ in range(n):
        with core.uow() as uow:
            instance, tasks = start_instance(core, uow.session, uow.session.get(User, users["t01_office"]),
                                             "simple_call", {"title": "渣土遗撒"})
            uow.commit()
            instance_id = instance.id
        for username, data in STEPS:
            with core.uow() as uow:
                task_id = uow.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id)).one()
                complete_task(core, uow.session, uow.session.get(User, users[username]), task_id, data)
                uow.commit()
    rate = n / (time.perf_counter() - started)
    core.close()
    return rate


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    bare_spiff(20)  # warm-up: imports, parser caches
    baseline = bare_spiff(n)
    print(f"{'bare SpiffWorkflow (memory)':32s} {baseline:8.1f} instances/s   1.00x")
    for label, url in database_urls().items():
        rate = service_layer(url, n)
        print(f"{'service layer, ' + label:32s} {rate:8.1f} instances/s   {rate / baseline:.2f}x")


if __name__ == "__main__":
    main()
