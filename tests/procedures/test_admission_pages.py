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
        fields = list(data.items()) if isinstance(data, dict) else list(data)
        return self.http.post(self.server + path, data=fields + [("csrf_token", self.token)], allow_redirects=False,
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


def _task_id(demo_api, user, element):
    return next(t["id"] for t in demo_api.tasks(user) if t["element_id"] == element)


def test_a_catalog_change_is_applied_for_and_reviewed_through_the_pages(server, demo_api, county):
    from .test_catalog_change import NEW_ITEM

    applicant = Browser(server, "zjj_zhanglx")
    started = applicant.post("/start/catalog_change", {})
    assert started.status_code == 302 and "/tasks/" in started.headers["Location"]
    task_path = started.headers["Location"].replace(server, "")
    page = applicant.get(task_path)
    assert page.status_code == 200 and "属地管理事项清单调整申请" in page.text and 'name="application.item.main_units"' in page.text
    fields = {"application.change_type": "add", "application.reason": "基层确有需求", "application.basis": "专项整治方案",
              "submit_action": "submit", **{f"application.item.{k}": "\n".join(v) if isinstance(v, list) else str(v)
                                            for k, v in NEW_ITEM.items()}}
    wrong = applicant.post(task_path, {**fields, "application.item.main_units": "nosuchunit"})
    assert wrong.status_code == 422 and 'data-error-for="application.item.main_units"' in wrong.text
    assert applicant.post(task_path, fields).status_code == 302

    reviewer = Browser(server, "bb_reviewer")
    review_path = f"/tasks/{_task_id(demo_api, 'bb_reviewer', 'cc_review_county_bb')}"
    review_page = reviewer.get(review_path)
    assert review_page.status_code == 200 and "新增事项内容" in review_page.text and "SD-052" in review_page.text
    assert reviewer.post(review_path, {"county_bb_decision": "reject", "county_bb_opinion": "依据不足"}).status_code == 302


def test_the_admission_tasks_render_for_each_participant(server, demo_api, county):
    from .test_admission import DEPARTMENT, application

    department = Browser(server, DEPARTMENT)
    started = department.post("/start/temporary_task_admission", {})
    task_path = started.headers["Location"].replace(server, "")
    form = department.get(task_path)
    assert form.status_code == 200 and 'name="townships"' in form.text and "沂城街道" in form.text
    fields = {f"application.{k}": str(v) for k, v in application().items()}
    assert department.post(task_path, [("townships", "t01"), *fields.items()]).status_code == 302
    t01 = Browser(server, T01)
    consult = t01.get(f"/tasks/{_task_id(demo_api, T01, 'adm_consult')}")
    assert consult.status_code == 200 and "经费保障：县财政专项经费每乡镇2万元" in consult.text
