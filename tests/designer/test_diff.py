"""What changed between two versions, computed on the server from the stored BPMN."""
from __future__ import annotations

from .designer_helpers import base_xml, renamed_form, with_review_step, without_receive


def version_ids(api, key="simple_call") -> dict[int, int]:
    items = api.get(f"/api/designer/processes/{key}/versions", "designer").json()["items"]
    return {v["version"]: v["id"] for v in items}


def test_added_removed_and_changed_elements_with_what_changed(designer_api, deployed):
    xml = with_review_step(without_receive())
    xml = xml.replace('value="hours_later(2)"', 'value="working_days_later(1)"').replace('"PT2H"', '"PT4H"')
    assert designer_api.deploy_diagram("simple_call.bpmn", xml).status_code == 201
    ids = version_ids(designer_api)

    body = designer_api.get(f"/api/designer/diff?from={ids[1]}&to={ids[2]}", "designer").json()
    assert {(e["id"], e["kind_name"]) for e in body["added"]} == {("review", "用户任务"), ("f4b", "顺序流")}
    assert {(e["id"], e["name"]) for e in body["removed"]} == {("receive", "部门签收"), ("f3", "")}
    changed = {c["id"]: c["aspects"] for c in body["changed"]}
    assert changed["handle"] == ["名称", "属性 dueAtExpression"]
    assert changed["handle_overdue"] == ["定时器"]
    assert changed["f4"] == ["连线"]
    assert changed["f_call"] == ["连线"]
    assert changed["Lane_dept"] == ["包含环节"]
    assert body["forms_removed"] == ["receive.json"]   # only 部门签收 used it
    assert body["summary"] == "新增 2 · 删除 2 · 修改 5 · 表单 1"
    assert body["from"]["version"] == 1 and body["to"]["version"] == 2

    # The other way round, the same elements are removed and added.
    back = designer_api.get(f"/api/designer/diff?from={ids[2]}&to={ids[1]}", "designer").json()
    assert {e["id"] for e in back["removed"]} == {"review", "f4b"}
    assert {e["id"] for e in back["added"]} == {"receive", "f3"}


def test_a_changed_form_and_a_moved_shape_are_told_apart(designer_api, deployed):
    moved = base_xml().replace('<dc:Bounds x="280" y="80"', '<dc:Bounds x="290" y="90"')
    designer_api.deploy_diagram("simple_call.bpmn", moved, note="只移动了图形")
    designer_api.put("/api/designer/forms/confirm_v2.json/draft", "designer", json={
        "schema": '{"title": "确认评价（新）", "type": "object", "properties": {"rating": {"type": "string"}}}'})
    designer_api.deploy_diagram("simple_call.bpmn", renamed_form(moved), note="确认评价改用新表单")
    ids = version_ids(designer_api)

    layout = designer_api.get(f"/api/designer/diff?from={ids[1]}&to={ids[2]}", "designer").json()
    assert layout["layout_changed"] is True and layout["summary"] == "仅调整布局"
    forms = designer_api.get(f"/api/designer/diff?from={ids[2]}&to={ids[3]}", "designer").json()
    assert forms["forms_added"] == ["confirm_v2.json"] and forms["forms_removed"] == ["confirm.json"]
    assert [(c["id"], c["aspects"]) for c in forms["changed"]] == [("confirm", ["属性 formJsonSchemaFilename"])]


def test_only_versions_of_one_process_compare(designer_api, deployed, showcase):
    showcase_id = designer_api.get("/api/designer/processes/form_showcase/versions", "designer").json()["items"][0]["id"]
    ids = version_ids(designer_api)
    response = designer_api.get(f"/api/designer/diff?from={ids[1]}&to={showcase_id}", "designer")
    assert response.status_code == 422
    assert "同一流程" in response.json()["message"]
    assert designer_api.get(f"/api/designer/diff?from={ids[1]}&to=999", "designer").status_code == 404


def test_the_diff_page_lists_the_changes(web, designer_api, deployed):
    designer_api.deploy_diagram("simple_call.bpmn", with_review_step(), note="增加复核")
    page = web("designer").get("/designer/processes/simple_call/diff")
    assert page.status_code == 200
    assert 'data-change="added" data-element="review"' in page.text
    assert 'data-change="changed" data-element="handle"' in page.text
    assert "部门办理（含复核） <span class=\"muted\">（原：部门办理）</span>" in page.text
    same = web("designer").get("/designer/processes/simple_call/diff?from=1&to=1")
    assert "两个版本没有差别" in same.text
