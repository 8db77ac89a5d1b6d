"""Starting instances and completing tasks through the HTTP API."""
from __future__ import annotations

from datetime import timedelta


def start_call(api, title="渣土遗撒"):
    response = api.start("t01_office", "simple_call", {"title": title}, business_key="BK-1")
    assert response.status_code == 201, response.text
    return response.json()


def test_start_runs_to_the_first_task_and_lists_it_for_its_lane(api, deployed):
    body = start_call(api)
    assert body["status"] == "running"
    assert [t["title"] for t in body["tasks"]] == ["登记呼叫"]

    tasks = api.tasks("t01_office")
    assert [(t["element_id"], t["lane"], t["role"]) for t in tasks] == [("register", "乡镇办公室", "township_office")]
    # The department sees nothing yet: it is not their lane.
    assert api.tasks("zjj_contact") == []


def test_task_detail_carries_its_form_and_data(api, deployed):
    start_call(api)
    task = api.tasks("t01_office")[0]
    detail = api.get(f"/api/tasks/{task['id']}", "t01_office").json()
    assert detail["form"]["schema"]["title"] == "登记呼叫"
    assert detail["form"]["ui_schema"]["description"] == {"ui:widget": "textarea"}
    assert detail["data"]["title"] == "渣土遗撒"


def test_full_happy_path_with_candidate_unit(api, deployed):
    instance = start_call(api)
    register = api.tasks("t01_office")[0]
    response = api.complete("t01_office", register["id"],
                            {"call_county": True, "dept": "zjj", "description": "工地渣土车遗撒", "found_on": "2026-03-02"})
    assert response.status_code == 200, response.text
    assert [t["title"] for t in response.json()["next_tasks"]] == ["部门签收"]

    # Only the called department sees the task; the other department does not.
    assert api.tasks("sthj_contact") == []
    receive = api.tasks("zjj_contact")[0]
    assert receive["candidate_unit"] == "zjj"
    assert api.complete("zjj_contact", receive["id"], {"receiver": "张三"}).status_code == 200

    handle = api.tasks("zjj_contact")[0]
    assert handle["due_at"] is not None
    assert api.complete("zjj_contact", handle["id"], {"result": "已清扫并处罚"}).status_code == 200

    confirm = api.tasks("t01_office")[0]
    done = api.complete("t01_office", confirm["id"], {"rating": "满意"})
    assert done.json()["instance"]["status"] == "completed"

    detail = api.get(f"/api/process-instances/{instance['id']}", "t01_office").json()
    assert detail["status"] == "completed"
    assert detail["tasks"] == []
    assert detail["data"]["rating"] == "满意"
    events = [e["kind"] for e in api.get(f"/api/process-instances/{instance['id']}/events", "admin").json()["items"]]
    assert events[0] == "started"
    assert events.count("task_completed") == 4
    assert events[-1] == "completed"


def test_schema_violation_is_rejected_with_field_errors_and_changes_nothing(api, deployed):
    instance = start_call(api)
    register = api.tasks("t01_office")[0]
    before = api.get(f"/api/process-instances/{instance['id']}", "admin").json()

    response = api.complete("t01_office", register["id"],
                            {"call_county": "yes", "dept": "gaj", "description": "", "found_on": "2026-13-45"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {"call_county", "dept", "description", "found_on"}
    assert "问题描述" in body["errors"]["description"][0]
    assert "呼叫部门" in body["errors"]["dept"][0]

    after = api.get(f"/api/process-instances/{instance['id']}", "admin").json()
    assert after["version"] == before["version"]
    assert [t["id"] for t in after["tasks"]] == [register["id"]]
    assert "description" not in after["data"]


def test_missing_required_field_is_named(api, deployed):
    start_call(api)
    register = api.tasks("t01_office")[0]
    response = api.complete("t01_office", register["id"], {"call_county": False})
    assert response.status_code == 422
    assert response.json()["errors"] == {"description": ["「问题描述」为必填项"]}


def test_reserved_typename_key_is_rejected(api, deployed):
    start_call(api)
    register = api.tasks("t01_office")[0]
    response = api.complete("t01_office", register["id"],
                            {"call_county": False, "description": "x", "details": {"typename": "boom"}})
    assert response.status_code == 422
    assert "details.typename" in response.json()["errors"]


def test_second_completion_of_the_same_task_is_a_conflict(api, deployed):
    start_call(api)
    register = api.tasks("t01_office")[0]
    data = {"call_county": False, "description": "自行处理即可"}
    assert api.complete("t01_office", register["id"], data).status_code == 200
    again = api.complete("t01_office", register["id"], data)
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"


def test_wrong_lane_and_wrong_unit_are_forbidden(api, deployed):
    start_call(api)
    register = api.tasks("t01_office")[0]
    response = api.complete("zjj_contact", register["id"], {"call_county": False, "description": "x"})
    assert response.status_code == 403
    assert "乡镇办公室" in response.json()["message"]

    api.complete("t01_office", register["id"], {"call_county": True, "dept": "zjj", "description": "x"})
    receive = api.tasks("zjj_contact")[0]
    response = api.complete("sthj_contact", receive["id"], {"receiver": "李四"})
    assert response.status_code == 403
    assert "zjj" in response.json()["message"]


def test_start_is_limited_to_the_start_lane_role(api, deployed):
    response = api.start("zjj_contact", "simple_call", {"title": "x"})
    assert response.status_code == 403


def test_start_data_is_validated_against_the_start_form(api, deployed):
    response = api.start("t01_office", "simple_call", {"title": "x" * 51})
    assert response.status_code == 422
    assert "title" in response.json()["errors"]
    assert api.get("/api/process-instances", "admin").json()["total"] == 0


def test_unknown_process_is_404_and_requests_need_a_token(api, deployed):
    assert api.start("t01_office", "nope").status_code == 404
    response = api.get("/api/tasks")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_malformed_json_body_gets_a_clear_400(api, deployed):
    api.login("t01_office")
    response = api.post("/api/process-instances", "t01_office", data="{not json",
                        headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422)
    assert response.json()["message"]


def test_admin_may_complete_any_task_and_it_is_recorded(api, deployed):
    instance = start_call(api)
    register = api.tasks("t01_office")[0]
    assert api.complete("admin", register["id"], {"call_county": False, "description": "x"}).status_code == 200
    events = api.get(f"/api/process-instances/{instance['id']}/events", "admin").json()["items"]
    assert any(e["kind"] == "admin_action" and e["username"] == "admin" for e in events)


def test_claimed_task_is_reserved_for_the_claimer(api, deployed, core):
    from service.services.auth import create_user

    with core.uow() as uow:
        create_user(uow.session, username="t01_office2", password="password123", unit_code="t01-dzb",
                    roles=["township_office"])
        uow.commit()
    start_call(api)
    register = api.tasks("t01_office")[0]
    assert api.post(f"/api/tasks/{register['id']}/claim", "t01_office").status_code == 200
    assert api.tasks("t01_office2") == []
    response = api.complete("t01_office2", register["id"], {"call_county": False, "description": "x"})
    assert response.status_code == 403
    assert api.post(f"/api/tasks/{register['id']}/release", "t01_office").status_code == 200
    assert len(api.tasks("t01_office2")) == 1
