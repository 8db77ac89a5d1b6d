"""The form library: editing, validating, the preview staff would see, and saving as a deployment."""
from __future__ import annotations

import json
import re

from .designer_helpers import ROOT, renamed_form
from .test_deploy_and_versions import start_and_reach_handle, task_of

FORMS = ROOT / "tests" / "fixtures" / "forms"
CONTROL = re.compile(r"<(input|textarea|select)\b([^>]*)>")


def controls(html: str) -> list[tuple]:
    """(tag, name, id, type) of every named form control, in page order."""
    found = []
    for tag, attrs in CONTROL.findall(html):
        get = lambda a: (re.search(rf'\b{a}="([^"]*)"', attrs) or [None, None])[1]  # noqa: E731
        if get("name") and get("name") != "csrf_token":
            found.append((tag, get("name"), get("id"), get("type")))
    return found


def preview(client, schema: str, ui: str = "", **values):
    data = {"designer__schema": schema, "designer__ui": ui, **values}
    return client.post("/designer/forms/register.json/preview", data)


def test_the_preview_renders_the_form_exactly_as_the_task_page_does(web, api, deployed):
    instance = api.start("t01_office", "simple_call", {"title": "预览对照"}).json()
    register = task_of(api, "t01_office", instance, "register")
    task_page = web("t01_office").get(f"/tasks/{register['id']}").text
    task_form = task_page[task_page.index('data-testid="task-form"'):task_page.index("</form>", task_page.index('data-testid="task-form"'))]

    response = preview(web("designer"), (FORMS / "register.json").read_text(), (FORMS / "register.uischema.json").read_text())
    assert response.status_code == 200
    assert len(controls(task_form)) == 5
    assert controls(response.text) == controls(task_form)
    assert ("textarea", "description", "f-description", None) in controls(response.text)   # ui:widget textarea
    assert '<h3 class="preview-title">登记呼叫</h3>' in response.text


def test_a_trial_submission_in_the_preview_shows_the_staffs_messages(web, deployed):
    client = web("designer")
    schema = (FORMS / "register.json").read_text()
    response = preview(client, schema, "", designer__check="1", dept="zjj", found_on="2026-13-01")
    assert 'data-valid="false"' in response.text
    assert "「问题描述」为必填项" in response.text
    assert "「发现日期」格式不正确" in response.text
    assert 'value="zjj" selected' in response.text      # what was typed stays
    ok = preview(client, schema, "", designer__check="1", call_county="true", description="河道垃圾")
    assert 'data-valid="true"' in ok.text and "试填的内容可以提交" in ok.text


def test_a_broken_form_is_explained_instead_of_previewed(web, designer_api, deployed):
    response = preview(web("designer"), '{"type": "object", "properties": {"a": {"type": "strin"}}')
    assert "表单有误，无法预览" in response.text
    assert "JSON 格式错误" in response.text
    check = designer_api.post("/api/designer/forms/x.json/validate", "designer", json={
        "schema": '{"type": "array"}', "ui_name": "x.uischema.json", "ui": '{"nope": {"ui:widget": "textarea"}}'})
    body = check.json()
    assert body["valid"] is False
    assert body["problems"][0]["message"] == "表单的根必须是 \"type\": \"object\""
    schema_error = designer_api.post("/api/designer/forms/x.json/validate", "designer", json={
        "schema": '{"type": "object", "properties": {"a": {"type": "strin"}}}'}).json()
    assert "不是有效的 JSON Schema（properties/a/type）" in schema_error["problems"][0]["message"]
    warned = designer_api.post("/api/designer/forms/x.json/validate", "designer", json={
        "schema": '{"type": "object", "properties": {"a": {"type": "string"}}}', "ui_name": "x.uischema.json",
        "ui": '{"nope": {"ui:widget": "textarea"}, "ui:order": ["a"]}'}).json()
    assert warned["valid"] is True
    assert warned["warnings"] == ["界面布局中的「nope」在表单中没有对应字段，将被忽略"]


def test_saving_a_used_form_deploys_new_versions_and_running_work_keeps_the_old_form(designer_api, deployed):
    old = start_and_reach_handle(designer_api, "旧表单")
    stricter = json.loads((FORMS / "result.json").read_text())
    stricter["required"].append("measures")
    stricter["properties"]["measures"] = {"type": "string", "title": "整改措施", "minLength": 1}
    without_note = designer_api.post("/api/designer/forms/result.json/publish", "designer",
                                     json={"schema": json.dumps(stricter, ensure_ascii=False)})
    assert without_note.status_code == 422 and "变更说明" in without_note.json()["errors"]["note"][0]

    response = designer_api.post("/api/designer/forms/result.json/publish", "designer",
                                 json={"schema": json.dumps(stricter, ensure_ascii=False), "note": "办理结果须写整改措施"})
    assert response.status_code == 201, response.text
    assert response.json()["message"] == "表单已保存并部署：测试呼叫流程 第 2 版"
    versions = designer_api.get("/api/designer/processes/simple_call/versions", "designer").json()["items"]
    assert versions[0]["note"] == "修改表单「result.json」：办理结果须写整改措施"
    assert versions[0]["changes"]["forms_changed"] == ["result.json"]

    # The instance started on version 1 completes 部门办理 with the form it started with.
    handle = task_of(designer_api, "zjj_contact", old, "handle")
    assert designer_api.complete("zjj_contact", handle["id"], {"result": "已处理"}).status_code == 200
    # A new instance needs the new field.
    new = start_and_reach_handle(designer_api, "新表单")
    handle = task_of(designer_api, "zjj_contact", new, "handle")
    refused = designer_api.complete("zjj_contact", handle["id"], {"result": "已处理"})
    assert refused.status_code == 422
    assert refused.json()["errors"]["measures"] == ["「整改措施」为必填项"]

    library = {f["filename"]: f for f in designer_api.get("/api/designer/forms", "designer").json()["items"]}
    assert library["result.json"]["source"] == "deployed"
    assert library["result.json"]["used_by"] == [{"key": "simple_call", "name": "测试呼叫流程", "version": 2}]


def test_an_invalid_form_is_not_saved(designer_api, deployed):
    response = designer_api.post("/api/designer/forms/result.json/publish", "designer",
                                 json={"schema": '{"type": "object", "required": "result"}', "note": "x"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["file"] == "result.json"
    versions = designer_api.get("/api/designer/processes/simple_call/versions", "designer").json()["items"]
    assert len(versions) == 1


def test_a_new_form_waits_as_a_draft_until_a_diagram_using_it_is_deployed(designer_api, deployed):
    schema = '{"title": "确认评价（新）", "type": "object", "required": ["rating"], "properties": {"rating": {"type": "string", "title": "评价"}}}'
    saved = designer_api.post("/api/designer/forms/confirm_v2.json/publish", "designer",
                              json={"schema": schema, "ui_name": "confirm_v2.uischema.json",
                                    "ui": '{"rating": {"ui:widget": "radio"}}'})
    assert saved.status_code == 200, saved.text
    assert saved.json()["saved_as_draft"] is True
    library = {f["filename"]: f for f in designer_api.get("/api/designer/forms", "designer").json()["items"]}
    assert library["confirm_v2.json"]["source"] == "draft" and library["confirm_v2.json"]["used_by"] == []
    assert library["confirm_v2.uischema.json"]["is_ui"] is True

    deployed_now = designer_api.deploy_diagram("simple_call.bpmn", renamed_form(), note="确认评价改用新表单")
    assert deployed_now.status_code == 201, deployed_now.text
    library = {f["filename"]: f for f in designer_api.get("/api/designer/forms", "designer").json()["items"]}
    assert library["confirm_v2.json"]["source"] == "deployed"     # the draft went with the deploy
