"""The ledger API (/api/calls): who sees which calls, filters and counts, the 事项登记表 export
(XLSX and CSV) and the statistics by item, department and township."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from call_support import (BJ, GRID, TOWNSHIP, county, desk, register_data, report_data,  # noqa: F401
                          triage_data)

MARKET, HEALTH, ECOLOGY = "scjg_tiancm", "wjj_jiangh", "sthj_wangjg"
OTHER_TOWNSHIP = "t02_dzb_zhangw"     # 城北街道党政办公室


@pytest.fixture
def calls(desk):
    """Four calls: A on time and 满意; B received late and supervised, still open; C handled
    locally by another township; D closed out late and 不满意 twice."""
    made = {}
    desk.clock.set(BJ(2026, 3, 2, 9, 0))
    made["A"] = desk.reported("SD-021")
    desk.receive(MARKET, made["A"])
    desk.handle(MARKET, made["A"])
    desk.do(HEALTH, "assist", made["A"], {"assist": {"result": "已配合"}})
    desk.close_out(MARKET, made["A"])
    desk.confirm(made["A"], "满意")

    desk.clock.set(BJ(2026, 3, 3, 9, 0))
    made["B"] = desk.start(TOWNSHIP)
    desk.do(TOWNSHIP, "triage", made["B"], triage_data("SD-001", description="=HYPERLINK(\"x\") 粪污外溢"))
    desk.do(TOWNSHIP, "register", made["B"], register_data())
    desk.at(BJ(2026, 3, 3, 11, 5))                                     # 签收 limit (2 hours) passed: 督办
    desk.receive(ECOLOGY, made["B"])

    desk.clock.set(BJ(2026, 3, 4, 9, 0))
    made["C"] = desk.start(OTHER_TOWNSHIP)
    desk.do(OTHER_TOWNSHIP, "triage", made["C"], triage_data("SD-021", decision="自行处理"))
    desk.do(OTHER_TOWNSHIP, "local", made["C"], {"local_result": {"measures": "现场指导", "result": "已处理"}})

    desk.clock.set(BJ(2026, 3, 5, 9, 0))
    made["D"] = desk.reported("SD-021")
    desk.receive(MARKET, made["D"])
    desk.handle(MARKET, made["D"])
    desk.do(HEALTH, "assist", made["D"], {"assist": {"result": "已配合"}})
    desk.clock.set(BJ(2026, 3, 11, 9, 0))                               # limit was Tue 10 March 09:00
    for _round in range(2):
        desk.close_out(MARKET, made["D"])
        desk.confirm(made["D"], "不满意", "问题仍未解决")
        if desk.open_tasks(made["D"]):
            desk.handle(MARKET, made["D"])
    return made


def listed(desk, username, **params):
    response = desk.api.get("/api/calls", desk.as_(username), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def names(desk, calls, username, **params):
    wanted = {v: k for k, v in calls.items()}
    return sorted(wanted[c["instance_id"]] for c in listed(desk, username, **params)["items"])


def test_filters_and_counts(desk, calls):
    everything = listed(desk, "admin")
    assert everything["total"] == 4
    assert [c["instance_id"] for c in everything["items"]] == [calls[k] for k in "DCBA"]      # newest first
    assert everything["counts"] == {"total": 4, "open": 1, "overdue": 2, "escalated": 1,
                                    "by_status": {"handling": 1, "closed": 2, "closed_local": 1}}
    assert names(desk, calls, "admin", township="t02") == ["C"]
    assert names(desk, calls, "admin", department="scjg") == ["A", "D"]
    assert names(desk, calls, "admin", item_code="SD-001") == ["B"]
    assert names(desk, calls, "admin", status="open") == ["B"]
    assert names(desk, calls, "admin", status="closed") == ["A", "D"]
    assert names(desk, calls, "admin", overdue="true") == ["B", "D"]
    assert names(desk, calls, "admin", overdue="false") == ["A", "C"]
    assert names(desk, calls, "admin", escalated="true") == ["B"]
    assert names(desk, calls, "admin", date_from="2026-03-03", date_to="2026-03-04") == ["B", "C"]
    assert names(desk, calls, "admin", q="HYPERLINK") == ["B"]
    page = listed(desk, "admin", per_page=2, page=2)
    assert [c["instance_id"] for c in page["items"]] == [calls["B"], calls["A"]] and page["total"] == 4
    bad = desk.api.get("/api/calls", desk.as_("admin"), params={"status": "lost"})
    assert bad.status_code == 422 and "status" in bad.json()["errors"]
    bad = desk.api.get("/api/calls", desk.as_("admin"), params={"date_from": "2026-03-05", "date_to": "2026-03-01"})
    assert bad.status_code == 422 and bad.json()["errors"] == {"date_to": ["结束日期不能早于开始日期"]}


def test_each_person_sees_the_calls_of_their_township_department_or_report(desk, calls):
    assert names(desk, calls, TOWNSHIP) == ["A", "B", "D"]
    assert names(desk, calls, OTHER_TOWNSHIP) == ["C"]
    assert names(desk, calls, MARKET) == ["A", "D"]
    assert names(desk, calls, HEALTH) == ["A", "D"]                    # as a coordinating department
    assert names(desk, calls, "nync_hanjw") == ["B"]
    assert names(desk, calls, GRID) == ["A", "D"]                      # the ones this grid worker reported
    assert names(desk, calls, "designer") == []
    for county_wide in ("supervisor", "bb_reviewer", "leader"):
        assert listed(desk, county_wide)["total"] == 4
    c_id = listed(desk, "admin", instance_id=calls["C"])["items"][0]["id"]
    assert desk.api.get(f"/api/calls/{c_id}", desk.as_(MARKET)).status_code == 403
    assert desk.api.get(f"/api/calls/{c_id}", desk.as_(OTHER_TOWNSHIP)).status_code == 200
    assert desk.api.get("/api/calls/9999", desk.as_("admin")).status_code == 404
    assert desk.api.get("/api/calls").status_code == 401


def test_the_ledger_exports_as_xlsx_and_csv_with_the_registration_form_columns(desk, calls):
    response = desk.api.get("/api/calls/export", desk.as_(TOWNSHIP), params={"format": "xlsx"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="call-ledger-20260311.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = rows[0]
    assert header[:4] == ["登记编号", "状态", "呼叫单位（乡镇、街道）", "来源"]
    assert {"呼叫人", "呼叫时间", "接呼人（名录）", "签收人", "主体责任部门", "办结期限", "销号时间", "评价"} <= set(header)
    assert len(rows) == 4                                              # header + A, B, D (not C: another township)
    record = dict(zip(header, rows[-1]))                               # A, the oldest
    assert (record["呼叫人"], record["呼叫时间"], record["主体责任部门"], record["签收人"]) == (
        "刘玉梅", "2026-03-02 09:00", "县市场监管局", "田春梅")
    assert (record["评价"], record["是否超期"], record["配合责任部门"]) == ("满意", "否", "县卫健局")
    b = dict(zip(header, rows[2]))
    assert b["问题描述（上报）"].startswith("=HYPERLINK") and b["督办情况"] == "督办"
    assert sheet.cell(row=3, column=header.index("问题描述（上报）") + 1).data_type == "s"   # text, not a formula

    response = desk.api.get("/api/calls/export", desk.as_("admin"), params={"format": "csv", "township": "t01"})
    assert response.content.startswith(b"\xef\xbb\xbf")              # BOM: Excel reads the Chinese
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0] == header and len(table) == 4
    described = dict(zip(table[0], table[2]))["问题描述（上报）"]
    assert described.startswith("'=HYPERLINK")                         # never a formula in a spreadsheet
    assert desk.api.get("/api/calls/export", desk.as_("admin"), params={"format": "pdf"}).status_code == 422


def test_statistics_by_department_item_and_township(desk, calls):
    response = desk.api.get("/api/calls/stats", desk.as_("supervisor"), params={"by": "department"})
    assert response.status_code == 200, response.text
    rows = {r["key"]: r for r in response.json()["items"]}
    assert sorted(rows) == ["scjg", "sthj"]
    market = rows["scjg"]
    assert (market["name"], market["calls"], market["closed_out"], market["on_time"], market["decided"]) == (
        "县市场监管局", 2, 2, 1, 2)
    assert market["on_time_rate"] == 0.5
    assert market["ratings"] == {"满意": 1, "基本满意": 0, "不满意": 1} and market["satisfaction_rate"] == 0.5
    assert market["avg_handling_days"] == pytest.approx((0.0 + 4.0) / 2, abs=0.01)
    ecology = rows["sthj"]
    assert (ecology["calls"], ecology["escalated"], ecology["listed"], ecology["decided"], ecology["on_time"]) == (
        1, 1, 0, 1, 0)
    assert ecology["on_time_rate"] == 0.0 and ecology["satisfaction_rate"] is None

    items = {r["key"]: r for r in desk.api.get("/api/calls/stats", desk.as_("bb_reviewer"),
                                                params={"by": "item"}).json()["items"]}
    assert (items["SD-021"]["name"], items["SD-021"]["calls"], items["SD-021"]["local"]) == ("农村集体聚餐食品安全", 2, 1)
    townships = {r["key"]: r for r in desk.api.get("/api/calls/stats", desk.as_("leader"),
                                                    params={"by": "township"}).json()["items"]}
    assert (townships["t01"]["calls"], townships["t02"]["local"]) == (3, 1)
    ranged = desk.api.get("/api/calls/stats", desk.as_("supervisor"),
                          params={"by": "department", "date_from": "2026-03-05"}).json()["items"]
    assert [(r["key"], r["calls"]) for r in ranged] == [("scjg", 1)]
    for refused in (TOWNSHIP, MARKET, GRID):
        assert desk.api.get("/api/calls/stats", desk.as_(refused)).status_code == 403
    assert desk.api.get("/api/calls/stats", desk.as_("admin"), params={"by": "color"}).status_code == 422


def test_the_ledger_api_is_documented(desk):
    paths = desk.api.get("/api/openapi.json").json()["paths"]
    assert {"/api/calls", "/api/calls/{call_id}", "/api/calls/export", "/api/calls/stats"} <= set(paths)
    parameters = {p["name"] for p in paths["/api/calls"]["get"]["parameters"]}
    assert {"township", "department", "item_code", "status", "overdue", "date_from", "date_to"} <= parameters
