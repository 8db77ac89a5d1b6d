"""Designers edit a deployed diagram, keep drafts, deploy new versions and read the version list;
instances started on the old version keep running on it."""
from __future__ import annotations

from sqlalchemy import func, select

from service.models import ProcessDefinition

from .designer_helpers import base_xml, with_review_step

FILE = "simple_call.bpmn"


def task_of(api, user, instance, element):
    return next(t for t in api.tasks(user) if t["instance_id"] == instance["id"] and t["element_id"] == element)


def start_and_reach_handle(api, title="渣土遗撒"):
    """An instance of simple_call waiting at 部门办理 (its 2-hour timer running)."""
    instance = api.start("t01_office", "simple_call", {"title": title}).json()
    api.complete("t01_office", task_of(api, "t01_office", instance, "register")["id"],
                 {"call_county": True, "dept": "zjj", "description": title})
    api.complete("zjj_contact", task_of(api, "zjj_contact", instance, "receive")["id"], {"receiver": "张三"})
    return instance


def versions(core, key="simple_call"):
    with core.uow() as uow:
        return uow.session.scalars(select(ProcessDefinition.version).where(ProcessDefinition.key == key)
                                   .order_by(ProcessDefinition.version)).all()


def test_the_editor_opens_the_deployed_copy_of_a_diagram(designer_api, deployed):
    body = designer_api.get(f"/api/designer/diagrams/{FILE}", "designer").json()
    assert body["source"] == "deployed"
    assert body["content"] == base_xml()
    assert body["deployed_in"]["version"] == 1
    assert body["draft_version"] is None


def test_deploying_from_the_editor_creates_a_version_while_old_instances_keep_running(designer_api, deployed, core):
    old = start_and_reach_handle(designer_api, "旧版本实例")

    response = designer_api.deploy_diagram(FILE, with_review_step(), note="部门办理后增加复核")
    assert response.status_code == 201, response.text
    assert response.json()["deployed"] == [{"key": "simple_call", "name": "测试呼叫流程", "version": 2, "created": True}]
    assert versions(core) == [1, 2]

    # The old instance finishes on version 1: no 复核 step appears for it.
    handle = designer_api.tasks("zjj_contact")[0]
    assert handle["title"] == "部门办理"
    designer_api.complete("zjj_contact", handle["id"], {"result": "已处理"})
    assert [t["title"] for t in designer_api.tasks("t01_office")] == ["确认评价"]
    detail = designer_api.get(f"/api/process-instances/{old['id']}", "admin").json()
    assert detail["definition_version"] == 1

    # A new instance runs version 2, with 复核 after 部门办理.
    new = start_and_reach_handle(designer_api, "新版本实例")
    assert designer_api.get(f"/api/process-instances/{new['id']}", "admin").json()["definition_version"] == 2
    handle = task_of(designer_api, "zjj_contact", new, "handle")
    assert handle["title"] == "部门办理（含复核）"
    designer_api.complete("zjj_contact", handle["id"], {"result": "已处理"})
    assert [t["title"] for t in designer_api.tasks("zjj_contact")] == ["复核"]


def test_deploying_an_unchanged_diagram_creates_no_version(designer_api, deployed, core):
    response = designer_api.deploy_diagram(FILE, base_xml())
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "内容与已部署的最新版本相同，未创建新版本"
    assert versions(core) == [1]


def test_a_deploy_needs_a_note(designer_api, deployed, core):
    response = designer_api.deploy_diagram(FILE, with_review_step(), note="  ")
    assert response.status_code == 422
    assert "变更说明" in response.json()["errors"]["note"][0]
    assert versions(core) == [1]


def test_drafts_change_nothing_deployed_and_cannot_overwrite_each_other(designer_api, deployed, core):
    first = designer_api.put(f"/api/designer/diagrams/{FILE}/draft", "designer",
                             json={"content": with_review_step(), "version": None})
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 1
    assert versions(core) == [1]

    copy = designer_api.get(f"/api/designer/diagrams/{FILE}", "admin").json()
    assert copy["source"] == "draft"
    assert copy["draft_version"] == 1 and copy["draft_updated_by"] == "designer"

    # The administrator opened the page before the designer saved: their save is refused.
    stale = designer_api.put(f"/api/designer/diagrams/{FILE}/draft", "admin", json={"content": base_xml(),
                                                                                     "version": None})
    assert stale.status_code == 409
    assert "designer" in stale.json()["message"]
    again = designer_api.put(f"/api/designer/diagrams/{FILE}/draft", "admin",
                             json={"content": base_xml(), "version": 1})
    assert again.json()["version"] == 2

    # Deploying what the editor shows removes the draft it started from.
    deployed_now = designer_api.deploy_diagram(FILE, with_review_step(), draft_version=2)
    assert deployed_now.status_code == 201
    assert designer_api.get(f"/api/designer/diagrams/{FILE}", "designer").json()["source"] == "deployed"


def test_a_draft_must_be_xml(designer_api, deployed):
    response = designer_api.put(f"/api/designer/diagrams/{FILE}/draft", "designer", json={"content": "<bpmn:definitions"})
    assert response.status_code == 422
    assert "XML" in response.json()["errors"]["content"][0]
    bad_name = designer_api.put("/api/designer/diagrams/../../etc.bpmn/draft", "designer", json={"content": base_xml()})
    assert bad_name.status_code in (404, 422)


def test_the_version_list_says_who_deployed_what_changed_and_what_runs(designer_api, deployed, core):
    start_and_reach_handle(designer_api)
    designer_api.deploy_diagram(FILE, with_review_step(), note="部门办理后增加复核")

    items = designer_api.get("/api/designer/processes/simple_call/versions", "designer").json()["items"]
    assert [(v["version"], v["deployed_by"], v["running_instances"]) for v in items] == [(2, "designer", 0),
                                                                                          (1, "test", 1)]
    assert items[0]["note"] == "部门办理后增加复核"
    assert items[0]["changes"]["summary"] == "新增 2 · 修改 3"
    processes = designer_api.get("/api/designer/processes", "designer").json()["items"]
    assert [(p["key"], p["versions"], p["running_instances"], p["filename"]) for p in processes] == \
        [("simple_call", 2, 1, FILE)]


def test_the_stored_bpmn_of_any_version_downloads(designer_api, deployed):
    designer_api.deploy_diagram(FILE, with_review_step())
    items = designer_api.get("/api/designer/processes/simple_call/versions", "designer").json()["items"]
    first = designer_api.get(f"/api/designer/versions/{items[1]['id']}/bpmn", "designer")
    assert first.status_code == 200
    assert first.text == base_xml()
    assert 'filename="simple_call-v1-simple_call.bpmn"' in first.headers["Content-Disposition"]
    page = designer_api.get(f"/api/designer/versions/{items[0]['id']}/bpmn", "designer")
    assert 'id="review"' in page.text


def test_a_new_diagram_starts_blank_and_deploys(designer_api, deployed, core):
    from service.services.designer import blank_diagram

    xml = blank_diagram("patrol.bpmn").replace('<bpmn:startEvent id="StartEvent_1" name="发起"/>', (
        '<bpmn:startEvent id="StartEvent_1" name="发起"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
        '<bpmn:endEvent id="End_1" name="结束"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f1" sourceRef="StartEvent_1" targetRef="End_1"/>'))
    response = designer_api.deploy_diagram("patrol.bpmn", xml, note="新建巡查流程")
    assert response.status_code == 201, response.text
    assert response.json()["deployed"][0]["key"] == "patrol"
    with core.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(ProcessDefinition)) == 2
