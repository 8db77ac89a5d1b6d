"""Administrators' repairs of running instances, each recorded in the event log with who and why.

Suspend / resume / terminate an instance, retry an instance whose timer step failed, reassign a
task, edit the data of a suspended instance. Optimistic concurrency as everywhere: the caller may
pass the instance version it saw, and a concurrent change makes the flush fail with a Conflict.
"""
from __future__ import annotations

import copy
import json
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from SpiffWorkflow.util.task import TaskState

from ..engine import clock
from ..engine.serializer import MAX_DATA_DEPTH, deeper_than, find_reserved_keys
from ..engine.store import Actor, InstanceStore
from ..engine.trace import all_tasks, current_data
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..models import HumanTask, ProcessInstance, User
from .instances import MAX_DATA_BYTES, _save, task_refusal

REASON_MAX = 500
STATUS_NAMES = {"running": "运行中", "suspended": "已挂起", "completed": "已完成", "terminated": "已终止",
                "error": "出错"}
# Data of these tasks is what the process goes on with; editing data changes them.
_OPEN_STATES = TaskState.READY | TaskState.STARTED | TaskState.WAITING


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("只有系统管理员可以执行该操作")


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("请填写操作原因", {"reason": ["「操作原因」为必填项"]})
    if len(reason) > REASON_MAX:
        raise Invalid("操作原因过长", {"reason": [f"「操作原因」不能超过 {REASON_MAX} 个字符"]})
    return reason


def _load(session, instance_id: int, expected_version: int | None) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"流程实例 {instance_id} 不存在")
    if expected_version is not None and expected_version != instance.version:
        raise Conflict("该流程实例已被他人更新，请刷新后重试")
    return instance


def _require_status(instance: ProcessInstance, allowed: tuple[str, ...], action: str) -> None:
    if instance.status not in allowed:
        raise Conflict(f"流程实例当前状态为「{STATUS_NAMES.get(instance.status, instance.status)}」，不能{action}")


def _record(session, instance, admin: User, action: str, reason: str, message: str, **data) -> None:
    instance.updated_at = clock.now()
    InstanceStore(session, None).event(instance, "admin_action", Actor.of(admin), message=f"{message}（原因：{reason}）",
                                       data={"action": action, "reason": reason, **data})


def _flush(session, core, instance) -> None:
    try:
        session.flush()
    except StaleDataError:
        core.engine.workflows.drop(instance.id)
        raise Conflict("该流程实例已被他人更新，请刷新后重试") from None


# --- instance status ----------------------------------------------------------------------------

def suspend(core, session, admin: User, instance_id: int, reason: str | None,
            expected_version: int | None = None) -> ProcessInstance:
    """Stop an instance: nobody can complete its tasks and its timers wait until it is resumed."""
    require_admin(admin)
    reason = _reason(reason)
    instance = _load(session, instance_id, expected_version)
    _require_status(instance, ("running", "error"), "挂起")
    previous = instance.status
    instance.status = "suspended"
    _record(session, instance, admin, "suspend", reason, "管理员挂起了流程实例", previous_status=previous)
    _flush(session, core, instance)
    return instance


def resume(core, session, admin: User, instance_id: int, reason: str | None,
           expected_version: int | None = None) -> ProcessInstance:
    """Run a suspended instance again; timers that fell due meanwhile fire at once."""
    require_admin(admin)
    reason = _reason(reason)
    instance = _load(session, instance_id, expected_version)
    _require_status(instance, ("suspended",), "恢复")
    instance.status = "running"
    instance.timer_attempts = 0
    instance.error_message = instance.error_element = None
    instance.next_timer_at = core.engine.peek(instance, core.engine.next_timer_at)
    _record(session, instance, admin, "resume", reason, "管理员恢复了流程实例")
    _flush(session, core, instance)
    return instance


def retry(core, session, admin: User, instance_id: int, reason: str | None,
          expected_version: int | None = None) -> ProcessInstance:
    """Give a step that failed after all its retries another go, now (the timer worker picks it up)."""
    require_admin(admin)
    reason = _reason(reason)
    instance = _load(session, instance_id, expected_version)
    _require_status(instance, ("error",), "重试")
    failed = {"error_message": instance.error_message, "error_element": instance.error_element}
    instance.status = "running"
    instance.timer_attempts = 0
    instance.next_timer_at = clock.now()
    instance.error_message = instance.error_element = None
    _record(session, instance, admin, "retry", reason, "管理员重试出错的步骤", **failed)
    _flush(session, core, instance)
    return instance


def terminate(core, session, admin: User, instance_id: int, reason: str | None,
              expected_version: int | None = None) -> ProcessInstance:
    """End an instance for good: its open tasks are cancelled and its timers never fire."""
    require_admin(admin)
    reason = _reason(reason)
    instance = _load(session, instance_id, expected_version)
    _require_status(instance, ("running", "suspended", "error"), "终止")
    store = InstanceStore(session, core.engine)
    workflow = store.workflow_of(instance)
    instance.status = "terminated"
    instance.ended_at = clock.now()
    actor = Actor.of(admin)
    _record(session, instance, admin, "terminate", reason, "管理员终止了流程实例")
    workflow.cancel()
    _save(store, instance, workflow, None, actor)
    instance.next_timer_at = None
    _flush(session, core, instance)
    return instance


# --- tasks and data -----------------------------------------------------------------------------

def refusal_if_unclaimed(user: User, row: HumanTask) -> str | None:
    """Why ``user`` could not complete the task even if nobody had claimed it, or None."""
    unclaimed = SimpleNamespace(owner_id=row.owner_id, role=row.role, lane=row.lane,
                                candidate_unit=row.candidate_unit, assignee_id=None)
    return task_refusal(user, unclaimed)


def eligible_assignees(session, row: HumanTask) -> list[User]:
    """Active users a task may be reassigned to (a county has hundreds of users, not millions)."""
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.username)).all()
    # Administrators may act on anything; list the people the task is meant for first.
    return sorted((u for u in users if refusal_if_unclaimed(u, row) is None), key=lambda u: u.is_admin)


def reassign(core, session, admin: User, task_id: str, username: str | None, reason: str | None) -> HumanTask:
    """Give an open task to another user who could complete it (their lane, unit and role)."""
    require_admin(admin)
    reason = _reason(reason)
    row = session.get(HumanTask, task_id)
    if row is None:
        raise NotFound(f"任务「{task_id}」不存在或已办理")
    target = session.scalars(select(User).where(User.username == (username or "").strip())).first()
    if target is None or not target.active:
        raise Invalid("改派对象不存在", {"username": [f"用户「{username or ''}」不存在或已停用"]})
    refusal = refusal_if_unclaimed(target, row)
    if refusal:
        raise Invalid("不能改派给该用户", {"username": [f"「{target.display_name}」不能办理该任务：{refusal}"]})
    instance = row.instance
    _require_status(instance, ("running", "suspended", "error"), "改派任务")
    previous = row.assignee_id
    row.assignee_id = target.id
    _record(session, instance, admin, "reassign", reason,
            f"管理员将任务「{row.title}」改派给 {target.display_name}",
            task_id=row.id, element_id=row.element_id, from_user_id=previous, to_user_id=target.id,
            to_username=target.username)
    _flush(session, core, instance)
    return row


def parse_data(text: str | None) -> dict:
    """The JSON text an administrator typed, as an object, or Invalid naming the problem."""
    try:
        data = json.loads(text or "")
    except json.JSONDecodeError as err:
        raise Invalid("数据不是有效的 JSON", {"data": [f"第 {err.lineno} 行第 {err.colno} 列：JSON 格式错误"]}) from None
    except RecursionError:
        raise Invalid("数据嵌套层次过深", {"data": ["JSON 嵌套层次过深"]}) from None
    return data


def _validated(data) -> dict:
    if not isinstance(data, dict):
        raise Invalid("数据格式错误", {"data": ["数据必须是一个 JSON 对象（{...}）"]})
    if deeper_than(data):
        raise Invalid("数据嵌套层次过深", {"data": [f"数据嵌套不能超过 {MAX_DATA_DEPTH} 层"]})
    reserved = find_reserved_keys(data)
    if reserved:
        raise Invalid("数据中含有保留字段", {"data": [f"字段名 typename 为系统保留，不能使用（{'、'.join(reserved)}）"]})
    if len(json.dumps(data, ensure_ascii=False)) > MAX_DATA_BYTES:
        raise Invalid("数据过大", {"data": [f"数据不能超过 {MAX_DATA_BYTES // 1024} KB"]})
    return copy.deepcopy(data)


def edit_data(core, session, admin: User, instance_id: int, data, reason: str | None,
              expected_version: int | None = None) -> ProcessInstance:
    """Replace the current data of a suspended instance with ``data`` (the whole object).

    The difference to the current data is applied to every open task and to the latest completed
    one, so what the page shows and what the process goes on with agree; the event log keeps the
    old and new value of every changed key.
    """
    require_admin(admin)
    reason = _reason(reason)
    data = _validated(data)
    instance = _load(session, instance_id, expected_version)
    _require_status(instance, ("suspended",), "修改数据（请先挂起）")
    store = InstanceStore(session, core.engine)
    workflow = store.workflow_of(instance)
    last = workflow.last_task
    current = current_data(workflow)
    changed = {k: v for k, v in data.items() if k not in current or current[k] != v}
    removed = [k for k in current if k not in data]
    if not changed and not removed:
        core.engine.workflows.checkin(instance.id, instance.version, workflow)
        raise Invalid("数据没有变化", {"data": ["提交的数据与当前数据相同"]})
    targets = [t for t in all_tasks(workflow) if t.state & _OPEN_STATES]
    if last is not None:
        targets.append(last)
    for task in targets:
        for key in removed:
            task.data.pop(key, None)
        task.data.update(copy.deepcopy(changed))
    for key in removed:
        workflow.data.pop(key, None)
    diff = {k: {"old": current.get(k), "new": v} for k, v in changed.items()}
    diff.update({k: {"old": current[k], "new": None, "removed": True} for k in removed})
    _record(session, instance, admin, "edit_data", reason, f"管理员修改了流程数据：{'、'.join(diff)}",
            changed=json.loads(json.dumps(diff, default=str, ensure_ascii=False)))
    _save(store, instance, workflow, None, Actor.of(admin))
    _flush(session, core, instance)
    return instance
