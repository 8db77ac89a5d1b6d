"""Timers fire from an injected clock through the worker, and failures become incidents."""
from __future__ import annotations

from sqlalchemy import select

from service.models import InstanceEvent, ProcessInstance
from service.worker import TimerWorker


def call_into_handling(api):
    instance = api.start("t01_office", "simple_call", {"title": "施工扬尘"}).json()
    register = api.tasks("t01_office")[0]
    api.complete("t01_office", register["id"], {"call_county": True, "dept": "zjj", "description": "扬尘"})
    receive = api.tasks("zjj_contact")[0]
    api.complete("zjj_contact", receive["id"], {"receiver": "张三"})
    return instance


def events(core, instance_id):
    with core.uow() as uow:
        return [(e.kind, e.element_id) for e in uow.session.scalars(
            select(InstanceEvent).where(InstanceEvent.instance_id == instance_id).order_by(InstanceEvent.id))]


def test_boundary_timer_fires_when_the_clock_passes_its_due_time(api, deployed, core, clock):
    instance = call_into_handling(api)
    detail = api.get(f"/api/process-instances/{instance['id']}", "admin").json()
    due = detail["next_timer_at"]
    assert due is not None
    worker = TimerWorker(core)

    clock.advance(hours=1, minutes=59)
    assert worker.run_once() == 0
    assert api.tasks("supervisor") == []

    clock.advance(minutes=2)
    assert worker.run_once() == 1
    supervise = api.tasks("supervisor")
    assert [t["title"] for t in supervise] == ["督办"]
    # Non-interrupting: the department's task stays open.
    assert [t["title"] for t in api.tasks("zjj_contact")] == ["部门办理"]
    kinds = events(core, instance["id"])
    assert ("timer_fired", "handle_overdue") in kinds
    assert ("escalation", None) in kinds
    # Fired once: nothing is due any more.
    assert worker.run_once() == 0
    assert api.get(f"/api/process-instances/{instance['id']}", "admin").json()["next_timer_at"] is None


def test_completing_before_the_deadline_cancels_the_timer(api, deployed, core, clock):
    instance = call_into_handling(api)
    handle = api.tasks("zjj_contact")[0]
    api.complete("zjj_contact", handle["id"], {"result": "按时办结"})
    assert api.get(f"/api/process-instances/{instance['id']}", "admin").json()["next_timer_at"] is None
    clock.advance(hours=5)
    assert TimerWorker(core).run_once() == 0
    assert api.tasks("supervisor") == []


def test_worker_sleeps_no_longer_than_until_the_next_due_timer(api, deployed, core, clock):
    call_into_handling(api)
    worker = TimerWorker(core)
    assert worker.seconds_until_next() == core.settings.worker_max_sleep  # 2 h away: poll bound
    clock.advance(hours=1, minutes=59, seconds=59, milliseconds=700)
    assert 0 < worker.seconds_until_next() <= 0.31


def test_a_failing_timer_step_is_retried_with_back_off_then_becomes_an_incident(api, deployed, core, clock, monkeypatch):
    instance = call_into_handling(api)

    def broken(*args, **kwargs):
        raise RuntimeError("数据库连接中断")
    monkeypatch.setitem(core.engine.script_engine.environment.globals, "record_event", broken)
    worker = TimerWorker(core)
    clock.advance(hours=3)
    delays = []
    for _ in range(core.settings.timer_max_attempts):
        assert worker.run_once() == 1
        with core.uow() as uow:
            row = uow.session.get(ProcessInstance, instance["id"])
            if row.status == "error":
                break
            delays.append((row.next_timer_at - clock.now()).total_seconds())
        clock.advance(seconds=delays[-1] + 1)
    assert delays == [2.0, 4.0, 8.0, 16.0]
    with core.uow() as uow:
        row = uow.session.get(ProcessInstance, instance["id"])
        assert row.status == "error"
        assert row.error_element == "log_overdue"
        assert "数据库连接中断" in row.error_message
    assert ("error", "log_overdue") in events(core, instance["id"])
    assert worker.run_once() == 0  # an incident waits for an administrator
