"""Known SpiffWorkflow 3.2 pitfalls, each guarded (see the foundation issue)."""
from __future__ import annotations

import threading
from datetime import date

import pytest

from conftest import FIXTURES
from service.errors import Conflict
from service.models import ProcessInstance, User
from service.services.deployments import deploy, read_folder
from service.services.instances import complete_task, start_instance


def _user(session, username):
    return session.query(User).filter_by(username=username).one()


def _start(core, username="t01_office", key="simple_call", data=None):
    with core.uow() as uow:
        instance, tasks = start_instance(core, uow.session, _user(uow.session, username), key,
                                         data if data is not None else {"title": "测试"})
        uow.commit()
        return instance.id, [t.id for t in tasks]


def test_dates_in_task_data_survive_serialization(core, deployed):
    instance_id, _ = _start(core)
    with core.uow() as uow:
        instance = uow.session.get(ProcessInstance, instance_id)
        workflow = core.engine.restore(instance)
        task = core.engine.ready_human_tasks(workflow)[0]
        task.data["found_on"] = date(2026, 2, 14)
        text = core.engine.dump(workflow)
    core.engine.reset_caches()
    with core.uow() as uow:
        instance = uow.session.get(ProcessInstance, instance_id)
        process = core.engine.process_for(instance.definition)
        restored = core.engine.serializer.load(text, process.spec, process.subprocess_specs)
        assert core.engine.ready_human_tasks(restored)[0].data["found_on"] == date(2026, 2, 14)


def test_instances_are_stored_without_their_spec(core, deployed):
    instance_id, _ = _start(core)
    with core.uow() as uow:
        serialized = uow.session.get(ProcessInstance, instance_id).serialized
    assert '"spec"' not in serialized and "subprocess_specs" not in serialized
    assert "登记呼叫" not in serialized  # element names live in the spec, not in every row


def test_runaway_loop_fails_loudly_instead_of_stopping_silently(core, users):
    bpmn, forms = read_folder(FIXTURES / "bpmn_extra", FIXTURES / "forms")
    with core.uow() as uow:
        deploy(core, uow.session, {"runaway_loop.bpmn": bpmn["runaway_loop.bpmn"]}, forms, deployed_by="test")
        uow.commit()
    from service.engine.store import EngineError

    with pytest.raises(EngineError, match="循环次数过多"):
        _start(core, username="admin", key="runaway_loop", data={})
    with core.uow() as uow:
        assert uow.session.query(ProcessInstance).count() == 0  # rolled back: nothing half-stored


def test_nested_submitted_data_is_copied_not_shared(core, deployed):
    _, (task_id,) = _start(core)
    details = {"place": "青驼镇东村"}
    with core.uow() as uow:
        complete_task(core, uow.session, _user(uow.session, "t01_office"), task_id,
                      {"call_county": False, "description": "x", "details": details})
        uow.commit()
    details["place"] = "被调用方修改"
    with core.uow() as uow:
        instance = uow.session.query(ProcessInstance).one()
        local = core.engine.peek(instance, lambda wf: dict(core.engine.ready_human_tasks(wf)[0].data))
    assert local["details"] == {"place": "青驼镇东村"}


def test_two_threads_completing_the_same_task_exactly_one_wins(core, deployed):
    instance_id, (task_id,) = _start(core)
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt(n):
        with core.uow() as uow:
            user = _user(uow.session, "t01_office")
            try:
                barrier.wait()
                complete_task(core, uow.session, user, task_id,
                              {"call_county": True, "dept": "zjj", "description": f"线程{n}"})
                uow.commit()
                outcomes.append("ok")
            except Conflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    with core.uow() as uow:
        instance = uow.session.get(ProcessInstance, instance_id)
        from service.models import InstanceEvent
        completions = uow.session.query(InstanceEvent).filter_by(instance_id=instance_id, kind="task_completed").count()
        assert completions == 1
        assert instance.version == 3  # created (1), started (2), one completion (3)
