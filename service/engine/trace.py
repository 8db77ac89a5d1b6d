"""What a workflow's BPMN elements are doing, for the instance trace (diagram colours, token counts).

Read a workflow through ``Engine.peek`` (never a checked-out one): nothing here changes it.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from .runtime import timer_due

# When one element has tasks in several states (a loop, parallel tokens), the most telling wins.
STATE_ORDER = ("error", "active", "waiting", "completed")

_STATES = {
    TaskState.ERROR: "error",
    TaskState.READY: "active",
    TaskState.STARTED: "active",
    TaskState.WAITING: "waiting",
    TaskState.COMPLETED: "completed",
}


def all_tasks(workflow):
    """Every task of the workflow and of its (call activity / sub-process) sub-workflows."""
    yield from workflow.tasks.values()
    for sub in workflow.subprocesses.values():
        yield from sub.tasks.values()


def json_safe(data) -> dict:
    return json.loads(json.dumps(data, default=str, ensure_ascii=False))


def current_data(workflow) -> dict:
    """The workflow's data as of its most recently completed task (what the process goes on with)."""
    task = workflow.last_task
    return {**(workflow.data or {}), **(dict(task.data) if task is not None else {})}


def _describe(task, state: str, with_data: bool) -> dict:
    info = {"id": str(task.id), "state": state, "spiff_state": TaskState.get_name(task.state),
            "changed_at": datetime.fromtimestamp(task.last_state_change, timezone.utc).isoformat()}
    definition = getattr(task.task_spec, "event_definition", None)
    if state == "waiting" and isinstance(definition, TimerEventDefinition):
        due = timer_due(task, definition)
        info["timer_due"] = due.isoformat() if due else None
    if with_data:
        info["data"] = json_safe(dict(task.data))
    return info


def element_states(workflow, with_data: bool = False) -> dict[str, dict]:
    """``{bpmn_id: {"state", "count", "counts", "tasks"}}`` for every element that was reached.

    ``state`` is completed | active | waiting | error; ``count`` is how many tasks are in that
    state (the token count of an active element, the completions of a completed one). With
    ``with_data`` the most recent task of each element carries its data.
    """
    found: dict[str, list] = {}
    for task in all_tasks(workflow):
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        state = _STATES.get(task.state)
        if bpmn_id and state:
            found.setdefault(bpmn_id, []).append((task, state))
    result = {}
    for bpmn_id, tasks in found.items():
        tasks.sort(key=lambda pair: pair[0].last_state_change)
        counts = {s: sum(1 for _, st in tasks if st == s) for s in STATE_ORDER if any(st == s for _, st in tasks)}
        state = next(s for s in STATE_ORDER if s in counts)
        described = [_describe(task, st, with_data and i == len(tasks) - 1) for i, (task, st) in enumerate(tasks)]
        result[bpmn_id] = {"state": state, "count": counts[state], "counts": counts, "tasks": described}
    return result


def element_catalog(process) -> list[dict]:
    """The flow elements of a parsed process (and its sub-processes): id, name, kind, lane, documentation."""
    specs = [process.spec, *[s for s in process.subprocess_specs.values() if s is not None]]
    seen, elements = set(), []
    for spec in specs:
        for task_spec in spec.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            if not bpmn_id or bpmn_id in seen:
                continue
            seen.add(bpmn_id)
            elements.append({"id": bpmn_id, "name": task_spec.bpmn_name or "", "kind": task_spec.description,
                             "lane": task_spec.lane, "documentation": task_spec.documentation or "",
                             "process": spec.name})
    return elements


def documentation_of(process, bpmn_id: str) -> str:
    """The BPMN ``documentation`` text of an element (instructions shown with its task), or ""."""
    return next((e["documentation"] for e in element_catalog(process) if e["id"] == bpmn_id), "")
