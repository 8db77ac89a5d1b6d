"""The call ledger (《"乡呼县应、上下联动"事项登记表》): list with filters and counts, one call with its
history and ratings, XLSX/CSV export, and statistics by item, department and township.

Who sees what: administrators, the supervision office, the staffing office and the county
leadership see every call; a township office sees its township's calls, a department the calls
it leads or coordinates, a grid worker the calls they reported. Statistics are county-wide and
for the county-wide roles only.
"""
from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..domain.call_reports import (FORMATS, GROUPS, CallFilters, Scope, counts, export_filename, export_ledger,
                                   filtered, ledger_row, listing, names_for, statistics)
from ..domain.calendar import SHANGHAI
from ..engine import clock
from ..errors import Forbidden, NotFound
from ..models.calls import CALL_STATUSES, CallRecord
from ..services.instances import unit_chain
from .common import PageArgs, core, current_user

blp = Blueprint("calls", __name__, url_prefix="/api/calls", description="乡呼县应事项登记表（台账、导出与统计）")

STATUS_CHOICES = ["open", *CALL_STATUSES]


class FilterArgs(Schema):
    township = fields.String(validate=validate.Length(max=64), metadata={"description": "呼叫单位（乡镇单位代码）"})
    department = fields.String(validate=validate.Length(max=64), metadata={"description": "主体责任部门（单位代码）"})
    item_code = fields.String(validate=validate.Length(max=32), metadata={"description": "事项编码"})
    status = fields.String(validate=validate.OneOf(STATUS_CHOICES, error="状态只能是：{choices}"),
                           metadata={"description": "状态；open 表示全部未办结"})
    overdue = fields.Boolean(metadata={"description": "是否超期"})
    escalated = fields.Boolean(metadata={"description": "是否被督办"})
    date_from = fields.Date(error_messages={"invalid": "日期格式应为 YYYY-MM-DD"},
                            metadata={"description": "呼叫（自行处理的为上报）日期起，含当天"})
    date_to = fields.Date(error_messages={"invalid": "日期格式应为 YYYY-MM-DD"},
                          metadata={"description": "呼叫（自行处理的为上报）日期止，含当天"})
    instance_id = fields.Integer(metadata={"description": "流程实例编号"})
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "关键词（登记编号、地点、问题、事项）"})


class ListArgs(PageArgs, FilterArgs):
    pass


class ExportArgs(FilterArgs):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(FORMATS, error="格式只能是：{choices}"),
                           metadata={"description": "xlsx 或 csv"})


class StatsArgs(Schema):
    by = fields.String(load_default="department", validate=validate.OneOf(list(GROUPS), error="统计维度只能是：{choices}"),
                       metadata={"description": "按事项（item）、部门（department）或乡镇（township）统计"})
    township = fields.String(validate=validate.Length(max=64), metadata={"description": "只统计该乡镇的呼叫"})
    date_from = fields.Date(error_messages={"invalid": "日期格式应为 YYYY-MM-DD"})
    date_to = fields.Date(error_messages={"invalid": "日期格式应为 YYYY-MM-DD"})


def _scope(session) -> Scope:
    user = current_user(session)
    return Scope.of(user, unit_chain(user))


def _filters(args: dict) -> CallFilters:
    return CallFilters(**{k: args.get(k) for k in ("township", "department", "item_code", "status", "overdue",
                                                   "escalated", "date_from", "date_to", "instance_id", "q")})


def dump_call(call: CallRecord, names: dict, full: bool = False) -> dict:
    row = ledger_row(call, names)
    body = {"id": call.id, "instance_id": call.instance_id, "number": call.number, "status": call.status,
            "status_name": row["status"], "township": {"code": call.township, "name": row["township"]},
            "department": {"code": call.department, "name": row["department"]} if call.department else None,
            "item_code": call.item_code, "item_name": call.item_name, "catalog_version": call.catalog_version,
            "caller": call.caller_name, "called_at": _iso(call.called_at), "receiver_contact": call.receiver_contact,
            "receiver": call.receiver_name, "acknowledge_due_at": _iso(call.acknowledge_due_at),
            "acknowledged_at": _iso(call.acknowledged_at), "handle_due_at": _iso(call.handle_due_at),
            "closed_out_at": _iso(call.closed_out_at), "overdue": call.overdue,
            "acknowledge_overdue": call.acknowledge_overdue, "handle_overdue": call.handle_overdue,
            "escalation_level": call.escalation_level, "rating": call.rating,
            "holder": {"unit": call.holder_unit, "name": row["holder"], "role": call.holder_role} if call.is_open
            else None, "created_at": _iso(call.created_at)}
    if full:
        body.update(
            source=call.source, reporter=call.reporter_name, reporter_unit=call.reporter_unit, place=call.place,
            description=call.description, found_at=_iso(call.found_at), onsite_action=call.onsite_action,
            attachments=call.attachments, area=call.area, list_type=call.list_type,
            triage_decision=call.triage_decision, triage_opinion=call.triage_opinion, calling_unit=call.calling_unit,
            problem=call.problem, request=call.request, main_units=call.main_units,
            coordinating_units=call.coordinating_units, receiver_phone=call.receiver_phone,
            original_handle_due_at=_iso(call.original_handle_due_at), closer=call.closer_name,
            handling_working_days=call.handling_working_days, supervision_due_at=_iso(call.supervision_due_at),
            supervision_note=call.supervision_note, sendback_count=call.sendback_count,
            extension_status=call.extension_status, extension_days=call.extension_days, redo_count=call.redo_count,
            assists=call.assists, measures=call.measures, result=call.result, evidence=call.evidence,
            rating_reason=call.rating_reason, confirmed_at=_iso(call.confirmed_at), closed_at=_iso(call.closed_at),
            events=[{"at": _iso(e.at), "kind": e.kind, "level": e.level, "unit": e.unit, "username": e.username,
                     "user_name": e.user_name, "message": e.message, "data": e.data} for e in call.events],
            ratings=[{"round": r.round, "rating": r.rating, "reason": r.reason, "department": r.department,
                      "rater": r.rater_name, "rated_at": _iso(r.rated_at)} for r in call.ratings])
    return body


def _iso(value):
    return value.isoformat() if value is not None else None


@blp.route("")
class Calls(MethodView):
    @blp.arguments(ListArgs, location="query")
    def get(self, args):
        """The ledger: calls visible to me, newest first, filtered, with counts over the filter."""
        with core().uow() as uow:
            session = uow.session
            stmt = filtered(_scope(session), _filters(args))
            page, per_page = args["page"], args["per_page"]
            rows = session.scalars(listing(stmt).limit(per_page).offset((page - 1) * per_page)).all()
            names = names_for(session, rows)
            summary = counts(session, stmt)
            return {"items": [dump_call(c, names) for c in rows], "total": summary.total, "page": page,
                    "per_page": per_page, "counts": summary.as_dict()}


@blp.route("/<int:call_id>")
class CallDetail(MethodView):
    def get(self, call_id):
        """One call: every field of the 事项登记表, its history (escalations included) and ratings."""
        with core().uow() as uow:
            session = uow.session
            scope = _scope(session)
            call = session.get(CallRecord, call_id)
            if call is None:
                raise NotFound(f"登记表记录 {call_id} 不存在")
            visible = session.scalar(filtered(scope, CallFilters()).where(CallRecord.id == call_id)
                                     .with_only_columns(CallRecord.id))
            if visible is None:
                raise Forbidden("您无权查看该登记表记录")
            return dump_call(call, names_for(session, [call]), full=True)


@blp.route("/export")
class Export(MethodView):
    @blp.arguments(ExportArgs, location="query")
    @blp.response(200, content_type="application/octet-stream")
    def get(self, args):
        """The filtered ledger as an XLSX workbook or a UTF-8 CSV (with BOM, for Excel)."""
        with core().uow() as uow:
            session = uow.session
            fmt = args["format"]
            data = export_ledger(session, filtered(_scope(session), _filters(args)), fmt)
        today = clock.now().astimezone(SHANGHAI).date()
        mimetype = ("text/csv; charset=utf-8" if fmt == "csv" else
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        return Response(data, mimetype=mimetype, headers={
            "Content-Disposition": f'attachment; filename="{export_filename(fmt, today)}"'})


@blp.route("/stats")
class Stats(MethodView):
    @blp.arguments(StatsArgs, location="query")
    def get(self, args):
        """Per item, department or township: calls, on-time rate, average handling time (working
        days), escalations and satisfaction — input for the catalog's dynamic adjustment and the
        departments' evaluation."""
        with core().uow() as uow:
            session = uow.session
            if not _scope(session).sees_statistics:
                raise Forbidden("只有县督查考核部门、县委编办、县级领导和管理员可以查看统计")
            rows = statistics(session, args["by"], date_from=args.get("date_from"), date_to=args.get("date_to"),
                              township=args.get("township"))
            return {"by": args["by"], "items": [r.as_dict() for r in rows]}
