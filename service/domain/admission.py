"""Admission of temporary tasks (交办事项准入): the special explanation, the townships' written
opinions, the register of admitted tasks, and the townships' right to refuse anything else.

Seed rule: a temporary or phased task that is not on the catalog may be handed to townships only
after the department's special explanation, a written consultation of the townships, review by the
county staffing office and justice bureau and approval by the county leadership, and it comes with
funding, staff and technical support. A task neither on the catalog nor in the register may be
refused by the township; the refusal is recorded with the rule it relies on.

The functions at the end are the BPMN helpers of processes/temporary_task_admission.bpmn.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Mapping

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..engine import clock
from ..engine.helpers import current, helper
from ..errors import Forbidden, Invalid, NotFound
from ..models import Unit, User
from ..models.admission import OPINIONS, AdmissionConsultation, AdmittedTask, AdmittedTaskTownship, TaskDecline
from .calendar import SHANGHAI, WorkCalendar
from .catalog import item_in_force, like_pattern, unit_register, version_in_force
from .calls import want_actor
from .catalog_rules import COUNTY_KINDS, TOWNSHIP_KINDS

DECLINE_RULE = ("依据属地管理交办事项准入制度：未列入属地管理事项清单、也未经专项说明、书面征求乡镇（街道）意见、"
                "县级机构编制部门和司法行政部门审核并报县级党委政府批准的临时性、阶段性事务，乡镇（街道）可以拒绝承接。")
# A temporary or phased task lasts at most a year; anything longer belongs on the catalog.
MAX_PERIOD_DAYS = 366
CONSULT_DAYS = (2, 15)
ANSWERS = ("agree", "conditional", "disagree")
STATUS_NAMES = {"pending": "未开始", "active": "实施中", "expired": "已到期"}
TEXT_FIELDS = {"title": "事项名称", "content": "工作内容", "reason": "交由乡镇办理的理由", "basis": "依据",
               "main_responsibility": "主要责任", "coordinating_responsibility": "配合责任", "procedure": "办事流程",
               "guarantee_measures": "保障措施", "funding": "经费保障", "staffing": "人员保障",
               "technical_support": "技术保障"}
FIELD = "application"
CONSULT_ELEMENT = "adm_consult"     # the written-consultation task of processes/temporary_task_admission.bpmn


def local_today(now: datetime) -> date:
    return now.astimezone(SHANGHAI).date()


def _date(application: Mapping, key: str, label: str) -> date:
    try:
        return date.fromisoformat(str(application.get(key) or ""))
    except ValueError:
        raise Invalid(f"{label}有误", {f"{FIELD}.{key}": [f"「{label}」应为日期（YYYY-MM-DD）"]}) from None


# --- the request ------------------------------------------------------------------------------------

def township_office(session: Session, township: str) -> str:
    """The unit that answers for ``township`` in writing: its 党政办公室 when it has exactly one,
    otherwise the township itself (any of its offices may then answer)."""
    parent_id = session.scalar(select(Unit.id).where(Unit.code == township))
    offices = session.scalars(select(Unit.code).where(Unit.parent_id == parent_id, Unit.kind == "township_office",
                                                      Unit.name.like("%党政办%"))).all() if parent_id else []
    return offices[0] if len(offices) == 1 else township


def check_request(session: Session, application: Mapping, townships, department: str | None, *,
                  calendar: WorkCalendar, now: datetime) -> dict:
    """Check the special explanation and fix the consultation's deadline; Invalid names the field."""
    units = unit_register(session)
    errors: dict[str, list[str]] = {}
    dept = units.get(department or "")
    if dept is None or dept.kind not in COUNTY_KINDS:
        errors["started_by_unit"] = ["交办事项准入只能由县级部门申请"]
    for key, label in TEXT_FIELDS.items():
        if not str(application.get(key) or "").strip():
            errors[f"{FIELD}.{key}"] = [f"「{label}」为必填项：专项说明须写明{label}"]
    codes = list(dict.fromkeys(townships or []))
    unknown = [c for c in codes if units.get(c) is None or units[c].kind != "township"]
    if not codes:
        errors["townships"] = ["至少选择一个承接的乡镇（街道）"]
    elif unknown:
        errors["townships"] = [f"「{'、'.join(unknown)}」不是本县的乡镇（街道）"]
    start, end = _date(application, "period_start", "实施开始日期"), _date(application, "period_end", "实施结束日期")
    today = local_today(now)
    if start < today:
        errors[f"{FIELD}.period_start"] = [f"实施开始日期不能早于今天（{today.isoformat()}）：准入须在交办前批准"]
    if end < start:
        errors[f"{FIELD}.period_end"] = ["实施结束日期不能早于开始日期"]
    elif (end - start).days >= MAX_PERIOD_DAYS:
        errors[f"{FIELD}.period_end"] = ["临时性、阶段性事务的实施期限不超过一年；长期事务请通过清单动态调整申请列入清单"]
    days = application.get("consult_days")
    low, high = CONSULT_DAYS
    if isinstance(days, bool) or not isinstance(days, int) or not low <= days <= high:
        errors[f"{FIELD}.consult_days"] = [f"书面征求意见期限应为 {low} 到 {high} 个工作日"]
    if errors:
        raise Invalid("准入申请有误，请按提示修改", errors)
    deadline = calendar.add_working_days(now, days)
    remind_at = calendar.add_working_days(now, days - 1)
    names = {c: units[c].name for c in codes}
    request = {"title": str(application["title"]).strip(), "department": dept.code, "department_name": dept.name,
               "townships": codes, "township_names": names, "period_start": start.isoformat(),
               "period_end": end.isoformat(), "consult_deadline": deadline.isoformat(), "remind_at": remind_at.isoformat()}
    request["summary"] = describe_request(application, request)
    return request


def describe_request(application: Mapping, request: Mapping) -> str:
    lines = [f"事项名称：{request['title']}", f"申请部门：{request['department_name']}",
             f"承接乡镇（街道）：{'、'.join(request['township_names'].values())}",
             f"实施期限：{request['period_start']} 至 {request['period_end']}"]
    lines += [f"{label}：{str(application.get(key) or '').strip()}" for key, label in TEXT_FIELDS.items()
              if key != "title"]
    lines.append(f"书面征求意见截止：{request['consult_deadline'][:16].replace('T', ' ')}")
    return "\n".join(lines)


# --- the written consultation -----------------------------------------------------------------------

def record_answer(session: Session, instance_id: int, township: str, answer: Mapping, now: datetime) -> None:
    opinion = answer.get("opinion")
    if opinion not in ANSWERS:
        raise Invalid("请选择意见", {"answer.opinion": ["请选择：同意、附条件同意或不同意"]})
    comment = str(answer.get("comment") or "").strip()
    if opinion != "agree" and not comment:
        label = "所附条件" if opinion == "conditional" else "不同意的理由"
        raise Invalid(f"请写明{label}", {"answer.comment": [f"{OPINIONS[opinion]}的，须写明{label}"]})
    row = session.scalars(select(AdmissionConsultation).where(AdmissionConsultation.instance_id == instance_id,
                                                              AdmissionConsultation.township == township)).first()
    if row is None:
        row = AdmissionConsultation(instance_id=instance_id, township=township)
        session.add(row)
    row.opinion, row.comment = opinion, comment or None
    row.answered_by_name = str(answer.get("signed_by") or "").strip() or None
    row.answered_at = row.recorded_at = now
    # The step does not know who answered; the account is taken from the task's completion event.
    want_actor(session, (instance_id, CONSULT_ELEMENT), row, "answered_by", None)
    session.flush()


def answers_of(session: Session, instance_id: int) -> list[AdmissionConsultation]:
    return list(session.scalars(select(AdmissionConsultation).where(AdmissionConsultation.instance_id == instance_id)
                                .order_by(AdmissionConsultation.township)))


def missing(session: Session, instance_id: int, townships) -> list[str]:
    answered = {a.township for a in answers_of(session, instance_id)}
    return [t for t in townships if t not in answered]


def close(session: Session, instance_id: int, townships, now: datetime) -> dict:
    """Record every township that has not answered as absent; the consultation's outcome."""
    for township in missing(session, instance_id, townships):
        session.add(AdmissionConsultation(instance_id=instance_id, township=township, opinion="absent",
                                          recorded_at=now))
    session.flush()
    names = {u.code: u.name for u in unit_register(session).values()}
    answers = [a for a in answers_of(session, instance_id) if a.township in set(townships)]
    counts = {key: [a.township for a in answers if a.opinion == key] for key in OPINIONS}
    lines = [f"{names.get(a.township, a.township)}：{a.opinion_name}" + (f"（{a.comment}）" if a.comment else "")
             + (f"，签发人 {a.answered_by_name}" if a.answered_by_name else "") for a in answers]
    head = "，".join(f"{OPINIONS[k]} {len(v)} 个" for k, v in counts.items() if v)
    return {"counts": {k: len(v) for k, v in counts.items()}, "absent": counts["absent"],
            "absent_names": [names.get(t, t) for t in counts["absent"]],
            "disagree": counts["disagree"], "summary": f"书面征求意见结果：{head}\n" + "\n".join(lines)}


# --- the register -----------------------------------------------------------------------------------

def _next_code(session: Session, year: int) -> str:
    prefix = f"ZR-{year}-"
    count = session.scalar(select(func.count()).select_from(AdmittedTask).where(AdmittedTask.code.like(prefix + "%")))
    return f"{prefix}{count + 1:03d}"


def admit(session: Session, instance_id: int, application: Mapping, request: Mapping, opinion: str | None,
          now: datetime) -> AdmittedTask:
    """Put an approved task into the register, with each township's opinion."""
    answers = {a.township: a for a in answers_of(session, instance_id)}
    task = AdmittedTask(code=_next_code(session, local_today(now).year), title=request["title"],
                        department=request["department"],
                        period_start=date.fromisoformat(request["period_start"]),
                        period_end=date.fromisoformat(request["period_end"]), approval_opinion=opinion,
                        approved_at=now, source_instance_id=instance_id,
                        **{k: str(application.get(k) or "").strip() for k in TEXT_FIELDS
                           if k not in ("title", "reason", "basis")})
    task.townships = [AdmittedTaskTownship(township=t, opinion=answers[t].opinion if t in answers else "absent",
                                           comment=answers[t].comment if t in answers else None)
                      for t in request["townships"]]
    session.add(task)
    session.flush()
    return task


def register_query(*, township: str | None = None, department: str | None = None, status: str | None = None,
                   q: str | None = None, today: date):
    stmt = select(AdmittedTask).order_by(AdmittedTask.period_end.desc(), AdmittedTask.code.desc())
    if township:
        stmt = stmt.where(AdmittedTask.townships.any(AdmittedTaskTownship.township == township))
    if department:
        stmt = stmt.where(AdmittedTask.department == department)
    if status == "active":
        stmt = stmt.where(AdmittedTask.period_start <= today, AdmittedTask.period_end >= today)
    elif status == "pending":
        stmt = stmt.where(AdmittedTask.period_start > today)
    elif status == "expired":
        stmt = stmt.where(AdmittedTask.period_end < today)
    for word in (q or "").split():
        pattern = like_pattern(word)
        stmt = stmt.where(or_(AdmittedTask.code.ilike(pattern, escape="\\"),
                              AdmittedTask.title.ilike(pattern, escape="\\"),
                              AdmittedTask.content.ilike(pattern, escape="\\")))
    return stmt


def get_admitted(session: Session, code: str) -> AdmittedTask:
    task = session.scalars(select(AdmittedTask).where(AdmittedTask.code == code)).first()
    if task is None:
        raise NotFound(f"准入事项「{code}」不存在")
    return task


# --- refusing what was never admitted ---------------------------------------------------------------

def township_of_user(user: User) -> str | None:
    unit = user.unit
    return unit.township_code() if unit is not None and unit.kind in TOWNSHIP_KINDS else None


def decline(session: Session, user: User, data: Mapping, now: datetime) -> TaskDecline:
    """Record a township's refusal of a task; refused itself (Invalid, naming the field) when the
    task is on the catalog in force or admitted for this township and period."""
    township = township_of_user(user)
    if township is None or "township_office" not in user.roles:
        raise Forbidden("只有乡镇（街道）办公室人员可以拒绝承接未准入的交办事项")
    units = unit_register(session)
    errors: dict[str, list[str]] = {}
    department = str(data.get("department") or "").strip()
    if units.get(department) is None or units[department].kind not in COUNTY_KINDS:
        errors["department"] = ["请选择交办该事项的县级部门"]
    title = str(data.get("task_title") or "").strip()
    description = str(data.get("task_description") or "").strip()
    if not title:
        errors["task_title"] = ["请填写交办事项名称"]
    if not description:
        errors["task_description"] = ["请写明交办的具体内容（交办方式、要求等）"]
    today = local_today(now)
    version = version_in_force(session, now)
    item_code = str(data.get("cited_item_code") or "").strip() or None
    if item_code:
        try:
            item = item_in_force(session, item_code, now)
            errors["cited_item_code"] = [
                f"事项「{item.code} {item.name}」列入现行第 {item.version.number} 版属地管理事项清单，应按清单履职，"
                "不能以未准入为由拒绝；如认为职责划分不当，请提出清单调整申请"]
        except NotFound:
            pass
    admission_code = str(data.get("cited_admission_code") or "").strip() or None
    admission_note = None
    if admission_code:
        task = session.scalars(select(AdmittedTask).where(AdmittedTask.code == admission_code)).first()
        if task is None:
            admission_note = f"准入登记簿中没有编号为「{admission_code}」的事项"
        elif township not in task.township_codes:
            admission_note = f"准入事项 {task.code} 未交由本乡镇（街道）承接"
        elif task.status_on(today) == "expired":
            admission_note = f"准入事项 {task.code} 已于 {task.period_end.isoformat()} 到期"
        else:
            errors["cited_admission_code"] = [
                f"「{task.code} {task.title}」已经准入，交由本乡镇（街道）承接（{task.period_start.isoformat()} 至 "
                f"{task.period_end.isoformat()}），并配套经费、人员和技术保障，不能拒绝"]
    if errors:
        raise Invalid("不能登记拒绝承接，请按提示修改", errors)
    assigned_on = data.get("assigned_on")
    if isinstance(assigned_on, str) and assigned_on:
        try:
            assigned_on = date.fromisoformat(assigned_on)
        except ValueError:
            raise Invalid("交办日期有误", {"assigned_on": ["交办日期应为 YYYY-MM-DD"]}) from None
    notes = [f"现行清单：{'第 %d 版' % version.number if version else '无生效清单'}"
             + (f"，不含事项「{item_code}」" if item_code else "，拒绝人未引用清单事项")]
    if admission_code:
        notes.append(admission_note)
    else:
        notes.append("拒绝人未引用准入编号；登记簿中该部门交由本乡镇（街道）的有效准入事项："
                     + (_active_titles(session, department, township, today) or "无"))
    row = TaskDecline(township=township, department=department, task_title=title[:200], task_description=description,
                      assigned_on=assigned_on or None, cited_item_code=item_code, cited_admission_code=admission_code,
                      remarks=str(data.get("remarks") or "").strip() or None, check_note="；".join(notes),
                      catalog_version=version.number if version else None, declined_by_id=user.id,
                      declined_by=user.username, declined_by_name=user.display_name, declined_at=now)
    session.add(row)
    session.flush()
    return row


def _active_titles(session: Session, department: str, township: str, today: date) -> str:
    rows = session.scalars(register_query(township=township, department=department, status="active", today=today)).all()
    return "、".join(f"{t.code} {t.title}" for t in rows)


COUNTY_OVERSIGHT = ("admin", "supervision", "staffing_office", "justice_bureau", "county_leadership")


def declines_query(user: User):
    """The refusals ``user`` may read: the county's oversight offices all of them, a department
    those addressed to it, a township its own."""
    stmt = select(TaskDecline).order_by(TaskDecline.declined_at.desc(), TaskDecline.id.desc())
    if set(user.roles) & set(COUNTY_OVERSIGHT):
        return stmt
    township = township_of_user(user)
    if township is not None:
        return stmt.where(TaskDecline.township == township)
    if user.unit is not None:
        return stmt.where(TaskDecline.department == user.unit.code)
    return stmt.where(TaskDecline.id.is_(None))


# --- BPMN helpers -----------------------------------------------------------------------------------

@helper("township_office")
def township_office_helper(township: str) -> str:
    """The candidate unit of a township's written opinion (its 党政办公室)."""
    return township_office(current().session, str(township))


@helper()
def prepare_admission(application: dict, townships: list, department: str | None = None) -> dict:
    """Check the special explanation and fix the consultation deadline (Invalid names the field)."""
    ctx = current()
    request = check_request(ctx.session, application or {}, townships, department, calendar=ctx.calendar,
                            now=clock.now())
    ctx.summary.update({"title": request["title"], "department": request["department"], "结果": "审核中",
                        "承接乡镇": "、".join(request["township_names"].values())})
    return request


@helper()
def record_consultation(township: str, answer: dict) -> bool:
    """Keep one township's written opinion (run as each township answers)."""
    ctx = current()
    record_answer(ctx.session, ctx.instance_id, str(township), answer or {}, clock.now())
    return True


@helper()
def remind_consultation(townships: list) -> list:
    """Remind the townships that have not answered yet; returns them."""
    ctx = current()
    waiting = missing(ctx.session, ctx.instance_id, townships or [])
    if waiting:
        names = unit_register(ctx.session)
        ctx.events.append({"kind": "reminder", "message": "书面征求意见即将截止，已提醒尚未反馈的乡镇（街道）："
                           + "、".join(names[t].name if t in names else t for t in waiting),
                           "data": {"townships": waiting}})
    return waiting


@helper()
def close_consultation(townships: list) -> dict:
    """Close the consultation: every township that has not answered is recorded as absent."""
    ctx = current()
    result = close(ctx.session, ctx.instance_id, townships or [], clock.now())
    if result["absent"]:
        ctx.events.append({"kind": "consultation_absent", "message": "书面征求意见期限届满，以下乡镇（街道）逾期未反馈："
                           + "、".join(result["absent_names"]), "data": {"townships": result["absent"]}})
    return result


@helper()
def admit_task(application: dict, admission: dict, opinion: str | None = None) -> str:
    """Register the approved task; returns its admission code."""
    ctx = current()
    task = admit(ctx.session, ctx.instance_id, application or {}, admission, opinion, clock.now())
    ctx.events.append({"kind": "admitted", "message": f"已准入并登记：{task.code} {task.title}",
                       "data": {"code": task.code}})
    ctx.summary.update({"准入编号": task.code, "结果": "已准入"})
    return task.code
