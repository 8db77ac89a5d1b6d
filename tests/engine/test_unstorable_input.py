"""Values no column can hold get a clear 4xx naming the field, never a 500, and change nothing.

PostgreSQL refuses NUL characters in text and integers beyond its column types; SQLite cannot
bind integers beyond 64 bits. Both used to surface as a 500 from deep inside a query.
"""
from __future__ import annotations

import pytest

HUGE = "99999999999999999999"


@pytest.mark.parametrize("path", [
    f"/api/process-instances/{HUGE}", f"/api/process-instances/{HUGE}/events", f"/api/calls/{HUGE}",
    f"/api/catalog/versions/{HUGE}", "/api/tasks/%00", "/api/catalog/items/%00",
])
def test_an_id_no_column_can_hold_is_simply_not_found(api, users, path):
    response = api.get(path, "admin")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


RANGE = "数值超出范围（不能超过 2147483647）"
NUL = "含有不允许的控制字符（NUL）"
DATES = "日期应在 2000 年至 2099 年之间"


@pytest.mark.parametrize("path, field, message", [
    (f"/api/process-instances?page={HUGE}", "page", RANGE),     # numbers beyond an integer column
    (f"/api/tasks?instance_id={HUGE}", "instance_id", RANGE),
    (f"/api/calls?page={HUGE}", "page", RANGE),
    ("/api/process-instances?business_key=%00", "business_key", NUL),   # text PostgreSQL refuses
    ("/api/calls?township=a%00b", "township", NUL),
    ("/api/catalog/items?q=%00", "q", NUL),
    ("/api/calls?date_from=0001-01-01", "date_from", DATES),   # dates no timestamp can hold
    ("/api/calls?date_to=9999-12-31", "date_to", DATES),
    ("/api/calls/export?format=xlsx&date_from=0001-01-01", "date_from", DATES),
    ("/api/calls/stats?date_to=9999-12-31", "date_to", DATES),
])
def test_a_query_value_no_column_can_hold_is_refused_naming_it(api, users, path, field, message):
    response = api.get(path, "admin")
    assert response.status_code == 422, response.text
    assert response.json()["errors"][field] == [message]


def test_submitted_data_with_a_nul_character_is_refused_and_nothing_is_started(api, deployed):
    response = api.start("t01_office", "simple_call", {"title": "渣土\x00遗撒"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"data.title": [NUL]}
    response = api.start("t01_office", "simple_call", {"title": "渣土遗撒"}, business_key="BK\x00")
    assert response.json()["errors"] == {"business_key": [NUL]}
    assert api.get("/api/process-instances", "admin").json()["total"] == 0

    started = api.start("t01_office", "simple_call", {"title": "渣土遗撒"}).json()
    task = api.tasks("t01_office")[0]
    response = api.complete("t01_office", task["id"], {"call_county": False, "description": {"\x00key": "x"}})
    assert response.status_code == 422
    assert api.get(f"/api/process-instances/{started['id']}", "admin").json()["version"] == started["version"]


@pytest.mark.parametrize("depth", [100, 100_000])
def test_json_nested_deeper_than_any_form_is_refused_before_anything_recurses_into_it(api, deployed, depth):
    body = '{"process_key": "simple_call", "data": {"title": "x", "deep": ' + "[" * depth + "]" * depth + "}}"
    response = api.post("/api/process-instances", "t01_office", data=body,
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text[:300]
    assert list(response.json()["errors"].values()) == [["数据嵌套层次过深（不能超过 64 层）"]]
    assert api.get("/api/process-instances", "admin").json()["total"] == 0


@pytest.mark.parametrize("method, path, body, field, message", [
    ("GET", "/api/process-instances?page=0", None, "page", "不能小于 1"),
    ("GET", "/api/process-instances?per_page=500", None, "per_page", "应在 1 与 200 之间"),
    ("GET", "/api/tasks?mine=maybe", None, "mine", "应为 true 或 false"),
    ("POST", "/api/process-instances", {"process_key": ["simple_call"]}, "process_key", "应为文本"),
    ("POST", "/api/process-instances", {"data": {}}, "process_key", "必填"),
    ("POST", "/api/process-instances", {"process_key": "simple_call", "data": "x"}, "data", "应为对象（JSON object）"),
])
def test_argument_errors_name_the_field_in_chinese(api, deployed, method, path, body, field, message):
    response = api.request(method, path, "t01_office", json=body) if body is not None else api.get(path, "t01_office")
    assert response.status_code == 422, response.text
    assert response.json()["errors"][field] == [message]
