"""Administrators' repairs through the API: each needs a reason, is logged, and respects versions."""
from __future__ import annotations

import pytest

from service.engine.store import EngineError
from service.models import ProcessInstance
from service.services.instances import record_timer_failure
from service.worker import TimerWorker


def start_call(api, business_key="BK-1"):
    response = api.start("t01_office", "simple_call", {"title": "渣土遗撒"}, business_key=business_key)
    assert response.status_code == 201, response.text
    return response.json()


def act(api, instance_id, action, reason="核实后处理", **extra):
    return api.post(f"/api/admin/instances/{instance_id}/{action}", "admin", json={"reason": reason, **extra})


def admin_events(api, instance_id):
    events = api.get(f"/api/process-instances/{instance_id}/events", "admin").json()["items"]
    return [e for e in events if e["kind"] == "admin_action"]


def test_suspend_stops_work_and_resume_lets_it_go_on(api, deployed):
    instance = start_call(api)
    task = api.tasks("t01_office")[0]
    suspended = act(api, instance["id"], "suspend", "等待县委编办意见")
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["status"] == "suspended"
    refused = api.complete("t01_office", task["id"], {"call_county": False, "description": "x"})
    assert refused.status_code == 409

    assert act(api, instance["id"], "resume", "已取得意见").json()["status"] == "running"
    assert api.complete("t01_office", task["id"], {"call_county": False, "description": "x"}).status_code == 200
    logged = admin_events(api, instance["id"])
    assert [(e["data"]["action"], e["data"]["reason"], e["username"]) for e in logged] == [
        ("suspend", "等待县委编办意见", "admin"), ("resume", "已取得意见", "admin")]


def test_every_action_needs_a_reason_and_an_administrator(api, deployed):
    instance = start_call(api)
    response = act(api, instance["id"], "suspend", reason="  ")
    assert response.status_code == 422
    assert response.json()["errors"] == {"reason": ["「操作原因」为必填项"]}
    missing = api.post(f"/api/admin/instances/{instance['id']}/suspend", "admin", json={})
    assert missing.status_code == 422 and "reason" in missing.json()["errors"]
    forbidden = api.post(f"/api/admin/instances/{instance['id']}/suspend", "supervisor", json={"reason": "x"})
    assert forbidden.status_code == 403
    assert api.get("/api/admin/instances", "t01_office").status_code == 403
    assert admin_events(api, instance["id"]) == []


def test_an_outdated_version_is_a_conflict_and_changes_nothing(api, deployed):
    instance = start_call(api)
    response = act(api, instance["id"], "suspend", version=instance["version"] + 5)
    assert response.status_code == 409
    assert api.get(f"/api/process-instances/{instance['id']}", "admin").json()["status"] == "running"


def test_an_action_that_does_not_fit_the_status_is_a_conflict(api, deployed):
    instance = start_call(api)
    assert act(api, instance["id"], "resume").status_code == 409
    assert act(api, instance["id"], "retry").status_code == 409


def test_terminate_cancels_the_open_tasks_for_good(api, deployed):
    instance = start_call(api)
    response = act(api, instance["id"], "terminate", "重复登记")
    assert response.json()["status"] == "terminated"
    assert response.json()["ended_at"] is not None
    assert api.tasks("t01_office") == []
    kinds = [e["kind"] for e in api.get(f"/api/process-instances/{instance['id']}/events", "admin").json()["items"]]
    assert "task_cancelled" in kinds and "admin_action" in kinds and "completed" not in kinds
    assert act(api, instance["id"], "resume").status_code == 409


def fail_timer_step(core, instance_id, times):
    """What the timer worker records when a timer step fails, ``times`` times."""
    for _ in range(times):
        with core.uow() as uow:
            instance = uow.session.get(ProcessInstance, instance_id)
            record_timer_failure(core, uow.session, instance, EngineError("除数为零", "remind", "发出催办"))
            uow.commit()


def test_retry_after_the_worker_gave_up_runs_the_step_again(api, deployed, core, clock):
    instance = start_call(api)
    fail_timer_step(core, instance["id"], core.settings.timer_max_attempts)
    detail = api.get(f"/api/process-instances/{instance['id']}", "admin").json()
    assert detail["status"] == "error" and detail["error_element"] == "remind"
    incidents = api.get("/api/admin/incidents", "admin").json()["items"]
    assert [(i["id"], i["error_message"]) for i in incidents] == [(instance["id"], "除数为零")]

    response = act(api, instance["id"], "retry", "已修正数据")
    body = response.json()
    assert body["status"] == "running" and body["error_message"] is None
    assert body["next_timer_at"] is not None
    with core.uow() as uow:
        assert uow.session.get(ProcessInstance, instance["id"]).timer_attempts == 0
    assert api.get("/api/admin/incidents", "admin").json()["items"] == []
    assert admin_events(api, instance["id"])[0]["data"]["error_element"] == "remind"


def test_a_real_failing_timer_is_repaired_by_editing_the_data(api, showcase, core, clock):
    instance = api.start("t01_office", "form_showcase", {"title": "违建", "township": "t01", "item_code": "SD-1",
                                                         "reminder_every": 0}).json()
    fill = api.tasks("t01_office")[0]
    api.complete("t01_office", fill["id"], {"result": "已核实", "severity": "一般", "checked_on": "2026-03-02"})
    worker = TimerWorker(core)
    for _ in range(core.settings.timer_max_attempts):       # 24 // 0 fails; the worker retries, then gives up
        clock.advance(hours=2)
        worker.run_once()
    trace = api.get(f"/api/admin/instances/{instance['id']}/trace", "admin").json()
    assert trace["instance"]["status"] == "error"
    assert trace["states"]["remind"]["state"] == "error"
    assert "发出催办" in trace["states"]["remind"]["error"] and "ZeroDivisionError" in trace["states"]["remind"]["error"]

    assert act(api, instance["id"], "suspend", "修正催办间隔").status_code == 200
    version = api.get(f"/api/process-instances/{instance['id']}", "admin").json()["version"]
    data = {**trace["data"], "reminder_every": 6}
    edited = api.request("PUT", f"/api/admin/instances/{instance['id']}/data", "admin",
                         json={"data": data, "reason": "催办间隔不能为 0", "version": version})
    assert edited.status_code == 200, edited.text
    assert edited.json()["data"]["reminder_every"] == 6
    assert act(api, instance["id"], "resume", "数据已修正").status_code == 200
    worker.run_once()
    events = api.get(f"/api/process-instances/{instance['id']}/events", "admin").json()["items"]
    assert any(e["kind"] == "reminder" and e["message"] == "请在 4 小时内完成审核" for e in events)
    change = next(e for e in events if e["kind"] == "admin_action" and e["data"]["action"] == "edit_data")
    assert change["data"]["changed"] == {"reminder_every": {"old": 0, "new": 6}}


@pytest.mark.parametrize("data, field_message", [
    ([1, 2], "数据必须是一个 JSON 对象"),
    ({"a": {"typename": "x"}}, "typename 为系统保留"),
])
def test_edited_data_must_be_a_plain_json_object(api, deployed, data, field_message):
    instance = start_call(api)
    act(api, instance["id"], "suspend")
    response = api.request("PUT", f"/api/admin/instances/{instance['id']}/data", "admin",
                           json={"data": data, "reason": "修正"})
    assert response.status_code == 422
    assert field_message in response.json()["errors"]["data"][0]


def test_data_is_edited_only_while_suspended(api, deployed):
    instance = start_call(api)
    response = api.request("PUT", f"/api/admin/instances/{instance['id']}/data", "admin",
                           json={"data": {"title": "改"}, "reason": "修正"})
    assert response.status_code == 409
    assert "请先挂起" in response.json()["message"]


def test_reassign_to_someone_who_could_do_it(api, deployed, add_user):
    add_user("zjj_contact2", "zjj", ["department"])
    start_call(api)
    register = api.tasks("t01_office")[0]
    api.complete("t01_office", register["id"], {"call_county": True, "dept": "zjj", "description": "渣土"})
    receive = api.tasks("zjj_contact")[0]

    wrong = api.post(f"/api/admin/tasks/{receive['id']}/reassign", "admin",
                     json={"username": "sthj_contact", "reason": "人员调整"})
    assert wrong.status_code == 422
    assert "zjj" in wrong.json()["errors"]["username"][0]
    right = api.post(f"/api/admin/tasks/{receive['id']}/reassign", "admin",
                     json={"username": "zjj_contact2", "reason": "张三休假"})
    assert right.status_code == 200, right.text
    assert api.tasks("zjj_contact") == []
    assert [t["id"] for t in api.tasks("zjj_contact2")] == [receive["id"]]
    logged = admin_events(api, receive["instance_id"])[-1]
    assert logged["data"]["to_username"] == "zjj_contact2" and logged["data"]["reason"] == "张三休假"


def test_instance_search_filters_sorts_and_counts(api, deployed, showcase, clock):
    first = start_call(api, "HJ-0301")
    clock.advance(days=1)
    second = start_call(api, "HJ-0302")
    act(api, second["id"], "suspend")
    api.start("t01_office", "form_showcase", {"title": "违建", "township": "t02", "item_code": "SD-1"})

    def search(**params):
        response = api.get("/api/admin/instances", "admin", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    everything = search()
    assert everything["total"] == 3
    assert everything["status_counts"] == {"running": 2, "suspended": 1, "completed": 0, "terminated": 0, "error": 0}
    assert [i["business_key"] for i in search(q="0301")["items"]] == ["HJ-0301"]
    assert [i["id"] for i in search(q=str(first["id"]))["items"]] == [first["id"]]
    assert search(status="suspended")["status_counts"]["running"] == 2       # counts ignore the status filter
    assert search(status="suspended")["total"] == 1
    assert search(process_key="form_showcase", township="t02")["total"] == 1
    assert search(started_from="2026-03-03")["total"] == 2
    assert search(started_to="2026-03-02")["total"] == 1
    assert [i["id"] for i in search(sort="started_asc")["items"]][0] == first["id"]
    assert search(version=1, process_key="simple_call")["total"] == 2
    assert search(overdue=True)["total"] == 0
    clock.advance(days=6)
    assert search(overdue=True)["total"] == 1                           # 现场核查 was due in 3 working days
    assert api.get("/api/admin/instances", "admin", params={"sort": "nonsense"}).status_code == 422


def test_the_trace_gives_element_states_to_whoever_may_see_the_instance(api, deployed):
    instance = start_call(api)
    register = api.tasks("t01_office")[0]
    api.complete("t01_office", register["id"], {"call_county": True, "dept": "zjj", "description": "渣土"})
    trace = api.get(f"/api/admin/instances/{instance['id']}/trace", "t01_office").json()
    assert trace["states"]["register"]["state"] == "completed"
    assert trace["states"]["receive"]["state"] == "active" and trace["states"]["receive"]["count"] == 1
    assert trace["diagram"] == {"file": "simple_call.bpmn", "has_di": True}
    assert api.get(f"/api/admin/instances/{instance['id']}/trace", "sthj_contact").status_code == 403


def test_overdue_tasks_are_flagged_in_the_trace(api, deployed, clock):
    instance = start_call(api)
    register = api.tasks("t01_office")[0]
    api.complete("t01_office", register["id"], {"call_county": True, "dept": "zjj", "description": "渣土"})
    receive = api.tasks("zjj_contact")[0]
    api.complete("zjj_contact", receive["id"], {"receiver": "张三"})
    clock.advance(hours=1)
    trace = api.get(f"/api/admin/instances/{instance['id']}/trace", "admin").json()
    assert not trace["states"]["handle"].get("overdue")
    assert trace["states"]["handle_overdue"]["state"] == "waiting"
    clock.advance(hours=1, minutes=1)
    trace = api.get(f"/api/admin/instances/{instance['id']}/trace", "admin").json()
    assert trace["states"]["handle"]["overdue"] is True          # past hours_later(2)
