"""Moving running instances to another version of their process, and undoing a move.

A dry run says, per instance, whether it can move and why not (``engine.migration.plan`` tries it
on a copy). A migration stores the migrated workflow through ``InstanceStore.save`` (so the task
projection and timers follow the target version) and records an ``InstanceMigration`` row with the
workflow from before, plus a ``migrated`` event on the instance. It can be reverted while nothing
has happened to the instance since: its row version (bumped by every change of the instance —
a completed task, a fired timer, an administrator's action) must still be the one right after
the move. Each instance moves in its own transaction; a batch reports per instance.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import undefer
from sqlalchemy.orm.exc import StaleDataError

from ..engine import clock
from ..engine.migration import MigrationPlan, changed_user_task_properties, plan
from ..engine.store import Actor, EngineError, InstanceStore
from ..errors import Conflict, Invalid, NotFound, ServiceError
from ..models import HumanTask, ProcessDefinition, ProcessInstance, User
from ..models.designer import InstanceMigration
from .designer import get_definition, require_designer

MOVABLE_STATUSES = ("running", "suspended", "error")
MAX_BATCH = 200


@dataclass
class InstancePlan:
    instance: ProcessInstance
    open_tasks: list[str]
    plan: MigrationPlan

    def as_dict(self) -> dict:
        i = self.instance
        return {"id": i.id, "version": i.version, "business_key": i.business_key, "status": i.status,
                "title": (i.summary or {}).get("title"), "open_tasks": self.open_tasks,
                "movable": self.plan.movable, "reasons": self.plan.reasons, "notes": self.plan.notes}


def _pair(session, source_id, target_id) -> tuple[ProcessDefinition, ProcessDefinition]:
    source = get_definition(session, source_id)
    target = get_definition(session, target_id)
    if source.key != target.key:
        raise Invalid("只能在同一流程的版本之间迁移", {"target": [f"「{target.name}」与「{source.name}」不是同一流程"]})
    if source.id == target.id:
        raise Invalid("源版本与目标版本相同", {"target": ["请选择另一个版本作为迁移目标"]})
    return source, target


def _open_task_titles(session, instance_ids: list[int]) -> dict[int, list[str]]:
    titles: dict[int, list[str]] = {}
    for instance_id, title in session.execute(select(HumanTask.instance_id, HumanTask.title)
                                              .where(HumanTask.instance_id.in_(instance_ids))
                                              .order_by(HumanTask.created_at)).all():
        titles.setdefault(instance_id, []).append(title)
    return titles


def _plan_one(core, session, instance: ProcessInstance, target: ProcessDefinition) -> MigrationPlan:
    if instance.status not in MOVABLE_STATUSES:
        return MigrationPlan(reasons=[f"流程实例已结束（{instance.status}），无需迁移"])
    source_process = core.engine.process_for(instance.definition)
    target_process = core.engine.process_for(target)
    return core.engine.peek(instance, lambda workflow: plan(core.engine, workflow, source_process, target_process,
                                                            instance.id, session))


def dry_run(core, session, user, source_id: int, target_id: int) -> tuple[ProcessDefinition, ProcessDefinition,
                                                                          list[InstancePlan]]:
    """Whether each unfinished instance of version ``source_id`` can move to ``target_id``."""
    require_designer(user, "迁移流程实例")
    source, target = _pair(session, source_id, target_id)
    session.scalars(select(ProcessDefinition).where(ProcessDefinition.id.in_((source.id, target.id)))
                    .options(undefer(ProcessDefinition.bpmn_files), undefer(ProcessDefinition.forms))).all()
    instances = session.scalars(select(ProcessInstance).where(ProcessInstance.definition_id == source.id,
                                                              ProcessInstance.status.in_(MOVABLE_STATUSES))
                                .order_by(ProcessInstance.id)).unique().all()
    titles = _open_task_titles(session, [i.id for i in instances])
    return source, target, [InstancePlan(i, titles.get(i.id, []), _plan_one(core, session, i, target))
                            for i in instances]


# --- moving one instance --------------------------------------------------------------------------

def _refresh_kept_tasks(core, session, instance, workflow, source, target) -> None:
    """Task rows whose task survived the move keep id, claim and deadline; what the target version
    says about them (title, lane, role, form, candidate unit) is applied."""
    source_process = core.engine.process_for(source)
    target_process = core.engine.process_for(target)
    for row in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all():
        task = core.engine.find_task(workflow, row.id)
        if task is None:
            continue
        spec = task.task_spec
        info = target_process.user_tasks.get(spec.bpmn_id)
        row.element_id = spec.bpmn_id
        row.title = spec.bpmn_name or spec.bpmn_id
        row.lane = spec.lane
        row.role = info.role if info else None
        row.owner_id = None if spec.lane else instance.started_by_id
        row.form_file = info.form if info else None
        row.ui_form_file = info.ui_form if info else None
        if "candidateUnitExpression" in changed_user_task_properties(source_process, target_process, spec.bpmn_id):
            expression = info.properties.get("candidateUnitExpression") if info else None
            try:
                value = core.engine.evaluate(expression, task.data, instance.id, session) if expression else None
            except Exception as err:  # noqa: BLE001 - the target's expression fails on this instance's data
                raise EngineError(f"任务「{row.title}」的办理单位表达式「{expression}」求值失败：{err}",
                                  spec.bpmn_id, spec.bpmn_name) from err
            row.candidate_unit = str(value) if value not in (None, "") else None
            row.assignee_id = None   # a claim by someone of the old unit does not carry over


def _store(core, session, instance, workflow, source, target, actor, kind, message, data) -> None:
    store = InstanceStore(session, core.engine)
    instance.definition = target
    instance.definition_id = target.id
    store.event(instance, kind, actor, message=message, data=data)
    store.save(instance, workflow, None, actor)
    _refresh_kept_tasks(core, session, instance, workflow, source, target)
    try:
        session.flush()
    except StaleDataError:
        core.engine.workflows.drop(instance.id)
        raise Conflict("该流程实例已被他人更新，请重新预检后再迁移") from None


def migrate_instance(core, session, user, instance_id: int, target_id: int,
                     expected_version: int | None = None) -> InstanceMigration:
    """Move one instance to version ``target_id`` (``expected_version``: the instance version the
    dry run saw; a different one means it changed meanwhile)."""
    require_designer(user, "迁移流程实例")
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"流程实例 {instance_id} 不存在")
    source, target = _pair(session, instance.definition_id, target_id)
    if instance.status not in MOVABLE_STATUSES:
        raise Conflict(f"流程实例 #{instance.id} 已结束，无需迁移")
    if expected_version is not None and expected_version != instance.version:
        raise Conflict(f"流程实例 #{instance.id} 在预检后已有变化，请重新预检")
    engine = core.engine
    source_process, target_process = engine.process_for(source), engine.process_for(target)
    workflow = engine.restore(instance)
    try:
        result = plan(engine, workflow, source_process, target_process, instance.id, session)
    finally:
        engine.workflows.checkin(instance.id, instance.version, workflow)   # only read
    if not result.movable:
        raise Conflict(f"流程实例 #{instance.id} 不能迁移：" + "；".join(result.reasons),
                       {"reasons": result.reasons})
    before = session.scalar(select(ProcessInstance.serialized).where(ProcessInstance.id == instance.id))
    engine.workflows.drop(instance.id)
    actor = Actor.of(user)
    record = InstanceMigration(instance_id=instance.id, from_definition_id=source.id, to_definition_id=target.id,
                               serialized_before=before, migrated_by_id=user.id, migrated_by=user.username,
                               migrated_at=clock.now())
    session.add(record)
    session.flush()
    _store(core, session, instance, result.workflow, source, target, actor, "migrated",
           f"{user.display_name} 将流程从第 {source.version} 版迁移到第 {target.version} 版",
           {"migration_id": record.id, "from_version": source.version, "to_version": target.version,
            "from_definition_id": source.id, "to_definition_id": target.id, "notes": result.notes})
    record.instance_version_after = instance.version
    session.flush()
    return record


def get_migration(session, migration_id: int) -> InstanceMigration:
    record = session.get(InstanceMigration, migration_id)
    if record is None:
        raise NotFound(f"迁移记录 {migration_id} 不存在")
    return record


def revert_migration(core, session, user, migration_id: int) -> InstanceMigration:
    """Put the instance back as it was before the move, if nothing happened to it since."""
    require_designer(user, "撤销迁移")
    record = get_migration(session, migration_id)
    instance = record.instance
    if record.reverted_at is not None:
        raise Conflict(f"该迁移已于 {record.reverted_at:%Y-%m-%d %H:%M} 由 {record.reverted_by} 撤销")
    latest = session.scalars(select(InstanceMigration).where(InstanceMigration.instance_id == instance.id)
                             .order_by(InstanceMigration.id.desc()).limit(1)).first()
    if latest.id != record.id:
        raise Conflict("该实例之后又迁移过，只能撤销最近一次迁移")
    if instance.version != record.instance_version_after:
        raise Conflict(f"流程实例 #{instance.id} 迁移后已有进展（办理任务、定时器触发或管理操作），不能撤销迁移")
    source, target = record.from_definition, record.to_definition
    source_process = core.engine.process_for(source)
    workflow = core.engine.serializer.load(record.serialized_before, source_process.spec,
                                           source_process.subprocess_specs)
    workflow.script_engine = core.engine.script_engine
    core.engine.workflows.drop(instance.id)
    record.reverted_at = clock.now()
    record.reverted_by = user.username
    _store(core, session, instance, workflow, target, source, Actor.of(user), "migration_reverted",
           f"{user.display_name} 撤销了迁移，流程回到第 {source.version} 版",
           {"migration_id": record.id, "from_version": target.version, "to_version": source.version})
    return record


# --- batches and history ------------------------------------------------------------------------------

@dataclass
class BatchItem:
    instance_id: int
    expected_version: int | None = None


@dataclass
class BatchResult:
    instance_id: int
    ok: bool
    message: str
    migration_id: int | None = None
    errors: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"instance_id": self.instance_id, "ok": self.ok, "message": self.message,
                "migration_id": self.migration_id, "errors": self.errors}


def parse_batch(items) -> list[BatchItem]:
    if not isinstance(items, list) or not items:
        raise Invalid("没有选择流程实例", {"instances": ["请至少选择一个要迁移的流程实例"]})
    if len(items) > MAX_BATCH:
        raise Invalid("一次选择的实例过多", {"instances": [f"一次最多迁移 {MAX_BATCH} 个实例"]})
    parsed = []
    for item in items:
        if isinstance(item, int):
            parsed.append(BatchItem(item))
        elif isinstance(item, dict) and isinstance(item.get("id"), int) and \
                (item.get("version") is None or isinstance(item.get("version"), int)):
            parsed.append(BatchItem(item["id"], item.get("version")))
        else:
            raise Invalid("实例列表格式错误", {"instances": ["每项应为实例编号，或 {\"id\": 编号, \"version\": 版本}"]})
    return parsed


def migrate_batch(core, user_id: int, target_id: int, items: list[BatchItem]) -> list[BatchResult]:
    """Each instance in its own transaction: one that cannot move does not stop the others."""
    results = []
    for item in items:
        with core.uow() as uow:
            user = uow.session.get(User, user_id)
            try:
                record = migrate_instance(core, uow.session, user, item.instance_id, target_id, item.expected_version)
                uow.commit()
                results.append(BatchResult(item.instance_id, True, f"已迁移到第 {record.to_definition.version} 版",
                                           record.id))
            except (ServiceError, EngineError) as err:
                uow.rollback()
                core.engine.workflows.drop(item.instance_id)
                errors = getattr(err, "errors", None)
                results.append(BatchResult(item.instance_id, False, getattr(err, "message", str(err)),
                                           errors=errors if isinstance(errors, dict) else {}))
    return results


def migrations_of(session, key: str, limit: int = 100) -> list[InstanceMigration]:
    return session.scalars(select(InstanceMigration).join(ProcessDefinition, InstanceMigration.from_definition_id
                                                          == ProcessDefinition.id)
                           .where(ProcessDefinition.key == key)
                           .order_by(InstanceMigration.id.desc()).limit(limit)).unique().all()


def revertible(session, record: InstanceMigration) -> bool:
    if record.reverted_at is not None or record.instance.version != record.instance_version_after:
        return False
    latest = session.scalar(select(InstanceMigration.id).where(InstanceMigration.instance_id == record.instance_id)
                            .order_by(InstanceMigration.id.desc()).limit(1))
    return latest == record.id
