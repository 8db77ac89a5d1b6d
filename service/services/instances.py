"""Starting instances, completing tasks, claiming, firing timers — each in one transaction."""
from __future__ import annotations

import copy
from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from ..domain import form_choices
from ..engine import clock
from ..engine.runtime import LoopLimitExceeded
from ..engine.serializer import MAX_DATA_DEPTH, deeper_than, find_reserved_keys
from ..engine.store import SYSTEM, Actor, EngineError, InstanceStore, describe_error
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..models import HumanTask, InstanceEvent, ProcessInstance, User
from .deployments import latest_definition
from .form_validation import drop_unknown_fields, validate_form_data

MAX_DATA_BYTES = 256 * 1024


# --- who may do what ----------------------------------------------------------------------------

def unit_chain(user: User) -> set[str]:
    """The codes of the user's unit and every unit above it (an office acts for its township)."""
    codes, unit = set(), user.unit
    while unit is not None:
        codes.add(unit.code)
        unit = unit.parent
    return codes


def can_start(user: User, definition) -> bool:
    roles = set(definition.start_roles or [])
    return user.is_admin or "*" in roles or bool(roles & user.roles)


def task_refusal(user: User, task: HumanTask) -> str | None:
    """Why ``user`` may not complete ``task``, or None if they may."""
    if user.is_admin:
        return None
    if task.owner_id is not None and task.owner_id != user.id:
        return "该任务只能由流程发起人办理"
    if task.role and task.role not in user.roles:
        return f"该任务属于「{task.lane}」，您没有相应的角色"
    if task.candidate_unit and task.candidate_unit not in unit_chain(user):
        return f"该任务由单位「{task.candidate_unit}」办理，您不属于该单位"
    if task.assignee_id is not None and task.assignee_id != user.id:
        return "该任务已被其他人认领"
    return None


def can_view_instance(session, user: User, instance: ProcessInstance) -> bool:
    """Administrators and the supervision office see every instance; others see the ones they
    started, took part in, or can act on now."""
    if user.is_admin or "supervision" in user.roles or instance.started_by_id == user.id:
        return True
    took_part = session.scalars(select(InstanceEvent.id).where(InstanceEvent.instance_id == instance.id,
                                                                InstanceEvent.user_id == user.id).limit(1)).first()
    if took_part is not None:
        return True
    tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all()
    return any(task_refusal(user, t) is None for t in tasks)


def _admin_note(store, instance, user, what):
    if user.is_admin:
        store.event(instance, "admin_action", Actor.of(user), message=f"管理员{what}")


# --- use cases ----------------------------------------------------------------------------------

def _check_data(session, schema_text: str | None, data) -> dict:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise Invalid("数据格式错误", {"data": ["提交的数据必须是一个对象（JSON object）"]})
    if deeper_than(data):
        raise Invalid("数据嵌套层次过深", {"data": [f"数据嵌套不能超过 {MAX_DATA_DEPTH} 层"]})
    if len(repr(data)) > MAX_DATA_BYTES:
        raise Invalid("数据过大", {"data": [f"提交的数据不能超过 {MAX_DATA_BYTES // 1024} KB"]})
    if schema_text is None:
        reserved = find_reserved_keys(data)
        if reserved:
            raise Invalid("数据中含有保留字段", {p: ["字段名 typename 为系统保留，不能使用"] for p in reserved})
        return copy.deepcopy(data)
    schema_text = form_choices.with_units(session, schema_text)
    errors = validate_form_data(schema_text, data)
    if errors:
        raise Invalid("表单填写有误，请按提示修改", errors)
    return copy.deepcopy(drop_unknown_fields(schema_text, data))


def start_instance(core, session, user: User, process_key: str, data: dict | None,
                   business_key: str | None = None) -> tuple[ProcessInstance, list[HumanTask]]:
    definition = latest_definition(session, process_key or "")
    if definition is None:
        raise NotFound(f"流程「{process_key}」不存在或尚未部署")
    if not can_start(user, definition):
        raise Forbidden(f"您的角色不能发起「{definition.name}」")
    process = core.engine.process_for(definition)
    if process.start_form:
        data = _check_data(session, process.forms[process.start_form], data)
    elif data:
        raise Invalid("该流程不接受启动数据", {"data": ["该流程没有启动表单，请不要提交数据"]})
    else:
        data = {}
    if business_key is not None and len(business_key) > 128:
        raise Invalid("业务编号过长", {"business_key": ["业务编号不能超过 128 个字符"]})
    store = InstanceStore(session, core.engine)
    actor = Actor.of(user)
    instance = store.create(definition, business_key, actor)
    data = {**data, "started_by": user.username, "started_by_unit": user.unit.code if user.unit else None}
    workflow = core.engine.new_workflow(definition, data)
    store.event(instance, "started", actor, message=f"发起「{definition.name}」（版本 {definition.version}）",
                data={"data": data, "business_key": business_key})
    step = _run(core, lambda: core.engine.run(workflow, instance.id, session=session), submitted=True)
    new_tasks = _save(store, instance, workflow, step, actor)
    return instance, new_tasks


_TASK_BY_ID = select(HumanTask).where(HumanTask.id == bindparam("task_id"))  # built once: the hot path


def complete_task(core, session, user: User, task_id: str, data: dict | None) -> tuple[ProcessInstance, list]:
    row = session.scalars(_TASK_BY_ID, {"task_id": str(task_id)}).one_or_none()
    if row is None:
        _raise_missing_task(session, task_id)
    refusal = task_refusal(user, row)
    if refusal:
        raise Forbidden(refusal)
    instance = row.instance
    if instance.status != "running":
        raise Conflict(f"流程实例当前状态为「{instance.status}」，不能办理任务")
    form_text = core.engine.process_for(instance.definition).forms.get(row.form_file) if row.form_file else None
    clean = _check_data(session, form_text, data)
    store = InstanceStore(session, core.engine)
    workflow = store.workflow_of(instance)
    task = core.engine.find_task(workflow, row.id)
    if task is None or task not in core.engine.ready_human_tasks(workflow):
        raise Conflict("该任务已办理或已取消")
    actor = Actor.of(user)
    before = {k: task.data.get(k) for k in clean}
    step = _run(core, lambda: core.engine.complete_task(workflow, task, clean, instance.id, session=session),
                submitted=True)
    _admin_note(store, instance, user, f"代为办理任务「{row.title}」")
    store.event(instance, "task_completed", actor, element_id=row.element_id, element_name=row.title,
                task_id=row.id, message=f"{user.display_name} 办理了「{row.title}」",
                data={"changed": {k: {"old": before[k], "new": v} for k, v in clean.items() if before[k] != v}})
    new_tasks = _save(store, instance, workflow, step, actor)
    return instance, new_tasks


def claim_task(session, user: User, task_id: str, release: bool = False) -> HumanTask:
    row = session.get(HumanTask, task_id)
    if row is None:
        _raise_missing_task(session, task_id)
    if release:
        if row.assignee_id not in (None, user.id) and not user.is_admin:
            raise Forbidden("只能退回自己认领的任务")
        row.assignee_id = None
    else:
        refusal = task_refusal(user, row)
        if refusal:
            raise Forbidden(refusal)
        row.assignee_id = user.id
    store = InstanceStore(session, None)
    store.event(row.instance, "task_released" if release else "task_claimed", Actor.of(user),
                element_id=row.element_id, element_name=row.title, task_id=row.id,
                message=f"{user.display_name}{'退回' if release else '认领'}了「{row.title}」")
    store.flush_events()
    return row


def fire_timers(core, session, instance: ProcessInstance, actor: Actor = SYSTEM) -> None:
    """Fire whatever timers of ``instance`` are due (the caller holds its row lock)."""
    store = InstanceStore(session, core.engine)
    workflow = store.workflow_of(instance)
    step = _run(core, lambda: core.engine.run(workflow, instance.id, fire_timers=True, session=session))
    instance.timer_attempts = 0
    _save(store, instance, workflow, step, actor)


def record_timer_failure(core, session, instance: ProcessInstance, error: EngineError, actor: Actor = SYSTEM) -> None:
    settings = core.settings
    instance.timer_attempts = (instance.timer_attempts or 0) + 1
    store = InstanceStore(session, core.engine)
    if instance.timer_attempts >= settings.timer_max_attempts:
        instance.status = "error"
        instance.error_message = str(error)
        instance.error_element = error.element_id
        instance.next_timer_at = None
        store.event(instance, "error", actor, element_id=error.element_id, element_name=error.element_name,
                    message=str(error), data={"attempts": instance.timer_attempts})
    else:
        delay = settings.timer_retry_base_seconds * (2 ** (instance.timer_attempts - 1))
        instance.next_timer_at = clock.now() + timedelta(seconds=delay)
        store.event(instance, "timer_retry", actor, element_id=error.element_id, element_name=error.element_name,
                    message=f"定时步骤失败，{delay:.0f} 秒后第 {instance.timer_attempts + 1} 次重试：{error}")


# --- internals ----------------------------------------------------------------------------------

def _run(core, step, *, submitted: bool = False):
    try:
        return step()
    except EngineError:
        raise
    except LoopLimitExceeded as err:
        raise EngineError(str(err)) from err
    except Exception as err:  # noqa: BLE001 - any diagram failure becomes an EngineError naming the element
        refusal = _domain_refusal(err) if submitted else None
        if refusal is not None:
            raise refusal from None
        raise describe_error(err) from err


def _domain_refusal(err: BaseException) -> Invalid | None:
    """A domain helper's ``Invalid`` under SpiffWorkflow's wrapping: the domain refused what the
    user just submitted (naming the fields), so the user gets exactly that, and nothing changes."""
    while err is not None:
        if isinstance(err, Invalid):
            return err
        err = err.__cause__ or err.__context__
    return None


def _save(store, instance, workflow, step, actor):
    instance_id = instance.id
    try:
        new_tasks = store.save(instance, workflow, step, actor)
        store.session.flush()
    except (StaleDataError, OperationalError) as err:
        if isinstance(err, OperationalError) and "locked" not in str(err).lower():
            raise
        store.engine.workflows.drop(instance_id)
        raise Conflict("该流程实例已被他人更新，请刷新后重试") from None
    return new_tasks


def _raise_missing_task(session, task_id: str):
    done = session.scalars(select(InstanceEvent).where(InstanceEvent.task_id == str(task_id),
                                                       InstanceEvent.kind.in_(("task_completed", "task_cancelled")))
                           .limit(1)).first()
    if done is not None:
        raise Conflict("该任务已办理或已取消")
    raise NotFound(f"任务「{task_id}」不存在")
