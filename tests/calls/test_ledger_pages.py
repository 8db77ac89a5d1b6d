"""The staff pages of the call ledger (事项台账): list, one entry, statistics, export; and a grid
worker's report with a photo through the task page."""
from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from call_support import BJ, GRID, SUPERVISOR, TOWNSHIP, county, desk, triage_data  # noqa: F401
from service.demo import DEMO_PASSWORD
from web.web_helpers import WebClient

MARKET = "scjg_tiancm"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def browse(server, desk):
    clients = []

    def make(username: str) -> WebClient:
        client = WebClient(server)
        client.login(username, DEMO_PASSWORD)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.http.close()


def test_a_grid_worker_reports_with_a_photo_on_the_task_page(desk, browse):
    instance_id = desk.start(GRID)
    task = desk.task(GRID, "report", instance_id)
    page = browse(GRID)
    form = page.get(f"/tasks/{task['id']}")
    assert form.status_code == 200 and 'name="report.photos"' in form.text and 'enctype="multipart/form-data"' in form.text
    response = page.post(f"/tasks/{task['id']}", {
        "report.place": "滨河社区东侧沟渠", "report.description": "养殖场粪污直排",
        "report.found_at": "2026-03-02T08:30", "report.onsite_action": "已劝告制止"},
        files=[("report.photos", ("现场.png", PNG, "image/png"))])
    assert response.status_code == 200, response.text
    row = desk.row(instance_id)
    assert row.found_at == BJ(2026, 3, 2, 8, 30) and len(row.attachments) == 1
    upload_id = row.attachments[0]
    office = browse(TOWNSHIP)
    assert office.get(f"/files/{upload_id}").content == PNG           # the township sees the photo
    detail = office.get(f"/calls/{row.id}")
    assert f"/files/{upload_id}" in detail.text


def test_the_ledger_page_lists_filters_and_exports_what_the_user_may_see(desk, browse):
    first = desk.reported("SD-021")
    desk.at(BJ(2026, 3, 2, 11, 5))                                     # 签收 overdue: 督办
    second = desk.start(TOWNSHIP)
    desk.do(TOWNSHIP, "triage", second, triage_data("SD-001", decision="自行处理"))
    page = browse(TOWNSHIP)
    listing = page.get("/calls")
    assert listing.status_code == 200
    assert "事项台账" in listing.text and "“乡呼县应、上下联动”事项登记表" in listing.text
    assert re.search(r'data-testid="count-total">2<', listing.text)
    assert re.search(r'data-testid="count-overdue">1<', listing.text)
    assert listing.text.count("data-call-id=") == 2 and "督办" in listing.text
    overdue = page.get("/calls", params={"overdue": "1"})
    assert overdue.text.count("data-call-id=") == 1
    wrong = page.get("/calls", params={"from": "三月", "status": "lost"})
    assert wrong.status_code == 200 and "部分筛选条件有误" in wrong.text
    export = page.get("/calls/export", params={"format": "xlsx", "overdue": "1"})
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet.max_row == 2 and sheet.cell(row=2, column=1).value == desk.row(first).number
    assert page.get("/calls/export", params={"format": "doc"}).status_code == 422
    english = page.get("/calls", params={"lang": "en"})
    assert "Call ledger" in english.text


def test_an_entry_shows_the_registration_the_history_and_who_acted(desk, browse):
    instance_id = desk.reported("SD-021")
    desk.at(BJ(2026, 3, 2, 11, 5))
    desk.receive(MARKET, instance_id)
    call_id = desk.row(instance_id).id
    page = browse(MARKET).get(f"/calls/{call_id}")
    assert page.status_code == 200
    registration = page.text[page.text.index('data-testid="registration"'):]
    for shown in ("刘玉梅", "2026-03-02 09:00", "沂城街道", "县市场监管局", "田春梅（食品安全监管科科长，0539-5550125）"):
        assert shown in registration
    assert 'data-testid="escalation"' in page.text and "乡镇（街道）党政办公室报县督查考核部门督办" in page.text
    assert browse("zjj_liuht").get(f"/calls/{call_id}").status_code == 403


def test_statistics_are_for_the_county_wide_offices(desk, browse):
    instance_id = desk.reported("SD-021")
    desk.receive(MARKET, instance_id)
    stats = browse(SUPERVISOR).get("/calls/stats", params={"by": "department"})
    assert stats.status_code == 200 and 'data-key="scjg"' in stats.text and "县市场监管局" in stats.text
    assert browse(SUPERVISOR).get("/calls/stats", params={"by": "item"}).text.count('data-key="SD-021"') == 1
    assert browse(TOWNSHIP).get("/calls/stats").status_code == 403
