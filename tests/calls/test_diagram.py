"""The call procedure as shipped: the diagram is drawn for every element (so bpmn-js renders it),
its lanes are horizontal bands holding their elements, it carries no Python beyond one-line
statements calling named helpers, its forms are Chinese and bounded, and ``shudi deploy`` of
processes/ passes every deploy check."""
from __future__ import annotations

import ast
import json
import re

import pytest
from click.testing import CliRunner
from lxml import etree

from call_support import ROOT, call_files
from service.cli import main
from service.domain.call_helpers import USER_TASKS
from service.engine.helpers import registered_helpers
from service.migrations import upgrade

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI",
      "spiff": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
FLOW_NODES = ("startEvent", "endEvent", "userTask", "scriptTask", "exclusiveGateway", "parallelGateway",
              "subProcess", "boundaryEvent", "intermediateCatchEvent")
CJK = re.compile(r"[\u4e00-\u9fff]")
BPMN = ROOT / "processes" / "township_call.bpmn"


@pytest.fixture(scope="module")
def tree():
    return etree.parse(str(BPMN))


def nodes(tree, *kinds):
    kinds = kinds or FLOW_NODES
    return [n for kind in kinds for n in tree.iterfind(f".//bpmn:{kind}", NS)]


def bounds(tree, element_id):
    shape = tree.find(f".//bpmndi:BPMNShape[@bpmnElement='{element_id}']", NS)
    assert shape is not None, f"{element_id} has no shape"
    b = shape.find("dc:Bounds", NS)
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))


def test_every_flow_node_and_flow_is_drawn(tree):
    assert len(nodes(tree)) > 80
    for node in nodes(tree):
        x, y, w, h = bounds(tree, node.get("id"))
        assert w > 0 and h > 0
    for flow in tree.iterfind(".//bpmn:sequenceFlow", NS):
        edge = tree.find(f".//bpmndi:BPMNEdge[@bpmnElement='{flow.get('id')}']", NS)
        assert edge is not None, flow.get("id")
        points = [(float(p.get("x")), float(p.get("y"))) for p in edge.iterfind("di:waypoint", NS)]
        assert len(points) >= 2
        for (x1, y1), (x2, y2) in zip(points, points[1:]):
            assert x1 == x2 or y1 == y2, f"{flow.get('id')} is not drawn with straight segments"
        for end, point in ((flow.get("sourceRef"), points[0]), (flow.get("targetRef"), points[-1])):
            x, y, w, h = bounds(tree, end)
            assert x - 1 <= point[0] <= x + w + 1 and y - 1 <= point[1] <= y + h + 1, (flow.get("id"), end)


def test_lanes_are_horizontal_bands_in_the_pool_and_hold_their_elements(tree):
    pool = bounds(tree, "Participant_township_call")
    lanes = tree.findall(".//bpmn:lane", NS)
    assert [lane.get("name") for lane in lanes] == ["村(社区)/网格员", "乡镇办公室", "县级配合部门", "县级主责部门",
                                                   "县督查考核部门", "县委编办"]
    previous_bottom = pool[1]
    for lane in lanes:
        shape = tree.find(f".//bpmndi:BPMNShape[@bpmnElement='{lane.get('id')}']", NS)
        assert shape.get("isHorizontal") == "true"
        x, y, w, h = bounds(tree, lane.get("id"))
        assert w > h and y == previous_bottom and x + w == pool[0] + pool[2]
        previous_bottom = y + h
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            nx, ny, nw, nh = bounds(tree, ref.text)
            assert y <= ny + nh / 2 <= y + h, f"{ref.text} is drawn outside lane {lane.get('name')}"
    assert previous_bottom == pool[1] + pool[3]


def test_nested_elements_are_drawn_inside_their_subprocess_and_boundary_events_on_their_host(tree):
    for sub in nodes(tree, "subProcess"):
        sx, sy, sw, sh = bounds(tree, sub.get("id"))
        shape = tree.find(f".//bpmndi:BPMNShape[@bpmnElement='{sub.get('id')}']", NS)
        assert shape.get("isExpanded") == "true"
        for child in sub:
            if etree.QName(child).localname in FLOW_NODES:
                x, y, w, h = bounds(tree, child.get("id"))
                assert sx <= x and x + w <= sx + sw and sy <= y + h / 2 <= sy + sh, child.get("id")
    for event in nodes(tree, "boundaryEvent"):
        hx, hy, hw, hh = bounds(tree, event.get("attachedToRef"))
        x, y, w, h = bounds(tree, event.get("id"))
        cx, cy = x + w / 2, y + h / 2
        assert (hx <= cx <= hx + hw and cy in (hy, hy + hh)) or (hy <= cy <= hy + hh and cx in (hx, hx + hw))
        assert event.get("cancelActivity") == "false"                  # the department's task stays open


def test_every_task_subprocess_and_deciding_gateway_is_named_in_chinese(tree):
    for node in nodes(tree, "userTask", "scriptTask", "subProcess", "boundaryEvent", "intermediateCatchEvent"):
        assert CJK.search(node.get("name") or ""), node.get("id")
    for gateway in nodes(tree, "exclusiveGateway"):
        if len(gateway.findall("bpmn:outgoing", NS)) > 1:
            assert CJK.search(gateway.get("name") or ""), gateway.get("id")
            for flow in tree.iterfind(f".//bpmn:sequenceFlow[@sourceRef='{gateway.get('id')}']", NS):
                assert CJK.search(flow.get("name") or ""), flow.get("id")
    for task in nodes(tree, "userTask"):
        assert CJK.search(task.findtext("bpmn:documentation", "", NS)), task.get("id")


def _expressions(tree):
    """Every piece of Python the diagram carries: script lines, conditions, timers, properties."""
    for script in tree.iterfind(".//bpmn:script", NS):
        for line in script.text.splitlines():
            yield "exec", line
    for text in tree.iterfind(".//bpmn:conditionExpression", NS):
        yield "eval", text.text
    for text in tree.iterfind(".//bpmn:timeDate", NS):
        yield "eval", text.text
    for prop in tree.iterfind(".//spiff:property", NS):
        if prop.get("name").endswith("Expression"):
            yield "eval", prop.get("value")


def test_the_diagram_carries_only_one_line_statements_calling_named_helpers(tree):
    helpers = set(registered_helpers())
    allowed_calls = helpers | {"len"}
    for mode, source in _expressions(tree):
        parsed = ast.parse(source.strip(), mode=mode)
        if mode == "exec":
            assert len(parsed.body) == 1 and isinstance(parsed.body[0], (ast.Assign, ast.Expr)), source
        for node in ast.walk(parsed):
            assert not isinstance(node, (ast.Lambda, ast.For, ast.While, ast.If, ast.FunctionDef, ast.Import,
                                         ast.ListComp, ast.DictComp, ast.Attribute)), source
            if isinstance(node, ast.Call):
                assert isinstance(node.func, ast.Name) and node.func.id in allowed_calls, source


def test_every_task_the_helpers_attribute_to_is_a_user_task_of_the_diagram(tree):
    user_tasks = {n.get("id") for n in nodes(tree, "userTask")}
    assert set(USER_TASKS) == user_tasks


def test_every_user_task_has_a_chinese_form_with_bounded_fields():
    bpmn, forms = call_files()
    tree = etree.fromstring(next(iter(bpmn.values())).encode())
    for task in tree.iterfind(".//bpmn:userTask", NS):
        props = {p.get("name"): p.get("value") for p in task.iterfind(".//spiff:property", NS)}
        schema = json.loads(forms[props["formJsonSchemaFilename"]])
        json.loads(forms[props["formUiSchemaFilename"]])
        assert CJK.search(schema["title"]) and schema["additionalProperties"] is False
        assert schema["required"], task.get("id")
        for name, field in _fields(schema):
            assert CJK.search(field.get("title", "")), f"{props['formJsonSchemaFilename']}: {name}"
            if field.get("type") == "string" and not field.get("readOnly"):
                assert "maxLength" in field or "enum" in field or "pattern" in field or "x-units" in field, name
            if field.get("type") == "array":
                assert "maxItems" in field, name


def _fields(schema, prefix=""):
    for name, field in (schema.get("properties") or {}).items():
        yield prefix + name, field
        yield from _fields(field, prefix + name + ".")


def test_shudi_deploy_deploys_the_processes_folder(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'deploy.sqlite3'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", "test")
    runner = CliRunner()
    first = runner.invoke(main, ["deploy"])
    assert first.exit_code == 0, first.output
    assert "township_call v1 乡呼县应（新版本）" in first.output
    again = runner.invoke(main, ["deploy"])
    assert again.exit_code == 0 and "township_call v1 乡呼县应（未变化）" in again.output
