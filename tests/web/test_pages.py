"""The staff pages over HTTP against the real server: login, CSRF, task list, task forms, start pages."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from service.uploads import UploadStore


def start_call(api, title="渣土遗撒", business_key="BK-1"):
    response = api.start("t01_office", "simple_call", {"title": title}, business_key=business_key)
    assert response.status_code == 201, response.text
    return response.json()


def start_check(api, title="违建核查", township="t01", item_code="SD-001", **extra):
    response = api.start("t01_office", "form_showcase", {"title": title, "township": township,
                                                         "item_code": item_code, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def field_error(html: str, name: str) -> str | None:
    found = re.search(rf'data-error-for="{re.escape(name)}">([^<]*)<', html)
    return found.group(1) if found else None


# --- login and protection -----------------------------------------------------------------------

def test_pages_need_a_login_and_come_back_after_it(web, users):
    client = web()
    response = client.get("/tasks", allow_redirects=False)
    assert response.status_code == 302
    assert "/login?next=/tasks" in response.headers["Location"]
    response = client.post("/login?next=/tasks", {"username": "t01_office", "password": "password123"},
                           allow_redirects=False)
    assert response.headers["Location"].endswith("/tasks")


def test_a_wrong_password_is_refused_in_chinese_and_the_cookie_is_protected(web, users):
    client = web()
    response = client.post("/login", {"username": "t01_office", "password": "nope"})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    response = client.post("/login", {"username": "t01_office", "password": "password123"}, allow_redirects=False)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_never_redirects_to_another_site(web, users):
    response = web().post("/login?next=https://evil.example/", {"username": "t01_office", "password": "password123"},
                          allow_redirects=False)
    assert response.headers["Location"] == "/"


def test_a_form_without_its_csrf_token_changes_nothing(web, api, deployed):
    start_call(api)
    task = api.tasks("t01_office")[0]
    client = web("t01_office")
    response = client.post(f"/tasks/{task['id']}", {"call_county": "", "description": "x"}, csrf=False)
    assert response.status_code == 400
    assert "页面已过期" in response.text
    assert [t["id"] for t in api.tasks("t01_office")] == [task["id"]]


def test_logout_ends_the_session(web, users):
    client = web("t01_office")
    assert client.get("/tasks").status_code == 200
    client.post("/logout")
    assert client.get("/tasks", allow_redirects=False).status_code == 302


def test_pages_carry_security_headers(web, users):
    response = web("t01_office").get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert '<html lang="zh-CN">' in response.text


# --- task list ----------------------------------------------------------------------------------

def test_the_task_list_shows_my_lane_and_unit_only_with_counts(web, api, deployed):
    start_call(api, "第一件")
    start_call(api, "第二件", "BK-2")
    page = web("t01_office").get("/tasks").text
    assert page.count("data-task-id=") == 2
    assert 'data-testid="count-total">2<' in page
    assert "BK-1" in page and "BK-2" in page
    assert web("zjj_contact").get("/tasks").text.count("data-task-id=") == 0


def test_the_task_list_filters_by_procedure_township_item_and_overdue(web, api, deployed, showcase, clock):
    start_call(api)
    start_check(api, "东村违建", "t01", "SD-001")
    start_check(api, "西村违建", "t02", "SD-002")
    client = web("t01_office")
    assert client.get("/tasks?process=form_showcase").text.count("data-task-id=") == 2
    by_township = client.get("/tasks?township=t02").text
    assert by_township.count("data-task-id=") == 1 and "西村违建" in by_township
    assert client.get("/tasks?item=SD-001").text.count("data-task-id=") == 1
    assert client.get("/tasks?overdue=1").text.count("data-task-id=") == 0
    clock.advance(days=7)                                   # past the 3 working days of 现场核查
    overdue = client.get("/tasks?overdue=1").text
    assert overdue.count("data-task-id=") == 2
    assert 'data-testid="count-overdue">2<' in overdue
    assert 'data-light="red"' in overdue and "超期" in overdue


def test_remaining_working_days_are_shown_with_a_green_light(web, api, showcase):
    start_check(api)                                        # Monday 09:00, due Thursday 09:00
    page = web("t01_office").get("/tasks?process=form_showcase").text
    assert 'data-light="green"' in page
    assert "剩余 3 个工作日" in page


def test_claiming_reserves_a_task_and_releasing_frees_it(web, api, deployed, add_user):
    add_user("t01_office2", "t01-dzb", ["township_office"])
    start_call(api)
    task = api.tasks("t01_office")[0]
    me, colleague = web("t01_office"), web("t01_office2")
    response = me.post(f"/tasks/{task['id']}/claim")
    assert "已认领「登记呼叫」" in response.text
    assert "我已认领" in me.get("/tasks").text
    assert colleague.get("/tasks").text.count("data-task-id=") == 0
    me.post(f"/tasks/{task['id']}/release")
    assert colleague.get("/tasks").text.count("data-task-id=") == 1


# --- the task page ------------------------------------------------------------------------------

def test_the_task_page_shows_context_instructions_timeline_and_form(web, api, showcase):
    instance = start_check(api, "河道边违建")
    task = api.tasks("t01_office")[0]
    page = web("t01_office").get(f"/tasks/{task['id']}").text
    assert "现场核查" in page and f"#{instance['id']}" in page
    assert "请到现场核实问题情况" in page                    # the BPMN documentation
    assert "河道边违建" in page and "沂河街道" in page          # the instance summary, its township by name
    assert "发起「现场核查」" in page                         # the timeline so far
    for control in ('<textarea id="f-result"', '<select id="f-severity"', 'type="radio" name="channel"',
                    'type="number" id="f-people"', 'type="date" id="f-checked_on"',
                    'type="datetime-local" id="f-recheck_at"', 'type="checkbox" name="measures"',
                    'type="checkbox" id="f-urgent"', 'list="f-item_code-items"', 'type="file" id="f-photos"',
                    '<legend>位置', 'name="location.village"', 'enctype="multipart/form-data"'):
        assert control in page, control


def test_server_errors_are_shown_next_to_their_fields_and_nothing_typed_is_lost(web, api, deployed):
    start_call(api)
    task = api.tasks("t01_office")[0]
    client = web("t01_office")
    response = client.post(f"/tasks/{task['id']}", {"call_county": "true", "dept": "zjj", "description": "",
                                                    "found_on": "2026-03-02", "details.place": "沂河路"})
    assert response.status_code == 422
    html = response.text
    assert field_error(html, "description") == "「问题描述」为必填项"
    assert "表单填写有误，请按提示修改" in html
    assert '<option value="zjj" selected>' in html
    assert 'value="2026-03-02"' in html and 'value="沂河路"' in html
    assert [t["id"] for t in api.tasks("t01_office")] == [task["id"]]      # nothing moved on


def test_unreadable_input_and_schema_errors_are_reported_together(web, api, showcase):
    start_check(api)
    task = api.tasks("t01_office")[0]
    response = web("t01_office").post(f"/tasks/{task['id']}", {"result": "", "severity": "较重", "people": "三"})
    assert response.status_code == 422
    assert field_error(response.text, "people") == "「涉及人数」应为整数"
    assert field_error(response.text, "result") == "「核查结果」为必填项"
    assert field_error(response.text, "checked_on") == "「核查日期」为必填项"
    assert 'value="三"' in response.text


def test_completing_moves_on_to_my_next_task(web, api, showcase):
    instance = start_check(api)
    task = api.tasks("t01_office")[0]
    client = web("t01_office")
    response = client.post(f"/tasks/{task['id']}", {"result": "已拆除", "severity": "一般", "checked_on": "2026-03-02",
                                                    "measures": "劝阻", "channel": "patrol"}, allow_redirects=False)
    review = api.tasks("t01_office")[0]
    assert review["title"] == "审核"
    assert response.headers["Location"].endswith(f"/tasks/{review['id']}")
    page = client.get(f"/tasks/{review['id']}").text
    assert "已办理「现场核查」" in page and "下一步「审核」也由您办理" in page
    assert 'type="radio" name="approved" value="true"' in page and "不同意" in page
    detail = api.get(f"/api/process-instances/{instance['id']}", "admin").json()
    assert detail["data"]["measures"] == ["劝阻"] and detail["data"]["channel"] == "patrol"


def test_when_the_next_task_is_someone_elses_the_list_follows(web, api, deployed):
    start_call(api)
    task = api.tasks("t01_office")[0]
    response = web("t01_office").post(f"/tasks/{task['id']}", {"call_county": "true", "dept": "zjj",
                                                               "description": "渣土"})
    assert response.url.endswith("/tasks")
    assert "已办理「登记呼叫」" in response.text


def test_what_i_completed_is_listed_as_done(web, api, deployed):
    start_call(api, business_key="BK-DONE")
    task = api.tasks("t01_office")[0]
    api.complete("t01_office", task["id"], {"call_county": False, "description": "自行处理"})
    page = web("t01_office").get("/tasks/done").text
    assert "登记呼叫" in page and "BK-DONE" in page
    assert "您还没有办理过任务" in web("zjj_contact").get("/tasks/done").text


def test_someone_elses_task_is_refused_and_a_finished_one_says_so(web, api, deployed):
    start_call(api)
    task = api.tasks("t01_office")[0]
    assert web("sthj_contact").get(f"/tasks/{task['id']}").status_code == 403
    api.complete("t01_office", task["id"], {"call_county": False, "description": "自行处理"})
    response = web("t01_office").get(f"/tasks/{task['id']}")
    assert response.status_code == 409 and "该任务已办理完毕" in response.text


def test_an_uploaded_file_is_kept_and_downloadable_by_those_who_see_the_instance(web, api, showcase, core):
    start_check(api)
    task = api.tasks("t01_office")[0]
    client = web("t01_office")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    response = client.post(f"/tasks/{task['id']}", {"result": "", "severity": "一般", "checked_on": "2026-03-02"},
                           files=[("photos", ("现场.png", png, "image/png"))])
    assert response.status_code == 422                    # result missing: the photo is kept meanwhile
    upload_id = re.search(r'name="photos__keep" value="(u[0-9a-f]{32})"', response.text).group(1)
    store = UploadStore(core.settings.var_dir, core.settings.upload_max_bytes)
    assert store.get(upload_id).attached is False          # … but would be pruned if the form were abandoned
    response = client.post(f"/tasks/{task['id']}", [("result", "已处理"), ("severity", "一般"),
                                                    ("checked_on", "2026-03-02"), ("photos__keep", upload_id)])
    assert response.status_code == 200
    assert store.get(upload_id).attached is True
    store.prune(timedelta(0), now=datetime.now(timezone.utc) + timedelta(days=1))
    assert store.get(upload_id) is not None
    data = api.get("/api/process-instances/1", "admin").json()["data"]
    assert data["photos"] == [upload_id]
    download = client.get(f"/files/{upload_id}")
    assert download.content == png
    assert download.headers["Content-Type"] == "image/png"
    assert "attachment" in download.headers["Content-Disposition"]
    assert web("zjj_contact").get(f"/files/{upload_id}").status_code == 403


def test_a_disguised_upload_is_refused_next_to_its_field(web, api, showcase):
    start_check(api)
    task = api.tasks("t01_office")[0]
    response = web("t01_office").post(f"/tasks/{task['id']}", {"result": "x", "severity": "一般",
                                                               "checked_on": "2026-03-02"},
                                      files=[("photos", ("a.pdf", b"<html>", "application/pdf"))])
    assert response.status_code == 422
    assert "内容与扩展名「.pdf」不符" in field_error(response.text, "photos")


# --- start pages --------------------------------------------------------------------------------

def test_only_roles_allowed_to_start_see_a_procedure(web, deployed):
    assert 'data-process="simple_call"' in web("t01_office").get("/start").text
    department = web("zjj_contact")
    assert 'data-process="simple_call"' not in department.get("/start").text
    assert department.get("/start/simple_call").status_code == 403


def test_a_start_form_is_validated_and_starts_the_instance(web, api, deployed):
    client = web("t01_office")
    response = client.post("/start/simple_call", {"title": "x" * 51, "business_key": "HJ-9"})
    assert response.status_code == 422
    assert field_error(response.text, "title") == "「事项标题」不能超过 50 个字符"
    assert 'value="HJ-9"' in response.text
    assert api.get("/api/process-instances", "admin").json()["total"] == 0
    response = client.post("/start/simple_call", {"title": "渣土遗撒", "business_key": "HJ-9"})
    assert "已发起「测试呼叫流程」" in response.text
    assert "登记呼叫" in response.text                      # the first task is mine: shown at once
    assert api.get("/api/process-instances", "admin").json()["items"][0]["business_key"] == "HJ-9"


def test_the_catalog_item_picker_offers_the_items_in_force(web, api, showcase, core):
    from datetime import date

    from service.domain.catalog import create_version, publish_version

    start_check(api)
    task = api.tasks("t01_office")[0]
    client = web("t01_office")
    assert "当前没有生效的事项清单" in client.get(f"/tasks/{task['id']}").text
    with core.uow() as uow:
        create_version(uow.session, items=[{
            "code": "SD-001", "area": "住建", "name": "施工扬尘", "list_type": "配合", "main_units": ["zjj"],
            "coordinating_units": [], "county_duty": "县住建局：监管施工扬尘", "township_duty": "巡查并报告",
            "legal_basis": "《大气污染防治法》", "acknowledge_hours": 2, "handle_working_days": 5,
            "warn_before_hours": 8}], contacts=[], title="测试清单", effective_date=date(2026, 1, 1), source="initial")
        publish_version(uow.session, 1, today=date(2026, 3, 2))
        uow.commit()
    page = client.get(f"/tasks/{task['id']}").text
    assert '<option value="SD-001">SD-001 施工扬尘（住建）</option>' in page
    response = client.post(f"/tasks/{task['id']}", {"result": "x", "severity": "一般", "checked_on": "2026-03-02",
                                                    "item_code": "XX-1"})
    assert response.status_code == 422
    assert field_error(response.text, "item_code") == "「清单事项」不是清单中的事项：XX-1"


# --- languages ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/tasks", "/tasks/done", "/start"])
def test_english_is_available_and_remembered(web, deployed, path):
    client = web("t01_office")
    assert "我的待办" in client.get(path).text
    english = client.get(path + "?lang=en").text
    assert "My tasks" in english and "我的待办" not in english
    assert '<html lang="en">' in client.get(path).text
    assert "我的待办" in client.get(path + "?lang=zh_CN").text


def test_an_upload_over_the_limit_gets_a_chinese_page(web, api, showcase, core):
    start_check(api)
    task = api.tasks("t01_office")[0]
    too_big = b"%PDF-" + b"0" * core.settings.upload_max_bytes
    response = web("t01_office").post(f"/tasks/{task['id']}", {"result": "x"},
                                      files=[("photos", ("big.pdf", too_big, "application/pdf"))])
    assert response.status_code == 413
    assert "上传的文件合计不能超过 10 MB" in response.text


def test_an_administrator_completing_someones_task_is_not_led_through_their_work(web, api, showcase):
    start_check(api)
    task = api.tasks("t01_office")[0]
    response = web("admin").post(f"/tasks/{task['id']}", {"result": "代为填写", "severity": "一般",
                                                          "checked_on": "2026-03-02"})
    assert response.url.endswith("/tasks")
    assert api.tasks("t01_office")[0]["title"] == "审核"


def test_pages_answer_such_values_with_a_page_not_a_stack_trace(web, users):
    client = web("admin")
    assert client.get(f"/instances/{10**20}").status_code == 404
    page = client.get(f"/tasks?page={10**20}")
    assert page.status_code == 422 and "超出允许的范围" in page.text
    page = client.get("/tasks?process_key=%00")
    assert page.status_code == 422 and "NUL" in page.text
