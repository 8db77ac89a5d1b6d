"""Process instances: start, list, show, events."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from ..errors import Forbidden, NotFound
from ..models import InstanceEvent, ProcessInstance
from ..models.process import INSTANCE_STATUSES
from ..services.instances import can_view_instance, start_instance
from .common import PageArgs, core, current_user, paginate
from .views import dump_event, dump_instance, dump_task, instance_data, open_tasks

blp = Blueprint("instances", __name__, url_prefix="/api/process-instances", description="流程实例")


class StartArgs(Schema):
    process_key = fields.String(required=True, validate=validate.Length(min=1, max=128),
                                metadata={"description": "流程标识"})
    data = fields.Dict(load_default=dict, metadata={"description": "启动数据（按流程的启动表单校验）"})
    business_key = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=128))


class ListArgs(PageArgs):
    process_key = fields.String()
    status = fields.String(validate=validate.OneOf(INSTANCE_STATUSES))
    business_key = fields.String()


@blp.route("")
class Instances(MethodView):
    @blp.arguments(StartArgs)
    @blp.response(201)
    def post(self, args):
        """Start an instance of the latest version of ``process_key``."""
        c = core()
        with c.uow() as uow:
            user = current_user(uow.session)
            instance, tasks = start_instance(c, uow.session, user, args["process_key"], args["data"],
                                             args["business_key"])
            uow.commit()
            return {"id": instance.id, "status": instance.status, "version": instance.version,
                    "definition_version": instance.definition.version, "tasks": [dump_task(t) for t in tasks]}

    @blp.arguments(ListArgs, location="query")
    def get(self, args):
        with core().uow() as uow:
            user = current_user(uow.session)
            stmt = select(ProcessInstance).order_by(ProcessInstance.id.desc())
            if not (user.is_admin or "supervision" in user.roles):
                stmt = stmt.where(ProcessInstance.started_by_id == user.id)
            for name in ("process_key", "status", "business_key"):
                if args.get(name):
                    stmt = stmt.where(getattr(ProcessInstance, name) == args[name])
            return paginate(uow.session, stmt, args, dump_instance)


def load_visible(session, user, instance_id: int) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"流程实例 {instance_id} 不存在")
    if not can_view_instance(session, user, instance):
        raise Forbidden("您无权查看该流程实例")
    return instance


@blp.route("/<int:instance_id>")
class InstanceDetail(MethodView):
    def get(self, instance_id):
        c = core()
        with c.uow() as uow:
            user = current_user(uow.session)
            instance = load_visible(uow.session, user, instance_id)
            return {**dump_instance(instance), "data": instance_data(c, instance),
                    "tasks": [dump_task(t) for t in open_tasks(uow.session, instance_id)]}


@blp.route("/<int:instance_id>/events")
class InstanceEvents(MethodView):
    def get(self, instance_id):
        with core().uow() as uow:
            user = current_user(uow.session)
            load_visible(uow.session, user, instance_id)
            rows = uow.session.scalars(select(InstanceEvent).where(InstanceEvent.instance_id == instance_id)
                                       .order_by(InstanceEvent.at, InstanceEvent.id)).all()
            return {"items": [dump_event(e) for e in rows]}
