"""乡呼县应 end to end through the HTTP API: report → triage → call → receive → handle (with the
coordinating departments) → close out → confirm, local handling, and who may act on what."""
from __future__ import annotations

from call_support import (BJ, GRID, TOWNSHIP, county, desk, register_data, report_data,  # noqa: F401
                          triage_data)

MARKET = "scjg_tiancm"      # 县市场监管局, lead of SD-021 农村集体聚餐食品安全
HEALTH = "wjj_jiangh"       # 县卫健局, coordinating on SD-021


def test_a_grid_report_is_triaged_called_received_handled_closed_out_and_rated(desk):
    instance_id = desk.start(GRID)
    assert desk.open_tasks(instance_id) == [("report", "t01-v1")]
    assert desk.row(instance_id).status == "reporting"
    desk.do(GRID, "report", instance_id, report_data())
    assert desk.open_tasks(instance_id) == [("triage", "t01")]

    triage = desk.task(TOWNSHIP, "triage", instance_id)
    detail = desk.api.get(f"/api/tasks/{triage['id']}", TOWNSHIP).json()
    assert detail["data"]["report"]["place"] == "滨河社区东侧沟渠"          # the report reaches the triage form
    assert detail["form"]["ui_schema"]["item_code"] == {"ui:widget": "catalog-item"}
    desk.do(TOWNSHIP, "triage", instance_id, triage_data("SD-021"))

    register = desk.task(TOWNSHIP, "register", instance_id)
    shown = desk.api.get(f"/api/tasks/{register['id']}", TOWNSHIP).json()["data"]["registration"]
    assert shown["main_department"] == "县市场监管局"                      # computed, shown read-only
    assert shown["coordinating_departments"] == "县卫健局"
    assert shown["receiver"] == "田春梅（食品安全监管科科长，0539-5550125）"
    assert shown["catalog_version"] == "第 1 版"
    desk.do(TOWNSHIP, "register", instance_id, register_data())

    receive = desk.task(MARKET, "receive", instance_id)
    assert receive["candidate_unit"] == "scjg"
    assert _instant(receive["due_at"]) == BJ(2026, 3, 2, 11, 0)        # 签收 within 2 hours
    assert _instant(receive["warn_at"]) == BJ(2026, 3, 2, 10, 30)      # yellow in the last quarter
    row = desk.row(instance_id)
    assert (row.status, row.holder_unit, row.department) == ("receiving", "scjg", "scjg")
    assert row.caller_name == "刘玉梅" and row.caller_username == TOWNSHIP      # 呼叫人
    assert row.calling_unit == "t01" and _instant(row.called_at) == BJ(2026, 3, 2, 9, 0)
    assert row.receiver_contact == "田春梅（食品安全监管科科长，0539-5550125）"    # 接呼人 from the directory
    assert row.number == "HJ20260302-00001" and row.catalog_version == 1
    assert (row.main_units, row.coordinating_units) == (["scjg"], ["wjj"])
    assert _instant(row.handle_due_at) == BJ(2026, 3, 5, 9, 0)          # 3 working days

    desk.receive(MARKET, instance_id, note="已向分管局长汇报")
    assert sorted(desk.open_tasks(instance_id)) == [("assist", "wjj"), ("handle", "scjg")]
    handle = desk.task(MARKET, "handle", instance_id)
    assert _instant(handle["due_at"]) == BJ(2026, 3, 5, 9, 0)
    assert _instant(handle["warn_at"]) == BJ(2026, 3, 5, 1, 0)          # 8 hours before
    desk.handle(MARKET, instance_id)
    assert desk.open_tasks(instance_id) == [("assist", "wjj")]         # close-out waits for the coordination
    desk.clock.set(BJ(2026, 3, 3, 10, 0))
    desk.do(HEALTH, "assist", instance_id, {"assist": {"result": "已核查聚餐厨师健康证明"}})
    desk.close_out(MARKET, instance_id)
    assert desk.open_tasks(instance_id) == [("confirm", "t01")]
    desk.confirm(instance_id, "满意")

    instance = desk.api.get(f"/api/process-instances/{instance_id}", "admin").json()
    assert instance["status"] == "completed" and instance["tasks"] == []
    assert instance["summary"]["township"] == "t01" and instance["summary"]["department"] == "scjg"
    ledger = desk.ledger(instance_id)
    assert ledger["status"] == "closed" and ledger["rating"] == "满意"
    assert ledger["receiver"] == "田春梅" and ledger["closer"] == "田春梅"
    assert ledger["overdue"] is False and ledger["escalation_level"] == 0
    assert ledger["handling_working_days"] == 1.04                     # 09:00 Mon → 10:00 Tue
    assert ledger["assists"]["wjj"]["result"] == "已核查聚餐厨师健康证明"
    assert [r["rating"] for r in ledger["ratings"]] == ["满意"]
    assert [e["kind"] for e in ledger["events"]] == ["opened", "reported", "triaged", "called", "received",
                                                     "handling", "assisted", "closed_out", "rated"]
    assert [e["user_name"] for e in ledger["events"][1:]] == ["滨河社区网格员", "刘玉梅", "刘玉梅", "田春梅", "田春梅",
                                                             "蒋红", "田春梅", "刘玉梅"]


def _instant(value):
    from datetime import datetime

    return datetime.fromisoformat(value) if isinstance(value, str) else value


def test_a_township_office_starts_a_call_itself_without_the_report_step(desk):
    instance_id = desk.start(TOWNSHIP)
    assert desk.open_tasks(instance_id) == [("triage", "t01")]          # no 上报 task
    triage = desk.task(TOWNSHIP, "triage", instance_id)
    assert desk.api.get(f"/api/tasks/{triage['id']}", TOWNSHIP).json()["data"]["report"]["place"] == ""
    desk.do(TOWNSHIP, "triage", instance_id, triage_data("SD-021", place="文昌路与沂河路交叉口"))
    row = desk.row(instance_id)
    assert (row.source, row.reporter_username, row.place) == ("township", TOWNSHIP, "文昌路与沂河路交叉口")


def test_a_problem_the_township_can_solve_is_handled_locally_and_closed(desk):
    instance_id = desk.start(GRID)
    desk.do(GRID, "report", instance_id, report_data())
    desk.do(TOWNSHIP, "triage", instance_id, triage_data("SD-001", decision="自行处理"))
    assert desk.open_tasks(instance_id) == [("local", "t01")]
    desk.do(TOWNSHIP, "local", instance_id, {"local_result": {"measures": "约谈养殖户，督促清理", "result": "已清理完毕"}})
    ledger = desk.ledger(instance_id)
    assert (ledger["status"], ledger["result"], ledger["department"]) == ("closed_local", "已清理完毕", None)
    assert ledger["called_at"] is None and ledger["item_code"] == "SD-001"
    assert desk.api.get(f"/api/process-instances/{instance_id}", "admin").json()["status"] == "completed"


def test_an_item_the_township_itself_leads_is_never_called_out_to_the_county(desk):
    instance_id = desk.start(TOWNSHIP)
    desk.do(TOWNSHIP, "triage", instance_id, triage_data("SD-015"))    # 乡村建设工程质量安全监管: 主体 = TOWNSHIP
    assert desk.open_tasks(instance_id) == [("local", "t01")]
    row = desk.row(instance_id)
    assert row.status == "local" and row.list_type == "主体"
    assert "由乡镇（街道）承担主体责任" in row.events[-1].message


def test_only_the_called_department_may_receive_and_close_out(desk):
    instance_id = desk.reported("SD-021")
    receive = desk.task(MARKET, "receive", instance_id)
    for stranger in ("zjj_liuht", "sthj_wangjg", GRID):                # another department, a grid worker
        refused = desk.try_complete(stranger, receive["id"], {"receipt": {"decision": "签收"}})
        assert refused.status_code == 403, refused.text
    assert desk.try_complete(HEALTH, receive["id"], {"receipt": {"decision": "签收"}}).status_code == 403
    assert desk.api.tasks(desk.as_("zjj_liuht"), instance_id=instance_id) == []
    desk.receive(MARKET, instance_id)
    desk.handle(MARKET, instance_id)
    desk.do(HEALTH, "assist", instance_id, {"assist": {"result": "已配合"}})
    close_out = desk.task(MARKET, "close_out", instance_id)
    closing = {"closing": {"measures": "检查", "result": "已办结"}}
    assert desk.try_complete("zjj_liuht", close_out["id"], closing).status_code == 403
    assert desk.try_complete(HEALTH, close_out["id"], closing).status_code == 403   # coordinating ≠ lead
    assert desk.row(instance_id).status == "handling"                  # nothing changed
    assert desk.try_complete(MARKET, close_out["id"], closing).status_code == 200


def test_a_submission_the_form_rejects_names_the_fields_and_changes_nothing(desk):
    instance_id = desk.reported("SD-021")
    receive = desk.task(MARKET, "receive", instance_id)
    response = desk.try_complete(MARKET, receive["id"], {"receipt": {"decision": "退单"}})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["receipt.return_reason"] == ["「退单理由」为必填项"]
    assert errors["receipt.return_detail"] == ["「退单说明」为必填项"]
    response = desk.try_complete(MARKET, receive["id"], {"receipt": {"decision": "拒收"}})
    assert "签收或退单" in response.json()["errors"]["receipt.decision"][0]
    assert desk.row(instance_id).status == "receiving" and desk.row(instance_id).sendback_count == 0
    assert desk.open_tasks(instance_id) == [("receive", "scjg")]
    triage_bad = desk.start(GRID)
    desk.do(GRID, "report", triage_bad, report_data(found_at="昨天下午"), status=422)
    desk.do(GRID, "report", triage_bad, {"report": {"place": "x" * 201}}, status=422)


def test_an_item_not_on_the_catalog_in_force_is_refused_on_its_field(desk):
    instance_id = desk.start(TOWNSHIP)
    refused = desk.do(TOWNSHIP, "triage", instance_id, triage_data("SD-999"), status=422)
    assert refused["errors"]["item_code"] == ["事项「SD-999」不在清单第 1 版中"]
    assert desk.open_tasks(instance_id) == [("triage", "t01")] and desk.row(instance_id).item_code is None


def test_only_grid_workers_and_township_offices_of_a_township_start_calls(desk):
    from sqlalchemy import func, select

    from service.models import CallRecord, ProcessInstance

    administrator = desk.api.start(desk.as_("admin"), "township_call")
    assert administrator.status_code == 422                            # an administrator belongs to no township
    assert administrator.json()["errors"] == {"started_by_unit": ["只有乡镇（街道）或村（社区）人员可以发起呼叫"]}
    assert desk.api.start(desk.as_(MARKET), "township_call").status_code == 403
    with desk.core.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
        assert uow.session.scalar(select(func.count()).select_from(CallRecord)) == 0
