"""What changed between two deployed versions of a process, computed from their stored BPMN.

Elements are matched by BPMN id. An element is *changed* when something that affects how the
process runs or reads differs: its kind, name, lane, documentation, condition, script, timer,
our ``spiffworkflow`` properties, or any other attribute or child (connections are compared on the
sequence flows themselves, not on the ``incoming``/``outgoing`` lists of the nodes). Moving shapes
around is not a change of an element; a version that differs only in layout says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)

KIND_NAMES = {
    "startEvent": "开始事件", "endEvent": "结束事件", "intermediateCatchEvent": "中间捕获事件",
    "intermediateThrowEvent": "中间抛出事件", "boundaryEvent": "边界事件", "task": "任务", "userTask": "用户任务",
    "manualTask": "人工任务", "scriptTask": "脚本任务", "serviceTask": "服务任务", "sendTask": "发送任务",
    "receiveTask": "接收任务", "businessRuleTask": "业务规则任务", "callActivity": "调用活动", "subProcess": "子流程",
    "transaction": "事务子流程", "adHocSubProcess": "自由子流程", "exclusiveGateway": "排他网关",
    "parallelGateway": "并行网关", "inclusiveGateway": "包容网关", "eventBasedGateway": "事件网关",
    "complexGateway": "复杂网关", "sequenceFlow": "顺序流", "lane": "泳道", "dataObject": "数据对象",
    "dataObjectReference": "数据对象引用", "dataStoreReference": "数据存储引用",
}
_CONTAINERS = {"process", "subProcess", "transaction", "adHocSubProcess"}
# Children compared as named aspects (or derived from the flows), not as "other".
_ASPECT_CHILDREN = {"documentation", "conditionExpression", "script", "extensionElements", "incoming", "outgoing",
                    "timerEventDefinition", "flowNodeRef", "childLaneSet"}
_ASPECT_ATTRIBUTES = {"id", "name", "sourceRef", "targetRef", "default"}


@dataclass
class Element:
    id: str
    kind: str
    name: str
    aspects: dict[str, str] = field(default_factory=dict)

    @property
    def kind_name(self) -> str:
        return KIND_NAMES.get(self.kind, self.kind)

    def as_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "kind_name": self.kind_name, "name": self.name}


@dataclass
class Change:
    old: Element
    new: Element
    aspects: list[str]

    def as_dict(self) -> dict:
        return {**self.new.as_dict(), "old_name": self.old.name, "aspects": self.aspects}


@dataclass
class VersionDiff:
    added: list[Element] = field(default_factory=list)
    removed: list[Element] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    forms_added: list[str] = field(default_factory=list)
    forms_removed: list[str] = field(default_factory=list)
    forms_changed: list[str] = field(default_factory=list)
    layout_changed: bool = False     # the BPMN differs, but no element does

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.forms_added or self.forms_removed
                    or self.forms_changed or self.layout_changed)

    def summary(self) -> str:
        """One line for a version list: 新增 2 · 删除 1 · 修改 3 · 表单 1."""
        parts = [f"{label} {len(items)}" for label, items in (("新增", self.added), ("删除", self.removed),
                                                             ("修改", self.changed)) if items]
        forms = len(self.forms_added) + len(self.forms_removed) + len(self.forms_changed)
        if forms:
            parts.append(f"表单 {forms}")
        if not parts and self.layout_changed:
            parts.append("仅调整布局")
        return " · ".join(parts) or "无变化"

    def as_dict(self) -> dict:
        return {"added": [e.as_dict() for e in self.added], "removed": [e.as_dict() for e in self.removed],
                "changed": [c.as_dict() for c in self.changed], "forms_added": self.forms_added,
                "forms_removed": self.forms_removed, "forms_changed": self.forms_changed,
                "layout_changed": self.layout_changed, "summary": self.summary()}


def _local(node) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _is_element(node) -> bool:
    kind = _local(node)
    return (etree.QName(node).namespace == BPMN_NS and bool(node.get("id"))
            and (kind in KIND_NAMES or kind.endswith(("Task", "Event", "Gateway"))))


def _canonical(node, skip: set[str], skip_attributes: frozenset | set = frozenset({"id"})) -> str:
    """A stable text of a node: attributes sorted, whitespace trimmed, ``skip`` children left out."""
    attrs = " ".join(f"{etree.QName(k).localname}={v}" for k, v in sorted(node.attrib.items())
                     if k not in skip_attributes)
    inner = "".join(_canonical(child, set()) for child in node
                    if isinstance(child.tag, str) and _local(child) not in skip and not _is_element(child))
    return f"<{_local(node)} {attrs}>{(node.text or '').strip()}{inner}</{_local(node)}>"


def _aspects(node, lane: str | None) -> dict[str, str]:
    found = {"名称": node.get("name") or "", "泳道": lane or ""}
    if node.get("sourceRef") or node.get("targetRef"):
        found["连线"] = f"{node.get('sourceRef')} → {node.get('targetRef')}"
    if node.get("default"):
        found["默认路径"] = node.get("default")
    for child in node:
        kind = _local(child)
        if kind == "documentation":
            found["文档"] = (child.text or "").strip()
        elif kind == "conditionExpression":
            found["条件"] = (child.text or "").strip()
        elif kind == "script":
            found["脚本"] = (child.text or "").strip()
        elif kind == "timerEventDefinition":
            found["定时器"] = _canonical(child, set())
        elif kind == "extensionElements":
            for ext in child:
                if etree.QName(ext).namespace != SPIFF_NS:
                    found["扩展属性"] = found.get("扩展属性", "") + _canonical(ext, set())
                elif _local(ext) == "properties":
                    for prop in ext:
                        if isinstance(prop.tag, str):
                            found[f"属性 {prop.get('name')}"] = prop.get("value") or ""
                elif _local(ext) == "preScript":
                    found["前置脚本"] = (ext.text or "").strip()
                elif _local(ext) == "postScript":
                    found["后置脚本"] = (ext.text or "").strip()
                else:
                    found[f"扩展 {_local(ext)}"] = _canonical(ext, set())
    if _local(node) == "lane":
        found["包含环节"] = " ".join(sorted((ref.text or "").strip() for ref in node
                                            if _local(ref) == "flowNodeRef"))
    found["其他"] = _canonical(node, _ASPECT_CHILDREN, _ASPECT_ATTRIBUTES)
    return found


def parse(xml: str):
    return etree.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml, _PARSER)


def process_node(root, process_id: str):
    return next((p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("id") == process_id), None)


def process_elements(root, process_id: str) -> dict[str, Element]:
    """Every flow element and lane of one process (sub-processes included), by id."""
    process = process_node(root, process_id)
    if process is None:
        return {}
    lanes = {}
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        for ref in lane.iterfind(f"{{{BPMN_NS}}}flowNodeRef"):
            lanes[(ref.text or "").strip()] = lane.get("name") or lane.get("id")
    elements = {}
    for node in process.iter():
        if node is process or not isinstance(node.tag, str) or not _is_element(node):
            continue
        element_id = node.get("id")
        elements[element_id] = Element(element_id, _local(node), node.get("name") or "",
                                       _aspects(node, lanes.get(element_id)))
    return elements


def file_of_process(bpmn_files: dict[str, str], key: str) -> tuple[str | None, str | None]:
    """The file (name, text) of a deployment that defines process ``key``."""
    for filename in sorted(bpmn_files):
        text = bpmn_files[filename]
        if key in text and process_node(parse(text), key) is not None:   # cheap filter, then the XML
            return filename, text
    return None, None


def diff_processes(old_xml: str | None, new_xml: str | None, key: str) -> VersionDiff:
    old = process_elements(parse(old_xml), key) if old_xml else {}
    new = process_elements(parse(new_xml), key) if new_xml else {}
    result = VersionDiff()
    result.added = [new[i] for i in new if i not in old]
    result.removed = [old[i] for i in old if i not in new]
    for element_id in (i for i in new if i in old):
        before, after = old[element_id], new[element_id]
        aspects = [] if before.kind == after.kind else ["类型"]
        aspects += [name for name in dict.fromkeys([*before.aspects, *after.aspects])
                    if before.aspects.get(name, "") != after.aspects.get(name, "")]
        if aspects:
            result.changed.append(Change(before, after, aspects))
    result.layout_changed = old_xml != new_xml and not (result.added or result.removed or result.changed)
    return result


def diff_versions(old, new) -> VersionDiff:
    """The difference from definition version ``old`` to ``new`` (same process key; ``old`` may
    be None for a first version)."""
    new_file = file_of_process(new.bpmn_files, new.key)[1]
    old_file = file_of_process(old.bpmn_files, old.key)[1] if old is not None else None
    result = diff_processes(old_file, new_file, new.key)
    old_forms = old.forms if old is not None else {}
    result.forms_added = sorted(set(new.forms) - set(old_forms))
    result.forms_removed = sorted(set(old_forms) - set(new.forms))
    result.forms_changed = sorted(f for f in set(new.forms) & set(old_forms) if new.forms[f] != old_forms[f])
    return result
