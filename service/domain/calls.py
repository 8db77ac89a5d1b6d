"""The call ledger's rules (《"乡呼县应、上下联动"事项登记表》): what each step of a call writes into
its row, which limits apply, when a call is overdue and how it escalates.

The call procedure (processes/township_call*.bpmn) drives these functions through the helpers in
``call_helpers``, inside the engine step's transaction, so the ledger and the process never
disagree. Pure domain code: SQLAlchemy and the catalog, no SpiffWorkflow, no Flask.

Limits, as the catalog item in force when the call is registered defines them:
* 签收 (acknowledge) within ``acknowledge_hours`` clock hours of the call; yellow in the last
  quarter of that time.
* 办结 (close out) within ``handle_working_days`` working days of the call (调休 included);
  yellow ``warn_before_hours`` before that.
A department sent the call by the staffing office's arbitration (改派) starts both limits afresh;
the department kept by arbitration (维持) signs anew but keeps its original close-out limit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import event as sa_event, select
from sqlalchemy.orm import Session, object_session

from ..errors import Conflict, Invalid, NotFound
from ..models import InstanceEvent, Unit, User
from ..models.calls import ESCALATION_LEVELS, RATINGS, CallEvent, CallRating, CallRecord
from ..models.catalog import CatalogItem, CatalogVersion
from .calendar import SHANGHAI, WorkCalendar
from .catalog import item_in_force, item_snapshot, township_of, unit_register
from .directory import contacts_for

ACK_WARN_SHARE = 0.25            # yellow in the last quarter of the acknowledge limit
MAX_EXTENSION_DAYS = 30
LOCAL = "自行处理"
CALL = "呼叫县级部门"
KEEP, REASSIGN, RETURN = "维持原部门承办", "改派其他部门", "退回乡镇处理"
SENDBACK_REASONS = ("属地不符", "权属不清", "职能交叉")
PHASES = {"acknowledge": "签收", "handling": "办结"}


# --- small things ---------------------------------------------------------------------------------

def iso(moment: datetime | None) -> str | None:
    """Beijing wall-clock ISO text, as process data and forms carry times."""
    return moment.astimezone(SHANGHAI).isoformat() if moment is not None else None


def parse_time(value, field: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise Invalid("时间格式不正确", {field: [f"「{value}」不是有效的日期时间"]}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)  # forms send Beijing wall-clock time
    return moment


def _utc(moment: datetime | None) -> datetime | None:
    # SQLite hands back what was stored; compare everything in UTC.
    return moment.astimezone(timezone.utc) if moment is not None else None


def _text(value, limit: int = 4000) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text[:limit] or None


def unit_names(session: Session, codes) -> dict[str, str]:
    codes = {c for c in codes if c}
    if not codes:
        return {}
    rows = session.execute(select(Unit.code, Unit.name, Unit.short_name).where(Unit.code.in_(codes))).all()
    return {code: short or name for code, name, short in rows}


def call_of(session: Session, instance_id: int) -> CallRecord:
    call = session.scalars(select(CallRecord).where(CallRecord.instance_id == instance_id)).first()
    if call is None:
        raise NotFound(f"流程实例 {instance_id} 没有登记表记录")
    return call


# --- the ledger's own event log, with the person who acted --------------------------------------

ACTORS_KEY = "call_actors"


def add_event(session: Session, call: CallRecord, kind: str, message: str, now: datetime, *,
              level: int | None = None, unit: str | None = None, data: dict | None = None,
              after_task: tuple[int, str] | None = None) -> CallEvent:
    """Append to the call's log. ``after_task`` = (instance id, BPMN id of the user task just
    completed): the event names the person who completed it (see ``fill_actors``)."""
    event = CallEvent(call=call, at=now, kind=kind[:32], level=level, unit=unit, message=message, data=data)
    session.add(event)
    if after_task is not None:
        want_actor(session, after_task, event, "username", "user_name")
    return event


def want_actor(session: Session, after_task: tuple[int, str], target, username_attr: str | None,
               name_attr: str | None) -> None:
    session.info.setdefault(ACTORS_KEY, []).append((after_task, target, username_attr, name_attr))


def fill_actors(session: Session) -> None:
    """Name the people who completed the tasks the ledger's entries follow.

    The engine step that runs a helper does not know who completed the task; the service writes
    that as the ``task_completed`` event right after the step, in the same transaction. Before the
    transaction commits, each entry takes its person from that event."""
    wanted = session.info.pop(ACTORS_KEY, None)
    if not wanted:
        return
    pending = session.info.get("pending_events") or []
    cache: dict[tuple[int, str], tuple[int | None, str | None]] = {}
    for key, target, username_attr, name_attr in wanted:
        if key not in cache:
            cache[key] = _completed_by(session, pending, *key)
        user_id, username = cache[key]
        if username is None:
            continue
        if username_attr:
            setattr(target, username_attr, username)
        if name_attr:
            user = session.get(User, user_id) if user_id else None
            setattr(target, name_attr, user.display_name if user else username)


@sa_event.listens_for(Session, "before_commit")
def _name_actors_before_commit(session: Session) -> None:
    fill_actors(session)


@sa_event.listens_for(Session, "after_rollback")
def _forget_actors(session: Session) -> None:
    session.info.pop(ACTORS_KEY, None)


def _completed_by(session: Session, pending: list, instance_id: int, element_id: str):
    for row in reversed(pending):
        if (row.get("instance_id") == instance_id and row.get("element_id") == element_id
                and row.get("kind") == "task_completed"):
            return row.get("user_id"), row.get("username")
    with session.no_autoflush:
        row = session.execute(select(InstanceEvent.user_id, InstanceEvent.username)
                              .where(InstanceEvent.instance_id == instance_id,
                                     InstanceEvent.element_id == element_id,
                                     InstanceEvent.kind == "task_completed")
                              .order_by(InstanceEvent.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (None, None)


def _touch(call: CallRecord, now: datetime, status: str | None = None, holder_unit: str | None = None,
           holder_role: str | None = None) -> None:
    if status is not None:
        call.status = status
        call.holder_unit, call.holder_role = holder_unit, holder_role
    call.updated_at = now


# --- 上报 and 研判 ------------------------------------------------------------------------------------

def open_call(session: Session, instance_id: int, *, started_by: str, started_by_unit: str | None,
              now: datetime) -> CallRecord:
    """The ledger row of a new call: a grid worker's report, or a township office's own start."""
    if not started_by_unit:
        raise Invalid("发起人没有所属单位", {"started_by_unit": ["只有乡镇（街道）或村（社区）人员可以发起呼叫"]})
    township = township_of(unit_register(session), started_by_unit)
    starter = session.scalars(select(User).where(User.username == started_by)).first()
    grid = starter is not None and starter.has_role("grid_worker") and not starter.has_role("township_office")
    call = CallRecord(instance_id=instance_id, status="reporting" if grid else "triage", source="grid" if grid else "township",
                      township=township, reporter_username=started_by,
                      reporter_name=starter.display_name if starter else started_by, reporter_unit=started_by_unit,
                      attachments=[], main_units=[], coordinating_units=[], assists={}, evidence=[],
                      created_at=now, updated_at=now)
    if grid:
        call.holder_unit, call.holder_role = started_by_unit, "grid_worker"
    else:
        call.holder_unit, call.holder_role = township, "township_office"
    session.add(call)
    session.flush()
    call.number = f"HJ{now.astimezone(SHANGHAI):%Y%m%d}-{call.id:05d}"
    add_event(session, call, "opened", f"{'网格员上报' if grid else '乡镇（街道）直接发起'}：{call.reporter_name}", now,
              unit=started_by_unit)
    return call


def empty_report() -> dict:
    """The report's fields, empty: the report and triage forms start from it."""
    return {"place": "", "description": "", "found_at": None, "onsite_action": "", "photos": []}


def record_report(call: CallRecord, report: dict, now: datetime) -> None:
    """The problem as reported (or as the township office confirmed it at triage)."""
    report = report or {}
    call.place = _text(report.get("place"), 200)
    call.description = _text(report.get("description"))
    call.found_at = parse_time(report["found_at"], "report.found_at") if report.get("found_at") else None
    call.onsite_action = _text(report.get("onsite_action"))
    call.attachments = list(report.get("photos") or [])
    if call.reported_at is None:
        call.reported_at = now
    if call.status == "reporting":
        _touch(call, now, "triage", call.township, "township_office")
    else:
        _touch(call, now)


def record_triage(session: Session, call: CallRecord, *, item_code: str, decision: str, opinion: str | None,
                  now: datetime, after_task) -> dict:
    """The township office's judgement against the catalog in force. Returns the item snapshot,
    with ``township_leads`` when the township itself holds the main responsibility."""
    if decision not in (LOCAL, CALL):
        message = f"研判结论只能是「{LOCAL}」或「{CALL}」"
        raise Invalid(message, {"decision": [message]})
    item = item_snapshot(item_in_force(session, str(item_code), now), call.township)
    item["township_leads"] = call.township in item["main_units"]
    _set_item(call, item)
    call.triage_decision, call.triage_opinion, call.triaged_at = decision, _text(opinion), now
    local = decision == LOCAL or item["township_leads"]
    note = ""
    if decision == CALL and item["township_leads"]:
        note = "；该事项由乡镇（街道）承担主体责任，转乡镇自行处理"
    add_event(session, call, "triaged", f"研判：{item['code']} {item['name']}（清单第 {item['version']} 版），{decision}{note}",
              now, after_task=after_task)
    if local:
        _touch(call, now, "local", call.township, "township_office")
    else:
        _touch(call, now)
    return item


def _set_item(call: CallRecord, item: dict) -> None:
    call.item_code, call.item_name, call.area = item["code"], item["name"], item["area"]
    call.list_type, call.catalog_version = item["list_type"], item["version"]


def close_locally(session: Session, call: CallRecord, result: dict, now: datetime, after_task) -> None:
    result = result or {}
    call.measures = _text(result.get("measures"))
    call.result = _text(result.get("result"))
    call.evidence = list(result.get("evidence") or [])
    call.closed_at = now
    _touch(call, now, "closed_local")
    add_event(session, call, "closed_local", f"乡镇（街道）自行办结：{call.result or ''}", now, after_task=after_task)


# --- 登记 (the call) -----------------------------------------------------------------------------------

@dataclass
class Contact:
    person: str | None
    title: str | None
    phone: str | None
    username: str | None

    def label(self) -> str:
        if not self.person:
            return "名录中暂无该部门本事项联络员"
        return f"{self.person}（{self.title}，{self.phone}）"


def receiving_contact(session: Session, item_code: str, unit: str, version: int) -> Contact:
    """接呼人: the first directory contact of ``unit`` for the item in catalog ``version``."""
    try:
        rows = contacts_for(session, item_code, unit, version=version)
    except (NotFound, TypeError, KeyError):
        rows = []
    if not rows:
        return Contact(None, None, None, None)
    first = rows[0]
    return Contact(first.person, first.title, first.phone, first.user.username if first.user else None)


def registration_preview(session: Session, call: CallRecord, now: datetime, calendar: WorkCalendar) -> dict:
    """What the registration form shows read-only: everything the catalog and directory already
    know, as the version in force now defines it."""
    item = item_snapshot(item_in_force(session, call.item_code, now), call.township)
    plan = _dispatch_plan(session, item, call.township, now, calendar)
    names = unit_names(session, [call.township, plan.dept, *plan.assist_units])
    return {"number": call.number, "calling_unit": names.get(call.township, call.township),
            "call_time": iso(now), "item": f"{item['code']} {item['name']}（{item['area']}）",
            "catalog_version": f"第 {item['version']} 版",
            "main_department": names.get(plan.dept, plan.dept),
            "coordinating_departments": "、".join(names.get(u, u) for u in plan.assist_units) or "无",
            "receiver": plan.contact.label(),
            "acknowledge_limit": f"{item['limits']['acknowledge_hours']} 小时内签收（{_local(plan.ack_due)} 前）",
            "handle_limit": f"{item['limits']['handle_working_days']} 个工作日内办结（{_local(plan.handle_due)} 前）"}


def _local(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


@dataclass
class DispatchPlan:
    dept: str
    assist_units: list[str]
    contact: Contact
    ack_due: datetime
    ack_warn: datetime
    handle_due: datetime
    handle_warn: datetime


def _dispatch_plan(session, item: dict, township: str, now: datetime, calendar: WorkCalendar,
                   dept: str | None = None, handle_due: datetime | None = None) -> DispatchPlan:
    limits = item["limits"]
    dept = dept or item["main_units"][0]
    # The other main units share the lead's responsibility; they work in parallel, like the
    # coordinating units, while the first named one receives, handles and closes out.
    assist = [u for u in item["main_units"] + item["coordinating_units"] if u not in (dept, township)]
    ack_due = calendar.add_working_hours(now, limits["acknowledge_hours"])
    ack_warn = warning_time(now, ack_due, limits["acknowledge_hours"] * ACK_WARN_SHARE)
    handle_due = handle_due or calendar.add_working_days(now.astimezone(SHANGHAI), limits["handle_working_days"])
    handle_warn = warning_time(now, handle_due, limits["warn_before_hours"])
    contact = receiving_contact(session, item["code"], dept, item["version"])
    return DispatchPlan(dept, assist, contact, ack_due, ack_warn, handle_due, handle_warn)


def warning_time(start: datetime, due: datetime, hours_before: float) -> datetime:
    """When a limit turns yellow: ``hours_before`` its end, but never before it began (then in
    its last quarter)."""
    warn = due - timedelta(hours=hours_before)
    if warn <= start:
        warn = due - (due - start) * ACK_WARN_SHARE
    return warn


def register_call(session: Session, call: CallRecord, *, problem: str, request: str, now: datetime,
                  calendar: WorkCalendar, after_task) -> dict:
    """呼叫: the departments, the receiving contact and both limits from the catalog version in
    force now. Returns the facts the rest of the procedure runs on (``call`` in process data)."""
    if call.item_code is None:
        raise Conflict("尚未研判，不能登记呼叫")
    item = item_snapshot(item_in_force(session, call.item_code, now), call.township)
    if call.township in item["main_units"]:
        message = "乡镇（街道）承担主体责任的事项不呼叫县级部门"
        raise Invalid(message, {"item_code": [message]})
    _set_item(call, item)
    plan = _dispatch_plan(session, item, call.township, now, calendar)
    call.main_units, call.coordinating_units = list(item["main_units"]), list(item["coordinating_units"])
    call.department = plan.dept
    call.calling_unit = call.township
    call.called_at = now
    call.problem, call.request = _text(problem), _text(request)
    _dispatch(call, plan)
    call.original_handle_due_at = plan.handle_due
    want_actor(session, after_task, call, "caller_username", "caller_name")
    _touch(call, now, "receiving", plan.dept, "department")
    add_event(session, call, "called", f"呼叫县级部门：{_names(session, [plan.dept])}（接呼人 {plan.contact.label()}），"
                                       f"签收期限 {_local(plan.ack_due)}，办结期限 {_local(plan.handle_due)}",
              now, unit=plan.dept, after_task=after_task,
              data={"catalog_version": item["version"], "main_units": item["main_units"],
                    "coordinating_units": item["coordinating_units"]})
    return facts(call, plan)


def _dispatch(call: CallRecord, plan: DispatchPlan) -> None:
    call.department = plan.dept
    call.receiver_contact = plan.contact.label()[:100] if plan.contact.person else None
    call.receiver_phone = plan.contact.phone
    call.acknowledge_due_at = plan.ack_due
    call.acknowledged_at = None
    call.handle_due_at = plan.handle_due
    call.assists = {u: {"due_at": iso(plan.handle_due), "done_at": None, "result": None, "overdue": False}
                    for u in plan.assist_units}


def facts(call: CallRecord, plan: DispatchPlan) -> dict:
    return {"number": call.number, "dept": plan.dept, "assist_units": list(plan.assist_units),
            "receiver": plan.contact.label(), "catalog_version": call.catalog_version,
            "ack_due": iso(plan.ack_due), "ack_warn": iso(plan.ack_warn),
            "handle_due": iso(plan.handle_due), "handle_warn": iso(plan.handle_warn)}


def _names(session, codes) -> str:
    names = unit_names(session, codes)
    return "、".join(names.get(c, c) for c in codes)


def call_display(session: Session, call: CallRecord) -> dict:
    """The call as task forms show it read-only (every value text, never None)."""
    names = unit_names(session, [call.township, call.department, *call.assists])
    return {"number": call.number or "", "township": names.get(call.township, call.township),
            "called_at": _local(call.called_at) if call.called_at else "",
            "item": f"{call.item_code} {call.item_name}（清单第 {call.catalog_version} 版）" if call.item_code else "",
            "problem": call.problem or call.description or "", "request": call.request or "",
            "department": names.get(call.department, call.department or ""),
            "coordinating": "、".join(names.get(u, u) for u in call.assists) or "无",
            "receiver": call.receiver_contact or "",
            "acknowledge_due": _local(call.acknowledge_due_at) if call.acknowledge_due_at else "",
            "handle_due": _local(call.handle_due_at) if call.handle_due_at else ""}


# --- 签收, 退单, 审定 ------------------------------------------------------------------------------------

def record_receipt(session: Session, call: CallRecord, now: datetime, note: str | None, after_task) -> None:
    call.acknowledged_at = now
    if _utc(now) > _utc(call.acknowledge_due_at):
        call.acknowledge_overdue = call.overdue = True
    want_actor(session, after_task, call, "receiver_username", "receiver_name")
    late = "（已超过签收期限）" if call.acknowledge_overdue else ""
    add_event(session, call, "received", f"{_names(session, [call.department])}已签收{late}{'：' + note if note else ''}",
              now, unit=call.department, after_task=after_task)
    _touch(call, now, "handling", call.department, "department")


def record_sendback(session: Session, call: CallRecord, reason: str, detail: str | None, now: datetime,
                    after_task) -> None:
    if reason not in SENDBACK_REASONS:
        message = f"退单理由只能是：{'、'.join(SENDBACK_REASONS)}"
        raise Invalid(message, {"return_reason": [message]})
    call.sendback_count += 1
    add_event(session, call, "sent_back", f"{_names(session, [call.department])}退单：{reason}{'，' + detail if detail else ''}",
              now, unit=call.department, after_task=after_task, data={"reason": reason, "detail": detail})
    _touch(call, now, "arbitration", None, "staffing_office")


def arbitration_preview(session: Session, call: CallRecord) -> dict:
    """What the staffing office sees read-only: the item's units with their codes."""
    names = unit_names(session, [*call.main_units, *call.coordinating_units, call.department])
    listed = lambda codes: "、".join(f"{names.get(c, c)}（{c}）" for c in codes) or "无"  # noqa: E731
    last = next((e for e in reversed(call.events) if e.kind == "sent_back"), None)
    return {"item": f"{call.item_code} {call.item_name}（清单第 {call.catalog_version} 版）",
            "department": f"{names.get(call.department, call.department)}（{call.department}）",
            "main_units": listed(call.main_units), "coordinating_units": listed(call.coordinating_units),
            "sendback": last.message if last else ""}


def record_arbitration(session: Session, call: CallRecord, *, decision: str, department: str | None,
                       opinion: str | None, now: datetime, calendar: WorkCalendar, after_task) -> dict:
    """县委编办审定: keep the department, send the call to another one, or return it to the township
    as its own matter. Returns ``{"outcome", "call"}`` (the new call facts when dispatched)."""
    if decision == RETURN:
        add_event(session, call, "arbitrated", f"县委编办审定：{RETURN}（{opinion or ''}）", now, after_task=after_task,
                  data={"decision": decision})
        _touch(call, now, "local", call.township, "township_office")
        return {"outcome": "township", "call": None}
    if decision not in (KEEP, REASSIGN):
        message = f"审定结论只能是：{KEEP}、{REASSIGN}、{RETURN}"
        raise Invalid(message, {"decision": [message]})
    item = _item_of_call(call)
    if decision == REASSIGN:
        target = (department or "").strip()
        unit = session.scalars(select(Unit).where(Unit.code == target)).first()
        if unit is None or unit.kind not in ("county_department", "county_office"):
            message = f"改派部门「{target}」不是县级部门的单位代码"
            raise Invalid(message, {"department": [message]})
        if target == call.department:
            message = "改派部门不能是退单的部门；维持原部门请选择「维持原部门承办」"
            raise Invalid(message, {"department": [message]})
        plan = _dispatch_plan(session, item, call.township, now, calendar, dept=target)
        call.original_handle_due_at = plan.handle_due
    else:
        plan = _dispatch_plan(session, item, call.township, now, calendar, dept=call.department,
                              handle_due=call.handle_due_at)
    _dispatch(call, plan)
    _touch(call, now, "receiving", plan.dept, "department")
    add_event(session, call, "arbitrated", f"县委编办审定：{decision}，由{_names(session, [plan.dept])}承办"
                                           f"（{opinion or ''}），签收期限 {_local(plan.ack_due)}", now,
              unit=plan.dept, after_task=after_task, data={"decision": decision, "department": plan.dept})
    return {"outcome": "dispatch", "call": facts(call, plan)}


def _item_of_call(call: CallRecord) -> dict:
    """The item as the call registered it (its catalog version's units and limits)."""
    return {"code": call.item_code, "version": call.catalog_version, "main_units": list(call.main_units),
            "coordinating_units": list(call.coordinating_units), "limits": call_limits(call)}


def call_limits(call: CallRecord) -> dict:
    """The limits of the item in the catalog version the call was registered under (published
    versions never change, so this is what applied then)."""
    session = object_session(call)
    row = session.execute(select(CatalogItem.acknowledge_hours, CatalogItem.handle_working_days,
                                 CatalogItem.warn_before_hours)
                          .join(CatalogVersion, CatalogVersion.id == CatalogItem.version_id)
                          .where(CatalogVersion.number == call.catalog_version,
                                 CatalogItem.code == call.item_code)).first()
    if row is None:
        raise NotFound(f"清单第 {call.catalog_version} 版中没有事项「{call.item_code}」")
    return {"acknowledge_hours": row[0], "handle_working_days": row[1], "warn_before_hours": row[2]}


# --- 办理, 配合, 延期, 销号 --------------------------------------------------------------------------------

def record_progress(session: Session, call: CallRecord, progress: dict, now: datetime, after_task) -> None:
    progress = progress or {}
    text = "；".join(f"{label}：{progress[key]}" for key, label in
                     (("reported_to", "已汇报"), ("measures", "处置措施")) if progress.get(key))
    add_event(session, call, "handling", f"办理情况：{text or '（未填写）'}", now, unit=call.department,
              after_task=after_task)


def request_extension(session: Session, call: CallRecord, days: int, reason: str | None, now: datetime,
                      after_task) -> bool:
    """延期申请: accepted once per call and only before the close-out limit passed. Returns
    whether it goes to the supervision office."""
    refusal = None
    if call.extension_status is not None:
        refusal = "本事项已申请过延期，每件事项只能申请一次"
    elif _utc(now) > _utc(call.handle_due_at):
        refusal = "已超过办结期限，不能再申请延期"
    elif not 1 <= int(days) <= MAX_EXTENSION_DAYS:
        refusal = f"延期天数应在 1 至 {MAX_EXTENSION_DAYS} 个工作日之间"
    if refusal:
        add_event(session, call, "extension_refused", f"延期申请不予受理：{refusal}", now, unit=call.department,
                  after_task=after_task)
        return False
    call.extension_status, call.extension_days = "requested", int(days)
    add_event(session, call, "extension_requested", f"申请延期 {days} 个工作日：{reason or ''}", now,
              unit=call.department, after_task=after_task, data={"days": int(days)})
    _touch(call, now, "extension", None, "supervision")
    return True


def decide_extension(session: Session, call: CallRecord, *, approved: bool, days: int | None, opinion: str | None,
                     now: datetime, calendar: WorkCalendar, after_task) -> dict:
    """The supervision office's decision; an approval moves the close-out limit by working days."""
    if approved:
        days = int(days or call.extension_days or 0)
        if not 1 <= days <= MAX_EXTENSION_DAYS:
            message = f"延期天数应在 1 至 {MAX_EXTENSION_DAYS} 个工作日之间"
            raise Invalid(message, {"days": [message]})
        call.handle_due_at = calendar.add_working_days(call.handle_due_at.astimezone(SHANGHAI), days)
        call.extension_status, call.extension_days = "approved", days
        message = f"同意延期 {days} 个工作日，办结期限延至 {_local(call.handle_due_at)}"
    else:
        call.extension_status = "refused"
        message = f"不同意延期，办结期限仍为 {_local(call.handle_due_at)}"
    add_event(session, call, "extension_decided", f"{message}（{opinion or ''}）", now, after_task=after_task,
              data={"approved": approved, "days": days if approved else None})
    _touch(call, now, "handling", call.department, "department")
    return handling_facts(call)


def handling_facts(call: CallRecord) -> dict:
    limits = call_limits(call)
    due = call.handle_due_at
    start = call.called_at or due
    return {"handle_due": iso(due), "handle_warn": iso(warning_time(start, due, limits["warn_before_hours"]))}


def record_assist(session: Session, call: CallRecord, unit: str, result: dict, now: datetime, after_task) -> None:
    """One coordinating department's part is done."""
    result = result or {}
    assists = dict(call.assists or {})
    entry = dict(assists.get(unit) or {"due_at": iso(call.handle_due_at)})
    due = parse_time(entry["due_at"], "due_at") if entry.get("due_at") else None
    entry.update(done_at=iso(now), result=_text(result.get("result"), 1000),
                 overdue=bool(due and _utc(now) > _utc(due)))
    assists[unit] = entry
    call.assists = assists
    late = "（超过期限）" if entry["overdue"] else ""
    add_event(session, call, "assisted", f"{_names(session, [unit])}配合办理完毕{late}：{entry['result'] or ''}",
              now, unit=unit, after_task=after_task)
    _touch(call, now)


def record_close_out(session: Session, call: CallRecord, result: dict, now: datetime, calendar: WorkCalendar,
                     after_task) -> None:
    """销号 by the main department: what was done, the result, the evidence."""
    result = result or {}
    call.measures = _text(result.get("measures"))
    call.result = _text(result.get("result"))
    call.evidence = list(result.get("evidence") or [])
    call.closed_out_at = now
    if _utc(now) > _utc(call.handle_due_at):
        call.handle_overdue = call.overdue = True
    call.handling_working_days = round(calendar.working_days_between(call.called_at, now), 2)
    want_actor(session, after_task, call, None, "closer_name")
    late = "（超过办结期限）" if _utc(now) > _utc(call.handle_due_at) else ""
    add_event(session, call, "closed_out", f"{_names(session, [call.department])}销号{late}：{call.result or ''}",
              now, unit=call.department, after_task=after_task)
    _touch(call, now, "confirming", call.township, "township_office")


# --- 确认评价 and 重办 --------------------------------------------------------------------------------

def record_rating(session: Session, call: CallRecord, rating: str, reason: str | None, now: datetime,
                  after_task) -> bool:
    """The calling township confirms and rates. Returns True when the call goes back to the
    department (不满意, the first time only: 重办)."""
    if rating not in RATINGS:
        message = f"评价只能是：{'、'.join(RATINGS)}"
        raise Invalid(message, {"rating": [message]})
    rating_row = CallRating(call=call, round=len(call.ratings) + 1, rating=rating, reason=_text(reason),
                            department=call.department, township=call.township, rated_at=now)
    session.add(rating_row)
    want_actor(session, after_task, rating_row, "rater_username", "rater_name")
    call.rating, call.rating_reason, call.confirmed_at = rating, _text(reason), now
    redo = rating == "不满意" and call.redo_count == 0
    add_event(session, call, "rated", f"乡镇（街道）评价：{rating}{'，' + reason if reason else ''}"
                                      f"{'；退回重办' if redo else ''}", now, after_task=after_task)
    if redo:
        return True
    call.closed_at = now
    _touch(call, now, "closed")
    return False


def start_redo(session: Session, call: CallRecord, now: datetime, calendar: WorkCalendar) -> dict:
    """重办: the main department handles again, within a fresh close-out limit."""
    limits = call_limits(call)
    call.redo_count += 1
    call.closed_out_at = None
    call.handle_due_at = calendar.add_working_days(now.astimezone(SHANGHAI), limits["handle_working_days"])
    add_event(session, call, "redo", f"退回{_names(session, [call.department])}重办，办结期限 {_local(call.handle_due_at)}",
              now, unit=call.department)
    _touch(call, now, "handling", call.department, "department")
    return {**handling_facts(call), "dept": call.department, "assist_units": []}


# --- limits passed: warnings and escalation ---------------------------------------------------------

def phase_of(call: CallRecord) -> str | None:
    """Which limit currently runs: 签收 while waiting for the department, then 办结."""
    if call.status == "receiving":
        return "acknowledge"
    if call.status in ("handling", "extension"):
        return "handling"
    return None


def current_due(call: CallRecord) -> datetime | None:
    phase = phase_of(call)
    if phase == "acknowledge":
        return call.acknowledge_due_at
    if phase == "handling":
        return call.handle_due_at
    return None


def is_overdue(call: CallRecord, now: datetime) -> bool:
    due = current_due(call)
    return due is not None and _utc(now) >= _utc(due)


def remind(session: Session, call: CallRecord, now: datetime) -> tuple[str | None, datetime | None]:
    """The yellow warning: ``(message, None)`` once it is recorded on the ledger for the
    department; ``(None, later)`` when an extension moved it to ``later``; ``(None, None)`` when
    the limit it was set for no longer runs (received, closed out)."""
    due = current_due(call)
    if due is None or _utc(now) >= _utc(due):
        return None, None
    phase = phase_of(call)
    if phase == "handling":
        warn_at = warning_time(call.called_at, due, call_limits(call)["warn_before_hours"])
        if _utc(now) < _utc(warn_at):
            return None, warn_at
    message = f"{PHASES[phase]}期限 {_local(due)} 即将届满，请{_names(session, [call.department])}抓紧办理"
    add_event(session, call, "reminder", message, now, unit=call.department)
    _touch(call, now)
    return message, None


def escalate(session: Session, call: CallRecord, level: int, now: datetime) -> str:
    """Report the overdue call to the supervision office (level 1, 督办), or, still overdue at the
    supervision deadline, put it under listed supervision (level 2, 挂牌督办)."""
    phase = phase_of(call) or "handling"
    if phase == "acknowledge":
        call.acknowledge_overdue = True
    else:
        call.handle_overdue = True
    call.overdue = True
    call.escalation_level = max(call.escalation_level, level)
    due = current_due(call)
    if level == 1:
        message = (f"{_names(session, [call.department])}超过{PHASES[phase]}期限（{_local(due) if due else ''}），"
                   f"乡镇（街道）党政办公室报县督查考核部门督办")
    else:
        message = (f"督办期限（{_local(call.supervision_due_at) if call.supervision_due_at else ''}）届满仍未"
                   f"{PHASES[phase]}，{_names(session, [call.department])}被挂牌督办")
    add_event(session, call, "escalation", message, now, level=level, unit=call.department,
              data={"phase": phase, "level": level, "level_name": ESCALATION_LEVELS[level]})
    _touch(call, now)
    return message


def record_supervision(session: Session, call: CallRecord, new_due, instructions: str | None, now: datetime,
                       after_task) -> datetime:
    """The supervision office's new deadline and instructions."""
    due = parse_time(new_due, "new_due")
    if _utc(due) <= _utc(now):
        raise Invalid("督办期限必须晚于现在", {"new_due": ["督办期限必须晚于现在"]})
    call.supervision_due_at = due
    call.supervision_note = _text(instructions)
    add_event(session, call, "supervised", f"督办要求：{instructions or ''}；限 {_local(due)} 前"
                                           f"{PHASES.get(phase_of(call) or 'handling')}", now, level=1,
              unit=call.department, after_task=after_task)
    _touch(call, now)
    return due
