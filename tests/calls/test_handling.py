"""办理: the coordinating departments work in parallel, the main department may ask once for an
extension (the supervision office decides), and an unsatisfied township sends it back once (重办)."""
from __future__ import annotations

from datetime import datetime

from call_support import BJ, SUPERVISOR, TOWNSHIP, county, desk  # noqa: F401

MARKET = "scjg_tiancm"      # 县市场监管局, lead of SD-021 (3 working days, warning 8 hours before)
HEALTH = "wjj_jiangh"       # 县卫健局, coordinating on SD-021


def received(desk, item="SD-021", lead=MARKET) -> int:
    instance_id = desk.reported(item)
    desk.receive(lead, instance_id)
    return instance_id


def ask_extension(desk, instance_id, days=2):
    return desk.handle(MARKET, instance_id, next="申请延期", extension_days=days, extension_reason="需等待检测报告")


def decide(desk, instance_id, approved="同意延期", **extra):
    return desk.do(SUPERVISOR, "approve_extension", instance_id,
                   {"extension_decision": {"approved": approved, "opinion": "审核意见", **extra}})


def due(task) -> datetime:
    return datetime.fromisoformat(task["due_at"])


def test_an_approved_extension_moves_the_limit_by_working_days_and_the_escalation_with_it(desk):
    instance_id = received(desk)
    desk.clock.set(BJ(2026, 3, 3, 10, 0))
    ask_extension(desk, instance_id, days=2)
    assert ("approve_extension", None) in desk.open_tasks(instance_id)
    assert desk.row(instance_id).status == "extension"
    decide(desk, instance_id)
    row = desk.row(instance_id)
    assert row.handle_due_at == BJ(2026, 3, 9, 9, 0)                  # Thu 5 + 2 working days = Mon 9
    assert (row.extension_status, row.extension_days, row.status) == ("approved", 2, "handling")
    assert row.original_handle_due_at == BJ(2026, 3, 5, 9, 0)
    again = desk.task(MARKET, "handle_again", instance_id)
    assert due(again) == BJ(2026, 3, 9, 9, 0)
    schema = desk.api.get(f"/api/tasks/{again['id']}", MARKET).json()["form"]["schema"]
    assert "next" not in schema["properties"]["progress_again"]["properties"]   # no second extension

    assert desk.at(BJ(2026, 3, 5, 9, 1)) == 1                         # the original limit passes quietly
    assert desk.instance_events(instance_id, "escalation") == []
    assert desk.instance_events(instance_id, "reminder") == []
    assert desk.row(instance_id).overdue is False
    desk.at(BJ(2026, 3, 9, 1, 1))                                      # 8 hours before the new limit
    assert len(desk.instance_events(instance_id, "reminder")) == 1
    desk.at(BJ(2026, 3, 9, 9, 1))                                      # the new limit passes
    assert [e["data"]["level"] for e in desk.instance_events(instance_id, "escalation")] == [1]
    assert ("handle_supervise", None) in desk.open_tasks(instance_id)


def test_a_refused_extension_keeps_the_limit_and_only_one_request_is_ever_accepted(desk):
    instance_id = received(desk)
    ask_extension(desk, instance_id, days=5)
    decide(desk, instance_id, "不同意延期")
    row = desk.row(instance_id)
    assert (row.extension_status, row.handle_due_at) == ("refused", BJ(2026, 3, 5, 9, 0))
    assert due(desk.task(MARKET, "handle_again", instance_id)) == BJ(2026, 3, 5, 9, 0)
    desk.at(BJ(2026, 3, 5, 9, 1))
    assert [e["data"]["level"] for e in desk.instance_events(instance_id, "escalation")] == [1]
    kinds = [e.kind for e in desk.row(instance_id).events]
    assert kinds.count("extension_requested") == 1 and "extension_decided" in kinds


def test_an_extension_asked_for_after_the_limit_is_not_accepted(desk):
    instance_id = received(desk)
    desk.clock.set(BJ(2026, 3, 5, 10, 0))                               # one hour late, no timer run yet
    ask_extension(desk, instance_id)
    assert ("approve_extension", None) not in desk.open_tasks(instance_id)
    assert ("handle_again", "scjg") in desk.open_tasks(instance_id)
    row = desk.row(instance_id)
    assert row.extension_status is None
    refusal = next(e for e in row.events if e.kind == "extension_refused")
    assert "已超过办结期限" in refusal.message


def test_coordinating_departments_each_get_their_own_task_and_limit_in_parallel(desk):
    lead = "sthj_wangjg"                                               # SD-001 畜禽养殖污染防治, 5 working days
    helpers = {"nync": "nync_hanjw", "zrzy": "zrzy_zhenggh", "zjj": "zjj_zhanglx", "slj": "slj_hezd",
               "gaj": "gaj_zhoujj"}
    instance_id = received(desk, "SD-001", lead)
    tasks = desk.open_tasks(instance_id)
    assert sorted(tasks) == sorted([("handle", "sthj")] + [("assist", unit) for unit in helpers])
    for unit, username in helpers.items():
        task = desk.task(username, "assist", instance_id)              # each sees exactly its own part
        assert task["candidate_unit"] == unit and task["lane"] == "县级配合部门"
        assert due(task) == BJ(2026, 3, 9, 9, 0)
    desk.handle(lead, instance_id)
    desk.clock.set(BJ(2026, 3, 4, 15, 0))
    for unit in ("nync", "zrzy", "zjj", "slj"):
        desk.do(helpers[unit], "assist", instance_id, {"assist": {"result": f"{unit} 已按职责配合"}})
    assert desk.open_tasks(instance_id) == [("assist", "gaj")]        # no close-out before every part is done
    desk.clock.set(BJ(2026, 3, 9, 11, 0))                               # 公安 finishes late
    desk.do(helpers["gaj"], "assist", instance_id, {"assist": {"result": "已查处阻碍执法人员"}})
    desk.close_out(lead, instance_id)
    assists = desk.ledger(instance_id)["assists"]
    assert {u: a["overdue"] for u, a in assists.items()} == {"nync": False, "zrzy": False, "zjj": False,
                                                              "slj": False, "gaj": True}
    assert datetime.fromisoformat(assists["zrzy"]["done_at"]) == BJ(2026, 3, 4, 15, 0)
    ledger = desk.ledger(instance_id)
    assert ledger["handle_overdue"] is True                            # closed out after the limit


def test_an_unsatisfied_township_sends_the_call_back_once_and_then_rates_it(desk):
    instance_id = received(desk)
    desk.handle(MARKET, instance_id)
    desk.do(HEALTH, "assist", instance_id, {"assist": {"result": "已配合"}})
    desk.close_out(MARKET, instance_id)
    task = desk.task(TOWNSHIP, "confirm", instance_id)
    missing = desk.try_complete(TOWNSHIP, task["id"], {"confirmation": {"rating": "不满意"}})
    assert missing.status_code == 422 and "confirmation.reason" in missing.json()["errors"]
    desk.clock.set(BJ(2026, 3, 4, 9, 0))
    desk.confirm(instance_id, "不满意", "现场仍有残留，未彻底清理")
    assert desk.open_tasks(instance_id) == [("handle", "scjg")]        # 重办 by the lead only
    row = desk.row(instance_id)
    assert (row.status, row.redo_count, row.rating) == ("handling", 1, "不满意")
    assert row.handle_due_at == BJ(2026, 3, 9, 9, 0)                   # a fresh 3 working days
    desk.handle(MARKET, instance_id)
    desk.close_out(MARKET, instance_id, result="已彻底清理并复查")
    desk.confirm(instance_id, "基本满意")
    ledger = desk.ledger(instance_id)
    assert ledger["status"] == "closed" and ledger["rating"] == "基本满意"
    assert [(r["round"], r["rating"], r["rater"]) for r in ledger["ratings"]] == [(1, "不满意", "刘玉梅"),
                                                                                (2, "基本满意", "刘玉梅")]


def test_a_second_unsatisfied_rating_closes_the_call_as_unsatisfied(desk):
    instance_id = received(desk)
    desk.handle(MARKET, instance_id)
    desk.do(HEALTH, "assist", instance_id, {"assist": {"result": "已配合"}})
    for _ in range(2):
        desk.close_out(MARKET, instance_id)
        desk.confirm(instance_id, "不满意", "问题未解决")
        if desk.open_tasks(instance_id):
            desk.handle(MARKET, instance_id)
    ledger = desk.ledger(instance_id)
    assert (ledger["status"], ledger["rating"], ledger["redo_count"]) == ("closed", "不满意", 1)
    assert desk.api.get(f"/api/process-instances/{instance_id}", "admin").json()["status"] == "completed"


def test_the_longest_path_keeps_the_task_tree_far_below_the_engines_depth_limit(desk):
    """Every loop of the diagram is bounded (one send-back, one extension, one 重办, the warning
    and overdue waits at most once more each): the deepest path stays shallow."""
    from service.engine.runtime import MAX_TASK_DEPTH, all_tasks
    from service.models import ProcessInstance

    instance_id = desk.reported("SD-021")
    desk.at(BJ(2026, 3, 2, 11, 5))                                     # 签收 overdue → 督办
    desk.do(MARKET, "receive", instance_id, {"receipt": {"decision": "退单", "return_reason": "权属不清",
                                                         "return_detail": "不属本部门"}})
    desk.do("bb_reviewer", "arbitrate", instance_id,
            {"arbitration": {"decision": "维持原部门承办", "opinion": "维持"}})
    desk.receive(MARKET, instance_id)
    ask_extension(desk, instance_id, days=3)
    decide(desk, instance_id)
    for day in (5, 6, 9, 10):                                           # warnings and limits pass and move
        desk.at(BJ(2026, 3, day, 9, 1))
    desk.do(SUPERVISOR, "handle_supervise", instance_id,
            {"supervision": {"new_due": "2026-03-11T08:00:00+08:00", "instructions": "限期办结"}})
    desk.at(BJ(2026, 3, 11, 9, 1))                                     # still not closed out: 挂牌督办
    desk.do(HEALTH, "assist", instance_id, {"assist": {"result": "已配合"}})
    desk.do(MARKET, "handle_again", instance_id, {"progress_again": {"measures": "已整改"}})
    desk.close_out(MARKET, instance_id)
    desk.confirm(instance_id, "不满意", "未整改到位")
    desk.at(BJ(2026, 3, 16, 10, 0))                                    # the redo's limit passes too
    desk.handle(MARKET, instance_id)
    desk.close_out(MARKET, instance_id)
    desk.confirm(instance_id, "满意")
    with desk.core.uow() as uow:
        instance = uow.session.get(ProcessInstance, instance_id)
        assert instance.status == "completed"
        depth = desk.core.engine.peek(instance, lambda wf: max(t.depth for t in all_tasks(wf)))
    assert depth < 60 < MAX_TASK_DEPTH
    levels = [e["data"]["level"] for e in desk.instance_events(instance_id, "escalation")]
    assert levels == [1, 1, 2, 1]                                      # 签收; 办结, 挂牌; 重办 办结
