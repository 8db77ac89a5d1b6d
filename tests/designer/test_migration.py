"""Moving running instances to another version: the dry run, batches, reverts and refusals."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from service.models import HumanTask, ProcessInstance

from .designer_helpers import with_review_step, without_receive
from .test_deploy_and_versions import start_and_reach_handle, task_of


def deploy_versions(api, *variants) -> dict[int, int]:
    """Deploy each variant as the next version; {version: definition id}."""
    for note, xml in variants:
        assert api.deploy_diagram("simple_call.bpmn", xml, note=note).status_code == 201
    items = api.get("/api/designer/processes/simple_call/versions", "designer").json()["items"]
    return {v["version"]: v["id"] for v in items}


def plan(api, source, target) -> dict[int, dict]:
    response = api.get(f"/api/designer/migrations/plan?from={source}&to={target}", "designer")
    assert response.status_code == 200, response.text
    return {item["id"]: item for item in response.json()["items"]}


def migrate(api, target, *instances, as_user="designer"):
    response = api.post("/api/designer/migrations", as_user, json={"target": target, "instances": list(instances)})
    assert response.status_code == 200, response.text
    return {r["instance_id"]: r for r in response.json()["results"]}


def instance(api, instance_id):
    return api.get(f"/api/process-instances/{instance_id}", "admin").json()


def events(api, instance_id):
    return api.get(f"/api/process-instances/{instance_id}/events", "admin").json()["items"]


def test_the_dry_run_says_per_instance_whether_it_can_move_and_why_not(designer_api, deployed):
    early = designer_api.start("t01_office", "simple_call", {"title": "刚发起"}).json()
    late = start_and_reach_handle(designer_api, "已签收")
    ids = deploy_versions(designer_api, ("取消部门签收", without_receive()))

    result = plan(designer_api, ids[1], ids[2])
    assert set(result) == {early["id"], late["id"]}
    assert result[early["id"]]["movable"] is True
    assert result[early["id"]]["open_tasks"] == ["登记呼叫"]
    assert result[late["id"]]["movable"] is False
    assert result[late["id"]]["reasons"] == ["环节「部门签收」（receive）在目标版本中已删除，而本实例中该环节已完成"]
    # Nothing moved.
    assert instance(designer_api, early["id"])["definition_version"] == 1


def test_a_batch_moves_what_can_move_and_reports_the_rest(designer_api, deployed, core):
    early = designer_api.start("t01_office", "simple_call", {"title": "刚发起"}).json()
    late = start_and_reach_handle(designer_api, "已签收")
    ids = deploy_versions(designer_api, ("取消部门签收", without_receive()))
    versions = {i: item["version"] for i, item in plan(designer_api, ids[1], ids[2]).items()}

    results = migrate(designer_api, ids[2], {"id": early["id"], "version": versions[early["id"]]},
                      {"id": late["id"], "version": versions[late["id"]]})
    assert results[early["id"]]["ok"] is True and results[early["id"]]["message"] == "已迁移到第 2 版"
    assert results[late["id"]]["ok"] is False
    assert "部门签收" in results[late["id"]]["message"]
    assert instance(designer_api, early["id"])["definition_version"] == 2
    assert instance(designer_api, late["id"])["definition_version"] == 1

    migrated = [e for e in events(designer_api, early["id"]) if e["kind"] == "migrated"]
    assert migrated[0]["message"] == "designer 将流程从第 1 版迁移到第 2 版"
    assert migrated[0]["data"]["from_version"] == 1 and migrated[0]["data"]["to_version"] == 2

    # The migrated instance now follows version 2: after 登记呼叫 comes 部门办理 straight away.
    register = task_of(designer_api, "t01_office", early, "register")
    designer_api.complete("t01_office", register["id"], {"call_county": True, "dept": "zjj", "description": "x"})
    assert task_of(designer_api, "zjj_contact", early, "handle")["title"] == "部门办理"


def test_an_open_task_keeps_its_id_claim_and_deadline_and_takes_the_new_definition(designer_api, deployed, core):
    running = start_and_reach_handle(designer_api)
    handle = task_of(designer_api, "zjj_contact", running, "handle")
    assert designer_api.post(f"/api/tasks/{handle['id']}/claim", "zjj_contact").status_code == 200
    handle = task_of(designer_api, "zjj_contact", running, "handle")
    before = instance(designer_api, running["id"])
    ids = deploy_versions(designer_api, ("增加复核", with_review_step()))

    item = plan(designer_api, ids[1], ids[2])[running["id"]]
    assert item["movable"] is True
    assert item["notes"] == ["待办环节「部门办理」（handle）在目标版本中有修改，将按新版本办理"]
    assert migrate(designer_api, ids[2], running["id"])[running["id"]]["ok"] is True

    after = task_of(designer_api, "zjj_contact", running, "handle")
    assert after["id"] == handle["id"]
    assert after["title"] == "部门办理（含复核）"
    assert after["assignee_id"] == handle["assignee_id"] is not None
    assert after["due_at"] == handle["due_at"]
    assert instance(designer_api, running["id"])["next_timer_at"] == before["next_timer_at"]   # the timer keeps its due time
    designer_api.complete("zjj_contact", after["id"], {"result": "已处理"})
    assert task_of(designer_api, "zjj_contact", running, "review")["title"] == "复核"


def test_a_migration_is_reverted_while_nothing_ran_since(designer_api, deployed, core):
    running = start_and_reach_handle(designer_api)
    handle_id = task_of(designer_api, "zjj_contact", running, "handle")["id"]
    ids = deploy_versions(designer_api, ("增加复核", with_review_step()))
    migration_id = migrate(designer_api, ids[2], running["id"])[running["id"]]["migration_id"]

    history = designer_api.get("/api/designer/migrations?process=simple_call", "designer").json()["items"]
    assert [(m["id"], m["revertible"]) for m in history] == [(migration_id, True)]

    response = designer_api.post(f"/api/designer/migrations/{migration_id}/revert", "designer")
    assert response.status_code == 200, response.text
    assert response.json()["reverted_by"] == "designer"
    assert instance(designer_api, running["id"])["definition_version"] == 1
    handle = task_of(designer_api, "zjj_contact", running, "handle")
    assert (handle["id"], handle["title"]) == (handle_id, "部门办理")
    assert [e["kind"] for e in events(designer_api, running["id"])][-2:] == ["migrated", "migration_reverted"]

    # Back on version 1: after 部门办理 comes 确认评价, no 复核.
    designer_api.complete("zjj_contact", handle_id, {"result": "已处理"})
    assert task_of(designer_api, "t01_office", running, "confirm")["title"] == "确认评价"

    again = designer_api.post(f"/api/designer/migrations/{migration_id}/revert", "designer")
    assert again.status_code == 409
    assert "撤销" in again.json()["message"]


def test_a_revert_is_refused_once_the_instance_moved_on(designer_api, deployed, core):
    running = start_and_reach_handle(designer_api)
    ids = deploy_versions(designer_api, ("增加复核", with_review_step()))
    migration_id = migrate(designer_api, ids[2], running["id"])[running["id"]]["migration_id"]
    handle = task_of(designer_api, "zjj_contact", running, "handle")
    assert designer_api.complete("zjj_contact", handle["id"], {"result": "已处理"}).status_code == 200

    response = designer_api.post(f"/api/designer/migrations/{migration_id}/revert", "designer")
    assert response.status_code == 409
    assert response.json()["message"] == f"流程实例 #{running['id']} 迁移后已有进展（办理任务、定时器触发或管理操作），不能撤销迁移"
    assert instance(designer_api, running["id"])["definition_version"] == 2
    history = designer_api.get("/api/designer/migrations?process=simple_call", "designer").json()["items"]
    assert history[0]["revertible"] is False


def test_an_instance_that_changed_after_the_dry_run_is_not_moved(designer_api, deployed, core):
    running = designer_api.start("t01_office", "simple_call", {"title": "x"}).json()
    ids = deploy_versions(designer_api, ("增加复核", with_review_step()))
    seen = plan(designer_api, ids[1], ids[2])[running["id"]]["version"]
    register = task_of(designer_api, "t01_office", running, "register")
    designer_api.complete("t01_office", register["id"], {"call_county": False, "description": "自行处理"})

    result = migrate(designer_api, ids[2], {"id": running["id"], "version": seen})[running["id"]]
    assert result["ok"] is False
    assert result["message"] == f"流程实例 #{running['id']} 在预检后已有变化，请重新预检"
    assert instance(designer_api, running["id"])["definition_version"] == 1


def test_finished_instances_and_other_processes_are_refused(designer_api, deployed, showcase, core):
    running = designer_api.start("t01_office", "simple_call", {"title": "x"}).json()
    ids = deploy_versions(designer_api, ("增加复核", with_review_step()))
    other = designer_api.get("/api/designer/processes/form_showcase/versions", "designer").json()["items"][0]["id"]
    wrong = migrate(designer_api, other, running["id"])[running["id"]]
    assert wrong["ok"] is False and "同一流程" in wrong["message"]
    same = migrate(designer_api, ids[1], running["id"])[running["id"]]
    assert same["ok"] is False and same["message"] == "源版本与目标版本相同"
    assert designer_api.post("/api/designer/migrations", "designer",
                             json={"target": ids[2], "instances": ["x"]}).status_code == 422
    with core.uow() as uow:
        assert uow.session.get(ProcessInstance, running["id"]).definition.version == 1
        rows = uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == running["id"])).all()
        assert [r.title for r in rows] == ["登记呼叫"]


def test_a_waiting_timer_keeps_its_due_time_when_the_target_changed_it(designer_api, deployed, clock):
    running = start_and_reach_handle(designer_api)
    due = instance(designer_api, running["id"])["next_timer_at"]
    assert due is not None
    clock.advance(hours=1)
    ids = deploy_versions(designer_api, ("超时改为 4 小时", with_review_step().replace('"PT2H"', '"PT4H"')))
    item = plan(designer_api, ids[1], ids[2])[running["id"]]
    assert "等待中的事件「办理超时」（handle_overdue）在目标版本中有修改，迁移后保留原到期时间" in item["notes"]

    assert migrate(designer_api, ids[2], running["id"])[running["id"]]["ok"] is True
    assert instance(designer_api, running["id"])["next_timer_at"] == due
    # A new instance, started an hour later, gets the new limit: 4 hours.
    fresh = start_and_reach_handle(designer_api, "新实例")
    fresh_due = datetime.fromisoformat(instance(designer_api, fresh["id"])["next_timer_at"])
    assert fresh_due - datetime.fromisoformat(due) == timedelta(hours=3)
