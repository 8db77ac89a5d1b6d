"""Temporary-task admission: the register of admitted tasks, a request's written consultation, and
the townships' recorded refusals of tasks never admitted (交办事项准入)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..domain.admission import (DECLINE_RULE, STATUS_NAMES, answers_of, declines_query, decline, get_admitted,
                                local_today, register_query)
from ..domain.catalog import unit_register
from ..engine import clock
from ..errors import Forbidden, NotFound
from ..models import TaskDecline
from ..services.instances import can_view_instance
from .common import PageArgs, core, current_user, paginate
from .views import iso

blp = Blueprint("admission", __name__, url_prefix="/api/admission", description="交办事项准入")


def _names(session) -> dict[str, str]:
    return {code: info.name for code, info in unit_register(session).items()}


def dump_admitted(task, names: dict, today, full: bool = False) -> dict:
    status = task.status_on(today)
    data = {"code": task.code, "title": task.title, "department": {"code": task.department,
                                                                   "name": names.get(task.department, task.department)},
            "period_start": task.period_start.isoformat(), "period_end": task.period_end.isoformat(),
            "status": status, "status_name": STATUS_NAMES[status], "approved_at": iso(task.approved_at),
            "source_instance_id": task.source_instance_id,
            "townships": [{"code": t.township, "name": names.get(t.township, t.township), "opinion": t.opinion,
                           "opinion_name": t.opinion_name, "comment": t.comment} for t in task.townships]}
    if full:
        data.update({key: getattr(task, key) for key in (
            "content", "main_responsibility", "coordinating_responsibility", "procedure", "guarantee_measures",
            "funding", "staffing", "technical_support", "approval_opinion")})
    return data


def dump_answer(a, names: dict) -> dict:
    return {"township": a.township, "township_name": names.get(a.township, a.township), "opinion": a.opinion,
            "opinion_name": a.opinion_name, "comment": a.comment, "signed_by": a.answered_by_name,
            "answered_by": a.answered_by, "answered_at": iso(a.answered_at), "recorded_at": iso(a.recorded_at)}


def dump_decline(row: TaskDecline, names: dict) -> dict:
    return {"id": row.id, "township": {"code": row.township, "name": names.get(row.township, row.township)},
            "department": {"code": row.department, "name": names.get(row.department, row.department)},
            "task_title": row.task_title, "task_description": row.task_description,
            "assigned_on": row.assigned_on.isoformat() if row.assigned_on else None,
            "cited_item_code": row.cited_item_code, "cited_admission_code": row.cited_admission_code,
            "remarks": row.remarks, "rule": DECLINE_RULE, "check_note": row.check_note,
            "catalog_version": row.catalog_version, "declined_by": row.declined_by,
            "declined_by_name": row.declined_by_name, "declined_at": iso(row.declined_at)}


class RegisterArgs(PageArgs):
    township = fields.String(validate=validate.Length(max=64), metadata={"description": "承接乡镇（街道）代码"})
    department = fields.String(validate=validate.Length(max=64), metadata={"description": "申请部门代码"})
    status = fields.String(validate=validate.OneOf(list(STATUS_NAMES), error="状态只能是：{choices}"),
                           metadata={"description": "pending 未开始 / active 实施中 / expired 已到期"})
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "关键词（编号、名称、内容）"})


class DeclineArgs(Schema):
    department = fields.String(required=True, validate=validate.Length(min=1, max=64),
                               metadata={"description": "交办该事项的县级部门代码"})
    task_title = fields.String(required=True, validate=validate.Length(min=1, max=200),
                               metadata={"description": "交办事项名称"})
    task_description = fields.String(required=True, validate=validate.Length(min=1, max=4000),
                                     metadata={"description": "交办的具体内容"})
    assigned_on = fields.Date(load_default=None, allow_none=True,
                              error_messages={"invalid": "交办日期格式应为 YYYY-MM-DD"})
    cited_item_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32),
                                    metadata={"description": "部门交办时引用的清单事项编码（如有）"})
    cited_admission_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32),
                                         metadata={"description": "部门交办时引用的准入编号（如有）"})
    remarks = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))


@blp.route("/tasks")
class Register(MethodView):
    @blp.arguments(RegisterArgs, location="query")
    def get(self, args):
        """The register of admitted tasks (准入事项登记簿), latest period first."""
        with core().uow() as uow:
            current_user(uow.session)
            today = local_today(clock.now())
            names = _names(uow.session)
            stmt = register_query(township=args.get("township"), department=args.get("department"),
                                  status=args.get("status"), q=args.get("q"), today=today)
            return paginate(uow.session, stmt, args, lambda t: dump_admitted(t, names, today))


@blp.route("/tasks/<code>")
class Admitted(MethodView):
    def get(self, code):
        """One admitted task with its special explanation, guarantees and the townships' opinions."""
        with core().uow() as uow:
            current_user(uow.session)
            task = get_admitted(uow.session, code)
            names = _names(uow.session)
            body = dump_admitted(task, names, local_today(clock.now()), full=True)
            body["consultation"] = [dump_answer(a, names) for a in answers_of(uow.session, task.source_instance_id)]
            return body


@blp.route("/requests/<int:instance_id>/consultation")
class Consultation(MethodView):
    def get(self, instance_id):
        """The written opinions of an admission request (so far), for whoever may see the request."""
        from ..models import ProcessInstance

        with core().uow() as uow:
            user = current_user(uow.session)
            instance = uow.session.get(ProcessInstance, instance_id)
            if instance is None or instance.process_key != "temporary_task_admission":
                raise NotFound(f"交办事项准入申请 {instance_id} 不存在")
            if not can_view_instance(uow.session, user, instance):
                raise Forbidden("您无权查看该准入申请")
            names = _names(uow.session)
            return {"items": [dump_answer(a, names) for a in answers_of(uow.session, instance_id)]}


@blp.route("/declines")
class Declines(MethodView):
    @blp.arguments(PageArgs, location="query")
    def get(self, args):
        """Refusals of unadmitted tasks: a township sees its own, a department those addressed to it,
        the county's oversight offices all."""
        with core().uow() as uow:
            user = current_user(uow.session)
            names = _names(uow.session)
            return paginate(uow.session, declines_query(user), args, lambda r: dump_decline(r, names))

    @blp.arguments(DeclineArgs)
    @blp.response(201)
    def post(self, args):
        """A township office refuses a task that is neither on the catalog nor in the register,
        citing the admission rule; refused (422, naming the field) when the task is listed or admitted."""
        with core().uow() as uow:
            user = current_user(uow.session)
            row = decline(uow.session, user, args, clock.now())
            uow.commit()
            return dump_decline(row, _names(uow.session))


@blp.route("/declines/<int:decline_id>")
class DeclineDetail(MethodView):
    def get(self, decline_id):
        with core().uow() as uow:
            user = current_user(uow.session)
            row = uow.session.scalars(declines_query(user).where(TaskDecline.id == decline_id)).first()
            if row is None:
                raise NotFound(f"拒绝承接记录 {decline_id} 不存在或您无权查看")
            return dump_decline(row, _names(uow.session))
