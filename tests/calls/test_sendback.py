"""退单 and 审定: a department sends a call back with a reason, the county staffing office (县委编办)
keeps it with the department, sends it to another one, or returns it to the township."""
from __future__ import annotations

from datetime import datetime

from call_support import BJ, STAFFING, TOWNSHIP, county, desk  # noqa: F401

MARKET = "scjg_tiancm"      # 县市场监管局, lead of SD-021
FARMING = "nync_hanjw"      # 县农业农村局


def send_back(desk, instance_id, reason="职能交叉", username=MARKET, status=200):
    return desk.do(username, "receive", instance_id, {"receipt": {
        "decision": "退单", "return_reason": reason, "return_detail": "涉及农村自办宴席备案，建议由农业农村部门承办"}},
        status=status)


def arbitrate(desk, instance_id, decision, department=None, status=200):
    arbitration = {"decision": decision, "opinion": "依据“三定”规定审定"}
    if department:
        arbitration["department"] = department
    return desk.do(STAFFING, "arbitrate", instance_id, {"arbitration": arbitration}, status=status)


def test_a_send_back_goes_to_the_staffing_office_which_may_dispatch_it_to_another_department(desk):
    instance_id = desk.reported("SD-021")
    desk.clock.set(BJ(2026, 3, 2, 9, 30))
    send_back(desk, instance_id)
    assert desk.open_tasks(instance_id) == [("arbitrate", None)]
    row = desk.row(instance_id)
    assert (row.status, row.holder_role, row.sendback_count) == ("arbitration", "staffing_office", 1)
    task = desk.task(STAFFING, "arbitrate", instance_id)
    detail = desk.api.get(f"/api/tasks/{task['id']}", STAFFING).json()
    shown = detail["data"]["arbitration_info"]
    assert shown["department"] == "县市场监管局（scjg）" and "职能交叉" in shown["sendback"]
    # 改派 picks from the county's departments and offices (the unit table), not a typed code.
    picker = detail["form"]["schema"]["properties"]["arbitration"]["properties"]["department"]
    assert "nync" in picker["enum"] and "t01" not in picker["enum"]
    assert picker["enumNames"][picker["enum"].index("nync")] == "县农业农村局"

    desk.clock.set(BJ(2026, 3, 2, 14, 0))
    arbitrate(desk, instance_id, "改派其他部门", "nync")
    receive = desk.task(FARMING, "receive", instance_id)
    assert receive["candidate_unit"] == "nync"
    assert datetime.fromisoformat(receive["due_at"]) == BJ(2026, 3, 2, 16, 0)     # a fresh 2-hour limit
    row = desk.row(instance_id)
    assert (row.status, row.department, row.holder_unit) == ("receiving", "nync", "nync")
    assert row.handle_due_at == BJ(2026, 3, 5, 14, 0)                            # and 3 fresh working days
    assert sorted(row.assists) == ["scjg", "wjj"]                                # the item's other units coordinate
    assert row.receiver_contact is None                                          # nync is not in SD-021's directory

    # A dispatch decided by arbitration may not be sent back again.
    refused = send_back(desk, instance_id, username=FARMING, status=422)
    assert "本事项已由县委编办审定指派，必须签收办理，不能再次退单" in refused["message"]
    assert desk.row(instance_id).sendback_count == 1 and desk.open_tasks(instance_id) == [("receive", "nync")]
    desk.receive(FARMING, instance_id)
    assert sorted(desk.open_tasks(instance_id)) == [("assist", "scjg"), ("assist", "wjj"), ("handle", "nync")]
    ledger = desk.ledger(instance_id)
    assert [e["kind"] for e in ledger["events"]][-3:] == ["sent_back", "arbitrated", "received"]
    assert ledger["events"][-2]["user_name"] == "县委编办审核人"


def test_the_staffing_office_may_keep_the_department_whose_close_out_limit_then_still_runs(desk):
    instance_id = desk.reported("SD-021")
    send_back(desk, instance_id, "权属不清")
    desk.clock.set(BJ(2026, 3, 3, 10, 0))
    arbitrate(desk, instance_id, "维持原部门承办")
    receive = desk.task(MARKET, "receive", instance_id)
    assert datetime.fromisoformat(receive["due_at"]) == BJ(2026, 3, 3, 12, 0)
    assert desk.row(instance_id).handle_due_at == BJ(2026, 3, 5, 9, 0)           # counted from the call
    desk.receive(MARKET, instance_id)
    assert datetime.fromisoformat(desk.task(MARKET, "handle", instance_id)["due_at"]) == BJ(2026, 3, 5, 9, 0)


def test_a_township_matter_is_returned_to_the_township_to_handle_itself(desk):
    instance_id = desk.reported("SD-021")
    send_back(desk, instance_id, "属地不符")
    arbitrate(desk, instance_id, "退回乡镇处理")
    assert desk.open_tasks(instance_id) == [("local", "t01")]
    assert desk.row(instance_id).status == "local"
    desk.do(TOWNSHIP, "local", instance_id, {"local_result": {"measures": "镇食安办现场指导", "result": "已办结"}})
    ledger = desk.ledger(instance_id)
    assert ledger["status"] == "closed_local"
    assert [e["kind"] for e in ledger["events"]][-2:] == ["arbitrated", "closed_local"]


def test_an_arbitration_naming_no_or_an_unknown_department_is_refused(desk):
    instance_id = desk.reported("SD-021")
    send_back(desk, instance_id)
    missing = arbitrate(desk, instance_id, "改派其他部门", status=422)
    assert missing["errors"]["arbitration.department"] == ["「改派部门」为必填项"]
    # The form lists the county's departments and offices; a township is none of them.
    unknown = arbitrate(desk, instance_id, "改派其他部门", "t02", status=422)
    assert unknown["errors"]["arbitration.department"] == ["「改派部门」应从列表中选择现有的县级部门或县级办公室"]
    same = arbitrate(desk, instance_id, "改派其他部门", "scjg", status=422)
    assert "改派部门不能是退单的部门" in same["message"]
    assert desk.open_tasks(instance_id) == [("arbitrate", None)]
    assert desk.row(instance_id).department == "scjg"
