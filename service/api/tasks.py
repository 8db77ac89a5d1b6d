"""Human tasks: list, show with form, claim/release, complete."""
from __future__ import annotations

import json

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import select

from ..domain.form_choices import with_units
from ..errors import Forbidden, NotFound
from ..models import HumanTask
from ..services.instances import can_view_instance, claim_task, complete_task
from ..services.worklist import actionable
from .common import PageArgs, core, current_user, paginate
from .views import dump_task, task_data

blp = Blueprint("tasks", __name__, url_prefix="/api/tasks", description="待办任务")


class TaskListArgs(PageArgs):
    mine = fields.Boolean(load_default=False, metadata={"description": "只看我能办理的任务"})
    instance_id = fields.Integer()
    process_key = fields.String()


class CompleteArgs(Schema):
    data = fields.Dict(load_default=dict, metadata={"description": "表单数据（按任务表单的 JSON Schema 校验）"})


@blp.route("")
class Tasks(MethodView):
    @blp.arguments(TaskListArgs, location="query")
    def get(self, args):
        """Open tasks: those I can act on (``mine=true``, the default for non-admins) or all (admins)."""
        with core().uow() as uow:
            user = current_user(uow.session)
            stmt = select(HumanTask).order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)
            if args["mine"] or not user.is_admin:
                stmt = stmt.where(actionable(user))
            if args.get("instance_id"):
                stmt = stmt.where(HumanTask.instance_id == args["instance_id"])
            if args.get("process_key"):
                stmt = stmt.where(HumanTask.process_key == args["process_key"])
            return paginate(uow.session, stmt, args, dump_task)


def _load(session, user, task_id) -> HumanTask:
    row = session.get(HumanTask, task_id)
    if row is None:
        raise NotFound(f"任务「{task_id}」不存在或已办理")
    if not can_view_instance(session, user, row.instance):
        raise Forbidden("您无权查看该任务")
    return row


@blp.route("/<task_id>")
class TaskDetail(MethodView):
    def get(self, task_id):
        """The task with its form (JSON Schema + UI schema) and the data it would start from."""
        c = core()
        with c.uow() as uow:
            user = current_user(uow.session)
            row = _load(uow.session, user, task_id)
            forms = c.engine.process_for(row.instance.definition).forms
            form = {"schema": json.loads(with_units(uow.session, forms[row.form_file])) if row.form_file else None,
                    "ui_schema": json.loads(forms[row.ui_form_file]) if row.ui_form_file else {}}
            return {**dump_task(row), "form": form, "data": task_data(c, row),
                    "instance": {"id": row.instance.id, "status": row.instance.status,
                                 "process_name": row.instance.definition.name,
                                 "business_key": row.instance.business_key}}


@blp.route("/<task_id>/complete")
class TaskComplete(MethodView):
    @blp.arguments(CompleteArgs)
    def post(self, args, task_id):
        """Validate ``data`` against the task's form, merge it, and run the process on."""
        c = core()
        with c.uow() as uow:
            user = current_user(uow.session)
            instance, new_tasks = complete_task(c, uow.session, user, task_id, args["data"])
            uow.commit()
            mine = [t for t in new_tasks if _could(user, t)]
            return {"instance": {"id": instance.id, "status": instance.status, "version": instance.version},
                    "next_tasks": [dump_task(t) for t in new_tasks], "next_tasks_for_me": [t.id for t in mine]}


def _could(user, task) -> bool:
    from ..services.instances import task_refusal
    return task_refusal(user, task) is None


@blp.route("/<task_id>/claim")
class TaskClaim(MethodView):
    def post(self, task_id):
        with core().uow() as uow:
            user = current_user(uow.session)
            row = claim_task(uow.session, user, task_id)
            uow.commit()
            return dump_task(row)


@blp.route("/<task_id>/release")
class TaskRelease(MethodView):
    def post(self, task_id):
        with core().uow() as uow:
            user = current_user(uow.session)
            row = claim_task(uow.session, user, task_id, release=True)
            uow.commit()
            return dump_task(row)
