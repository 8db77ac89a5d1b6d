"""The instance page: the live diagram, element states, open tasks, data, timeline — and, for
administrators, the repair actions (rendered here, handled in web.admin)."""
from __future__ import annotations

import json

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import Forbidden, NotFound
from ..models import InstanceEvent, ProcessInstance
from ..services.admin import eligible_assignees
from ..services.admin_queries import instance_trace, open_tasks_by_instance
from ..services.instances import can_view_instance
from ..services.worklist import urgency
from .common import Names, bp, core, mentioned_units, now, page_user


def load_instance(session, user, instance_id: int) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(_("流程实例 %(id)s 不存在", id=instance_id))
    if not can_view_instance(session, user, instance):
        raise Forbidden(_("您无权查看该流程实例"))
    return instance


def render_instance(session, user, instance_id: int, *, action: str | None = None, errors: dict | None = None,
                    values: dict | None = None, status: int = 200):
    """The page; after a rejected admin action, ``action`` names its form and ``errors``/``values``
    show the problem next to the field and keep what was typed."""
    c = core()
    moment = now()
    instance = load_instance(session, user, instance_id)
    trace = instance_trace(c, session, instance, moment)
    tasks = open_tasks_by_instance(session, [instance.id]).get(instance.id, [])
    calendar = c.calendar()
    events = session.scalars(select(InstanceEvent).where(InstanceEvent.instance_id == instance.id)
                             .order_by(InstanceEvent.at, InstanceEvent.id)).all()
    who = Names.of(session, {t.assignee_id for t in tasks} | {instance.started_by_id} | {e.user_id for e in events},
                   {t.candidate_unit for t in tasks} | mentioned_units(instance.summary))
    assignees = {t.id: eligible_assignees(session, t) for t in tasks} if user.is_admin else {}
    diagram = {"xml": trace.diagram.xml, "has_di": trace.diagram.has_di, "states": trace.states}
    return render_template(
        "instances/detail.html", instance=instance, definition=instance.definition, trace=trace,
        diagram=diagram, tasks=[(t, urgency(t, moment, calendar)) for t in tasks], who=who, events=events,
        data_json=json.dumps(trace.data, ensure_ascii=False, indent=2, sort_keys=True), assignees=assignees,
        is_admin=user.is_admin, action=action, errors=errors or {}, values=values or {}), status


@bp.get("/instances/<int:instance_id>")
def instance_page(instance_id):
    with core().uow() as uow:
        user = page_user(uow.session)
        return render_instance(uow.session, user, instance_id)
