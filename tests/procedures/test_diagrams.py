"""The two review diagrams as a civil servant and bpmn-js see them: every element named in Chinese,
drawn once inside its lane, nothing overlapping, every flow drawn from its source to its target,
and no script longer than one line."""
from __future__ import annotations

import re

import pytest
from lxml import etree

from service.config import ROOT

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI",
      "spiff": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
NODES = ("startEvent", "endEvent", "userTask", "scriptTask", "exclusiveGateway", "parallelGateway", "boundaryEvent")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
DIAGRAMS = ["catalog_change.bpmn", "temporary_task_admission.bpmn"]


class Drawing:
    def __init__(self, filename: str):
        self.root = etree.parse(str(ROOT / "processes" / filename)).getroot()
        self.process = self.root.find("bpmn:process", NS)
        self.nodes = {n.get("id"): n for tag in NODES for n in self.process.iterfind(f"bpmn:{tag}", NS)}
        self.flows = {f.get("id"): f for f in self.process.iterfind("bpmn:sequenceFlow", NS)}
        self.bounds = {}
        for shape in self.root.iterfind(".//bpmndi:BPMNShape", NS):
            b = shape.find("dc:Bounds", NS)
            self.bounds[shape.get("bpmnElement")] = tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))
        self.edges = {e.get("bpmnElement"): [(float(p.get("x")), float(p.get("y")))
                                             for p in e.iterfind("di:waypoint", NS)]
                      for e in self.root.iterfind(".//bpmndi:BPMNEdge", NS)}
        self.lanes = {lane.get("id"): [ref.text for ref in lane.iterfind("bpmn:flowNodeRef", NS)]
                      for lane in self.process.iterfind(".//bpmn:lane", NS)}


@pytest.fixture(params=DIAGRAMS)
def drawing(request) -> Drawing:
    return Drawing(request.param)


def _inside(point, box, slack=1.0) -> bool:
    x, y, w, h = box
    return x - slack <= point[0] <= x + w + slack and y - slack <= point[1] <= y + h + slack


def _overlap(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_every_element_is_named_in_chinese_and_drawn(drawing):
    for node_id, node in drawing.nodes.items():
        assert CHINESE.search(node.get("name") or ""), node_id
        assert node_id in drawing.bounds, node_id
    for lane_id in drawing.lanes:
        assert lane_id in drawing.bounds, lane_id


def test_every_flow_is_drawn_from_its_source_to_its_target(drawing):
    for flow_id, flow in drawing.flows.items():
        points = drawing.edges[flow_id]
        assert len(points) >= 2, flow_id
        assert _inside(points[0], drawing.bounds[flow.get("sourceRef")]), flow_id
        assert _inside(points[-1], drawing.bounds[flow.get("targetRef")]), flow_id
        for (x1, y1), (x2, y2) in zip(points, points[1:]):
            assert x1 == x2 or y1 == y2, f"{flow_id} has a slanted segment"


def test_elements_sit_in_their_lanes_and_never_overlap(drawing):
    for lane_id, refs in drawing.lanes.items():
        for ref in refs:
            x, y, w, h = drawing.bounds[ref]
            assert _inside((x + w / 2, y + h / 2), drawing.bounds[lane_id]), (lane_id, ref)
    laned = {ref for refs in drawing.lanes.values() for ref in refs}
    for node_id in set(drawing.nodes) - laned:      # the applicant's steps: in the pool, above every lane
        x, y, w, h = drawing.bounds[node_id]
        assert all(y + h <= drawing.bounds[lane][1] for lane in drawing.lanes), node_id
    shapes = [n for n, node in drawing.nodes.items() if etree.QName(node).localname != "boundaryEvent"]
    for i, a in enumerate(shapes):
        for b in shapes[i + 1:]:
            assert not _overlap(drawing.bounds[a], drawing.bounds[b]), (a, b)


def test_scripts_and_expressions_are_one_line_calls(drawing):
    scripts = [s.text for s in drawing.process.iterfind(".//bpmn:script", NS)]
    scripts += [s.text for s in drawing.process.iterfind(".//spiff:postScript", NS)]
    scripts += [s.text for s in drawing.process.iterfind(".//spiff:preScript", NS)]
    assert scripts
    for script in scripts:
        assert "\n" not in script.strip(), script
        assert re.fullmatch(r"[a-z_]+ = [a-z_]+\(.*\)", script.strip()), script
    for user_task in drawing.process.iterfind("bpmn:userTask", NS):
        names = {p.get("name") for p in user_task.iterfind(".//spiff:property", NS)}
        assert {"formJsonSchemaFilename", "formUiSchemaFilename"} <= names, user_task.get("id")
