"""交办事项准入 (processes/temporary_task_admission.bpmn) through the HTTP API: a county department
explains a temporary task, every named township answers in writing by a deadline, 县委编办 and
县司法局 review, 县级党委政府 approves, and the task enters the register townships consult; a
township may refuse, on the record, a task that is neither listed nor admitted."""
from __future__ import annotations

from .steps import complete, events, instance, open_elements, task_of

DEPARTMENT = "zjj_zhanglx"                                 # 县住建局
T01, T02, T03 = "t01_dzb_liuym", "t02_dzb_zhangw", "t03_dzb_lin"   # the townships' 党政办公室
T01_OTHER_OFFICE = "t01_sthb_sunh"                         # 沂城街道环保办: not the office that answers
REVIEWERS = {"county_bb": "bb_reviewer", "county_sfj": "sfj_reviewer"}
LEADER = "leader"


def application(**changes) -> dict:
    app = {"title": "城镇燃气用户入户安全检查（2026年春季专项）", "content": "对辖区餐饮、居民燃气用户开展入户安全检查",
           "reason": "专项整治阶段性任务，需乡镇（街道）协助入户", "basis": "县安委会《城镇燃气安全专项整治方案》",
           "main_responsibility": "县住建局负责组织检查、隐患认定和执法", "coordinating_responsibility": "乡镇（街道）协助通知住户、陪同入户",
           "procedure": "住建局制定计划→乡镇通知住户→联合入户检查→住建局认定整改", "guarantee_measures": "联合检查组，每周调度",
           "funding": "县财政专项经费每乡镇2万元", "staffing": "县住建局派驻检查员2名", "technical_support": "提供检测仪和检查系统账号",
           "period_start": "2026-03-16", "period_end": "2026-06-30", "consult_days": 3}
    app.update(changes)
    return app


def apply(api, townships=("t01", "t02"), **changes) -> int:
    response = api.start(DEPARTMENT, "temporary_task_admission")
    assert response.status_code == 201, response.text
    instance_id = response.json()["id"]
    complete(api, DEPARTMENT, "adm_apply", {"townships": list(townships), "application": application(**changes)},
             instance_id)
    return instance_id


def answer(api, user, instance_id, opinion="agree", comment=None):
    data = {"opinion": opinion, "signed_by": "乡镇负责人"}
    if comment:
        data["comment"] = comment
    complete(api, user, "adm_consult", {"answer": data}, instance_id)


def review(api, instance_id, stage, decision="approve", opinion="同意"):
    complete(api, REVIEWERS[stage], f"adm_review_{stage}",
             {f"{stage}_decision": decision, f"{stage}_opinion": opinion}, instance_id)


def approve(api, instance_id, decision="approve", opinion="同意准入"):
    complete(api, LEADER, "adm_review_approval", {"approval_decision": decision, "approval_opinion": opinion},
             instance_id)


def to_approval(api, instance_id):
    """Both townships agree and both county reviews pass."""
    answer(api, T01, instance_id)
    answer(api, T02, instance_id)
    review(api, instance_id, "county_bb")
    review(api, instance_id, "county_sfj")


def register(api, user, **params) -> list[dict]:
    response = api.get("/api/admission/tasks", user, params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_an_admitted_task_enters_the_register_with_its_guarantees_and_the_townships_opinions(demo_api, county):
    api = demo_api
    instance_id = apply(api)
    consult = [t for t in instance(api, instance_id)["tasks"]]
    assert sorted(t["candidate_unit"] for t in consult) == ["t01-dzb", "t02-dzb"]
    assert {t["due_at"] for t in consult} == {"2026-03-05T01:00:00+00:00"}      # 3 working days
    assert api.tasks(T03, instance_id=instance_id) == []                      # not consulted
    answer(api, T01, instance_id)
    answer(api, T02, instance_id, "conditional", "县住建局须派员全程陪同入户")
    assert open_elements(api, instance_id) == ["adm_review_county_bb", "adm_review_county_sfj"]
    opinions = api.get(f"/api/admission/requests/{instance_id}/consultation", "bb_reviewer").json()["items"]
    assert [(o["township"], o["opinion"], o["comment"], o["answered_by"]) for o in opinions] == [
        ("t01", "agree", None, T01), ("t02", "conditional", "县住建局须派员全程陪同入户", T02)]
    review(api, instance_id, "county_bb")
    review(api, instance_id, "county_sfj")
    approve(api, instance_id)

    body = instance(api, instance_id)
    assert body["status"] == "completed" and body["summary"]["准入编号"] == "ZR-2026-001"
    listed = register(api, T02)
    assert [(t["code"], t["status"], t["department"]["code"]) for t in listed] == [("ZR-2026-001", "pending", "zjj")]
    detail = api.get("/api/admission/tasks/ZR-2026-001", T01).json()
    assert detail["funding"] == "县财政专项经费每乡镇2万元" and detail["staffing"] == "县住建局派驻检查员2名"
    assert (detail["period_start"], detail["period_end"]) == ("2026-03-16", "2026-06-30")
    assert [(t["code"], t["opinion"]) for t in detail["townships"]] == [("t01", "agree"), ("t02", "conditional")]
    assert detail["source_instance_id"] == instance_id
    assert register(api, T01, township="t03") == []


def test_a_township_missing_the_deadline_is_reminded_then_recorded_absent(demo_api, county, clock, timers):
    api = demo_api
    instance_id = apply(api, townships=("t01", "t02", "t03"))         # Monday 09:00, deadline Thursday 09:00
    answer(api, T01, instance_id, "disagree", "辖区已有同类任务，人手不足")
    clock.advance(days=1, hours=23)                                  # Wednesday 08:00
    assert timers() == 0
    answer(api, T03, instance_id)
    clock.advance(hours=2)                                           # Wednesday 10:00: one working day left
    assert timers() == 1
    assert [e["message"] for e in events(api, instance_id, "reminder")] == [
        "书面征求意见即将截止，已提醒尚未反馈的乡镇（街道）：城北街道"]
    assert open_elements(api, instance_id) == ["adm_consult"]
    clock.advance(days=1)                                            # Thursday 10:00: closed
    assert timers() == 1
    assert open_elements(api, instance_id) == ["adm_review_county_bb", "adm_review_county_sfj"]
    assert api.tasks(T02, instance_id=instance_id) == []
    opinions = api.get(f"/api/admission/requests/{instance_id}/consultation", DEPARTMENT).json()["items"]
    assert [(o["township"], o["opinion"]) for o in opinions] == [("t01", "disagree"), ("t02", "absent"),
                                                                 ("t03", "agree")]
    assert [o["answered_at"] for o in opinions][1] is None
    assert "城北街道" in events(api, instance_id, "consultation_absent")[0]["message"]
    bb = task_of(api, "bb_reviewer", "adm_review_county_bb", instance_id)
    shown = api.get(f"/api/tasks/{bb['id']}", "bb_reviewer").json()["data"]["consultation"]["summary"]
    assert "城北街道：逾期未反馈" in shown and "沂城街道：不同意（辖区已有同类任务，人手不足）" in shown


def test_a_late_answer_is_no_longer_possible(demo_api, county, clock, timers):
    api = demo_api
    instance_id = apply(api)
    late = task_of(api, T02, "adm_consult", instance_id)
    clock.advance(days=3, hours=1)
    timers()
    response = api.complete(T02, late["id"], {"answer": {"opinion": "agree", "signed_by": "张"}})
    assert response.status_code == 409


def test_a_rejected_review_ends_the_request_with_reasons_and_registers_nothing(demo_api, county):
    api = demo_api
    instance_id = apply(api)
    answer(api, T01, instance_id)
    answer(api, T02, instance_id)
    review(api, instance_id, "county_bb")
    review(api, instance_id, "county_sfj", "reject", "依据文件未明确由乡镇承担，属部门法定职责")
    body = instance(api, instance_id)
    assert body["status"] == "completed" and body["summary"]["结果"] == "县级审核未通过"
    assert "县司法局：不通过。依据文件未明确由乡镇承担" in body["data"]["refusal"]
    assert register(api, T01) == []


def test_the_leadership_may_refuse_admission(demo_api, county):
    api = demo_api
    instance_id = apply(api)
    to_approval(api, instance_id)
    approve(api, instance_id, "reject", "保障措施不足")
    assert instance(api, instance_id)["summary"]["结果"] == "县级党委政府审批未通过"
    assert events(api, instance_id, "review_rejected")[0]["message"].endswith("县级党委政府：不通过。保障措施不足")
    assert register(api, "leader") == []


def test_the_special_explanation_is_checked_when_submitted(demo_api, county):
    api = demo_api
    instance_id = api.start(DEPARTMENT, "temporary_task_admission").json()["id"]
    task = task_of(api, DEPARTMENT, "adm_apply", instance_id)
    long_task = api.complete(DEPARTMENT, task["id"], {"townships": ["t01"], "application": application(
        period_start="2026-03-16", period_end="2027-06-30")})
    assert long_task.status_code == 422
    assert "不超过一年" in long_task.json()["errors"]["application.period_end"][0]
    past = api.complete(DEPARTMENT, task["id"], {"townships": ["t01"], "application": application(
        period_start="2026-02-01")})
    assert past.status_code == 422 and "application.period_start" in past.json()["errors"]
    nobody = api.complete(DEPARTMENT, task["id"], {"townships": [], "application": application()})
    assert nobody.status_code == 422 and "townships" in nobody.json()["errors"]
    assert open_elements(api, instance_id) == ["adm_apply"]


def test_only_departments_apply_the_named_townships_answer_and_only_the_named_reviewers_decide(demo_api, county):
    api = demo_api
    assert api.start(T01, "temporary_task_admission").status_code == 403
    assert api.start("bb_reviewer", "temporary_task_admission").status_code == 403
    instance_id = apply(api)
    t01_task = task_of(api, T01, "adm_consult", instance_id)
    for intruder in (T02, T01_OTHER_OFFICE, DEPARTMENT, "bb_reviewer"):
        response = api.complete(intruder, t01_task["id"], {"answer": {"opinion": "agree", "signed_by": "冒名"}})
        assert response.status_code == 403, intruder
    answer(api, T01, instance_id)
    answer(api, T02, instance_id)
    bb = task_of(api, "bb_reviewer", "adm_review_county_bb", instance_id)
    assert api.complete("sfj_reviewer", bb["id"], {"county_bb_decision": "approve",
                                                   "county_bb_opinion": "同意"}).status_code == 403
    review(api, instance_id, "county_bb")
    review(api, instance_id, "county_sfj")
    approval = task_of(api, LEADER, "adm_review_approval", instance_id)
    for intruder in (T01, DEPARTMENT, "bb_reviewer"):
        response = api.complete(intruder, approval["id"], {"approval_decision": "approve", "approval_opinion": "同意"})
        assert response.status_code == 403, intruder
    assert register(api, LEADER) == []


# --- refusing what was never admitted ---------------------------------------------------------------

def decline(api, user=T01, **changes):
    data = {"department": "zjj", "task_title": "协助开展建筑工地夜间巡查", "task_description": "县住建局电话通知每晚派人巡查工地",
            "assigned_on": "2026-03-02"}
    data.update(changes)
    return api.post("/api/admission/declines", user, json=data)


def test_a_township_refuses_an_unlisted_unadmitted_task_on_the_record(demo_api, county):
    api = demo_api
    response = decline(api)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["township"]["code"] == "t01" and body["department"]["code"] == "zjj"
    assert "乡镇（街道）可以拒绝承接" in body["rule"]
    assert "第 1 版" in body["check_note"] and "有效准入事项：无" in body["check_note"]
    assert [d["id"] for d in api.get("/api/admission/declines", "zjj_sunxy").json()["items"]] == [body["id"]]
    assert [d["id"] for d in api.get("/api/admission/declines", "supervisor").json()["items"]] == [body["id"]]
    assert api.get("/api/admission/declines", T02).json()["items"] == []
    assert api.get(f"/api/admission/declines/{body['id']}", T02).status_code == 404
    assert api.get("/api/admission/declines", "sthj_wangjg").json()["items"] == []


def test_a_listed_or_admitted_task_cannot_be_refused(demo_api, county):
    api = demo_api
    listed = decline(api, cited_item_code="SD-001")
    assert listed.status_code == 422
    assert "列入现行第 1 版属地管理事项清单" in listed.json()["errors"]["cited_item_code"][0]

    instance_id = apply(api)
    to_approval(api, instance_id)
    approve(api, instance_id)
    admitted = decline(api, cited_admission_code="ZR-2026-001")
    assert admitted.status_code == 422 and "已经准入" in admitted.json()["errors"]["cited_admission_code"][0]
    elsewhere = decline(api, T03, cited_admission_code="ZR-2026-001")     # not handed to 东湖街道
    assert elsewhere.status_code == 201 and "未交由本乡镇" in elsewhere.json()["check_note"]
    assert api.get("/api/admission/declines", "supervisor").json()["total"] == 1


def test_only_township_offices_refuse_and_bad_input_names_the_field(demo_api, county):
    api = demo_api
    assert decline(api, DEPARTMENT).status_code == 403
    assert decline(api, "t01_grid").status_code == 403
    unknown = decline(api, department="t02")
    assert unknown.status_code == 422 and "department" in unknown.json()["errors"]
    blank = decline(api, task_title="")
    assert blank.status_code == 422 and "task_title" in blank.json()["errors"]
    assert api.get("/api/admission/declines", "supervisor").json()["total"] == 0


def test_an_overdue_approval_is_escalated_to_the_supervision_office(demo_api, county, clock, timers):
    api = demo_api
    instance_id = apply(api)
    to_approval(api, instance_id)                        # reached on Monday 2026-03-02 09:00
    assert task_of(api, LEADER, "adm_review_approval", instance_id)["due_at"] == "2026-03-09T01:00:00+00:00"
    clock.advance(days=4, hours=1)                       # Friday 10:00: one working day left
    assert timers() == 1
    assert events(api, instance_id, "reminder")[-1]["message"] == "县级党委政府审批将于1个工作日后到期，已催办县级党委政府"
    clock.advance(days=3)                                # Monday 03-09 10:00: overdue
    assert timers() == 1
    assert task_of(api, "supervisor", "adm_supervise_approval", instance_id)["title"] == "督办县级审批"
    approve(api, instance_id)                            # approving late still admits the task
    assert register(api, T01)[0]["code"] == "ZR-2026-001"
