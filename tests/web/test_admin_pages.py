"""Administrators' pages over HTTP: instance list, instance page, incidents, actions with reasons."""
from __future__ import annotations

import json
import re

import pytest

from .web_helpers import WebClient


@pytest.fixture
def admin_page(server, users):
    client = WebClient(server)
    client.login("admin")
    yield client
    client.http.close()


def start_call(api, business_key="BK-1"):
    response = api.start("t01_office", "simple_call", {"title": "渣土遗撒"}, business_key=business_key)
    assert response.status_code == 201, response.text
    return response.json()


def test_only_administrators_open_the_admin_pages(server, deployed, api):
    instance = start_call(api)
    for username, status in (("t01_office", 403), ("supervisor", 403)):
        client = WebClient(server)
        client.login(username)
        assert client.get("/admin/instances").status_code == status
        assert client.get("/admin/incidents").status_code == status
    # The supervision office may follow an instance, without the repair actions.
    supervisor = WebClient(server)
    supervisor.login("supervisor")
    page = supervisor.get(f"/instances/{instance['id']}").text
    assert "流程图" in page and 'data-action="suspend"' not in page
    outsider = WebClient(server)
    outsider.login("sthj_contact")
    assert outsider.get(f"/instances/{instance['id']}").status_code == 403


def test_the_instance_list_filters_and_counts_by_status(admin_page, api, deployed):
    start_call(api, "HJ-A")
    second = start_call(api, "HJ-B")
    api.post(f"/api/admin/instances/{second['id']}/suspend", "admin", json={"reason": "核实"})
    page = admin_page.get("/admin/instances").text
    assert page.count("data-instance-id=") == 2
    assert re.search(r'data-status="suspended">已挂起<b>1</b>', page)
    suspended = admin_page.get("/admin/instances?status=suspended").text
    assert suspended.count("data-instance-id=") == 1 and "HJ-B" in suspended
    assert admin_page.get("/admin/instances?q=HJ-A").text.count("data-instance-id=") == 1
    wrong = admin_page.get("/admin/instances?from=2026-13-01&status=bogus")
    assert wrong.status_code == 422
    assert "日期格式应为 YYYY-MM-DD" in wrong.text and "未知状态「bogus」" in wrong.text
    assert wrong.text.count("data-instance-id=") == 2                      # the rest of the filters still apply


def test_the_instance_page_lists_element_states_tasks_data_and_log(admin_page, api, deployed):
    instance = start_call(api)
    register = api.tasks("t01_office")[0]
    api.complete("t01_office", register["id"], {"call_county": True, "dept": "zjj", "description": "渣土"})
    page = admin_page.get(f"/instances/{instance['id']}").text
    assert 'data-element="register" data-state="completed"' in page
    assert 'data-element="receive" data-state="active"' in page
    assert 'data-element="confirm" data-state="none"' in page
    assert "部门签收" in page and "县住建局" in page                        # the open task and its unit, by name
    assert "&#34;description&#34;: &#34;渣土&#34;" in page or '"description": "渣土"' in page
    assert "t01_office 办理了「登记呼叫」" in page
    assert 'id="trace-data"' in page and "bpmn-navigated-viewer.production.min.js" in page
    assert "bpmn-auto-layout.min.js" not in page                          # the fixture has its own drawing


def test_a_diagram_without_drawing_gets_the_automatic_layout_and_a_notice(admin_page, api, showcase):
    response = api.start("t01_office", "form_showcase", {"title": "违建", "township": "t01", "item_code": "SD-1"})
    page = admin_page.get(f"/instances/{response.json()['id']}").text
    assert 'data-testid="no-di"' in page and "bpmn-auto-layout.min.js" in page
    assert "<details class=\"elements\" open>" in page


def test_an_action_without_a_reason_is_refused_next_to_the_field(admin_page, api, deployed):
    instance = start_call(api)
    response = admin_page.post(f"/admin/instances/{instance['id']}/suspend", {"reason": "", "version": "1"})
    assert response.status_code == 422
    assert 'data-error-for="suspend-reason">「操作原因」为必填项<' in response.text
    assert api.get(f"/api/process-instances/{instance['id']}", "admin").json()["status"] == "running"


def test_suspend_edit_data_and_resume_from_the_page(admin_page, api, deployed):
    instance = start_call(api)
    version = re.search(r'name="version" value="(\d+)"', admin_page.get(f"/instances/{instance['id']}").text).group(1)
    response = admin_page.post(f"/admin/instances/{instance['id']}/suspend", {"reason": "数据有误", "version": version})
    assert "已挂起流程实例" in response.text and 'name="data"' in response.text
    version = re.search(r'name="version" value="(\d+)"', response.text).group(1)

    bad = admin_page.post(f"/admin/instances/{instance['id']}/data", {"data": "{not json", "reason": "修正",
                                                                      "version": version})
    assert bad.status_code == 422
    assert 'data-error-for="data-data">第 1 行第 2 列：JSON 格式错误<' in bad.text
    assert "{not json" in bad.text                                         # what was typed stays
    for depth in (100, 900, 5000):                 # deeper than any form; 900+ once exhausted the recursion
        deep = admin_page.post(f"/admin/instances/{instance['id']}/data",
                               {"data": '{"a": ' * depth + "1" + "}" * depth, "reason": "修正", "version": version})
        assert deep.status_code == 422 and "嵌套" in deep.text, depth

    data = api.get(f"/api/process-instances/{instance['id']}", "admin").json()["data"]
    data["title"] = "渣土车遗撒（已更正）"
    saved = admin_page.post(f"/admin/instances/{instance['id']}/data",
                            {"data": json.dumps(data, ensure_ascii=False), "reason": "更正标题", "version": version})
    assert "已修改流程数据" in saved.text
    stale = admin_page.post(f"/admin/instances/{instance['id']}/resume", {"reason": "完成", "version": version})
    assert stale.status_code == 409 and "已被他人更新" in stale.text
    version = re.search(r'name="version" value="(\d+)"', saved.text).group(1)
    resumed = admin_page.post(f"/admin/instances/{instance['id']}/resume", {"reason": "完成", "version": version})
    assert "已恢复流程实例" in resumed.text
    task = api.tasks("t01_office")[0]
    assert api.get(f"/api/tasks/{task['id']}", "t01_office").json()["data"]["title"] == "渣土车遗撒（已更正）"


def test_reassigning_a_task_from_the_page(admin_page, api, deployed, add_user):
    add_user("t01_office2", "t01-dzb", ["township_office"], display_name="李四")
    instance = start_call(api)
    task = api.tasks("t01_office")[0]
    page = admin_page.get(f"/instances/{instance['id']}").text
    assert 'value="t01_office2"' in page and 'value="zjj_contact"' not in page    # only who could do it
    response = admin_page.post(f"/admin/tasks/{task['id']}/reassign", {"username": "t01_office2", "reason": "",
                                                                        "instance_id": str(instance["id"])})
    assert response.status_code == 422 and "「操作原因」为必填项" in response.text
    response = admin_page.post(f"/admin/tasks/{task['id']}/reassign", {"username": "t01_office2", "reason": "休假",
                                                                        "instance_id": str(instance["id"])})
    assert "已改派任务" in response.text and "李四" in response.text
    assert api.tasks("t01_office") == []


def test_incidents_list_failed_instances_with_their_element_and_message(admin_page, api, deployed, core):
    from service.engine.store import EngineError
    from service.models import ProcessInstance
    from service.services.instances import record_timer_failure

    instance = start_call(api, "HJ-ERR")
    for _ in range(core.settings.timer_max_attempts):
        with core.uow() as uow:
            row = uow.session.get(ProcessInstance, instance["id"])
            record_timer_failure(core, uow.session, row, EngineError("流程步骤「记录超时」执行出错：除数为零",
                                                                     "log_overdue", "记录超时"))
            uow.commit()
    page = admin_page.get("/admin/incidents").text
    assert f'data-instance-id="{instance["id"]}"' in page
    assert "log_overdue" in page and "除数为零" in page
    detail = admin_page.get(f"/instances/{instance['id']}").text
    assert 'data-testid="instance-error"' in detail and 'data-action="retry"' in detail
    retried = admin_page.post(f"/admin/instances/{instance['id']}/retry", {"reason": "已排除故障"})
    assert "已安排重试" in retried.text
    assert "当前没有出错的流程实例" in admin_page.get("/admin/incidents").text
