"""Reading element states out of a workflow (service.engine.trace)."""
from __future__ import annotations

from service.engine.trace import documentation_of, element_catalog, element_states
from service.models import ProcessInstance, User
from service.services.instances import complete_task, start_instance


def run(core, username, action):
    with core.uow() as uow:
        user = uow.session.query(User).filter_by(username=username).one()
        result = action(uow.session, user)
        uow.commit()
        return result


def states_of(core, instance_id, with_data=False):
    with core.uow() as uow:
        instance = uow.session.get(ProcessInstance, instance_id)
        return core.engine.peek(instance, lambda wf: element_states(wf, with_data=with_data))


def test_states_follow_the_instance_step_by_step(core, showcase):
    instance, tasks = run(core, "t01_office", lambda s, u: start_instance(
        core, s, u, "form_showcase", {"title": "违建", "township": "t01", "item_code": "SD-1"}))
    states = states_of(core, instance.id)
    assert {k: v["state"] for k, v in states.items()} == {"start": "completed", "prepare": "completed",
                                                          "fill": "active"}
    assert states["fill"]["count"] == 1 and states["fill"]["tasks"][0]["id"] == tasks[0].id

    run(core, "t01_office", lambda s, u: complete_task(core, s, u, tasks[0].id, {
        "result": "已核实", "severity": "一般", "checked_on": "2026-03-02"}))
    states = states_of(core, instance.id, with_data=True)
    assert states["fill"]["state"] == "completed"
    assert states["review"]["state"] == "active"
    waiting = states["review_reminder"]
    assert waiting["state"] == "waiting"
    assert waiting["tasks"][0]["timer_due"].startswith("2026-03-02T02:00")      # 10:00 Beijing, one hour later
    assert states["review"]["tasks"][-1]["data"]["result"] == "已核实"
    assert states["fill"]["tasks"][-1]["data"]["severity"] == "一般"     # the latest task of each element


def test_the_element_catalog_lists_every_flow_element_with_its_documentation(core, showcase):
    from service.services.deployments import latest_definition

    with core.uow() as uow:
        process = core.engine.process_for(latest_definition(uow.session, "form_showcase"))
    elements = {e["id"]: e for e in element_catalog(process)}
    assert set(elements) >= {"start", "prepare", "fill", "review", "review_reminder", "remind", "reminded", "end"}
    assert elements["fill"]["lane"] == "乡镇办公室"
    assert documentation_of(process, "fill") == "请到现场核实问题情况，拍照取证后如实填写核查结果。"
    assert documentation_of(process, "review") == ""
