"""The SpiffWorkflow runtime: specs per version, workflows per instance, steps and timers.

``Engine`` is process-wide and thread-safe by construction: parsed specs are immutable and
shared; a cached workflow is *checked out* (removed from the cache) by the one request that uses
it and put back only after its transaction committed, so no two threads ever touch the same
workflow object (SpiffWorkflow is not thread-safe).
"""
from __future__ import annotations

import copy
from uuid import UUID
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from ..domain.calendar import WorkCalendar
from . import clock, parallel_join  # noqa: F401 - parallel_join fixes SpiffWorkflow's join in a loop
from .deployment import BundleParser, ParsedBundle, ParsedProcess
from .helpers import StepContext, registered_helpers, step_context
from .sandbox import SandboxScriptEngine
from .serializer import WorkflowSerializer


MAX_SETTLE_ROUNDS = 50
# SpiffWorkflow stops silently when the task tree nears 1000 levels; fail loudly well before.
MAX_TASK_DEPTH = 600


class LoopLimitExceeded(Exception):
    pass


@dataclass
class OpenTask:
    id: str
    element_id: str
    title: str


@dataclass
class StepResult:
    """What happened during one run of the engine."""
    completed: list          # SpiffWorkflow tasks completed by the engine, in order
    context: StepContext
    # The human tasks open before the step: exactly the task projection as last saved, so the
    # store can diff against it without reading the projection back.
    open_before: list[OpenTask]


class _WorkflowCache:
    def __init__(self, size: int = 512):
        self._items: OrderedDict[int, tuple[int, BpmnWorkflow]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def checkout(self, instance_id: int, version: int) -> BpmnWorkflow | None:
        with self._lock:
            item = self._items.pop(instance_id, None)
        if item and item[0] == version:
            return item[1]
        return None

    def checkin(self, instance_id: int, version: int, workflow: BpmnWorkflow) -> None:
        with self._lock:
            self._items[instance_id] = (version, workflow)
            self._items.move_to_end(instance_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def drop(self, instance_id: int) -> None:
        with self._lock:
            self._items.pop(instance_id, None)


class Engine:
    def __init__(self, calendar_provider: Callable[[], WorkCalendar]):
        self.calendar_provider = calendar_provider
        self.script_engine = SandboxScriptEngine(registered_helpers())
        self.serializer = WorkflowSerializer()
        self._specs: dict[int, ParsedProcess] = {}
        self._specs_lock = threading.Lock()
        self.workflows = _WorkflowCache()

    def reset_caches(self) -> None:
        """Forget parsed specs and cached workflows (tests that wipe the database use this)."""
        with self._specs_lock:
            self._specs.clear()
        self.workflows = _WorkflowCache()

    # --- helpers' context ---------------------------------------------------------------------

    def new_context(self, instance_id: int | None = None, session=None) -> StepContext:
        return StepContext(calendar=self.calendar_provider(), instance_id=instance_id, session=session)

    def evaluate(self, expression: str, data: dict | None = None, instance_id: int | None = None, session=None):
        """Evaluate a one-line sandboxed expression over ``data``."""
        with step_context(self.new_context(instance_id, session)):
            return self.script_engine.environment.evaluate(expression, dict(data or {}))

    # --- definitions --------------------------------------------------------------------------

    def parse_bundle(self, bpmn_files: dict[str, str], forms: dict[str, str], only: str | None = None) -> ParsedBundle:
        return BundleParser(self.evaluate, forms).parse(bpmn_files, only=only)

    def process_for(self, definition) -> ParsedProcess:
        """The parsed process of a stored definition version, parsed once per process."""
        cached = self._specs.get(definition.id)
        if cached is not None:
            return cached
        # A version stores every BPMN file of its deployment but only its own forms: check only it.
        bundle = self.parse_bundle(definition.bpmn_files, definition.forms, only=definition.key)
        process = next(p for p in bundle.processes if p.key == definition.key)
        with self._specs_lock:
            self._specs[definition.id] = process
        return process

    # --- workflows ----------------------------------------------------------------------------

    def new_workflow(self, definition, data: dict) -> BpmnWorkflow:
        process = self.process_for(definition)
        workflow = BpmnWorkflow(process.spec, process.subprocess_specs, script_engine=self.script_engine)
        # The READY start task hands its data to every task after it.
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(copy.deepcopy(data))
        return workflow

    def restore(self, instance) -> BpmnWorkflow:
        workflow = self.workflows.checkout(instance.id, instance.version)
        if workflow is not None:
            return workflow
        process = self.process_for(instance.definition)
        workflow = self.serializer.load(instance.serialized, process.spec, process.subprocess_specs)
        workflow.script_engine = self.script_engine
        return workflow

    def peek(self, instance, read):
        """``read(workflow)`` on a restored workflow that nobody else holds meanwhile; the
        workflow goes back to the cache unchanged afterwards."""
        workflow = self.restore(instance)
        try:
            return read(workflow)
        finally:
            self.workflows.checkin(instance.id, instance.version, workflow)

    def dump(self, workflow: BpmnWorkflow) -> str:
        return self.serializer.dump(workflow)

    def run(self, workflow: BpmnWorkflow, instance_id: int | None, fire_timers: bool = False,
            session=None) -> StepResult:
        """Run engine tasks until only human tasks and waiting events remain."""
        ctx = self.new_context(instance_id, session)
        before = self.open_tasks(workflow)
        with step_context(ctx):
            if fire_timers:
                workflow.refresh_timers()
            completed = self._settle(workflow)
        return StepResult(completed, ctx, before)

    def complete_task(self, workflow: BpmnWorkflow, task, data: dict, instance_id: int | None,
                      session=None) -> StepResult:
        ctx = self.new_context(instance_id, session)
        before = self.open_tasks(workflow)
        with step_context(ctx):
            # Deep copy: SpiffWorkflow shallow-copies data between tasks, so a nested value
            # shared with the caller (or with an earlier task) must never be mutated in place.
            task.data.update(copy.deepcopy(data))
            task.run()
            completed = self._settle(workflow)
        return StepResult(completed, ctx, before)

    def _settle(self, workflow: BpmnWorkflow) -> list:
        """do_engine_steps ends by refreshing timers, which can make a due timer READY without
        running it; keep stepping until nothing automatic is READY, and refuse runaway loops
        (SpiffWorkflow silently stops at a task tree depth near 1000)."""
        completed: list = []
        for _ in range(MAX_SETTLE_ROUNDS):
            workflow.do_engine_steps(did_complete_task=completed.append)
            if not any(t.state == TaskState.READY and not t.task_spec.manual for t in all_tasks(workflow)):
                break
        # The deepest tasks are those just run or still open; a silently stopped loop shows up
        # as a "completed" workflow whose last tasks sit near depth 1000.
        candidates = completed[-20:] + [t for t in all_tasks(workflow) if t.state & TaskState.NOT_FINISHED_MASK]
        deepest = max((t.depth for t in candidates), default=0)
        if deepest > MAX_TASK_DEPTH:
            raise LoopLimitExceeded(
                f"流程循环次数过多（任务树深度 {deepest} 超过上限 {MAX_TASK_DEPTH}）：请限制循环次数，"
                f"提醒类重复请使用循环定时器")
        return completed

    # --- reading a workflow -------------------------------------------------------------------

    @staticmethod
    def ready_human_tasks(workflow: BpmnWorkflow) -> list:
        return [t for t in all_tasks(workflow)
                if t.state == TaskState.READY and isinstance(t.task_spec, (UserTask, ManualTask))]

    @classmethod
    def open_tasks(cls, workflow: BpmnWorkflow) -> list[OpenTask]:
        return [OpenTask(str(t.id), t.task_spec.bpmn_id, t.task_spec.bpmn_name or t.task_spec.bpmn_id)
                for t in cls.ready_human_tasks(workflow)]

    @staticmethod
    def find_task(workflow: BpmnWorkflow, task_id):
        try:
            return workflow.get_task_from_id(task_id if isinstance(task_id, UUID) else UUID(str(task_id)))
        except Exception:  # noqa: BLE001 - SpiffWorkflow raises its own TaskNotFoundException
            return None

    @staticmethod
    def next_timer_at(workflow: BpmnWorkflow) -> datetime | None:
        """The earliest instant at which a waiting timer of this workflow is due."""
        earliest = None
        for task in all_tasks(workflow):
            if task.state != TaskState.WAITING:
                continue
            definition = getattr(task.task_spec, "event_definition", None)
            if not isinstance(definition, TimerEventDefinition):
                continue
            due = timer_due(task, definition)
            if due is not None and (earliest is None or due < earliest):
                earliest = due
        return earliest


def all_tasks(workflow: BpmnWorkflow):
    """Every task of the workflow and its subprocesses, without SpiffWorkflow's tree iterator
    (a flat walk of the task dictionaries is several times cheaper on every step)."""
    yield from workflow.tasks.values()
    for subprocess in workflow.subprocesses.values():
        yield from subprocess.tasks.values()


def timer_due(task, definition) -> datetime | None:
    value = task._get_internal_data("event_value")
    if value is None:
        return None
    if isinstance(definition, CycleTimerEventDefinition):
        if value.get("cycles") == 0:
            return None
        return datetime.fromisoformat(value["next"]).astimezone(timezone.utc)
    moment = TimerEventDefinition.parse_time_or_duration(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        return None
    return moment.astimezone(timezone.utc)


def now() -> datetime:
    return clock.now()
