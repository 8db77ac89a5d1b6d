"""The version comparison, the form editor's live preview and the migration page in Chromium."""
from __future__ import annotations

import json

import pytest

from web.web_helpers import login, screenshot

from .designer_helpers import ROOT, with_review_step, without_receive
from .test_deploy_and_versions import start_and_reach_handle

pytestmark = pytest.mark.browser


def marker_classes(tab, container: str, element_id: str) -> str:
    return tab.get_attribute(f'#{container} g.djs-element[data-element-id="{element_id}"]', "class") or ""


def test_the_diff_highlights_added_removed_and_changed_elements(page, designer_api, deployed):
    designer_api.deploy_diagram("simple_call.bpmn", with_review_step(without_receive()), note="取消签收，增加复核")
    login(page, "designer")
    page.goto("/designer/processes/simple_call")
    page.click("text=对比上一版")
    page.wait_for_selector('#diagram-old[data-rendered="true"]')
    page.wait_for_selector('#diagram-new[data-rendered="true"]')
    assert "diff-removed" in marker_classes(page, "diagram-old", "receive")
    assert "diff-changed" in marker_classes(page, "diagram-old", "handle")
    assert "diff-added" in marker_classes(page, "diagram-new", "review")
    assert "diff-changed" in marker_classes(page, "diagram-new", "handle")
    assert "diff-" not in marker_classes(page, "diagram-new", "register")
    rows = page.inner_text("[data-testid=diff-table]")
    assert "复核" in rows and "部门签收" in rows and "属性 formJsonSchemaFilename" not in rows
    screenshot(page, "designer-05-diff")
    assert page.problems == []


def test_the_form_editor_previews_live_and_saves_a_new_version(page, designer_api, deployed):
    login(page, "designer")
    page.goto("/designer/forms")
    page.click('[data-form="result.json"] >> text=result.json')
    page.wait_for_selector("#preview-form [data-field=result]")
    assert "使用该表单的流程：测试呼叫流程" in page.inner_text("[data-testid=used-by]")

    schema = json.loads((ROOT / "tests/fixtures/forms/result.json").read_text())
    schema["properties"]["measures"] = {"type": "string", "title": "整改措施", "enum": ["罚款", "约谈", "停工"]}
    schema["required"].append("measures")
    page.fill("#schema-text", json.dumps(schema, ensure_ascii=False, indent=2))
    page.fill("#ui-text", '{"measures": {"ui:widget": "radio"}}')
    page.wait_for_selector("#preview-form [data-field=measures] input[type=radio][value=约谈]")
    assert page.locator("#preview-form [data-field=measures] .req").count() == 1

    page.click("[data-action=check]")
    page.wait_for_selector("#preview .form-preview[data-valid=false]")
    assert "「整改措施」为必填项" in page.inner_text("#preview")
    page.check("#preview-form input[value=约谈]")
    page.fill("#f-result", "已约谈施工单位")
    page.click("[data-action=check]")
    page.wait_for_selector("#preview .form-preview[data-valid=true]")
    screenshot(page, "designer-06-form-preview")

    page.fill("#schema-text", '{"type": "object", "properties": {')
    page.wait_for_selector("#preview .form-preview[data-preview-state=problems]")
    page.click("[data-action=validate]")
    page.wait_for_selector("#form-status[data-kind=error]")
    assert "JSON 格式错误" in page.inner_text("#form-problems")

    page.fill("#schema-text", json.dumps(schema, ensure_ascii=False, indent=2))
    page.fill("#publish-note", "增加整改措施")
    page.click("[data-action=publish]")
    page.wait_for_selector("#form-status[data-kind=ok]")
    # No task names result.uischema.json yet: the layout waits as a draft until a diagram uses it.
    assert page.inner_text("#form-status") == ("表单已保存并部署：测试呼叫流程 第 2 版；result.uischema.json "
                                               "尚未被任何流程的环节引用，已保存为草稿")
    versions = designer_api.get("/api/designer/processes/simple_call/versions", "designer").json()["items"]
    assert versions[0]["changes"]["forms_changed"] == ["result.json"]
    library = {f["filename"]: f["source"] for f in designer_api.get("/api/designer/forms", "designer").json()["items"]}
    assert library["result.json"] == "deployed" and library["result.uischema.json"] == "draft"

    # The editor goes on from where the saves left the drafts: saving again is no conflict.
    page.fill("#ui-text", '{"measures": {"ui:widget": "select"}}')
    page.click("[data-action=save]")
    page.wait_for_selector("#form-status[data-kind=ok]:has-text('草稿已保存')")
    page.click("[data-action=save]")
    page.wait_for_selector("#form-status[data-kind=ok]:has-text('草稿已保存')")
    copy = designer_api.get("/api/designer/forms", "designer").json()["items"]
    assert {f["filename"]: f["source"] for f in copy}["result.json"] == "draft"
    assert page.problems == []


def test_migrating_a_batch_with_progress_then_reverting_one(page, designer_api, deployed):
    instances = [start_and_reach_handle(designer_api, f"批量迁移 {n}") for n in range(7)]
    early = designer_api.start("t01_office", "simple_call", {"title": "未签收"}).json()
    designer_api.deploy_diagram("simple_call.bpmn", without_receive(), note="取消部门签收")

    login(page, "designer")
    page.goto("/designer/processes/simple_call/migrate")
    table = page.locator("[data-testid=plan-table]")
    assert table.locator('tr[data-movable="false"]').count() == 7       # 部门签收 already done: cannot move
    assert "部门签收" in table.locator(f'tr[data-instance="{instances[0]["id"]}"]').inner_text()
    designer_api.deploy_diagram("simple_call.bpmn", with_review_step(), note="增加复核")
    page.goto("/designer/processes/simple_call/migrate")
    page.select_option("select[name=to]", label="第 3 版（最新）")
    page.click("text=预检")
    assert table.locator('tr[data-movable="true"]').count() == 8
    screenshot(page, "designer-07-dry-run")

    page.check("#select-all")
    page.click("[data-action=migrate]")
    page.wait_for_selector('#migrate-form[data-state="finished"]')
    assert page.inner_text("#migrate-status").startswith("完成：成功 8 个，失败 0 个。")
    assert page.get_attribute("#migrate-progress", "value") == "8"
    assert table.locator('td.result[data-ok="true"]').count() == 8
    screenshot(page, "designer-08-migrated")
    for item in instances + [early]:
        assert designer_api.get(f"/api/process-instances/{item['id']}", "admin").json()["definition_version"] == 3

    page.reload()
    row = page.locator(f'[data-testid=migration-table] tr[data-instance="{early["id"]}"]')
    assert "迁移后无进展，可撤销" in row.inner_text()
    row.locator("button:has-text('撤销')").click()
    assert f"已撤销迁移：流程实例 #{early['id']} 回到第 1 版" in page.inner_text(".flash-success")
    assert designer_api.get(f"/api/process-instances/{early['id']}", "admin").json()["definition_version"] == 1
    assert page.problems == []
