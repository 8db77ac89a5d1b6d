"""The main pages in a real browser (Debian's headless Chromium) against the real server.

A township officer starts a call, meets an inline error on the form, completes it; an
administrator then finds the instance with its diagram drawn and the completed step marked.
Screenshots of each page go to test-artifacts/.
"""
from __future__ import annotations

import re

import pytest

from .web_helpers import login, screenshot

pytestmark = pytest.mark.browser

GREEN = "rgb(46, 139, 87)"   # completed elements (service/static/css/app.css)
BLUE = "rgb(29, 111, 216)"   # active elements


def element(tab, element_id: str):
    return tab.locator(f'g.djs-element[data-element-id="{element_id}"]')


def first_shape_stroke(tab, element_id: str) -> str:
    return tab.eval_on_selector(f'g.djs-element[data-element-id="{element_id}"] .djs-visual > :first-child',
                                "node => getComputedStyle(node).stroke")


def test_officer_starts_a_call_fixes_an_inline_error_and_completes_the_task(page, deployed):
    login(page, "t01_office")
    assert page.locator("h1").first.inner_text().startswith("您好")
    screenshot(page, "01-home")

    page.click("text=发起事项")
    page.click('[data-process="simple_call"] >> text=发起')
    page.fill("#f-title", "工地渣土车遗撒")
    page.fill("#business_key", "HJ-2026-001")
    screenshot(page, "02-start-form")
    page.click("[data-testid=submit]")

    # The first task is the officer's own, so the page goes straight to it.
    page.wait_for_url(re.compile(r"/tasks/[0-9a-f-]{36}$"))
    assert page.inner_text("[data-testid=task-title]") == "登记呼叫"
    assert "已发起" in page.inner_text(".flash-success")

    page.check("#f-call_county")
    page.select_option("#f-dept", "zjj")
    page.fill("#f-found_on", "2026-03-02")
    page.click("[data-testid=submit]")   # 问题描述 left empty

    error = page.locator('[data-error-for="description"]')
    assert error.inner_text() == "「问题描述」为必填项"
    assert page.locator("[data-testid=form-errors]").is_visible()
    # What was entered is still there.
    assert page.is_checked("#f-call_county")
    assert page.input_value("#f-dept") == "zjj"
    assert page.input_value("#f-found_on") == "2026-03-02"
    screenshot(page, "03-task-inline-error")

    page.fill("#f-description", "沂河路工地渣土车遗撒约 50 米")
    page.click("[data-testid=submit]")
    page.wait_for_url(re.compile(r"/tasks$"))
    assert "已办理「登记呼叫」" in page.inner_text(".flash-success")
    screenshot(page, "04-task-list-after")

    page.click("text=已办")
    assert "登记呼叫" in page.inner_text("[data-testid=done-table]")
    assert page.problems == []


def test_department_sees_the_called_task_with_its_light(page, deployed, api, clock):
    started = api.start("t01_office", "simple_call", {"title": "畜禽养殖污染"}, business_key="HJ-2")
    register = api.tasks("t01_office")[0]
    api.complete("t01_office", register["id"], {"call_county": True, "dept": "zjj", "description": "养殖场粪污直排"})
    receive = api.tasks("zjj_contact")[0]
    api.complete("zjj_contact", receive["id"], {"receiver": "张三"})   # 部门办理 is due in 2 hours
    clock.advance(hours=1, minutes=45)                                   # inside the last quarter: yellow

    login(page, "zjj_contact")
    page.goto("/tasks")
    row = page.locator("[data-testid=task-table] tbody tr").first
    assert "部门办理" in row.inner_text()
    assert row.locator("[data-light]").get_attribute("data-light") == "yellow"
    assert started.status_code == 201
    screenshot(page, "05-department-task-list")
    assert page.problems == []


def test_admin_sees_the_diagram_with_completed_and_active_steps(page, deployed, api):
    instance = api.start("t01_office", "simple_call", {"title": "占道经营"}, business_key="HJ-3").json()
    register = api.tasks("t01_office")[0]
    api.complete("t01_office", register["id"], {"call_county": True, "dept": "zjj", "description": "占道经营"})

    login(page, "admin")
    page.goto("/admin/instances")
    assert "HJ-3" in page.inner_text("[data-testid=instance-table]")
    screenshot(page, "06-admin-instances")

    page.click(f'[data-instance-id="{instance["id"]}"] >> text=#{instance["id"]}')
    page.wait_for_selector('#diagram[data-rendered="true"]')
    assert "st-completed" in element(page, "register").get_attribute("class")
    assert first_shape_stroke(page, "register") == GREEN
    assert "st-active" in element(page, "receive").get_attribute("class")
    assert first_shape_stroke(page, "receive") == BLUE
    assert page.inner_text('[data-token-count="receive"]') == "1"
    # Not reached yet: no marker.
    assert "st-" not in (element(page, "confirm").get_attribute("class") or "")

    element(page, "register").click()
    assert "登记呼叫" in page.inner_text("#element-detail")
    screenshot(page, "07-admin-instance-diagram")
    assert page.problems == []


def test_admin_incident_list_and_api_docs_work_offline(page, deployed):
    login(page, "admin")
    page.goto("/admin/incidents")
    assert "当前没有出错的流程实例" in page.inner_text("[data-testid=incident-table]")
    screenshot(page, "08-admin-incidents")
    page.goto("/api/docs")
    page.wait_for_selector(".swagger-ui .info")
    assert "属地管理流程服务 API" in page.inner_text(".swagger-ui .info")


def test_a_diagram_without_drawing_is_laid_out_automatically(page, showcase, api):
    instance = api.start("t01_office", "form_showcase", {"title": "河道违建", "township": "t01",
                                                         "item_code": "SD-1"}).json()
    login(page, "admin")
    page.goto(f"/instances/{instance['id']}")
    page.wait_for_selector('#diagram[data-rendered="true"]')
    assert page.locator("[data-testid=no-di]").is_visible()
    assert "st-completed" in element(page, "prepare").get_attribute("class")
    assert "st-active" in element(page, "fill").get_attribute("class")
    assert page.locator("[data-testid=element-table]").is_visible()        # the list is open as well
    screenshot(page, "09-instance-without-drawing")
    assert page.problems == []


def test_every_widget_of_a_task_form_renders_in_the_browser(page, showcase, api):
    api.start("t01_office", "form_showcase", {"title": "河道违建", "township": "t01", "item_code": "SD-1"})
    task = api.tasks("t01_office")[0]
    login(page, "t01_office")
    page.goto(f"/tasks/{task['id']}")
    assert "请到现场核实问题情况" in page.inner_text("[data-testid=instructions]")
    page.fill("#f-people", "3")
    page.check('input[name="measures"][value="上报"]')
    page.check('input[name="channel"][value="report"]')
    page.set_input_files("#f-photos", files=[{"name": "现场.png", "mimeType": "image/png",
                                              "buffer": b"\x89PNG\r\n\x1a\n" + b"\x00" * 16}])
    page.click("[data-testid=submit]")                 # result, severity, date missing
    assert page.inner_text('[data-error-for="result"]') == "「核查结果」为必填项"
    assert page.input_value("#f-people") == "3"
    assert page.is_checked('input[name="measures"][value="上报"]')
    assert page.is_checked('input[name="channel"][value="report"]')
    assert "现场.png" in page.inner_text('[data-field="photos"]')        # the upload is kept
    screenshot(page, "10-task-form-widgets")


def test_the_pages_switch_to_english(page, deployed):
    page.goto("/login?lang=en")
    assert page.inner_text("h1") == "Sign in"
    login(page, "t01_office")
    assert "My tasks" in page.inner_text("nav.mainnav")
    screenshot(page, "11-home-english")
