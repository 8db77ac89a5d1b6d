"""A parallel join that a loop passes twice merges only the branches of the current pass (engine
bug: SpiffWorkflow's join also merged the data of the previous pass's branches, so a value set in
one branch could be replaced by that branch's stale copy and lists were cut to their old length)."""
from __future__ import annotations

LOOP = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D_loop"
                  targetNamespace="http://shudi.example/bpmn">
  <bpmn:process id="loop_join" name="循环会审" isExecutable="true">
    <bpmn:startEvent id="start" name="开始"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="init"/>
    <bpmn:scriptTask id="init" name="准备"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f00</bpmn:outgoing>
      <bpmn:script>rounds = 0</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f00" sourceRef="init" targetRef="prepare"/>
    <bpmn:scriptTask id="prepare" name="提交">
      <bpmn:incoming>f00</bpmn:incoming><bpmn:incoming>f_again</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>
      <bpmn:script>rounds = rounds + 1
units = ["a", "b", "c"][:rounds + 1]</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f1" sourceRef="prepare" targetRef="split"/>
    <bpmn:parallelGateway id="split" name="会审"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="left"/>
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="right"/>
    <bpmn:scriptTask id="left" name="甲审核"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>left_decision = "approve" if rounds == 2 else "reject"</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="right" name="乙审核"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
      <bpmn:script>right_decision = "approve"</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f4" sourceRef="left" targetRef="join"/>
    <bpmn:sequenceFlow id="f5" sourceRef="right" targetRef="join"/>
    <bpmn:parallelGateway id="join" name="汇齐"><bpmn:incoming>f4</bpmn:incoming><bpmn:incoming>f5</bpmn:incoming>
      <bpmn:outgoing>f6</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:sequenceFlow id="f6" sourceRef="join" targetRef="check"/>
    <bpmn:exclusiveGateway id="check" name="通过？" default="f_again"><bpmn:incoming>f6</bpmn:incoming>
      <bpmn:outgoing>f_done</bpmn:outgoing><bpmn:outgoing>f_again</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f_done" sourceRef="check" targetRef="end">
      <bpmn:conditionExpression>left_decision == "approve" or rounds &gt;= 3</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_again" sourceRef="check" targetRef="prepare"/>
    <bpmn:endEvent id="end" name="结束"><bpmn:incoming>f_done</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_the_second_pass_through_a_parallel_join_keeps_that_passs_data(core, users):
    from service.models import User
    from service.services.deployments import deploy
    from service.services.instances import start_instance
    from service.api.views import instance_data

    with core.uow() as uow:
        deploy(core, uow.session, {"loop.bpmn": LOOP}, {}, deployed_by="test")
        admin = uow.session.get(User, users["admin"])
        instance, _ = start_instance(core, uow.session, admin, "loop_join", {})
        uow.commit()
        data = instance_data(core, instance)
    # Pass 1: 甲 rejects, so the loop runs again; pass 2: 甲 approves and the list has grown.
    assert (data["rounds"], data["left_decision"], data["units"]) == (2, "approve", ["a", "b", "c"])
