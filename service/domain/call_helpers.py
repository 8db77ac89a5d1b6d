"""The call procedure's helpers for BPMN scripts and expressions (processes/township_call.bpmn).

Each helper is one step of the ledger (``service.domain.calls``) run inside the engine step: it
finds the call of the running instance, writes the ledger in the step's transaction, and hands
the diagram back only what it routes on. A helper that follows a user task names that task (by
its BPMN id), so the ledger entry records the person who completed it.
"""
from __future__ import annotations

from contextlib import contextmanager

from ..engine import clock
from ..engine.helpers import current, helper, record_event, set_summary
from ..errors import Invalid, NotFound
from ..models.calls import SOURCES
from . import calls
from .calls import call_of

# BPMN ids of the user tasks the helpers follow (tests check the diagram has each of them).
REPORT, TRIAGE, LOCAL, REGISTER = "report", "triage", "local", "register"
RECEIVE, ARBITRATE = "receive", "arbitrate"
HANDLE, HANDLE_AGAIN, APPROVE_EXTENSION, ASSIST, CLOSE_OUT = (
    "handle", "handle_again", "approve_extension", "assist", "close_out")
CONFIRM = "confirm"
SUPERVISE = {"acknowledge": "ack_supervise", "handling": "handle_supervise"}
USER_TASKS = (REPORT, TRIAGE, LOCAL, REGISTER, RECEIVE, ARBITRATE, HANDLE, HANDLE_AGAIN, APPROVE_EXTENSION, ASSIST,
              CLOSE_OUT, CONFIRM, *SUPERVISE.values())


def _session():
    session = current().session
    if session is None:
        raise RuntimeError("登记表只能在流程实例中更新")
    return session


def _call():
    return call_of(_session(), current().instance_id)


def _after(task_id: str) -> tuple[int, str]:
    return current().instance_id, task_id


@contextmanager
def _form(name: str):
    """A refusal of the domain names its fields by their path in the task's form (``receipt.…``)."""
    try:
        yield
    except Invalid as err:
        if isinstance(err.errors, dict):
            err.errors = {key if key.startswith(name + ".") else f"{name}.{key}": value
                          for key, value in err.errors.items()}
        raise


def _summary(call) -> None:
    title = "：".join(p for p in (call.place, (call.description or "")[:40]) if p) or "乡呼县应"
    fields = {"title": f"{call.number} {title}"[:120], "township": call.township}
    if call.item_code:
        fields.update(item_code=call.item_code, item_name=call.item_name)
    if call.department:
        fields["department"] = call.department
    set_summary(**fields)


# --- 上报、研判、自行处理 ----------------------------------------------------------------------------

@helper()
def call_opened(started_by: str, started_by_unit: str | None) -> str:
    """Open the ledger row of this call; returns the township (unit code) it belongs to."""
    call = calls.open_call(_session(), current().instance_id, started_by=started_by, started_by_unit=started_by_unit,
                           now=clock.now())
    _summary(call)
    return call.township


@helper()
def call_source() -> str:
    """网格员上报 or 乡镇直接发起: who started this call."""
    return SOURCES[_call().source]


@helper()
def empty_report() -> dict:
    return calls.empty_report()


@helper()
def call_reported(report: dict) -> bool:
    call = _call()
    calls.record_report(call, report, clock.now())
    calls.add_event(_session(), call, "reported", f"上报问题：{call.place or ''} {call.description or ''}",
                    clock.now(), unit=call.reporter_unit, after_task=_after(REPORT))
    _summary(call)
    return True


@helper()
def call_triaged(report: dict, item_code: str, decision: str, opinion: str | None = None) -> dict:
    """The triage against the catalog in force: the item snapshot, with ``township_leads``."""
    session, call, now = _session(), _call(), clock.now()
    calls.record_report(call, report, now)
    try:
        item = calls.record_triage(session, call, item_code=item_code, decision=decision, opinion=opinion,
                                   now=now, after_task=_after(TRIAGE))
    except NotFound as err:  # not an item of the catalog in force: the field is wrong, not the diagram
        raise Invalid(err.message, {"item_code": [err.message]}) from None
    _summary(call)
    return item


@helper()
def call_closed_locally(result: dict) -> bool:
    calls.close_locally(_session(), _call(), result, clock.now(), after_task=_after(LOCAL))
    return True


# --- 登记 -------------------------------------------------------------------------------------------

@helper()
def call_registration() -> dict:
    """The registration form's read-only part: what the catalog and the directory already know."""
    return calls.registration_preview(_session(), _call(), clock.now(), current().calendar)


@helper()
def call_registered(problem: str, request: str) -> dict:
    """Register the call: departments, receiving contact and limits. Returns the call's facts
    (``dept``, ``assist_units``, ``ack_due``, ``handle_due`` …) the rest of the diagram runs on."""
    call = _call()
    result = calls.register_call(_session(), call, problem=problem, request=request, now=clock.now(),
                                 calendar=current().calendar, after_task=_after(REGISTER))
    _summary(call)
    return result


@helper()
def call_overview() -> dict:
    """The call as the following tasks show it (read-only)."""
    return calls.call_display(_session(), _call())


# --- 签收、退单、审定 ------------------------------------------------------------------------------------

@helper()
def call_received(receipt: dict) -> str:
    """签收 or 退单 (send-back, with a reason); a call dispatched by the staffing office's
    arbitration may not be sent back again. Returns the decision."""
    session, call, now = _session(), _call(), clock.now()
    receipt = receipt or {}
    decision = receipt.get("decision") or "签收"
    if decision == "退单":
        if any(e.kind == "arbitrated" for e in call.events):
            message = "本事项已由县委编办审定指派，必须签收办理，不能再次退单"
            raise Invalid(message, {"receipt.decision": [message]})
        with _form("receipt"):
            calls.record_sendback(session, call, receipt.get("return_reason"), receipt.get("return_detail"), now,
                                  after_task=_after(RECEIVE))
    else:
        calls.record_receipt(session, call, now, receipt.get("note"), after_task=_after(RECEIVE))
    return decision


@helper()
def call_arbitration_info() -> dict:
    return calls.arbitration_preview(_session(), _call())


@helper()
def call_arbitrated(arbitration: dict, call_facts: dict) -> dict:
    """县委编办审定. Returns the call's facts with ``outcome``: 派单 (to the department it names)
    or 退回乡镇 (the township handles it itself)."""
    arbitration = arbitration or {}
    call = _call()
    with _form("arbitration"):
        result = calls.record_arbitration(_session(), call, decision=arbitration.get("decision"),
                                          department=arbitration.get("department"),
                                          opinion=arbitration.get("opinion"), now=clock.now(),
                                          calendar=current().calendar, after_task=_after(ARBITRATE))
    _summary(call)
    if result["outcome"] == "township":
        return {**call_facts, "outcome": "退回乡镇"}
    return {**result["call"], "outcome": "派单"}


# --- 办理、延期、配合、销号 ------------------------------------------------------------------------------

@helper()
def call_handled(progress: dict) -> str:
    """The department's handling report. Returns 办理完毕, 报请延期审批 (an extension request the
    supervision office decides) or 延期不予受理 (asked twice, or after the limit passed)."""
    session, call, now = _session(), _call(), clock.now()
    progress = progress or {}
    calls.record_progress(session, call, progress, now, after_task=_after(HANDLE))
    if progress.get("next") != "申请延期":
        return "办理完毕"
    accepted = calls.request_extension(session, call, progress.get("extension_days") or 0,
                                       progress.get("extension_reason"), now, after_task=_after(HANDLE))
    return "报请延期审批" if accepted else "延期不予受理"


@helper()
def call_extension_decided(decision: dict, call_facts: dict) -> dict:
    """The supervision office's decision on the extension; returns the call's facts with the
    (possibly moved) close-out limit."""
    decision = decision or {}
    approved = decision.get("approved") == "同意延期"
    with _form("extension_decision"):
        updated = calls.decide_extension(_session(), _call(), approved=approved, days=decision.get("days"),
                                         opinion=decision.get("opinion"), now=clock.now(),
                                         calendar=current().calendar, after_task=_after(APPROVE_EXTENSION))
    return {**call_facts, **updated}


@helper()
def call_continued(progress: dict) -> bool:
    calls.record_progress(_session(), _call(), progress, clock.now(), after_task=_after(HANDLE_AGAIN))
    return True


@helper()
def call_assisted(unit: str, assist: dict) -> bool:
    calls.record_assist(_session(), _call(), unit, assist, clock.now(), after_task=_after(ASSIST))
    return True


@helper()
def call_closed_out(closing: dict) -> bool:
    calls.record_close_out(_session(), _call(), closing, clock.now(), current().calendar,
                           after_task=_after(CLOSE_OUT))
    return True


# --- 确认评价、重办 ---------------------------------------------------------------------------------

@helper()
def call_rated(confirmation: dict) -> bool:
    """The township's rating; True when the call goes back for 重办 (不满意, once)."""
    confirmation = confirmation or {}
    with _form("confirmation"):
        return calls.record_rating(_session(), _call(), confirmation.get("rating"), confirmation.get("reason"),
                                   clock.now(), after_task=_after(CONFIRM))


@helper()
def call_redo(call_facts: dict) -> dict:
    """重办: the call's facts with a fresh close-out limit; the coordinating parts are not repeated."""
    return {**call_facts, **calls.start_redo(_session(), _call(), clock.now(), current().calendar)}


# --- warnings and escalation --------------------------------------------------------------------------

@helper()
def call_remind() -> str | None:
    """The yellow warning before a limit, recorded on the ledger and the instance. Returns the
    later warning time (ISO) when an extension moved it, else None."""
    message, later = calls.remind(_session(), _call(), clock.now())
    if message:
        record_event("reminder", message)
    return calls.iso(later)


@helper()
def call_overdue() -> bool:
    """Whether the limit now running (签收 or 办结, after any extension) has passed."""
    return calls.is_overdue(_call(), clock.now())


@helper()
def call_due() -> str | None:
    """The limit now running, as ISO text (for a timer waiting on an extended limit)."""
    return calls.iso(calls.current_due(_call()))


@helper()
def call_escalated(level: int) -> dict:
    """Level 1: report the overdue call to the supervision office (督办); level 2, at the
    supervision deadline and still overdue: 挂牌督办. An event on the ledger and the instance.
    Returns what the supervision office's form shows."""
    session, call, now = _session(), _call(), clock.now()
    level = int(level)
    if level > 1 and not calls.is_overdue(call, now):
        return {}  # the limit was extended meanwhile: nothing to escalate
    message = calls.escalate(session, call, level, now)
    record_event("escalation", message, level=level, call=call.number)
    display = calls.call_display(session, call)
    return {"number": display["number"], "item": display["item"], "department": display["department"],
            "due": display["handle_due"] if calls.phase_of(call) == "handling" else display["acknowledge_due"],
            "problem": display["problem"], "escalation": message}


@helper()
def call_supervised(supervision: dict) -> str:
    """The supervision office's deadline and instructions; returns the deadline (ISO)."""
    session, call, now = _session(), _call(), clock.now()
    supervision = supervision or {}
    task = SUPERVISE[calls.phase_of(call) or "handling"]
    with _form("supervision"):
        due = calls.record_supervision(session, call, supervision.get("new_due"), supervision.get("instructions"),
                                       now, after_task=_after(task))
    record_event("supervision", f"县督查考核部门督办：{supervision.get('instructions') or ''}，限 {calls.iso(due)} 前办理",
                 call=call.number)
    return calls.iso(due)
