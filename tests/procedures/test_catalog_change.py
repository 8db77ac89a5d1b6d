"""清单动态调整 (processes/catalog_change.bpmn) through the HTTP API, as the demo county plays it:
a county department or a township office applies; 县委编办 and 县司法局 review in parallel, then
市委编办 and 市司法局; 县级党委政府 approves and a new catalog version is published, linked to
the request. Any review may send the application back; two changes of one item never overwrite
each other."""
from __future__ import annotations

from datetime import timedelta

import pytest

from .steps import complete, events, instance, open_elements, task_of

APPLICANT = "zjj_zhanglx"          # 县住建局联络员
TOWNSHIP = "t01_dzb_liuym"         # 沂城街道党政办公室
COLLEAGUE = "zjj_liuht"            # another 县住建局 contact
REVIEWERS = {"county_bb": "bb_reviewer", "county_sfj": "sfj_reviewer", "city_bb": "city_bb",
             "city_sfj": "city_sfj"}
LEADER = "leader"

NEW_ITEM = {"code": "SD-052", "area": "城乡建设", "name": "经营性农村自建房安全隐患排查整治", "list_type": "配合",
            "main_units": ["zjj"], "coordinating_units": ["yjj", "scjg"],
            "county_duty": "县住建局：牵头经营性自建房安全隐患排查认定，督促产权人整治；县应急局：指导应急处置；"
                           "县市场监管局：依法查处无证照经营。",
            "township_duty": "组织村（社区）摸排辖区经营性自建房，发现安全隐患及时劝阻并“呼叫”县住建局。",
            "legal_basis": "《建设工程质量管理条例》；国务院安委会《全国自建房安全专项整治工作方案》",
            "acknowledge_hours": 4, "handle_working_days": 5, "warn_before_hours": 8}


def application(change_type="add", **fields) -> dict:
    app = {"change_type": change_type, "reason": "基层摸排发现大量经营性自建房隐患，县乡职责需明确",
           "basis": "《全国自建房安全专项整治工作方案》"}
    if change_type == "add":
        app["item"] = dict(NEW_ITEM)
    app.update(fields)
    return app


def start(api, user=APPLICANT, app=None) -> int:
    response = api.start(user, "catalog_change")
    assert response.status_code == 201, response.text
    instance_id = response.json()["id"]
    assert [t["element_id"] for t in response.json()["tasks"]] == ["cc_apply"]
    complete(api, user, "cc_apply", {"application": app or application(), "submit_action": "submit"}, instance_id)
    return instance_id


def review(api, instance_id, stage, decision="approve", opinion="同意"):
    complete(api, REVIEWERS[stage], f"cc_review_{stage}",
             {f"{stage}_decision": decision, f"{stage}_opinion": opinion}, instance_id)


def approve(api, instance_id, decision="approve", effective_date="2026-03-02", opinion="同意，发布施行"):
    data = {"approval_decision": decision, "approval_opinion": opinion}
    if effective_date:
        data["effective_date"] = effective_date
    return complete(api, LEADER, "cc_review_approval", data, instance_id)


def through_review(api, instance_id):
    for stage in REVIEWERS:
        review(api, instance_id, stage)


def versions(api) -> list[dict]:
    return api.get("/api/catalog/versions").json()["items"]


# --- approval ------------------------------------------------------------------------------------------

def test_an_approved_addition_publishes_a_version_linked_to_the_request_and_calls_route_by_it(demo_api, county):
    api = demo_api
    instance_id = start(api)
    assert open_elements(api, instance_id) == ["cc_review_county_bb", "cc_review_county_sfj"]
    summary = instance(api, instance_id)["summary"]
    assert summary["item_code"] == "SD-052" and summary["department"] == "zjj"

    review(api, instance_id, "county_bb")
    assert open_elements(api, instance_id) == ["cc_review_county_sfj"]   # the county review waits for both
    review(api, instance_id, "county_sfj")
    assert open_elements(api, instance_id) == ["cc_review_city_bb", "cc_review_city_sfj"]
    review(api, instance_id, "city_bb")
    review(api, instance_id, "city_sfj")
    assert open_elements(api, instance_id) == ["cc_review_approval"]
    approve(api, instance_id)

    body = instance(api, instance_id)
    assert body["status"] == "completed"
    assert body["data"]["publication"]["status"] == "published"
    newest = versions(api)[0]
    assert (newest["number"], newest["status"], newest["source"]) == (2, "published", "change_request")
    assert newest["source_instance_id"] == instance_id and newest["base_number"] == 1
    assert newest["effective_date"] == "2026-03-02" and f"#{instance_id}" in newest["note"]
    assert [e["message"] for e in events(api, instance_id, "catalog_published")] == [
        "已发布第 2 版清单（在第 1 版基础上），自 2026-03-02 起生效"]

    item = api.get("/api/catalog/items/SD-052").json()
    assert item["version"] == 2 and [u["code"] for u in item["main_units"]] == ["zjj"]
    diff = api.get("/api/catalog/versions/1/diff/2").json()
    assert [i["code"] for i in diff["added"]] == ["SD-052"] and diff["removed"] == [] and diff["changed"] == []

    assert _called_department(api, "SD-052") == "zjj"


def _called_department(api, item_code) -> str:
    """A township calls the county about ``item_code`` (processes/township_call.bpmn): the unit
    whose task it becomes is the one the catalog in force names."""
    caller = "t01_dzb_liuym"
    response = api.start(caller, "township_call")
    assert response.status_code == 201, response.text
    call_id = response.json()["id"]
    report = {"place": "滨河社区沿街商铺", "description": "三层自建房改作民宿，墙体开裂",
              "found_at": "2026-03-02T08:30:00+08:00", "onsite_action": "已劝离住客", "photos": []}
    if open_elements(api, call_id) == ["report"]:
        complete(api, caller, "report", {"report": report}, call_id)
    complete(api, caller, "triage", {"report": report, "item_code": item_code, "decision": "呼叫县级部门",
                                     "opinion": "属清单事项"}, call_id)
    complete(api, caller, "register", {"problem": "经营性自建房墙体开裂", "request": "请派员排查认定"}, call_id)
    receive = [t for t in instance(api, call_id)["tasks"] if t["element_id"] == "receive"]
    assert len(receive) == 1, instance(api, call_id)["tasks"]
    return receive[0]["candidate_unit"]


def test_the_application_can_carry_the_call_ledgers_statistics_as_evidence(demo_api, county):
    api = demo_api
    assert _called_department(api, "SD-001") == "sthj"          # one call about SD-001 in the ledger
    evidence = application("modify", item_code="SD-001", item={"handle_working_days": 3}, attach_call_stats=True)
    change = instance(api, start(api, TOWNSHIP, evidence))["data"]["change"]
    assert change["call_stats"]["calls"] == 1 and change["call_stats"]["period"] == "2025-03-02 至 2026-03-02"
    assert "“乡呼县应”台账佐证：2025-03-02 至 2026-03-02，乡镇（街道）呼叫 1 次" in change["summary"]
    quiet = application("remove", item_code="SD-003", attach_call_stats=True)
    assert "没有呼叫记录" in instance(api, start(api, app=quiet))["data"]["change"]["call_stats"]["text"]
    without = instance(api, start(api, app=application("remove", item_code="SD-004")))["data"]["change"]
    assert without["call_stats"] is None and "台账佐证" not in without["summary"]


def test_a_township_office_applies_to_change_an_item_and_only_the_named_fields_change(demo_api, county):
    api = demo_api
    instance_id = start(api, TOWNSHIP, application("modify", item_code="SD-001", item={"handle_working_days": 3}))
    change = instance(api, instance_id)["data"]["change"]
    assert change["patch"] == {"handle_working_days": 3} and change["base_version"] == 1
    assert "办结时限（工作日）：5 → 3" in change["summary"]
    assert instance(api, instance_id)["summary"]["township"] == "t01"
    through_review(api, instance_id)
    approve(api, instance_id, effective_date="2026-03-09")

    old = api.get("/api/catalog/items/SD-001", params={"version": 1}).json()
    new = api.get("/api/catalog/items/SD-001", params={"version": 2}).json()
    assert (old["limits"]["handle_working_days"], new["limits"]["handle_working_days"]) == (5, 3)
    assert {k: v for k, v in new.items() if k not in ("version", "limits")} == \
           {k: v for k, v in old.items() if k not in ("version", "limits")}
    # Published for next Monday: today version 1 still decides; from then on version 2.
    assert api.get("/api/catalog/items/SD-001").json()["version"] == 1


def test_an_approved_removal_takes_the_item_off_the_catalog(demo_api, county):
    api = demo_api
    instance_id = start(api, app=application("remove", item_code="SD-003"))
    through_review(api, instance_id)
    approve(api, instance_id)
    assert api.get("/api/catalog/items/SD-003").status_code == 404
    assert api.get("/api/catalog/items/SD-003", params={"version": 1}).status_code == 200


def test_approval_with_an_effective_date_in_the_past_is_refused_and_changes_nothing(demo_api, county):
    api = demo_api
    instance_id = start(api)
    through_review(api, instance_id)
    task = task_of(api, LEADER, "cc_review_approval", instance_id)
    response = api.complete(LEADER, task["id"], {"approval_decision": "approve", "approval_opinion": "同意",
                                                 "effective_date": "2026-02-27"})
    assert response.status_code == 422
    assert "effective_date" in response.json()["errors"]
    assert "早于今天" in response.json()["errors"]["effective_date"][0]
    missing = api.complete(LEADER, task["id"], {"approval_decision": "approve", "approval_opinion": "同意"})
    assert missing.status_code == 422 and "effective_date" in missing.json()["errors"]
    assert open_elements(api, instance_id) == ["cc_review_approval"]
    assert [v["number"] for v in versions(api)] == [1]


# --- the application is checked when it is submitted ------------------------------------------------

@pytest.mark.parametrize("app, field, words", [
    (application(item={**NEW_ITEM, "main_units": ["nosuchunit"]}), "application.item.main_units", "不存在"),
    (application(item={**NEW_ITEM, "code": "SD-001"}), "application.item.code", "已在第 1 版清单中"),
    (application(item={k: v for k, v in NEW_ITEM.items() if k != "county_duty"}), "application.item.county_duty",
     "不能为空"),
    (application("modify", item_code="SD-999", item={"handle_working_days": 3}), "application.item_code", "不在第 1 版"),
    (application("modify", item_code="SD-001", item={"handle_working_days": 5}), "application.item", "需要修改"),
    (application("remove"), "application.item_code", "必须选择"),
])
def test_an_application_breaking_the_catalog_rules_is_refused_naming_the_field(demo_api, county, app, field, words):
    api = demo_api
    instance_id = api.start(APPLICANT, "catalog_change").json()["id"]
    task = task_of(api, APPLICANT, "cc_apply", instance_id)
    response = api.complete(APPLICANT, task["id"], {"application": app, "submit_action": "submit"})
    assert response.status_code == 422, response.text
    assert words in " ".join(response.json()["errors"][field])
    assert open_elements(api, instance_id) == ["cc_apply"]
    assert "change" not in instance(api, instance_id)["data"]


# --- rejection, revision, withdrawal ----------------------------------------------------------------------

REJECTIONS = {
    "county": (["county_bb"], "县级审核"),
    "city": (["county_bb", "county_sfj", "city_sfj"], "市级审核"),
    "approval": (["county_bb", "county_sfj", "city_bb", "city_sfj"], "县级党委政府审批"),
}


def _reject_at(api, instance_id, stage):
    approving, _ = REJECTIONS[stage]
    if stage == "approval":
        through_review(api, instance_id)
        approve(api, instance_id, decision="reject", effective_date=None, opinion="配合单位职责不清，请补充")
        return
    if stage == "county":
        review(api, instance_id, "county_bb", "reject", "主体责任单位认定依据不足")
        review(api, instance_id, "county_sfj")
    else:
        review(api, instance_id, "county_bb")
        review(api, instance_id, "county_sfj")
        review(api, instance_id, "city_bb", "reject", "法律依据引用不准确")
        review(api, instance_id, "city_sfj")


@pytest.mark.parametrize("stage", list(REJECTIONS))
def test_a_rejection_returns_the_application_with_reasons_and_a_revision_goes_through_again(demo_api, county, stage):
    api = demo_api
    instance_id = start(api)
    _reject_at(api, instance_id, stage)
    assert open_elements(api, instance_id) == ["cc_revise"]
    assert [v["number"] for v in versions(api)] == [1]            # a rejection changes nothing
    revise = task_of(api, APPLICANT, "cc_revise", instance_id)
    feedback = api.get(f"/api/tasks/{revise['id']}", APPLICANT).json()["data"]["review_feedback"]
    assert feedback.startswith(f"【{REJECTIONS[stage][1]}】未通过")
    assert "不通过" in feedback
    assert instance(api, instance_id)["summary"]["结果"] == f"{REJECTIONS[stage][1]}未通过"

    revised = application(item={**NEW_ITEM, "coordinating_units": ["yjj", "scjg", "xfjy"]})
    complete(api, APPLICANT, "cc_revise", {"application": revised, "submit_action": "submit"}, instance_id)
    assert open_elements(api, instance_id) == ["cc_review_county_bb", "cc_review_county_sfj"]
    through_review(api, instance_id)
    approve(api, instance_id)
    item = api.get("/api/catalog/items/SD-052").json()
    assert [u["code"] for u in item["coordinating_units"]] == ["yjj", "scjg", "xfjy"]
    assert len(events(api, instance_id, "review_rejected")) == 1


def test_the_applicant_may_withdraw_instead_of_revising(demo_api, county):
    api = demo_api
    instance_id = start(api)
    _reject_at(api, instance_id, "county")
    complete(api, APPLICANT, "cc_revise", {"application": application(), "submit_action": "withdraw"}, instance_id)
    assert instance(api, instance_id)["status"] == "completed"
    assert [v["number"] for v in versions(api)] == [1]


# --- two changes of the same item -----------------------------------------------------------------------

def _two_requests(api, second_patch):
    first = start(api, app=application("modify", item_code="SD-001", item={"handle_working_days": 3}))
    second = start(api, TOWNSHIP, application("modify", **second_patch))
    for instance_id in (first, second):
        through_review(api, instance_id)
    approve(api, first)
    return first, second


def test_a_second_approval_touching_the_same_item_is_stopped_and_returned_on_request(demo_api, county):
    api = demo_api
    first, second = _two_requests(api, {"item_code": "SD-001", "item": {"acknowledge_hours": 1}})
    approve(api, second)
    assert open_elements(api, second) == ["cc_resolve"]
    assert [v["number"] for v in versions(api)] == [2, 1]          # nothing was written for the second
    conflict = instance(api, second)["data"]["publication"]
    assert conflict["status"] == "conflict" and conflict["versions"][0]["instance_id"] == first
    assert f"清单调整申请流程 #{first}" in conflict["summary"]

    complete(api, LEADER, "cc_resolve", {"conflict_action": "return", "conflict_opinion": "请基于第2版重新申请"}, second)
    assert open_elements(api, second) == ["cc_revise"]
    revise = task_of(api, TOWNSHIP, "cc_revise", second)
    assert "版本冲突处理" in api.get(f"/api/tasks/{revise['id']}", TOWNSHIP).json()["data"]["review_feedback"]
    assert [v["number"] for v in versions(api)] == [2, 1]
    assert api.get("/api/catalog/items/SD-001").json()["limits"]["acknowledge_hours"] == 2


def test_a_second_approval_touching_the_same_item_is_rebased_with_the_approvers_consent(demo_api, county):
    api = demo_api
    first, second = _two_requests(api, {"item_code": "SD-001", "item": {"acknowledge_hours": 1}})
    approve(api, second)
    complete(api, LEADER, "cc_resolve", {"conflict_action": "rebase", "conflict_opinion": "同意在第2版基础上适用",
                                         "effective_date": "2026-03-02"}, second)
    assert instance(api, second)["status"] == "completed"
    newest = versions(api)[0]
    assert (newest["number"], newest["base_number"], newest["source_instance_id"]) == (3, 2, second)
    limits = api.get("/api/catalog/items/SD-001").json()["limits"]
    assert (limits["handle_working_days"], limits["acknowledge_hours"]) == (3, 1)   # both changes kept


def test_rebasing_is_refused_when_the_item_no_longer_exists(demo_api, county):
    api = demo_api
    first = start(api, app=application("remove", item_code="SD-001"))
    second = start(api, TOWNSHIP, application("modify", item_code="SD-001", item={"acknowledge_hours": 1}))
    for instance_id in (first, second):
        through_review(api, instance_id)
    approve(api, first)
    approve(api, second)
    task = task_of(api, LEADER, "cc_resolve", second)
    response = api.complete(LEADER, task["id"], {"conflict_action": "rebase", "conflict_opinion": "同意",
                                                 "effective_date": "2026-03-02"})
    assert response.status_code == 422
    assert "已不在第 2 版清单中" in response.json()["errors"]["conflict_action"][0]
    assert open_elements(api, second) == ["cc_resolve"] and [v["number"] for v in versions(api)] == [2, 1]


def test_changes_to_different_items_are_both_published_without_conflict(demo_api, county):
    api = demo_api
    first, second = _two_requests(api, {"item_code": "SD-002", "item": {"acknowledge_hours": 2}})
    approve(api, second)
    assert instance(api, second)["status"] == "completed"
    newest = versions(api)[0]
    assert (newest["number"], newest["base_number"]) == (3, 2)
    assert api.get("/api/catalog/items/SD-001").json()["limits"]["handle_working_days"] == 3
    assert api.get("/api/catalog/items/SD-002").json()["limits"]["acknowledge_hours"] == 2


# --- time limits ------------------------------------------------------------------------------------------

def test_a_review_is_reminded_before_its_limit_and_escalated_to_supervision_when_overdue(demo_api, county, clock,
                                                                                          timers):
    api = demo_api
    instance_id = start(api)                       # Monday 2026-03-02 09:00: due Monday 03-09 09:00
    bb = task_of(api, "bb_reviewer", "cc_review_county_bb", instance_id)
    assert bb["due_at"] == "2026-03-09T01:00:00+00:00" and bb["warn_at"] == "2026-03-06T01:00:00+00:00"
    review(api, instance_id, "county_sfj")          # the justice bureau is in time

    clock.advance(days=3, hours=23)                # Thursday 08:00: nothing due yet
    assert timers() == 0
    clock.advance(hours=2)                         # Friday 10:00 (4th working day): reminder
    assert timers() == 1
    assert [e["message"] for e in events(api, instance_id, "reminder")] == [
        "县委编办审核将于1个工作日后到期，已催办县委编办"]
    assert api.tasks("supervisor", process_key="catalog_change") == []

    clock.advance(days=3)                          # Monday 03-09 10:00: overdue
    assert timers() == 1
    assert len(events(api, instance_id, "escalation")) == 1
    supervise = task_of(api, "supervisor", "cc_supervise_county", instance_id)
    assert supervise["title"] == "督办县级审核"
    complete(api, "supervisor", "cc_supervise_county",
             {"supervision_measure": "书面督办", "supervision_opinion": "限3月10日前办结"}, instance_id)
    review(api, instance_id, "county_bb")          # the review itself was never taken away
    assert open_elements(api, instance_id) == ["cc_review_city_bb", "cc_review_city_sfj"]
    city = task_of(api, "city_bb", "cc_review_city_bb", instance_id)
    assert city["due_at"] == "2026-03-23T02:00:00+00:00"   # 10 working days from Monday 03-09 10:00


def test_an_undecided_version_conflict_is_escalated_to_supervision_after_five_working_days(demo_api, county, clock,
                                                                                            timers):
    api = demo_api
    first, second = _two_requests(api, {"item_code": "SD-001", "item": {"acknowledge_hours": 1}})
    approve(api, second)                            # Monday 2026-03-02 09:00: the conflict waits for a decision
    resolve = task_of(api, LEADER, "cc_resolve", second)
    assert resolve["due_at"] == "2026-03-09T01:00:00+00:00" and resolve["warn_at"] == "2026-03-06T01:00:00+00:00"

    clock.advance(days=6, hours=23)                 # Monday 03-09 08:00: an hour before the limit
    assert timers() == 0 and events(api, second, "escalation") == []
    clock.advance(hours=1, minutes=1)               # Monday 03-09 09:01: five working days have passed
    assert timers() == 1
    assert [e["message"] for e in events(api, second, "escalation")] == [
        "版本冲突处理超过5个工作日未办结，已报县督查考核部门督办"]
    complete(api, "supervisor", "cc_supervise_resolve",
             {"supervision_measure": "书面督办", "supervision_opinion": "请于3月10日前决定"}, second)
    assert open_elements(api, second) == ["cc_resolve"]    # the decision itself stays with the leaders
    complete(api, LEADER, "cc_resolve", {"conflict_action": "return", "conflict_opinion": "请基于第2版重新申请"}, second)
    assert open_elements(api, second) == ["cc_revise"]


# --- who may do what --------------------------------------------------------------------------------------

def test_only_the_named_reviewers_review_and_a_township_cannot_approve(demo_api, county):
    api = demo_api
    assert api.start("t01_grid", "catalog_change").status_code == 403
    instance_id = start(api)
    bb = task_of(api, "bb_reviewer", "cc_review_county_bb", instance_id)
    for intruder in ("sfj_reviewer", "city_bb", "leader", APPLICANT, TOWNSHIP):
        response = api.complete(intruder, bb["id"], {"county_bb_decision": "approve", "county_bb_opinion": "同意"})
        assert response.status_code == 403, intruder
    assert api.tasks(TOWNSHIP, instance_id=instance_id) == []
    through_review(api, instance_id)
    approval = task_of(api, LEADER, "cc_review_approval", instance_id)
    for intruder in (TOWNSHIP, APPLICANT, "bb_reviewer", "supervisor"):
        response = api.complete(intruder, approval["id"], {"approval_decision": "approve", "approval_opinion": "同意",
                                                           "effective_date": "2026-03-02"})
        assert response.status_code == 403, intruder
    assert [v["number"] for v in versions(api)] == [1]


def test_only_the_applicant_revises_and_no_reviewer_can_rewrite_the_application(demo_api, county):
    api = demo_api
    instance_id = start(api)
    bb = task_of(api, "bb_reviewer", "cc_review_county_bb", instance_id)
    forged = {"county_bb_decision": "approve", "county_bb_opinion": "同意",
              "change": {"type": "remove", "code": "SD-001"}}
    assert api.complete("bb_reviewer", bb["id"], forged).status_code == 200
    assert instance(api, instance_id)["data"]["change"]["code"] == "SD-052"   # read-only fields are not taken

    review(api, instance_id, "county_sfj", "reject", "请补充依据")
    revise = task_of(api, APPLICANT, "cc_revise", instance_id)
    response = api.complete(COLLEAGUE, revise["id"], {"application": application(), "submit_action": "withdraw"})
    assert response.status_code == 403 and "发起人" in response.json()["message"]
