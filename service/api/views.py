"""Read models shared by the API and the pages: instance and task dictionaries."""
from __future__ import annotations

import json

from sqlalchemy import select

from ..models import HumanTask, InstanceEvent, ProcessInstance


def iso(value):
    return value.isoformat() if value is not None else None


def dump_task(t: HumanTask) -> dict:
    return {"id": t.id, "instance_id": t.instance_id, "process_key": t.process_key, "element_id": t.element_id,
            "title": t.title, "lane": t.lane, "role": t.role, "candidate_unit": t.candidate_unit,
            "assignee_id": t.assignee_id, "form": t.form_file, "created_at": iso(t.created_at),
            "due_at": iso(t.due_at), "warn_at": iso(t.warn_at)}


def dump_instance(i: ProcessInstance) -> dict:
    return {"id": i.id, "process_key": i.process_key, "process_name": i.definition.name,
            "definition_version": i.definition.version, "business_key": i.business_key, "status": i.status,
            "version": i.version, "started_at": iso(i.started_at), "updated_at": iso(i.updated_at),
            "ended_at": iso(i.ended_at), "next_timer_at": iso(i.next_timer_at), "error_message": i.error_message,
            "error_element": i.error_element, "summary": i.summary or {}}


def dump_event(e: InstanceEvent) -> dict:
    return {"id": e.id, "at": iso(e.at), "kind": e.kind, "username": e.username, "element_id": e.element_id,
            "element_name": e.element_name, "task_id": e.task_id, "message": e.message, "data": e.data}


def open_tasks(session, instance_id: int) -> list[HumanTask]:
    return session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)
                           .order_by(HumanTask.created_at)).all()


def _json_safe(data: dict) -> dict:
    return json.loads(json.dumps(data, default=str))


def instance_data(core, instance: ProcessInstance) -> dict:
    """The data of the most recently completed task (the workflow's current data)."""
    def read(workflow):
        task = workflow.last_task
        return _json_safe({**(workflow.data or {}), **(dict(task.data) if task is not None else {})})
    return core.engine.peek(instance, read)


def task_data(core, task_row: HumanTask) -> dict:
    def read(workflow):
        task = core.engine.find_task(workflow, task_row.id)
        return _json_safe(dict(task.data) if task else {})
    return core.engine.peek(task_row.instance, read)
