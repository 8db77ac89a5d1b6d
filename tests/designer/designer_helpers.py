"""Diagram variants of the fixture process (tests/fixtures/bpmn/simple_call.bpmn) for the designer
tests, and the BPMN MIWG reference models from the shared corpus."""
from __future__ import annotations

from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "bpmn" / "simple_call.bpmn"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF, "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI"}
# CI checks the repository out beside ../shared (the repository's parent folder holds shared/).
MIWG_DIR = ROOT.parent / "shared" / "corpus" / "bpmn-miwg"
FLOW_ELEMENT_TYPES = {
    "sequenceFlow", "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess", "startEvent", "endEvent",
    "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "parallelGateway",
    "inclusiveGateway", "eventBasedGateway", "complexGateway", "dataObject", "dataObjectReference",
    "dataStoreReference"}
_CONTAINERS = {"process", "subProcess", "transaction", "adHocSubProcess"}


def base_xml() -> str:
    return FIXTURE.read_text(encoding="utf-8")


def _tree(xml: str):
    return etree.fromstring(xml.encode("utf-8"))


def _text(root) -> str:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def _one(root, path: str):
    return root.xpath(path, namespaces=NS)[0]


def _property(element, name: str, value: str) -> None:
    props = element.find(f"{{{BPMN}}}extensionElements/{{{SPIFF}}}properties")
    etree.SubElement(props, f"{{{SPIFF}}}property", name=name, value=value)


def with_review_step(xml: str | None = None, rename_handle: str | None = "部门办理（含复核）") -> str:
    """Version 2: a 复核 user task between 部门办理 and 确认评价 (drawn), 部门办理 renamed."""
    root = _tree(xml or base_xml())
    process = _one(root, "//bpmn:process")
    handle = _one(root, "//bpmn:userTask[@id='handle']")
    if rename_handle:
        handle.set("name", rename_handle)
    review = etree.SubElement(process, f"{{{BPMN}}}userTask", id="review", name="复核")
    ext = etree.SubElement(review, f"{{{BPMN}}}extensionElements")
    props = etree.SubElement(ext, f"{{{SPIFF}}}properties")
    etree.SubElement(props, f"{{{SPIFF}}}property", name="formJsonSchemaFilename", value="result.json")
    etree.SubElement(props, f"{{{SPIFF}}}property", name="candidateUnitExpression", value="dept")
    etree.SubElement(review, f"{{{BPMN}}}incoming").text = "f4"
    etree.SubElement(review, f"{{{BPMN}}}outgoing").text = "f4b"
    _one(root, "//bpmn:sequenceFlow[@id='f4']").set("targetRef", "review")
    etree.SubElement(process, f"{{{BPMN}}}sequenceFlow", id="f4b", sourceRef="review", targetRef="confirm")
    confirm = _one(root, "//bpmn:userTask[@id='confirm']")
    _one(confirm, "bpmn:incoming").text = "f4b"
    lane = _one(root, "//bpmn:lane[@id='Lane_dept']")
    etree.SubElement(lane, f"{{{BPMN}}}flowNodeRef").text = "review"
    plane = _one(root, "//bpmndi:BPMNPlane")
    shape = etree.SubElement(plane, f"{{{NS['bpmndi']}}}BPMNShape", id="review_di", bpmnElement="review")
    etree.SubElement(shape, f"{{{NS['dc']}}}Bounds", x="850", y="310", width="100", height="80")
    for edge_id, points in (("f4b_di", [(950, 350), (1010, 350), (1010, 240)]),):
        edge = etree.SubElement(plane, f"{{{NS['bpmndi']}}}BPMNEdge", id=edge_id, bpmnElement=edge_id[:-3])
        for x, y in points:
            etree.SubElement(edge, f"{{{NS['di']}}}waypoint", x=str(x), y=str(y))
    f4 = _one(root, "//bpmndi:BPMNEdge[@id='f4_di']")
    for point in list(f4):
        f4.remove(point)
    for x, y in ((800, 350), (850, 350)):
        etree.SubElement(f4, f"{{{NS['di']}}}waypoint", x=str(x), y=str(y))
    return _text(root)


def without_receive(xml: str | None = None) -> str:
    """A version where 部门签收 is gone: the call goes straight to 部门办理."""
    root = _tree(xml or base_xml())
    receive = _one(root, "//bpmn:userTask[@id='receive']")
    receive.getparent().remove(receive)
    f3 = _one(root, "//bpmn:sequenceFlow[@id='f3']")
    f3.getparent().remove(f3)
    _one(root, "//bpmn:sequenceFlow[@id='f_call']").set("targetRef", "handle")
    _one(root, "//bpmn:userTask[@id='handle']/bpmn:incoming").text = "f_call"
    for ref in root.xpath("//bpmn:flowNodeRef[text()='receive']", namespaces=NS):
        ref.getparent().remove(ref)
    for di in root.xpath("//bpmndi:*[@bpmnElement='receive' or @bpmnElement='f3']", namespaces=NS):
        di.getparent().remove(di)
    return _text(root)


def broken(xml: str | None = None) -> str:
    """Three mistakes the deploy checks name by element: an unquoted timer, a form that does not
    exist, a condition that does not compile."""
    root = _tree(xml or base_xml())
    _one(root, "//bpmn:boundaryEvent[@id='handle_overdue']//bpmn:timeDuration").text = "PT2H"
    _one(root, "//bpmn:userTask[@id='receive']//spiffworkflow:property[@name='formJsonSchemaFilename']") \
        .set("value", "no_such_form.json")
    _one(root, "//bpmn:sequenceFlow[@id='f_call']/bpmn:conditionExpression").text = "call_county ==="
    return _text(root)


def renamed_form(xml: str | None = None, element: str = "confirm", form: str = "confirm_v2.json") -> str:
    root = _tree(xml or base_xml())
    _one(root, f"//bpmn:userTask[@id='{element}']//spiffworkflow:property[@name='formJsonSchemaFilename']") \
        .set("value", form)
    return _text(root)


def flow_elements(xml: bytes | str) -> set[tuple[str, str]]:
    """(type, id) of every flow element of every process and sub-process of a BPMN document."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    found = set()
    for node in root.iter(f"{{{BPMN}}}*"):
        parent = node.getparent()
        kind = etree.QName(node).localname
        if kind in FLOW_ELEMENT_TYPES and parent is not None and etree.QName(parent).localname in _CONTAINERS:
            found.add((kind, node.get("id")))
    return found


def is_executable(path: Path) -> bool:
    root = etree.fromstring(path.read_bytes())
    return any(p.get("isExecutable") == "true" for p in root.iter(f"{{{BPMN}}}process"))


def miwg_models() -> list[Path]:
    """Every reference model of the BPMN MIWG test suite; fails (never skips) when the corpus is missing."""
    if not MIWG_DIR.is_dir():
        raise AssertionError(f"BPMN MIWG corpus not found at {MIWG_DIR}: the repository's parent folder must hold "
                             f"shared/corpus/bpmn-miwg (CI checks out ../shared beside the repository)")
    models = sorted(MIWG_DIR.glob("*.bpmn"))
    if not models:
        raise AssertionError(f"{MIWG_DIR} holds no .bpmn files")
    return models
