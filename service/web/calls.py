"""Staff pages of the call ledger (事项台账): the filtered list with its export, one call as the
事项登记表 shows it, and the statistics by department, item and township."""
from __future__ import annotations

from flask import Response, render_template, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..domain.call_reports import (FORMATS, GROUPS, CallFilters, Scope, counts, export_filename, export_ledger,
                                   filtered, ledger_row, listing, names_for, statistics)
from ..domain.calendar import SHANGHAI
from ..errors import Forbidden, Invalid, NotFound
from ..models import Unit
from ..models.calls import CALL_STATUSES, CallRecord
from ..services.instances import unit_chain
from .admin import _date_arg  # the pages read dates from the query string alike
from .common import N_, bp, core, now, page_user

PER_PAGE = 50
# Labels for the pages (marked for translation; the same words as models.calls.CALL_STATUSES).
STATUS_LABELS = {"reporting": N_("待上报"), "triage": N_("待研判"), "local": N_("乡镇自行处理"),
                 "receiving": N_("待签收"), "arbitration": N_("退单审定"), "handling": N_("办理中"),
                 "extension": N_("延期审批"), "confirming": N_("待确认评价"), "closed": N_("已办结"),
                 "closed_local": N_("自行办结")}
LEVEL_LABELS = {1: N_("督办"), 2: N_("挂牌督办")}
GROUP_LABELS = {"department": N_("按部门"), "item": N_("按事项"), "township": N_("按乡镇(街道)")}


def _scope(user) -> Scope:
    return Scope.of(user, unit_chain(user))


def _filters() -> tuple[CallFilters, dict]:
    """The list's filters from the query string; an unreadable value is ignored and named."""
    errors: dict[str, list[str]] = {}
    status = request.args.get("status") or None
    if status and status != "open" and status not in CALL_STATUSES:
        errors["status"] = [_("状态「%(v)s」不存在", v=status)]
        status = None
    filters = CallFilters(township=request.args.get("township") or None,
                          department=request.args.get("department") or None,
                          item_code=(request.args.get("item") or "").strip() or None, status=status,
                          overdue=True if request.args.get("overdue") == "1" else None,
                          escalated=True if request.args.get("escalated") == "1" else None,
                          date_from=_date_arg("from", errors), date_to=_date_arg("to", errors),
                          q=(request.args.get("q") or "").strip()[:100] or None)
    try:
        filters.check()
    except Invalid as err:
        errors.update(err.errors)
        filters.date_to = None
    return filters, errors


def _units(session, kinds) -> list[tuple[str, str]]:
    return [(code, short or name) for code, name, short in session.execute(
        select(Unit.code, Unit.name, Unit.short_name).where(Unit.kind.in_(kinds)).order_by(Unit.code)).all()]


@bp.get("/calls")
def call_ledger():
    with core().uow() as uow:
        session = uow.session
        user = page_user(session)
        scope = _scope(user)
        filters, errors = _filters()
        stmt = filtered(scope, filters)
        summary = counts(session, stmt)
        page = max(1, request.args.get("page", 1, type=int) or 1)
        rows = session.scalars(listing(stmt).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
        names = names_for(session, rows)
        return render_template(
            "calls/list.html", calls=[(c, ledger_row(c, names)) for c in rows], summary=summary, filters=filters,
            errors=errors, page=page, pages=max(1, -(-summary.total // PER_PAGE)), statuses=STATUS_LABELS,
            townships=_units(session, ("township",)), departments=_units(session, ("county_department",
                                                                                   "county_office")),
            levels=LEVEL_LABELS, formats=FORMATS, sees_statistics=scope.sees_statistics, args=request.args)


@bp.get("/calls/export")
def call_export():
    with core().uow() as uow:
        session = uow.session
        user = page_user(session)
        fmt = request.args.get("format", "xlsx")
        if fmt not in FORMATS:
            raise Invalid(_("导出格式只能是 xlsx 或 csv"), {"format": [_("导出格式只能是 xlsx 或 csv")]})
        filters, _errors = _filters()
        data = export_ledger(session, filtered(_scope(user), filters), fmt)
    mimetype = ("text/csv; charset=utf-8" if fmt == "csv" else
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    filename = export_filename(fmt, now().astimezone(SHANGHAI).date())
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/calls/<int:call_id>")
def call_page(call_id):
    with core().uow() as uow:
        session = uow.session
        user = page_user(session)
        call = session.get(CallRecord, call_id)
        if call is None:
            raise NotFound(_("登记表记录不存在"))
        visible = session.scalar(filtered(_scope(user), CallFilters()).where(CallRecord.id == call_id)
                                 .with_only_columns(func.count()))
        if not visible:
            raise Forbidden(_("您无权查看该登记表记录"))
        names = names_for(session, [call])
        return render_template("calls/detail.html", call=call, row=ledger_row(call, names), names=names,
                               levels=LEVEL_LABELS, statuses=STATUS_LABELS)


@bp.get("/calls/stats")
def call_stats():
    with core().uow() as uow:
        session = uow.session
        user = page_user(session)
        if not _scope(user).sees_statistics:
            raise Forbidden(_("只有县督查考核部门、县委编办、县级领导和管理员可以查看统计"))
        by = request.args.get("by", "department")
        by = by if by in GROUPS else "department"
        errors: dict[str, list[str]] = {}
        date_from, date_to = _date_arg("from", errors), _date_arg("to", errors)
        if date_from and date_to and date_from > date_to:
            errors["to"] = [_("结束日期不能早于开始日期")]
            date_to = None
        rows = statistics(session, by, date_from=date_from, date_to=date_to)
        range_args = {k: v.isoformat() for k, v in (("from", date_from), ("to", date_to)) if v}
        return render_template("calls/stats.html", rows=rows, by=by, groups=GROUP_LABELS, date_from=date_from,
                               date_to=date_to, range_args=range_args, errors=errors)
