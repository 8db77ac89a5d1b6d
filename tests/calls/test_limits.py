"""Limits: yellow before the deadline, red after it; an overdue call goes to the supervision office
(督办, a new deadline) while the department's task stays open; still overdue at that deadline it
is put under listed supervision (挂牌督办). Working days follow the official calendar with 调休."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from call_support import BJ, SUPERVISOR, county, desk  # noqa: F401
from service.models import HumanTask
from service.services.worklist import urgency

MARKET = "scjg_tiancm"      # 县市场监管局, lead of SD-021: 签收 2 hours, 办结 3 working days, yellow 8 hours before
HEALTH = "wjj_jiangh"


def supervise(desk, instance_id, element, new_due, status=200):
    return desk.do(SUPERVISOR, element, instance_id,
                   {"supervision": {"new_due": new_due, "instructions": "限期签收并反馈办理情况"}}, status=status)


def light(desk, instance_id, element, moment) -> str:
    with desk.core.uow() as uow:
        task = uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.element_id == element)).one()
        return urgency(task, moment, desk.core.calendar()).light


def test_an_unreceived_call_turns_yellow_then_red_and_goes_to_supervision_then_listed_supervision(desk):
    instance_id = desk.reported("SD-021")                              # called Mon 09:00, 签收 by 11:00
    assert light(desk, instance_id, "receive", BJ(2026, 3, 2, 10, 0)) == "green"
    assert light(desk, instance_id, "receive", BJ(2026, 3, 2, 10, 40)) == "yellow"
    assert desk.at(BJ(2026, 3, 2, 10, 31)) == 1                        # the yellow warning
    [reminder] = desk.instance_events(instance_id, "reminder")
    assert reminder["message"] == "签收期限 2026-03-02 11:00 即将届满，请县市场监管局抓紧办理"
    assert desk.instance_events(instance_id, "escalation") == []

    desk.at(BJ(2026, 3, 2, 11, 1))
    assert light(desk, instance_id, "receive", BJ(2026, 3, 2, 11, 1)) == "red"
    assert desk.open_tasks(instance_id) == [("receive", "scjg"), ("ack_supervise", None)]   # the task stays open
    [first] = desk.instance_events(instance_id, "escalation")
    assert first["data"]["level"] == 1 and "超过签收期限" in first["message"]
    task = desk.task(SUPERVISOR, "ack_supervise", instance_id)
    shown = desk.api.get(f"/api/tasks/{task['id']}", SUPERVISOR).json()["data"]["overdue_info"]
    assert shown["department"] == "县市场监管局" and shown["due"] == "2026-03-02 11:00"
    row = desk.row(instance_id)
    assert (row.escalation_level, row.overdue, row.acknowledge_overdue) == (1, True, True)

    too_early = supervise(desk, instance_id, "ack_supervise", "2026-03-02T10:00:00+08:00", status=422)
    assert "督办期限必须晚于现在" in too_early["message"]
    supervise(desk, instance_id, "ack_supervise", "2026-03-02T15:00:00+08:00")
    assert desk.row(instance_id).supervision_due_at == BJ(2026, 3, 2, 15, 0)
    desk.at(BJ(2026, 3, 2, 14, 59))
    assert len(desk.instance_events(instance_id, "escalation")) == 1
    desk.at(BJ(2026, 3, 2, 15, 1))
    second = desk.instance_events(instance_id, "escalation")[-1]
    assert second["data"]["level"] == 2 and "挂牌督办" in second["message"]
    ledger = desk.ledger(instance_id)
    assert ledger["escalation_level"] == 2
    assert [(e["kind"], e["level"]) for e in ledger["events"] if e["kind"] in ("escalation", "supervised")] == [
        ("escalation", 1), ("supervised", 1), ("escalation", 2)]
    assert ledger["events"][-2]["user_name"] == "县委县政府督查室"          # who supervised
    desk.receive(MARKET, instance_id)                                  # late, but received
    assert sorted(desk.open_tasks(instance_id)) == [("assist", "wjj"), ("handle", "scjg")]
    assert desk.ledger(instance_id)["acknowledge_overdue"] is True


def test_receiving_before_the_supervision_deadline_ends_the_supervision_quietly(desk):
    instance_id = desk.reported("SD-021")
    desk.at(BJ(2026, 3, 2, 11, 1))
    assert ("ack_supervise", None) in desk.open_tasks(instance_id)
    desk.receive(MARKET, instance_id)                                  # before the supervisor acted
    assert ("ack_supervise", None) not in desk.open_tasks(instance_id)
    cancelled = desk.instance_events(instance_id, "task_cancelled")
    assert [e["element_id"] for e in cancelled] == ["ack_supervise"]
    desk.at(BJ(2026, 3, 3, 9, 0))
    assert [e["data"]["level"] for e in desk.instance_events(instance_id, "escalation")] == [1]
    assert desk.row(instance_id).escalation_level == 1


def test_a_department_finishing_late_stays_on_the_ledger_as_overdue_and_escalated(desk):
    instance_id = desk.reported("SD-021")
    desk.receive(MARKET, instance_id)
    desk.do(HEALTH, "assist", instance_id, {"assist": {"result": "已配合"}})
    assert desk.at(BJ(2026, 3, 5, 1, 1)) == 1                          # yellow, 8 hours before Thu 09:00
    assert len(desk.instance_events(instance_id, "reminder")) == 1
    assert light(desk, instance_id, "handle", BJ(2026, 3, 5, 1, 1)) == "yellow"
    desk.at(BJ(2026, 3, 5, 9, 1))
    assert ("handle_supervise", None) in desk.open_tasks(instance_id)
    supervise(desk, instance_id, "handle_supervise", "2026-03-06T17:00:00+08:00")
    desk.clock.set(BJ(2026, 3, 6, 16, 0))
    desk.handle(MARKET, instance_id)
    desk.close_out(MARKET, instance_id)                                # before the supervision deadline
    desk.at(BJ(2026, 3, 6, 17, 1))
    assert [e["data"]["level"] for e in desk.instance_events(instance_id, "escalation")] == [1]
    desk.confirm(instance_id, "基本满意")
    ledger = desk.ledger(instance_id)
    assert (ledger["status"], ledger["overdue"], ledger["handle_overdue"], ledger["acknowledge_overdue"]) == (
        "closed", True, True, False)
    assert ledger["escalation_level"] == 1
    assert ledger["handling_working_days"] == 4.29                      # Mon 09:00 → Fri 16:00
    assert "超过办结期限" in next(e["message"] for e in ledger["events"] if e["kind"] == "closed_out")
    overdue_list = desk.api.get("/api/calls", desk.as_("admin"), params={"overdue": "true"}).json()
    assert [c["instance_id"] for c in overdue_list["items"]] == [instance_id]


def test_working_day_limits_skip_the_may_day_holiday_and_count_the_make_up_saturday(desk):
    # 2026: 1–5 May off; Saturday 9 May is a working day (调休).
    desk.clock.set(BJ(2026, 4, 30, 10, 0))
    instance_id = desk.reported("SD-001")                              # 畜禽养殖污染防治: 5 working days
    row = desk.row(instance_id)
    assert row.acknowledge_due_at == BJ(2026, 4, 30, 12, 0)
    assert row.handle_due_at == BJ(2026, 5, 11, 10, 0)                 # 6, 7, 8, 9 (Sat), 11 May
    desk.receive("sthj_wangjg", instance_id)
    handle = desk.task("sthj_wangjg", "handle", instance_id)
    assert datetime.fromisoformat(handle["due_at"]) == BJ(2026, 5, 11, 10, 0)
    assert datetime.fromisoformat(handle["warn_at"]) == BJ(2026, 5, 11, 2, 0)
    desk.at(BJ(2026, 5, 10, 23, 0))
    assert desk.instance_events(instance_id, "escalation") == []
    desk.at(BJ(2026, 5, 11, 10, 1))
    assert [e["data"]["level"] for e in desk.instance_events(instance_id, "escalation")] == [1]


def test_an_extension_across_the_national_day_holiday_counts_working_days_only(desk):
    desk.clock.set(BJ(2026, 9, 28, 9, 0))                              # Mon; 1–7 Oct off, Sat 10 Oct worked
    instance_id = desk.reported("SD-021")
    assert desk.row(instance_id).handle_due_at == BJ(2026, 10, 8, 9, 0)   # 29, 30 Sep, 8 Oct
    desk.receive(MARKET, instance_id)
    desk.handle(MARKET, instance_id, next="申请延期", extension_days=2, extension_reason="节日期间无法取证")
    desk.do(SUPERVISOR, "approve_extension", instance_id,
            {"extension_decision": {"approved": "同意延期", "opinion": "同意"}})
    assert desk.row(instance_id).handle_due_at == BJ(2026, 10, 10, 9, 0)  # 9 Oct, Saturday 10 Oct
