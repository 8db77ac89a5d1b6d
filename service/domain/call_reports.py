"""Reading the call ledger: who may see which calls, filtered lists and counts, the 事项登记表
export (XLSX/CSV) and the statistics by item and department that feed the catalog's dynamic
adjustment and the departments' (reverse) evaluation.

Pure domain code (SQLAlchemy): the API and the pages call it.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import String, and_, case, cast, false, func, or_, select, true
from sqlalchemy.orm import Session

from ..errors import Invalid
from ..models import User
from ..models.calls import CALL_STATUSES, ESCALATION_LEVELS, OPEN_STATUSES, RATINGS, SOURCES, CallRecord
from .calendar import SHANGHAI
from .calls import unit_names

# Roles that see every call of the county.
COUNTY_WIDE_ROLES = ("admin", "supervision", "staffing_office", "county_leadership")
FORMATS = ("xlsx", "csv")
SATISFIED = ("满意", "基本满意")


# --- who sees what --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """The calls one user may read: everything, or those of their townships, their departments
    (as lead or coordinating unit) and the ones they reported."""
    everything: bool = False
    townships: frozenset = frozenset()
    departments: frozenset = frozenset()
    reporter: str | None = None

    @classmethod
    def of(cls, user: User, unit_codes: set[str]) -> "Scope":
        """``unit_codes``: the user's unit and every unit above it."""
        if user.is_admin or any(user.has_role(r) for r in COUNTY_WIDE_ROLES):
            return cls(everything=True)
        townships = frozenset(unit_codes) if user.has_role("township_office") else frozenset()
        departments = frozenset(unit_codes) if user.has_role("department") else frozenset()
        reporter = user.username if user.has_role("grid_worker") else None
        return cls(False, townships, departments, reporter)

    @property
    def sees_statistics(self) -> bool:
        return self.everything

    def condition(self):
        if self.everything:
            return true()
        parts = []
        if self.townships:
            parts.append(CallRecord.township.in_(sorted(self.townships)))
        for unit in sorted(self.departments):
            parts.append(CallRecord.department == unit)
            # A coordinating unit is a key of the ``assists`` JSON object.
            parts.append(cast(CallRecord.assists, String).like(f'%"{unit}"%'))
        if self.reporter:
            parts.append(CallRecord.reporter_username == self.reporter)
        return or_(*parts) if parts else false()


# --- filters --------------------------------------------------------------------------------------

@dataclass
class CallFilters:
    township: str | None = None
    department: str | None = None
    item_code: str | None = None
    status: str | None = None           # a status key, or "open" for every unfinished one
    overdue: bool | None = None
    escalated: bool | None = None
    date_from: date | None = None       # 呼叫（或上报）日期, Beijing calendar days, inclusive
    date_to: date | None = None
    instance_id: int | None = None
    q: str | None = None

    def check(self) -> None:
        if self.status and self.status != "open" and self.status not in CALL_STATUSES:
            raise Invalid("状态有误", {"status": [f"状态只能是 open 或 {'、'.join(CALL_STATUSES)}"]})
        for name in ("date_from", "date_to"):
            day = getattr(self, name)
            if day and not FIRST_DAY <= day <= LAST_DAY:
                raise Invalid("日期超出范围", {name: [f"日期应在 {FIRST_DAY.year} 年至 {LAST_DAY.year} 年之间"]})
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise Invalid("日期范围有误", {"date_to": ["结束日期不能早于开始日期"]})


# Dates a report may ask for: wide enough for any record, narrow enough for every date type.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


def call_day():
    """When a call counts for date ranges: its call time, or when it was opened (local handling)."""
    return func.coalesce(CallRecord.called_at, CallRecord.created_at)


def filtered(scope: Scope, filters: CallFilters):
    filters.check()
    stmt = select(CallRecord).where(scope.condition())
    if filters.township:
        stmt = stmt.where(CallRecord.township == filters.township)
    if filters.department:
        stmt = stmt.where(CallRecord.department == filters.department)
    if filters.item_code:
        stmt = stmt.where(CallRecord.item_code == filters.item_code)
    if filters.status == "open":
        stmt = stmt.where(CallRecord.status.in_(OPEN_STATUSES))
    elif filters.status:
        stmt = stmt.where(CallRecord.status == filters.status)
    if filters.overdue is not None:
        stmt = stmt.where(CallRecord.overdue.is_(filters.overdue))
    if filters.escalated is not None:
        stmt = stmt.where((CallRecord.escalation_level > 0) if filters.escalated else (CallRecord.escalation_level == 0))
    if filters.date_from:
        stmt = stmt.where(call_day() >= _day_start(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(call_day() < _day_start(filters.date_to + timedelta(days=1)))
    if filters.instance_id:
        stmt = stmt.where(CallRecord.instance_id == filters.instance_id)
    for word in (filters.q or "").split():
        pattern = f"%{word.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(CallRecord.number.ilike(pattern), CallRecord.place.ilike(pattern),
                              CallRecord.description.ilike(pattern), CallRecord.problem.ilike(pattern),
                              CallRecord.item_name.ilike(pattern)))
    return stmt


def listing(stmt):
    return stmt.order_by(call_day().desc(), CallRecord.id.desc())


@dataclass
class CallCounts:
    total: int = 0
    open: int = 0
    overdue: int = 0
    escalated: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"total": self.total, "open": self.open, "overdue": self.overdue, "escalated": self.escalated,
                "by_status": self.by_status}


def counts(session: Session, stmt) -> CallCounts:
    """Counts over the filtered calls (one query for the totals, one by status)."""
    sub = stmt.order_by(None).subquery()
    total, overdue, escalated = session.execute(select(
        func.count(), func.coalesce(func.sum(case((sub.c.overdue.is_(True), 1), else_=0)), 0),
        func.coalesce(func.sum(case((sub.c.escalation_level > 0, 1), else_=0)), 0)).select_from(sub)).one()
    by_status = dict(session.execute(select(sub.c.status, func.count()).group_by(sub.c.status)).all())
    return CallCounts(total, sum(n for s, n in by_status.items() if s in OPEN_STATUSES), int(overdue),
                      int(escalated), {s: by_status[s] for s in CALL_STATUSES if s in by_status})


# --- the 事项登记表 export -----------------------------------------------------------------------------

COLUMNS = (
    ("number", "登记编号"), ("status", "状态"), ("township", "呼叫单位（乡镇、街道）"), ("source", "来源"),
    ("reporter", "上报人"), ("place", "发现地点"), ("description", "问题描述（上报）"), ("found_at", "发现时间"),
    ("onsite_action", "现场处置（劝告制止）"), ("item_code", "事项编码"), ("item_name", "事项名称"),
    ("catalog_version", "清单版本"), ("triage_decision", "研判结论"), ("caller", "呼叫人"), ("called_at", "呼叫时间"),
    ("problem", "呼叫问题"), ("request", "呼叫请求"), ("department", "主体责任部门"), ("coordinating", "配合责任部门"),
    ("receiver_contact", "接呼人（名录）"), ("receiver", "签收人"), ("acknowledge_due_at", "签收期限"),
    ("acknowledged_at", "签收时间"), ("handle_due_at", "办结期限"), ("closed_out_at", "销号时间"), ("closer", "销号人"),
    ("result", "办理结果"), ("handling_working_days", "办理用时（工作日）"), ("overdue", "是否超期"),
    ("escalation", "督办情况"), ("sendback_count", "退单次数"), ("extension", "延期"), ("redo_count", "重办次数"),
    ("rating", "评价"), ("rating_reason", "评价说明"), ("holder", "当前承办"), ("instance_id", "流程实例"),
)
_EXTENSION_NAMES = {"requested": "申请中", "approved": "已同意", "refused": "未同意"}
_WIDTHS = {"description": 40, "problem": 40, "request": 30, "result": 40, "onsite_action": 30, "item_name": 24,
           "place": 20, "coordinating": 30, "receiver_contact": 30}


def _local(moment: datetime | None) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else ""


def ledger_row(call: CallRecord, names: dict[str, str]) -> dict:
    """One call as the 事项登记表 shows it: every value text or a number, units by name."""
    extension = _EXTENSION_NAMES.get(call.extension_status or "", "")
    if call.extension_status == "approved":
        extension += f"（{call.extension_days} 个工作日）"
    return {
        "number": call.number or "", "status": CALL_STATUSES.get(call.status, call.status),
        "township": names.get(call.township, call.township), "source": SOURCES.get(call.source, call.source),
        "reporter": call.reporter_name or "", "place": call.place or "", "description": call.description or "",
        "found_at": _local(call.found_at), "onsite_action": call.onsite_action or "",
        "item_code": call.item_code or "", "item_name": call.item_name or "",
        "catalog_version": call.catalog_version or "", "triage_decision": call.triage_decision or "",
        "caller": call.caller_name or "", "called_at": _local(call.called_at), "problem": call.problem or "",
        "request": call.request or "", "department": names.get(call.department, call.department or ""),
        "coordinating": "、".join(names.get(u, u) for u in (call.assists or {})),
        "receiver_contact": call.receiver_contact or "", "receiver": call.receiver_name or "",
        "acknowledge_due_at": _local(call.acknowledge_due_at), "acknowledged_at": _local(call.acknowledged_at),
        "handle_due_at": _local(call.handle_due_at), "closed_out_at": _local(call.closed_out_at),
        "closer": call.closer_name or "", "result": call.result or "",
        "handling_working_days": call.handling_working_days if call.handling_working_days is not None else "",
        "overdue": "是" if call.overdue else "否",
        "escalation": ESCALATION_LEVELS[call.escalation_level] if call.escalation_level else "",
        "sendback_count": call.sendback_count, "extension": extension, "redo_count": call.redo_count,
        "rating": call.rating or "", "rating_reason": call.rating_reason or "",
        "holder": names.get(call.holder_unit, call.holder_unit or "") if call.is_open else "",
        "instance_id": call.instance_id,
    }


def names_for(session: Session, calls) -> dict[str, str]:
    codes = set()
    for call in calls:
        codes |= {call.township, call.department, call.holder_unit, *(call.assists or {})}
    return unit_names(session, codes)


def export_rows(session: Session, stmt) -> tuple[list[str], list[list]]:
    calls = session.scalars(listing(stmt)).all()
    names = names_for(session, calls)
    rows = [ledger_row(c, names) for c in calls]
    return [label for _, label in COLUMNS], [[row[key] for key, _ in COLUMNS] for row in rows]


def export_ledger(session: Session, stmt, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise Invalid("导出格式有误", {"format": [f"格式只能是 {'、'.join(FORMATS)} 之一"]})
    header, rows = export_rows(session, stmt)
    if fmt == "csv":
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows([[_csv_safe(v) for v in row] for row in rows])
        return buffer.getvalue().encode("utf-8-sig")  # the BOM makes Excel read the Chinese correctly
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "事项登记表"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for (key, _), cell in zip(COLUMNS, sheet[1]):
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = _WIDTHS.get(key, 14)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text starting with "=" stays text, never a formula
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "B2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _csv_safe(value):
    # A cell a spreadsheet would read as a formula is written as text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def export_filename(fmt: str, today: date) -> str:
    return f"call-ledger-{today:%Y%m%d}.{fmt}"


# --- statistics ---------------------------------------------------------------------------------

GROUPS = {"item": (CallRecord.item_code,), "department": (CallRecord.department,), "township": (CallRecord.township,)}


@dataclass
class StatRow:
    key: str
    name: str
    calls: int                 # calls registered (county departments called)
    local: int                 # handled by the township itself (item statistics)
    closed_out: int
    on_time: int
    decided: int               # closed out, or already overdue: the base of the on-time rate
    avg_handling_days: float | None
    escalated: int
    listed: int                # 挂牌督办
    sendbacks: int
    ratings: dict[str, int]

    @property
    def on_time_rate(self) -> float | None:
        return round(self.on_time / self.decided, 4) if self.decided else None

    @property
    def satisfaction_rate(self) -> float | None:
        rated = sum(self.ratings.values())
        return round(sum(self.ratings.get(r, 0) for r in SATISFIED) / rated, 4) if rated else None

    def as_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "calls": self.calls, "local": self.local,
                "closed_out": self.closed_out, "on_time": self.on_time, "decided": self.decided,
                "on_time_rate": self.on_time_rate, "avg_handling_days": self.avg_handling_days,
                "escalated": self.escalated, "listed": self.listed, "sendbacks": self.sendbacks,
                "ratings": self.ratings, "rated": sum(self.ratings.values()),
                "satisfaction_rate": self.satisfaction_rate}


def statistics(session: Session, by: str, *, date_from: date | None = None, date_to: date | None = None,
               township: str | None = None) -> list[StatRow]:
    """Per catalog item, department or township: calls, on-time rate, average handling time in
    working days, escalations and the townships' satisfaction. A call counts as on time when it
    was closed out within its limits (acknowledge and close-out, extensions included)."""
    if by not in GROUPS:
        raise Invalid("统计维度有误", {"by": [f"统计维度只能是 {'、'.join(GROUPS)} 之一"]})
    filters = CallFilters(township=township, date_from=date_from, date_to=date_to)
    sub = filtered(Scope(everything=True), filters).subquery()
    key = getattr(sub.c, GROUPS[by][0].key)
    called = sub.c.called_at.isnot(None)
    decided = and_(called, or_(sub.c.closed_out_at.isnot(None), sub.c.overdue.is_(True)))

    def count_if(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    rows = session.execute(select(
        key, func.max(sub.c.item_name), count_if(called), count_if(sub.c.status == "closed_local"),
        count_if(sub.c.closed_out_at.isnot(None)),
        count_if(and_(sub.c.closed_out_at.isnot(None), sub.c.overdue.is_(False))), count_if(decided),
        func.avg(sub.c.handling_working_days), count_if(sub.c.escalation_level >= 1),
        count_if(sub.c.escalation_level >= 2), func.coalesce(func.sum(sub.c.sendback_count), 0),
        *[count_if(sub.c.rating == r) for r in RATINGS],
    ).where(key.isnot(None)).group_by(key).order_by(key)).all()
    names = unit_names(session, [r[0] for r in rows]) if by != "item" else {}
    result = []
    for row in rows:
        code, item_name, calls, local, closed_out, on_time, decided_n, avg_days, escalated, listed, sendbacks, *rated = row
        name = item_name if by == "item" else names.get(code, code)
        result.append(StatRow(code, name or code, int(calls), int(local), int(closed_out), int(on_time),
                              int(decided_n), round(float(avg_days), 2) if avg_days is not None else None,
                              int(escalated), int(listed), int(sendbacks),
                              {r: int(n) for r, n in zip(RATINGS, rated)}))
    return result
