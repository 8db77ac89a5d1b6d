"""Workflow (de)serialization without the spec.

The spec of a deployed version never changes, so storing it in every instance row would only
cost space and time: the instance row keeps the task tree and data, and the spec objects are
handed back in from the per-version cache when the workflow is restored.
"""
from __future__ import annotations

import json
from datetime import date
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

RESERVED_DATA_KEY = "typename"  # the serializer's own marker: user data must not use it
# Deeper than any form produces; far deeper would exhaust the recursion of copying and serializing.
MAX_DATA_DEPTH = 64


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        # The caller put the live spec objects into the dict (see WorkflowSerializer.load).
        spec = dct.pop("spec")
        subprocess_specs = dct.pop("subprocess_specs")
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _build_registry():
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = SpeclessWorkflowConverter
    registry = BpmnWorkflowSerializer.configure(config)
    # Dates in task data (form fields) are not known to SpiffWorkflow's registry by default.
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"]),
                      typename="date")
    return registry


class WorkflowSerializer:
    def __init__(self):
        self._serializer = BpmnWorkflowSerializer(_build_registry())

    def dump(self, workflow: BpmnWorkflow) -> str:
        return self._serializer.serialize_json(workflow)

    def load(self, text: str, spec, subprocess_specs) -> BpmnWorkflow:
        dct = json.loads(text)
        self._serializer.migrate(dct)
        dct["spec"] = spec
        dct["subprocess_specs"] = subprocess_specs
        return self._serializer.from_dict(dct)


def find_reserved_keys(value, path: str = "") -> list[str]:
    """Paths of dict keys named ``typename`` anywhere in ``value`` (they break deserialization)."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if key == RESERVED_DATA_KEY:
                found.append(here)
            found.extend(find_reserved_keys(item, here))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(find_reserved_keys(item, f"{path}[{index}]"))
    return found


def deeper_than(value, limit: int = MAX_DATA_DEPTH) -> bool:
    """Whether dicts and lists in ``value`` nest more than ``limit`` levels (walked without recursion)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
