"""Moving a running workflow onto another deployed version of its process.

SpiffWorkflow aligns the task specs of two versions by BPMN id (``diff_workflow``) and re-points a
workflow's tasks at the aligned specs (``migrate_workflow``). What it leaves to the application is
deciding whether that is safe; our rule:

* every task that has run or is running (completed, cancelled, started, ready, waiting, error)
  must still have its element in the target version — history and tokens cannot point at
  nothing; a sub-process that is running must still exist;
* open tasks (ready, waiting) are re-predicted from the target version, so everything after
  them follows the new diagram; a ready user task keeps its id (its row, claim and deadline);
* a waiting timer keeps the due time it already had, even if the target changed its definition
  (a migration never moves a deadline; the change applies to timers started afterwards).

The migration is always tried on a copy first (``plan``): the copy is migrated, checked and
round-tripped through the serializer with the target spec. Only a copy that survived all of that
is handed back, and the caller stores it instead of the original.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from .deployment import ParsedProcess
from .helpers import step_context

# Tasks in these states are history or hold a token: their element must exist in the target.
# (Future and predicted tasks are dropped and re-predicted; the trial run catches any left over.)
_LIVE_OR_PAST = TaskState.FINISHED_MASK | TaskState.WAITING | TaskState.READY | TaskState.STARTED
_RESET = TaskState.READY | TaskState.WAITING
# Spec attributes that only say how a task is wired to the next ones (re-predicted anyway).
_WIRING = {"inputs", "outputs"}

STATE_NAMES = {TaskState.COMPLETED: "已完成", TaskState.CANCELLED: "已取消", TaskState.ERROR: "出错",
               TaskState.STARTED: "进行中", TaskState.READY: "待办理", TaskState.WAITING: "等待中",
               TaskState.FUTURE: "未到达", TaskState.LIKELY: "未到达", TaskState.MAYBE: "未到达"}

# Only task specs are converted (to compare their attributes): SpiffWorkflow's own registry suffices.
_REGISTRY = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)


@dataclass
class MigrationPlan:
    """Whether a workflow can move to the target version, why not, and what moving it means."""
    reasons: list[str] = field(default_factory=list)    # why it cannot move (empty: it can)
    notes: list[str] = field(default_factory=list)      # what changes for it if it moves
    workflow: object = None                             # the migrated copy, when it can move

    @property
    def movable(self) -> bool:
        return not self.reasons


def _label(spec) -> str:
    name = getattr(spec, "bpmn_name", None)
    bpmn_id = getattr(spec, "bpmn_id", None) or spec.name
    return f"「{name}」（{bpmn_id}）" if name else f"「{bpmn_id}」"


def _is_element(spec) -> bool:
    """Tasks of BPMN elements (not SpiffWorkflow's own Start/End/joins)."""
    return getattr(spec, "bpmn_id", None) is not None


def _changed_attributes(old_spec, new_spec) -> set[str]:
    old, new = _REGISTRY.convert(old_spec), _REGISTRY.convert(new_spec)
    return {key for key in set(old) | set(new) if old.get(key) != new.get(key)} - _WIRING


def _review(diff, reasons: list[str], notes: list[str]) -> None:
    for task in diff.removed:
        if not task.state & _LIVE_OR_PAST:
            continue  # only predicted: dropped and re-predicted from the target
        state = STATE_NAMES.get(task.state, TaskState.get_name(task.state))
        if _is_element(task.task_spec):
            reasons.append(f"环节{_label(task.task_spec)}在目标版本中已删除，而本实例中该环节{state}")
        else:  # SpiffWorkflow's own node of an element, e.g. "handle.BoundaryEventSplit"
            element = task.task_spec.name.split(".")[0]
            reasons.append(f"环节「{element}」的边界事件或结构在目标版本中已改变，而本实例中该环节{state}")
    for task in diff.changed:
        new_spec = diff.alignment.get(task)
        if not _is_element(task.task_spec) or new_spec is None or not _changed_attributes(task.task_spec, new_spec):
            continue
        if task.state == TaskState.READY:
            notes.append(f"待办环节{_label(task.task_spec)}在目标版本中有修改，将按新版本办理")
        elif task.state == TaskState.WAITING and getattr(task.task_spec, "event_definition", None) is not None:
            notes.append(f"等待中的事件{_label(task.task_spec)}在目标版本中有修改，迁移后保留原到期时间")


def _spec_of(process: ParsedProcess, name: str):
    return process.spec if process.spec.name == name else process.subprocess_specs.get(name)


def _foreign_tasks(workflow, target: ParsedProcess) -> list[str]:
    """Tasks still pointing at a spec the target version does not have."""
    problems = []
    for sub in [workflow, *workflow.subprocesses.values()]:
        spec = _spec_of(target, sub.spec.name)
        for task in sub.tasks.values():
            if spec is None or spec.task_specs.get(task.task_spec.name) is not task.task_spec:
                problems.append(f"环节{_label(task.task_spec)}无法对应到目标版本")
    return problems


def _keep_timer_values(workflow) -> dict:
    """The due times of waiting timers, so re-predicting them does not move their deadlines."""
    kept = {}
    for sub in [workflow, *workflow.subprocesses.values()]:
        for task in sub.tasks.values():
            if task.state == TaskState.WAITING and "event_value" in task.internal_data:
                kept[task.id] = (type(getattr(task.task_spec, "event_definition", None)),
                                 task.internal_data["event_value"])
    return kept


def _restore_timer_values(workflow, kept: dict) -> None:
    for sub in [workflow, *workflow.subprocesses.values()]:
        for task_id, (kind, value) in kept.items():
            task = sub.tasks.get(task_id)
            if task is not None and task.state == TaskState.WAITING and \
                    type(getattr(task.task_spec, "event_definition", None)) is kind:
                task.internal_data["event_value"] = value


def plan(engine, workflow, source: ParsedProcess, target: ParsedProcess, instance_id=None, session=None) \
        -> MigrationPlan:
    """Try moving a copy of ``workflow`` (running on ``source``) to ``target``; ``workflow`` is
    only read. The plan's ``workflow`` is the migrated copy when the move is possible."""
    result = MigrationPlan()
    top_diff, sub_diffs = diff_workflow(_REGISTRY, workflow, target.spec, target.subprocess_specs)
    _review(top_diff, result.reasons, result.notes)
    for sub_id, sub_diff in sub_diffs.items():
        sub = workflow.subprocesses[sub_id]
        if sub_diff is None:
            result.reasons.append(f"正在运行的子流程「{sub.spec.name}」在目标版本中不存在")
        else:
            _review(sub_diff, result.reasons, result.notes)
    result.reasons = list(dict.fromkeys(result.reasons))
    if result.reasons:
        return result
    try:
        copy = engine.serializer.load(engine.dump(workflow), source.spec, source.subprocess_specs)
        copy.script_engine = engine.script_engine
        with step_context(engine.new_context(instance_id, session)):
            top_diff, sub_diffs = diff_workflow(_REGISTRY, copy, target.spec, target.subprocess_specs)
            kept = _keep_timer_values(copy)
            migrate_workflow(top_diff, copy, target.spec, reset_mask=_RESET)
            for sub_id, sub in copy.subprocesses.items():
                migrate_workflow(sub_diffs[sub_id], sub, target.subprocess_specs.get(sub.spec.name),
                                 reset_mask=_RESET)
            copy.subprocess_specs = target.subprocess_specs
            _restore_timer_values(copy, kept)
        result.reasons.extend(_foreign_tasks(copy, target))
        if result.reasons:
            return result
        # Proves the stored form of the migrated workflow loads with the target version.
        engine.serializer.load(engine.dump(copy), target.spec, target.subprocess_specs)
    except Exception as err:  # noqa: BLE001 - any failure of the trial means "cannot move", with why
        result.reasons.append(f"迁移试运行失败：{err}")
        return result
    result.workflow = copy
    return result


def changed_user_task_properties(source: ParsedProcess, target: ParsedProcess, element_id: str) -> set[str]:
    """Names of the user task properties whose value differs between the two versions."""
    old = source.user_tasks.get(element_id)
    new = target.user_tasks.get(element_id)
    old_props = old.properties if old else {}
    new_props = new.properties if new else {}
    return {k for k in set(old_props) | set(new_props) if old_props.get(k) != new_props.get(k)}
