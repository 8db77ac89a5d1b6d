"""The diagram editor in headless Chromium: validation markers, editing our properties, deploying,
importing files from other tools. Screenshots go to test-artifacts/."""
from __future__ import annotations

import re

import pytest

from web.web_helpers import login, screenshot

from .designer_helpers import MIWG_DIR, broken

pytestmark = pytest.mark.browser
EDITOR = "/designer/diagrams/simple_call.bpmn"


def element(tab, element_id: str):
    return tab.locator(f'#canvas g.djs-element[data-element-id="{element_id}"]')


def open_editor(tab, path=EDITOR):
    tab.goto(path)
    tab.wait_for_selector('#designer[data-state="imported"]')


def properties_group(tab, title: str):
    """A group of the properties panel, opened."""
    group = tab.locator(f'.bio-properties-panel-group:has(.bio-properties-panel-group-header-title:text-is("{title}"))')
    if "open" not in (group.locator(".bio-properties-panel-group-header").get_attribute("class") or ""):
        group.locator(".bio-properties-panel-group-header").click()
    return group


def test_validation_marks_the_broken_elements_on_the_diagram(page, designer_api, deployed):
    saved = designer_api.put("/api/designer/diagrams/simple_call.bpmn/draft", "designer", json={"content": broken()})
    assert saved.status_code == 200
    login(page, "designer")
    open_editor(page)
    assert page.get_attribute("#designer", "data-source") == "server"

    page.click("[data-action=validate]")
    page.wait_for_selector('#designer[data-validation="problems"]')
    for element_id in ("handle_overdue", "receive", "need_county"):
        assert "dz-problem" in element(page, element_id).get_attribute("class")
        assert page.locator(f'[data-problem-for="{element_id}"]').inner_text() == "1"
    assert "dz-problem" not in element(page, "register").get_attribute("class")
    problems = page.inner_text("#problems")
    assert "校验问题（3）" in problems
    assert "ISO 8601 值必须加引号" in problems and "no_such_form.json" in problems
    assert "发现 3 个问题" in page.inner_text("#designer-status")
    screenshot(page, "designer-01-validation-markers")

    # A problem in the list leads to its element (selected, its properties shown).
    page.click('#problems li[data-element-id="receive"] .problem-element')
    assert "selected" in element(page, "receive").get_attribute("class")
    page.wait_for_selector("#properties .bio-properties-panel-header-label:has-text('部门签收')")
    assert page.problems == []


def test_a_valid_diagram_validates_clean(page, deployed):
    login(page, "designer")
    open_editor(page)
    page.click("[data-action=validate]")
    page.wait_for_selector('#designer[data-validation="ok"]')
    assert page.inner_text("#designer-status") == "校验通过，可以部署。"
    assert page.locator(".dz-problem-badge").count() == 0
    assert page.problems == []


def test_editing_our_properties_and_deploying_a_new_version(page, designer_api, deployed):
    login(page, "designer")
    open_editor(page)
    element(page, "handle").click()
    group = properties_group(page, "表单与办理")
    due = group.locator('input[name="shudi-due"]')
    assert due.input_value() == "hours_later(2)"
    due.fill("working_days_later(2)")
    assert group.locator('select[name="shudi-form"]').input_value() == "result.json"
    group.locator('select[name="shudi-form"]').select_option("confirm.json")
    screenshot(page, "designer-02-properties")

    page.click("[data-action=deploy]")
    assert page.inner_text("#designer-status") == "请填写变更说明后再部署。"
    page.fill("#deploy-note", "部门办理期限改为 2 个工作日")
    page.click("[data-action=deploy]")
    page.wait_for_url(re.compile(r"/designer/processes/simple_call$"))
    assert "第 2 版" in page.inner_text("[data-testid=version-table]")
    assert "部门办理期限改为 2 个工作日" in page.inner_text("[data-testid=version-table]")
    screenshot(page, "designer-03-versions")

    versions = designer_api.get("/api/designer/processes/simple_call/versions", "designer").json()["items"]
    stored = designer_api.get(f"/api/designer/versions/{versions[0]['id']}/bpmn", "designer").text
    assert 'name="dueAtExpression" value="working_days_later(2)"' in stored
    assert versions[0]["changes"]["changed"] == [{"id": "handle", "kind": "userTask", "kind_name": "用户任务",
                                                  "name": "部门办理", "old_name": "部门办理",
                                                  "aspects": ["属性 formJsonSchemaFilename", "属性 dueAtExpression"]}]
    assert page.problems == []


def test_a_draft_is_saved_and_reopened(page, designer_api, deployed):
    login(page, "designer")
    open_editor(page)
    element(page, "register").click()
    properties_group(page, "基本信息").locator("#bio-properties-panel-name").fill("登记呼叫（草稿）")
    page.click("[data-action=save]")
    page.wait_for_selector("#designer-status[data-kind=ok]")
    assert "草稿已保存" in page.inner_text("#designer-status")
    copy = designer_api.get("/api/designer/diagrams/simple_call.bpmn", "designer").json()
    assert copy["source"] == "draft" and 'name="登记呼叫（草稿）"' in copy["content"]
    page.evaluate("() => document.getElementById('designer-status').setAttribute('data-kind', '')")
    properties_group(page, "基本信息").locator("#bio-properties-panel-name").fill("登记呼叫（草稿二）")
    page.click("[data-action=save]")   # the second save of the same page goes on from the first
    page.wait_for_selector("#designer-status[data-kind=ok]")
    assert designer_api.get("/api/designer/diagrams/simple_call.bpmn", "designer").json()["draft_version"] == 2

    open_editor(page)
    assert "草稿由 designer 保存于" in page.inner_text("[data-testid=draft-info]")
    assert element(page, "register").text_content() == "登记呼叫（草稿二）"
    assert page.problems == []


def test_a_non_executable_model_from_another_tool_is_refused_for_deployment(page, deployed):
    login(page, "designer")
    open_editor(page, "/designer/diagrams/miwg_a10.bpmn")
    page.set_input_files("#import-file", str(MIWG_DIR / "A.1.0.bpmn"))
    page.wait_for_selector('#designer[data-source="file"][data-state="imported"]')
    assert element(page, "_ec59e164-68b4-4f94-98de-ffb1c58a84af").text_content() == "Task 1"
    page.fill("#deploy-note", "导入 MIWG A.1.0")
    page.click("[data-action=deploy]")
    page.wait_for_selector("#designer-status[data-kind=error]")
    assert page.inner_text("#designer-status") == "流程定义未通过校验，未部署"
    assert "非可执行模型不能部署" in page.inner_text("#problems")
    screenshot(page, "designer-04-non-executable")
    assert page.problems == []


def test_a_diagram_without_a_drawing_is_laid_out_to_edit(page, showcase):
    login(page, "designer")
    open_editor(page, "/designer/diagrams/form_showcase.bpmn")
    drawn = page.evaluate("() => window.shudiModeler.get('elementRegistry').filter(e => e.type === 'bpmn:UserTask').length")
    assert drawn >= 1
    assert page.problems == []
