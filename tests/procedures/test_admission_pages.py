"""The admission pages township staff use: the register of admitted tasks (their own township
first) and the refusal of a task never admitted, recorded with the rule it relies on."""
from __future__ import annotations

import re

import pytest
import requests

from .conftest import DEMO_PASSWORD
from .test_admission import T01, T03, apply, approve, to_approval

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A logged-in page session (cookie + the CSRF token of the last page)."""

    def __init__(self, server: str, username: str):
        self.server, self.http = server, requests.Session()
        self.token = _CSRF.search(self.http.get(f"{server}/login").text).group(1)
        response = self.post("/login", {"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, response.text
        self.token = _CSRF.search(self.get("/").text).group(1)

    def get(self, path):
        return self.http.get(self.server + path, timeout=30)

    def post(self, path, data):
        return self.http.post(self.server + path, data={**data, "csrf_token": self.token}, allow_redirects=False,
                              timeout=30)


@pytest.fixture
def admitted(demo_api, county):
    instance_id = apply(demo_api)          # 沂城街道 and 城北街道
    to_approval(demo_api, instance_id)
    approve(demo_api, instance_id)
    return "ZR-2026-001"


def test_township_staff_see_the_tasks_admitted_for_their_township(server, admitted):
    t01 = Browser(server, T01)
    page = t01.get("/admission")
    assert page.status_code == 200 and "准入事项登记簿" in page.text
    assert admitted in page.text and "城镇燃气用户入户安全检查" in page.text and 'data-testid="decline-button"' in page.text
    detail = t01.get(f"/admission/tasks/{admitted}")
    assert "县财政专项经费每乡镇2万元" in detail.text and "附条件同意" not in detail.text and "同意" in detail.text
    t03 = Browser(server, T03)
    assert admitted not in t03.get("/admission").text               # not handed to 东湖街道 …
    assert admitted in t03.get("/admission?township=all").text       # … but the register is open to all staff


def test_a_township_refuses_an_unadmitted_task_from_the_page(server, county):
    t01 = Browser(server, T01)
    form = t01.get("/admission/declines/new")
    assert "乡镇（街道）可以拒绝承接" in form.text
    refused = t01.post("/admission/declines/new", {"department": "zjj", "task_title": "", "task_description": "x",
                                                   "cited_item_code": "SD-001"})
    assert refused.status_code == 422
    assert "列入现行第 1 版属地管理事项清单" in refused.text and 'data-error-for="task_title"' in refused.text
    done = t01.post("/admission/declines/new", {"department": "zjj", "task_title": "协助开展建筑工地夜间巡查",
                                                "task_description": "电话通知每晚派人巡查", "assigned_on": "2026-03-02"})
    assert done.status_code == 302
    listing = t01.get("/admission/declines")
    assert "协助开展建筑工地夜间巡查" in listing.text and "已登记拒绝承接" in listing.text
    department = Browser(server, "zjj_sunxy")
    assert "协助开展建筑工地夜间巡查" in department.get("/admission/declines").text
    assert department.post("/admission/declines/new", {"department": "zjj", "task_title": "x",
                                                       "task_description": "x"}).status_code == 403
