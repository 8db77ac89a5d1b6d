"""The staff work list: which open tasks a user may act on, how urgent each is, what they did.

Shared by the REST API and the pages. The SQL condition in ``actionable`` mirrors
``services.instances.task_refusal`` so a listed task is one the user may really complete.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select

from ..domain.calendar import CalendarOutOfRange, WorkCalendar
from ..models import HumanTask, InstanceEvent, ProcessDefinition, ProcessInstance, User
from .instances import unit_chain

# Without an explicit warning time, a task turns yellow in the last quarter of its time limit.
WARN_SHARE_OF_LIMIT = 0.25


def actionable(user: User):
    """SQL condition: tasks ``user`` may complete now (mirrors services.instances.task_refusal)."""
    units = sorted(unit_chain(user))
    return or_(
        HumanTask.assignee_id == user.id,
        and_(HumanTask.owner_id == user.id, HumanTask.assignee_id.is_(None)),
        and_(HumanTask.owner_id.is_(None), HumanTask.assignee_id.is_(None), HumanTask.role.in_(sorted(user.roles)),
             or_(HumanTask.candidate_unit.is_(None), HumanTask.candidate_unit.in_(units))),
    )


# --- urgency ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Urgency:
    """The warning light of a task and the time left (negative: overdue by that much)."""
    light: str | None                 # "green" | "yellow" | "red" | None (no time limit)
    remaining_days: float | None      # working days; None: no limit, or no calendar data for the period
    calendar_problem: str | None = None
    remaining_seconds: float | None = None   # clock time, for limits of hours rather than days


def yellow_from(task: HumanTask) -> datetime | None:
    if task.due_at is None:
        return None
    if task.warn_at is not None:
        return task.warn_at
    created = task.created_at or task.due_at
    return task.due_at - (task.due_at - created) * WARN_SHARE_OF_LIMIT


def urgency(task: HumanTask, now: datetime, calendar: WorkCalendar) -> Urgency:
    if task.due_at is None:
        return Urgency(None, None)
    if now >= task.due_at:
        light = "red"
    elif now >= yellow_from(task):
        light = "yellow"
    else:
        light = "green"
    seconds = (task.due_at - now).total_seconds()
    try:
        remaining = calendar.working_days_between(now, task.due_at)
    except CalendarOutOfRange as err:
        return Urgency(light, None, str(err), seconds)
    return Urgency(light, remaining, None, seconds)


# --- the list -----------------------------------------------------------------------------------

@dataclass
class TaskFilters:
    process_key: str | None = None
    township: str | None = None       # ProcessInstance.summary["township"] (a unit code)
    item_code: str | None = None      # ProcessInstance.summary["item_code"] (a catalog item code)
    overdue: bool = False
    claimed: str | None = None        # "mine" (assigned to me) | "open" (unclaimed) | None


def summary_field(name: str):
    return ProcessInstance.summary[name].as_string()


def open_tasks_for(user: User, filters: TaskFilters, now: datetime):
    """The statement listing the open tasks ``user`` may act on, most urgent first."""
    stmt = (select(HumanTask).join(HumanTask.instance).where(actionable(user))
            .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at))
    if filters.process_key:
        stmt = stmt.where(HumanTask.process_key == filters.process_key)
    if filters.township:
        stmt = stmt.where(summary_field("township") == filters.township)
    if filters.item_code:
        stmt = stmt.where(summary_field("item_code") == filters.item_code)
    if filters.overdue:
        stmt = stmt.where(HumanTask.due_at < now)
    if filters.claimed == "mine":
        stmt = stmt.where(HumanTask.assignee_id == user.id)
    elif filters.claimed == "open":
        stmt = stmt.where(HumanTask.assignee_id.is_(None))
    return stmt


@dataclass
class TaskCounts:
    total: int = 0
    overdue: int = 0
    claimed_by_me: int = 0
    by_process: dict[str, int] = field(default_factory=dict)


def task_counts(session, user: User, now: datetime) -> TaskCounts:
    """Counts over everything the user may act on (filters do not change them)."""
    base = actionable(user)
    total, overdue, mine = session.execute(select(
        func.count(),
        func.coalesce(func.sum(case((HumanTask.due_at < now, 1), else_=0)), 0),
        func.coalesce(func.sum(case((HumanTask.assignee_id == user.id, 1), else_=0)), 0),
    ).select_from(HumanTask).where(base)).one()
    by_process = dict(session.execute(select(HumanTask.process_key, func.count()).where(base)
                                      .group_by(HumanTask.process_key)).all())
    return TaskCounts(total, int(overdue), int(mine), by_process)


def next_task_for(user: User, tasks: list[HumanTask]) -> HumanTask | None:
    """The first of ``tasks`` (just created) meant for ``user``: shown right after a task. An
    administrator who completed someone's task is not led on through that person's work."""
    from .instances import task_refusal

    def meant_for(task: HumanTask) -> bool:
        if task_refusal(user, task) is not None:
            return False
        return not user.is_admin or task.owner_id == user.id or (task.role in user.roles and task.owner_id is None)

    return next((t for t in tasks if meant_for(t)), None)


# --- what I did ---------------------------------------------------------------------------------

def completed_by(user: User):
    """Statement of (event, instance) rows: the tasks ``user`` completed, latest first (已办)."""
    return (select(InstanceEvent, ProcessInstance)
            .join(ProcessInstance, ProcessInstance.id == InstanceEvent.instance_id)
            .where(InstanceEvent.kind == "task_completed", InstanceEvent.user_id == user.id)
            .order_by(InstanceEvent.at.desc(), InstanceEvent.id.desc()))


def process_names(session) -> dict[str, str]:
    """Process key → name of its latest version, for filters and labels."""
    latest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.key).subquery())
    rows = session.execute(select(ProcessDefinition.key, ProcessDefinition.name)
                           .join(latest, and_(latest.c.key == ProcessDefinition.key,
                                              latest.c.version == ProcessDefinition.version))
                           .order_by(ProcessDefinition.key)).all()
    return dict(rows)
