"""Read models for administrators: instance search with counts, incidents, the trace of one instance."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from lxml import etree
from sqlalchemy import and_, exists, func, or_, select

from ..domain.calendar import SHANGHAI
from ..engine.trace import current_data, element_catalog, element_states, json_safe
from ..errors import Invalid
from ..models import HumanTask, InstanceEvent, ProcessDefinition, ProcessInstance
from ..models.process import INSTANCE_STATUSES
from .worklist import summary_field

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"

SORTS = {
    "started_desc": (ProcessInstance.started_at.desc(), ProcessInstance.id.desc()),
    "started_asc": (ProcessInstance.started_at.asc(), ProcessInstance.id.asc()),
    "updated_desc": (ProcessInstance.updated_at.desc(), ProcessInstance.id.desc()),
    "process": (ProcessInstance.process_key.asc(), ProcessInstance.id.desc()),
}


@dataclass
class InstanceFilters:
    process_key: str | None = None
    version: int | None = None
    status: str | None = None
    township: str | None = None       # summary["township"]
    department: str | None = None     # summary["department"]
    overdue: bool = False             # has an open task past its due time
    started_from: date | None = None  # Beijing calendar days, inclusive
    started_to: date | None = None
    q: str | None = None              # business key (part of it) or instance number
    sort: str = "started_desc"

    def problems(self) -> dict[str, list[str]]:
        errors = {}
        if self.status and self.status not in INSTANCE_STATUSES:
            errors["status"] = [f"未知状态「{self.status}」"]
        if self.sort not in SORTS:
            errors["sort"] = [f"未知排序「{self.sort}」"]
        if self.started_from and self.started_to and self.started_from > self.started_to:
            errors["started_to"] = ["结束日期不能早于开始日期"]
        return errors

    def without_problems(self) -> "InstanceFilters":
        """A copy with every faulty filter dropped (a page shows the rest and says what it dropped)."""
        problems = self.problems()
        return replace(self, status=None if "status" in problems else self.status,
                       sort="started_desc" if "sort" in problems else self.sort,
                       started_to=None if "started_to" in problems else self.started_to)

    def check(self) -> "InstanceFilters":
        problems = self.problems()
        if problems:
            raise Invalid("筛选条件有误", problems)
        return self


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


def _filtered(stmt, f: InstanceFilters, now: datetime, with_status: bool = True):
    if f.process_key:
        stmt = stmt.where(ProcessInstance.process_key == f.process_key)
    if f.version:
        stmt = stmt.where(ProcessInstance.definition_id.in_(
            select(ProcessDefinition.id).where(ProcessDefinition.version == f.version)))
    if with_status and f.status:
        stmt = stmt.where(ProcessInstance.status == f.status)
    if f.township:
        stmt = stmt.where(summary_field("township") == f.township)
    if f.department:
        stmt = stmt.where(summary_field("department") == f.department)
    if f.overdue:
        stmt = stmt.where(exists().where(HumanTask.instance_id == ProcessInstance.id, HumanTask.due_at < now))
    if f.started_from:
        stmt = stmt.where(ProcessInstance.started_at >= _day_start(f.started_from))
    if f.started_to:
        stmt = stmt.where(ProcessInstance.started_at < _day_start(f.started_to + timedelta(days=1)))
    if f.q:
        q = f.q.strip()
        condition = ProcessInstance.business_key.contains(q, autoescape=True)
        if q.lstrip("#").isdigit():
            condition = or_(condition, ProcessInstance.id == int(q.lstrip("#")))
        stmt = stmt.where(condition)
    return stmt


@dataclass
class InstancePage:
    items: list[ProcessInstance]
    total: int
    page: int
    per_page: int
    status_counts: dict[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search_instances(session, f: InstanceFilters, now: datetime, page: int = 1, per_page: int = 20) -> InstancePage:
    f.check()
    stmt = _filtered(select(ProcessInstance), f, now).order_by(*SORTS[f.sort])
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique().all()
    counted = _filtered(select(ProcessInstance.status, func.count()).select_from(ProcessInstance), f, now,
                        with_status=False).group_by(ProcessInstance.status)
    counts = {status: 0 for status in INSTANCE_STATUSES} | dict(session.execute(counted).all())
    return InstancePage(items, total, page, per_page, counts)


def process_versions(session) -> dict[str, list[int]]:
    rows = session.execute(select(ProcessDefinition.key, ProcessDefinition.version)
                           .order_by(ProcessDefinition.key, ProcessDefinition.version.desc())).all()
    versions: dict[str, list[int]] = {}
    for key, version in rows:
        versions.setdefault(key, []).append(version)
    return versions


def incidents(session) -> list[ProcessInstance]:
    """Instances stopped by an error (a timer step failed after all its retries), latest first."""
    return session.scalars(select(ProcessInstance).where(ProcessInstance.status == "error")
                           .order_by(ProcessInstance.updated_at.desc(), ProcessInstance.id.desc())).unique().all()


# --- the trace of one instance ------------------------------------------------------------------

@dataclass
class Diagram:
    filename: str | None
    xml: str | None
    has_di: bool


def diagram_of(definition: ProcessDefinition) -> Diagram:
    """The BPMN file of the definition that holds its process, and whether it has a drawing (DI)."""
    for filename, text in sorted(definition.bpmn_files.items()):
        try:
            root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            continue
        if root.find(f"{{{BPMN_NS}}}process[@id='{definition.key}']") is not None:
            return Diagram(filename, text, root.find(f"{{{BPMNDI_NS}}}BPMNDiagram") is not None)
    return Diagram(None, None, False)


@dataclass
class Trace:
    states: dict[str, dict]           # bpmn_id → state, count, tasks, overdue, events
    elements: list[dict]              # every flow element with its state (the no-diagram view)
    diagram: Diagram
    data: dict


def instance_trace(core, session, instance: ProcessInstance, now: datetime) -> Trace:
    """Element states from the engine, with what only the database knows: overdue tasks, the
    element a failed timer step stopped at, and the events of each element (who, when)."""
    states, data = core.engine.peek(instance, lambda wf: (element_states(wf, with_data=True), json_safe(current_data(wf))))
    for task in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)):
        entry = states.setdefault(task.element_id, {"state": "active", "count": 1, "counts": {}, "tasks": []})
        if task.due_at is not None and now >= task.due_at:
            entry["overdue"] = True
    if instance.status == "error" and instance.error_element:
        entry = states.setdefault(instance.error_element, {"count": 1, "counts": {}, "tasks": []})
        entry.update(state="error", error=instance.error_message)
    events = session.scalars(select(InstanceEvent).where(InstanceEvent.instance_id == instance.id,
                                                         InstanceEvent.element_id.is_not(None))
                             .order_by(InstanceEvent.at, InstanceEvent.id)).all()
    for event in events:
        if event.element_id in states:
            states[event.element_id].setdefault("events", []).append(
                {"at": event.at.isoformat(), "kind": event.kind, "username": event.username, "message": event.message})
    process = core.engine.process_for(instance.definition)
    elements = [{**e, "state": states.get(e["id"], {}).get("state"), "count": states.get(e["id"], {}).get("count", 0),
                 "overdue": states.get(e["id"], {}).get("overdue", False)} for e in element_catalog(process)]
    names = {e["id"]: e["name"] for e in elements}
    for bpmn_id, entry in states.items():
        entry["name"] = names.get(bpmn_id, "")
    return Trace(states, elements, diagram_of(instance.definition), data)


def open_tasks_by_instance(session, instance_ids: list[int]) -> dict[int, list[HumanTask]]:
    rows = session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(instance_ids))
                           .order_by(HumanTask.created_at)).all() if instance_ids else []
    grouped: dict[int, list[HumanTask]] = {}
    for row in rows:
        grouped.setdefault(row.instance_id, []).append(row)
    return grouped


def overdue_instance_ids(session, instance_ids: list[int], now: datetime) -> set[int]:
    if not instance_ids:
        return set()
    return set(session.scalars(select(HumanTask.instance_id).where(
        and_(HumanTask.instance_id.in_(instance_ids), HumanTask.due_at < now))).all())
