"""Administrators' API: instance search and incidents, the trace of an instance, repair actions.

Every action needs a reason and is written to the instance's event log; pass the ``version`` you
last saw to be told (409) when someone else changed the instance meanwhile.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..engine import clock
from ..models.process import INSTANCE_STATUSES
from ..services import admin as actions
from ..services.admin_queries import SORTS, InstanceFilters, incidents, instance_trace, search_instances
from .common import PageArgs, core, current_user
from .instances import load_visible
from .views import dump_instance, dump_task, instance_data

blp = Blueprint("admin", __name__, url_prefix="/api/admin", description="系统管理：流程监控与异常处理")


class SearchArgs(PageArgs):
    process_key = fields.String()
    version = fields.Integer(validate=validate.Range(min=1))
    status = fields.String(validate=validate.OneOf(INSTANCE_STATUSES))
    township = fields.String(metadata={"description": "summary.township（乡镇单位代码）"})
    department = fields.String(metadata={"description": "summary.department（县级部门单位代码）"})
    overdue = fields.Boolean(load_default=False, metadata={"description": "只看有超期任务的实例"})
    started_from = fields.Date(metadata={"description": "发起日期（北京时间）起，含当天"})
    started_to = fields.Date(metadata={"description": "发起日期（北京时间）止，含当天"})
    q = fields.String(metadata={"description": "业务编号（部分匹配）或实例编号"})
    sort = fields.String(load_default="started_desc", validate=validate.OneOf(list(SORTS)))


class ActionArgs(Schema):
    reason = fields.String(required=True, metadata={"description": "操作原因（记入流程日志）"})
    version = fields.Integer(load_default=None, allow_none=True,
                             metadata={"description": "上次看到的实例版本号；不一致时返回 409"})


class DataArgs(ActionArgs):
    data = fields.Raw(required=True, metadata={"description": "新的流程数据（完整的 JSON 对象）"})


class ReassignArgs(Schema):
    username = fields.String(required=True, metadata={"description": "改派给的用户名"})
    reason = fields.String(required=True, metadata={"description": "改派原因（记入流程日志）"})


def _admin(session):
    user = current_user(session)
    actions.require_admin(user)
    return user


@blp.route("/instances")
class InstanceSearch(MethodView):
    @blp.arguments(SearchArgs, location="query")
    def get(self, args):
        """Instances by process, version, status, township/department, overdue, start date, business key."""
        with core().uow() as uow:
            _admin(uow.session)
            page, per_page = args.pop("page"), args.pop("per_page")
            result = search_instances(uow.session, InstanceFilters(**args), clock.now(), page, per_page)
            return {"items": [dump_instance(i) for i in result.items], "total": result.total, "page": page,
                    "per_page": per_page, "status_counts": result.status_counts}


@blp.route("/incidents")
class Incidents(MethodView):
    def get(self):
        """Instances stopped by an error, with the failing element and message."""
        with core().uow() as uow:
            _admin(uow.session)
            return {"items": [dump_instance(i) for i in incidents(uow.session)]}


@blp.route("/instances/<int:instance_id>/trace")
class InstanceTrace(MethodView):
    def get(self, instance_id):
        """Element states (completed / active / waiting / error, token counts, overdue) and current data;
        for everyone who may see the instance, like its page."""
        c = core()
        with c.uow() as uow:
            user = current_user(uow.session)
            instance = load_visible(uow.session, user, instance_id)
            trace = instance_trace(c, uow.session, instance, clock.now())
            return {"instance": dump_instance(instance), "states": trace.states, "elements": trace.elements,
                    "diagram": {"file": trace.diagram.filename, "has_di": trace.diagram.has_di}, "data": trace.data}


_ACTIONS = {"suspend": actions.suspend, "resume": actions.resume, "terminate": actions.terminate,
            "retry": actions.retry}


@blp.route("/instances/<int:instance_id>/<any(suspend, resume, terminate, retry):action>")
class InstanceAction(MethodView):
    @blp.arguments(ActionArgs)
    def post(self, args, instance_id, action):
        """suspend: stop tasks and timers; resume: run again; terminate: end for good (open tasks are
        cancelled); retry: run a step that failed after all its retries again, now."""
        c = core()
        with c.uow() as uow:
            user = _admin(uow.session)
            instance = _ACTIONS[action](c, uow.session, user, instance_id, args["reason"], args["version"])
            uow.commit()
            return dump_instance(instance)


@blp.route("/instances/<int:instance_id>/data")
class InstanceData(MethodView):
    @blp.arguments(DataArgs)
    def put(self, args, instance_id):
        """Replace the data of a suspended instance (a JSON object without ``typename`` keys)."""
        c = core()
        with c.uow() as uow:
            user = _admin(uow.session)
            instance = actions.edit_data(c, uow.session, user, instance_id, args["data"], args["reason"],
                                         args["version"])
            uow.commit()
            return {**dump_instance(instance), "data": instance_data(c, instance)}


@blp.route("/tasks/<task_id>/reassign")
class TaskReassign(MethodView):
    @blp.arguments(ReassignArgs)
    def post(self, args, task_id):
        """Give an open task to another user who could complete it."""
        c = core()
        with c.uow() as uow:
            user = _admin(uow.session)
            row = actions.reassign(c, uow.session, user, task_id, args["username"], args["reason"])
            uow.commit()
            return dump_task(row)
