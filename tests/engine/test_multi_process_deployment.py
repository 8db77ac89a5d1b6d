"""A deployment of several diagrams stores every BPMN file with each version but only that
process's own forms; re-parsing a version must check that process alone (engine bug: starting any
process of such a deployment failed because the other processes' forms were missing)."""
from __future__ import annotations

from conftest import FIXTURES

SECOND = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="Definitions_second" targetNamespace="http://shudi.example/bpmn">
  <bpmn:process id="second_process" name="第二个流程" isExecutable="true">
    <bpmn:startEvent id="second_start" name="开始"><bpmn:outgoing>s1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="s1" sourceRef="second_start" targetRef="second_task"/>
    <bpmn:userTask id="second_task" name="填写">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="second.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>s1</bpmn:incoming><bpmn:outgoing>s2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="s2" sourceRef="second_task" targetRef="second_end"/>
    <bpmn:endEvent id="second_end" name="结束"><bpmn:incoming>s2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_every_process_of_a_multi_process_deployment_starts(api, core, users):
    from service.services.deployments import deploy, read_folder

    bpmn, forms = read_folder(FIXTURES / "bpmn", FIXTURES / "forms")
    bpmn["second.bpmn"] = SECOND
    forms["second.json"] = '{"type": "object", "title": "填写", "properties": {"note": {"type": "string"}}}'
    with core.uow() as uow:
        deployed = deploy(core, uow.session, bpmn, forms, deployed_by="test")
        uow.commit()
    assert sorted(d.key for d in deployed) == ["second_process", "simple_call"]
    core.engine.reset_caches()                          # as after a restart: versions are re-parsed

    first = api.start("t01_office", "simple_call", {"title": "渣土遗撒"})
    assert first.status_code == 201, first.text
    second = api.start("admin", "second_process")
    assert second.status_code == 201, second.text
    assert [t["form"] for t in second.json()["tasks"]] == ["second.json"]
