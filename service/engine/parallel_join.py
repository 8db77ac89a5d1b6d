"""A fix of SpiffWorkflow 3.2's parallel (and inclusive) join: branches are merged by what each
of them changed.

``UnstructuredJoin._run_hook`` deep-merges the whole data of every branch, its own last, and also
the branches of an earlier pass through a loop. Inside a loop (a review sent back and resubmitted)
every branch carries the previous pass's values, so a value one reviewer set in this pass was
overwritten by another branch's untouched old copy, and lists were cut to their old length. Here
the join starts from the data where the branches parted and applies, branch by branch in the
order they finished, only what each branch changed; branches of earlier passes are left out.
"""
from __future__ import annotations

import copy

from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.task import TaskState


def _parting_point(branches: list):
    """The nearest task every branch descends from (where the parallel split ran)."""
    task = branches[0]
    while task is not None:
        if all(b is task or b.is_descendant_of(task) for b in branches):
            return task
        task = task.parent
    return None


def _apply_changes(target: dict, base: dict, branch: dict) -> None:
    for key, value in branch.items():
        if key in base and base[key] == value:
            continue
        if isinstance(value, dict) and isinstance(base.get(key), dict) and isinstance(target.get(key), dict):
            _apply_changes(target[key], base[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _run_hook(self, my_task):
    tasks = [t for t in my_task.workflow.tasks.values() if t.task_spec == self]
    earlier_passes = [t for t in tasks if my_task.is_descendant_of(t)]
    last_pass = max(earlier_passes, key=lambda t: t.depth, default=None)
    others = [t for t in tasks if t.has_state(TaskState.FINISHED_MASK) and not my_task.is_descendant_of(t)
              and (last_pass is None or t.is_descendant_of(last_pass))]
    arrivals = sorted(others, key=lambda t: t.last_state_change) + [my_task]
    branches = [t.parent for t in arrivals]
    parting = _parting_point(branches)
    base = parting.data if parting is not None else {}
    merged = copy.deepcopy(base)
    for branch in branches:
        _apply_changes(merged, base, branch.data)
    for task in others:
        if task.has_state(TaskState.COMPLETED):
            task._drop_children(force=True)   # as SpiffWorkflow does: a reset branch's leftovers
    my_task.data = merged
    return True


UnstructuredJoin._run_hook = _run_hook
