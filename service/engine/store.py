"""Persistence of running instances: one serialization and one projection update per transaction.

``InstanceStore.save`` is the only writer of ``process_instance``, ``human_task`` and the engine's
own ``instance_event`` rows, so the three always agree with the workflow.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import bindparam, delete, event as sa_event, insert, select, update
from sqlalchemy.orm import Session, attributes
from sqlalchemy.orm.exc import StaleDataError
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from ..models import HumanTask, InstanceEvent, ProcessDefinition, ProcessInstance, User
from . import clock
from .helpers import parse_instant
from .runtime import Engine, StepResult


_INSTANCE = ProcessInstance.__table__
_TASKS = HumanTask.__table__
_INSTANCE_COLUMNS = frozenset(c.key for c in _INSTANCE.columns) - {"id", "version"}
_OPEN_TASKS = select(_TASKS.c.id, _TASKS.c.element_id, _TASKS.c.title).where(
    _TASKS.c.instance_id == bindparam("instance_id"))
_UPDATES: dict[frozenset, object] = {}  # one prepared UPDATE per set of changed columns
_INSERT_TASKS = insert(_TASKS)
_INSERT_EVENTS = insert(InstanceEvent.__table__)
_DELETE_TASKS = delete(_TASKS).where(_TASKS.c.id.in_(bindparam("ids", expanding=True)))


class EngineError(Exception):
    """A step of the diagram failed (script error, bad expression). Names the element."""

    def __init__(self, message: str, element_id: str | None = None, element_name: str | None = None):
        self.element_id = element_id
        self.element_name = element_name
        super().__init__(message)


@dataclass
class Actor:
    """Who caused a change: a user, or the system (timer worker)."""
    user_id: int | None
    username: str | None

    @classmethod
    def of(cls, user: User | None) -> "Actor":
        return cls(user.id, user.username) if user else cls(None, "system")


SYSTEM = Actor(None, "system")


def describe_error(err: Exception) -> EngineError:
    task = getattr(err, "task", None)
    spec = getattr(task, "task_spec", None) if task is not None else None
    element_id = getattr(spec, "bpmn_id", None)
    element_name = getattr(spec, "bpmn_name", None)
    detail = str(err)
    notes = getattr(err, "__notes__", None)
    if notes:
        detail += "（" + "；".join(notes) + "）"
    where = f"「{element_name or element_id}」" if (element_name or element_id) else ""
    return EngineError(f"流程步骤{where}执行出错：{detail}", element_id, element_name)


class InstanceStore:
    def __init__(self, session: Session, engine: Engine):
        self.session = session
        self.engine = engine

    # --- reading ----------------------------------------------------------------------------------

    def get(self, instance_id: int, *, for_update: bool = False) -> ProcessInstance | None:
        stmt = select(ProcessInstance).where(ProcessInstance.id == instance_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.execute(stmt).scalar_one_or_none()

    def workflow_of(self, instance: ProcessInstance):
        return self.engine.restore(instance)

    # --- writing ----------------------------------------------------------------------------------

    def create(self, definition: ProcessDefinition, business_key: str | None, actor: Actor) -> ProcessInstance:
        instance = ProcessInstance(definition=definition, definition_id=definition.id, process_key=definition.key,
                                   business_key=business_key, status="running", serialized="{}",
                                   started_by_id=actor.user_id, started_at=clock.now(), updated_at=clock.now(),
                                   summary={})
        self.session.add(instance)
        self.session.flush()  # the id is needed by helpers and events
        return instance

    def event(self, instance: ProcessInstance, kind: str, actor: Actor, *, element_id=None, element_name=None,
              task_id=None, message=None, data=None) -> None:
        """Queue an event; ``flush_events`` writes the queue in one statement."""
        self.session.info.setdefault("pending_events", []).append(dict(
            instance_id=instance.id, at=clock.now(), kind=kind, user_id=actor.user_id, username=actor.username,
            element_id=element_id, element_name=element_name, task_id=str(task_id) if task_id else None,
            message=message, data=data))

    def flush_events(self) -> None:
        _write_pending_events(self.session)

    def save(self, instance: ProcessInstance, workflow, step: StepResult | None, actor: Actor) -> list[HumanTask]:
        """Serialize once, refresh the projections, record what the engine did. Returns new tasks
        (not attached to the session: they are written with one Core statement)."""
        now = clock.now()
        changes = {"serialized": self.engine.dump(workflow), "updated_at": now}
        if step is not None:
            self._record_step(instance, step, actor, changes)
        if workflow.is_completed():
            if instance.status not in ("terminated",):
                changes.update(status="completed", ended_at=now)
                self.event(instance, "completed", actor, message="流程已结束")
            changes["next_timer_at"] = None
        else:
            changes["next_timer_at"] = self.engine.next_timer_at(workflow)
        # The version-guarded UPDATE goes first: a concurrent step loses here, before it writes anything.
        self._write_instance(instance, changes)
        new_tasks = self._sync_tasks(instance, workflow, actor, step.open_before if step else None)
        session = self.session
        engine = self.engine
        instance_id = instance.id

        def _cache_after_commit():
            engine.workflows.checkin(instance_id, instance.version, workflow)

        session.info.setdefault("after_commit", []).append(_cache_after_commit)
        self.flush_events()
        return new_tasks

    def _write_instance(self, instance: ProcessInstance, changes: dict) -> None:
        """One Core UPDATE guarded by the version instead of an ORM flush (the hot path of every
        step). It writes ``changes`` plus whatever the caller changed on the instance, and hands
        the ORM the new values as committed ones, so the ORM has nothing left to write."""
        state = attributes.instance_state(instance)
        for key in state.committed_state.keys() & _INSTANCE_COLUMNS:
            changes.setdefault(key, getattr(instance, key))
        version = instance.version
        keys = frozenset(changes)
        statement = _UPDATES.get(keys)
        if statement is None:
            statement = _UPDATES[keys] = (
                update(_INSTANCE).where(_INSTANCE.c.id == bindparam("_id"), _INSTANCE.c.version == bindparam("_old"))
                .values(version=bindparam("_new"), **{key: bindparam(key) for key in keys}))
        result = self.session.connection().execute(
            statement, {"_id": instance.id, "_old": version, "_new": version + 1, **changes})
        if result.rowcount != 1:
            raise StaleDataError(f"process_instance {instance.id} changed since version {version}")
        for key, value in changes.items():
            attributes.set_committed_value(instance, key, value)
        attributes.set_committed_value(instance, "version", version + 1)

    def _record_step(self, instance, step: StepResult, actor: Actor, changes: dict):
        for task in step.completed:
            definition = getattr(task.task_spec, "event_definition", None)
            if isinstance(definition, TimerEventDefinition):
                self.event(instance, "timer_fired", actor, element_id=task.task_spec.bpmn_id,
                           element_name=task.task_spec.bpmn_name, task_id=task.id,
                           message=f"定时器「{task.task_spec.bpmn_name or task.task_spec.bpmn_id}」已触发")
        for entry in step.context.events:
            self.event(instance, entry["kind"], actor, message=entry["message"], data=entry.get("data"))
        if step.context.summary:
            changes["summary"] = {**(instance.summary or {}), **step.context.summary}

    def _sync_tasks(self, instance, workflow, actor: Actor, open_before=None) -> list[HumanTask]:
        """Bring the task projection to the workflow's open human tasks. ``open_before`` is what
        the projection held before the step (the engine saw it); without it, it is read back."""
        process = self.engine.process_for(instance.definition)
        connection = self.session.connection()
        if open_before is None:
            open_before = connection.execute(_OPEN_TASKS, {"instance_id": instance.id})
        existing = {row.id: row for row in open_before}
        ready = {str(t.id): t for t in self.engine.ready_human_tasks(workflow)}
        gone = [row for task_id, row in existing.items() if task_id not in ready]
        for row in gone:
            task = self.engine.find_task(workflow, row.id)
            if task is None or task.state != TaskState.COMPLETED:
                self.event(instance, "task_cancelled", actor, element_id=row.element_id, element_name=row.title,
                           task_id=row.id, message=f"任务「{row.title}」已取消")
        if gone:
            connection.execute(_DELETE_TASKS, {"ids": [row.id for row in gone]})
        created = []
        for task_id, task in ready.items():
            if task_id in existing:
                continue
            spec = task.task_spec
            info = process.user_tasks.get(spec.bpmn_id)
            properties = info.properties if info else {}
            created.append(dict(
                id=task_id, instance_id=instance.id, process_key=instance.process_key,
                element_id=spec.bpmn_id, title=spec.bpmn_name or spec.bpmn_id, lane=spec.lane,
                role=info.role if info else None,
                candidate_unit=self._task_expression(task, properties, "candidateUnitExpression", str),
                owner_id=None if spec.lane else instance.started_by_id, assignee_id=None,
                form_file=info.form if info else None, ui_form_file=info.ui_form if info else None,
                created_at=clock.now(),
                due_at=self._task_expression(task, properties, "dueAtExpression", _utc),
                warn_at=self._task_expression(task, properties, "warnAtExpression", _utc),
            ))
        if created:
            connection.execute(_INSERT_TASKS, created)
        for row in created:
            self.event(instance, "task_ready", actor, element_id=row["element_id"], element_name=row["title"],
                       task_id=row["id"], message=f"任务「{row['title']}」待办理",
                       data={"candidate_unit": row["candidate_unit"], "role": row["role"],
                             "due_at": row["due_at"].isoformat() if row["due_at"] else None})
        return [HumanTask(**row) for row in created]

    def _task_expression(self, task, properties, name, convert):
        expression = properties.get(name)
        if not expression:
            return None
        try:
            value = self.engine.evaluate(expression, task.data, session=self.session)
            return convert(value) if value not in (None, "") else None
        except Exception as err:  # noqa: BLE001 - report on the element, not as a 500
            raise EngineError(f"任务「{task.task_spec.bpmn_name}」的 {name}「{expression}」求值失败：{err}",
                              task.task_spec.bpmn_id, task.task_spec.bpmn_name) from err


def _write_pending_events(session: Session) -> None:
    rows = session.info.pop("pending_events", None)
    if rows:
        # A Core executemany on the session's connection: the ORM's bulk path costs ~10x more.
        session.connection().execute(_INSERT_EVENTS, rows)


@sa_event.listens_for(Session, "before_commit")
def _events_before_commit(session: Session) -> None:
    # Whoever queued events and committed without flushing them still gets them written.
    _write_pending_events(session)


def _utc(value) -> datetime:
    return parse_instant(value).astimezone(timezone.utc)
