"""Catalog change requests (清单动态调整): checking an application against the catalog, and
publishing an approved change as a new catalog version linked to its request.

A request records the published version it was based on. When it is approved, the versions
published since are compared with that base: changes to *other* items are carried along (the new
version is built on the latest one), but if any of them touched this request's item the change
is not applied. The approver then either re-applies it on the latest version (with consent; a
modification is a patch of the fields it names, so the other request's edits survive) or sends it
back to the applicant. Nothing is ever silently overwritten.

The functions at the end are the BPMN helpers of processes/catalog_change.bpmn (and the review
helper shared with the admission procedure); they only unpack the engine step's context.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine import clock
from ..engine.helpers import current, helper
from ..errors import Invalid, NotFound
from ..models import InstanceEvent
from ..models.catalog import CatalogVersion
from .calendar import SHANGHAI
from .call_reports import statistics
from .catalog import (CatalogChanges, diff_versions, get_item, get_version, publish_version, unit_register,
                      create_version)
from .catalog_rules import ITEM_FIELDS, TOWNSHIP_KINDS, ItemData, check_items, split_units

CHANGE_TYPES = {"add": "增加事项", "modify": "调整事项内容", "remove": "减去事项"}
DECISIONS = {"approve": "通过", "reject": "不通过"}
LIST_FIELDS = ("main_units", "coordinating_units")
FIELD = "application"   # the form object every field error is reported under


def latest_published(session: Session) -> CatalogVersion | None:
    """The published version with the highest number: every change builds on it."""
    return session.scalars(select(CatalogVersion).where(CatalogVersion.status == "published")
                           .order_by(CatalogVersion.number.desc()).limit(1)).first()


def _find(session: Session, version: CatalogVersion, code: str) -> ItemData | None:
    try:
        return ItemData.of(get_item(session, version, code))
    except NotFound:
        return None


def _patch(raw) -> dict:
    """The item fields an application names: blank text means "unchanged"; a list given, even
    empty, replaces the list."""
    patch = {}
    for key, value in (raw or {}).items():
        if key not in ITEM_FIELDS or value is None:
            continue
        if key in LIST_FIELDS:
            patch[key] = split_units(value)
        elif isinstance(value, str):
            if value.strip():
                patch[key] = value.strip()
        else:
            patch[key] = value
    return patch


def _check_item(session: Session, item: Mapping) -> dict:
    """The item as the catalog stores it, or Invalid naming each broken rule by form field."""
    checked, problems = check_items([item], unit_register(session))
    if problems:
        raise Invalid("事项内容不符合清单规则，请按提示修改",
                      {f"{FIELD}.item.{p.field}": [f"{ITEM_FIELDS[p.field]}：{p.message}"] for p in problems})
    return checked[0].as_dict()


def _parse_date(value, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Invalid("日期格式有误", {field: [f"日期「{value}」格式不正确，应为 YYYY-MM-DD"]}) from None


def check_change(session: Session, application: Mapping, *, applicant: str | None = None, call_stats=None) -> dict:
    """Check an application and freeze what it asks for against the latest published version.

    Returns a JSON-safe description (kept in the process data, shown to every reviewer, applied
    on approval); raises Invalid naming the form field of every problem.
    """
    kind = application.get("change_type")
    if kind not in CHANGE_TYPES:
        raise Invalid("调整类型有误", {f"{FIELD}.change_type": ["请选择调整类型：增加、调整或减去事项"]})
    base = latest_published(session)
    if base is None:
        raise Invalid("没有已发布的清单", {f"{FIELD}.change_type": ["清单尚未发布任何版本，无法申请调整"]})
    code = str(application.get("item_code") or "").strip()
    patch = _patch(application.get("item"))
    before = after = None
    if kind == "add":
        after = _check_item(session, patch)
        code = after["code"]
        if _find(session, base, code) is not None:
            raise Invalid("事项已在清单中", {f"{FIELD}.item.code": [
                f"事项编码「{code}」已在第 {base.number} 版清单中；如需修改该事项，请选择「调整事项内容」"]})
    else:
        if not code:
            raise Invalid("请选择事项", {f"{FIELD}.item_code": [f"{CHANGE_TYPES[kind]}时必须选择清单中的事项"]})
        found = _find(session, base, code)
        if found is None:
            raise Invalid("事项不在清单中", {f"{FIELD}.item_code": [f"事项「{code}」不在第 {base.number} 版清单中"]})
        before = found.as_dict()
        if kind == "modify":
            if patch.get("code", code) != code:
                raise Invalid("事项编码不能修改", {f"{FIELD}.item.code": [
                    "调整事项内容时不能修改事项编码；如需更换编码，请分别申请减去原事项、增加新事项"]})
            after = _check_item(session, {**before, **patch})
            if after == before:
                raise Invalid("没有需要调整的内容", {f"{FIELD}.item": ["请填写需要修改的栏目（与现行清单相同的内容无需填写）"]})
            patch = {k: after[k] for k in after if after[k] != before[k]}
        else:
            patch = {}
    proposed = _parse_date(application.get("effective_date"), f"{FIELD}.effective_date")
    change = {"type": kind, "type_name": CHANGE_TYPES[kind], "code": code,
              "name": (after or before)["name"], "base_version": base.number,
              "before": before, "after": after, "patch": patch,
              "reason": str(application.get("reason") or "").strip(),
              "basis": str(application.get("basis") or "").strip(),
              "effective_date": proposed.isoformat() if proposed else None,
              "call_stats": call_stats, "applicant": applicant}
    change["summary"] = describe_change(change)
    return change


def _shown(value) -> str:
    if isinstance(value, (list, tuple)):
        return "、".join(map(str, value)) or "（无）"
    return str(value)


def describe_change(change: Mapping) -> str:
    """The application as reviewers read it: what changes, on which version, and why."""
    lines = [f"调整类型：{change['type_name']}", f"事项：{change['code']} {change['name']}",
             f"基础版本：第 {change['base_version']} 版清单"]
    if change["type"] == "add":
        lines.append("新增事项内容：")
        lines += [f"  {ITEM_FIELDS[k]}：{_shown(v)}" for k, v in change["after"].items()]
    elif change["type"] == "modify":
        lines.append("修改内容：")
        lines += [f"  {ITEM_FIELDS[k]}：{_shown(change['before'][k])} → {_shown(v)}" for k, v in change["patch"].items()]
    else:
        lines.append(f"减去事项：{change['code']} {change['name']}（现主体责任单位：{_shown(change['before']['main_units'])}）")
    lines += [f"申请理由：{change['reason']}", f"调整依据：{change['basis']}"]
    if change.get("effective_date"):
        lines.append(f"建议生效日期：{change['effective_date']}")
    stats = change.get("call_stats")
    if stats:
        lines.append(f"“乡呼县应”台账佐证：{stats.get('text') or stats}")
    return "\n".join(lines)


EVIDENCE_DAYS = 365


def call_evidence(session: Session, code: str, today: date) -> dict:
    """How the township calls about ``code`` went over the last year (《乡呼县应事项登记表》 statistics)."""
    start = today - timedelta(days=EVIDENCE_DAYS)
    period = f"{start.isoformat()} 至 {today.isoformat()}"
    if not code:
        return {"item": None, "period": period, "calls": 0,
                "text": "增加事项：清单外事项在事项登记表中没有事项编码，无法按事项统计，请在“其他佐证说明”中说明"}
    row = next((r for r in statistics(session, "item", date_from=start, date_to=today) if r.key == code), None)
    if row is None or not row.calls:
        return {"item": code, "period": period, "calls": 0, "text": f"{period}，事项登记表中该事项没有呼叫记录"}
    data = row.as_dict()
    parts = [f"{period}，乡镇（街道）呼叫 {row.calls} 次", f"已销号 {row.closed_out} 次"]
    if row.on_time_rate is not None:
        parts.append(f"按时办结率 {row.on_time_rate:.0%}")
    parts.append(f"督办 {row.escalated} 次，退单 {row.sendbacks} 次")
    if row.satisfaction_rate is not None:
        parts.append(f"乡镇满意率 {row.satisfaction_rate:.0%}")
    return {**data, "item": code, "period": period, "text": "，".join(parts)}


# --- approval -------------------------------------------------------------------------------------

def touching_versions(session: Session, base: int, latest: int, code: str) -> list[dict]:
    """The published versions after ``base`` (up to ``latest``) that added, changed or removed ``code``."""
    numbers = list(session.scalars(select(CatalogVersion.number).where(
        CatalogVersion.status == "published", CatalogVersion.number >= base, CatalogVersion.number <= latest)
        .order_by(CatalogVersion.number)))
    touched = []
    for old, new in zip(numbers, numbers[1:]):
        diff = diff_versions(session, old, new)
        if code in diff.changed or any(i.code == code for i in (*diff.added, *diff.removed)):
            version = get_version(session, new)
            touched.append({"version": new, "source": version.source, "instance_id": version.source_instance_id,
                            "effective_date": version.effective_date.isoformat()})
    return touched


def _rebased(session: Session, change: Mapping, latest: CatalogVersion) -> CatalogChanges:
    """The change as it applies to ``latest``; Invalid when it no longer can."""
    code, kind = change["code"], change["type"]
    current_item = _find(session, latest, code)
    field = "conflict_action"
    if kind == "add":
        if current_item is not None:
            raise Invalid("无法重新适用", {field: [
                f"事项编码「{code}」已被第 {latest.number} 版清单使用，本申请无法重新适用，请退回申请单位"]})
        return CatalogChanges(add=[change["after"]])
    if current_item is None:
        raise Invalid("无法重新适用", {field: [
            f"事项「{code}」已不在第 {latest.number} 版清单中，本申请无法重新适用，请退回申请单位"]})
    if kind == "remove":
        return CatalogChanges(remove=[code])
    merged = {**current_item.as_dict(), **change["patch"]}
    if merged == current_item.as_dict():
        raise Invalid("无需重新适用", {field: [
            f"第 {latest.number} 版清单中该事项已与本申请的修改一致，无需再次发布，请退回申请单位"]})
    return CatalogChanges(update=[_check_item(session, merged)])


def publish_change(session: Session, change: Mapping, effective_date, opinion: str | None, *, instance_id: int,
                   created_by: str | None, now: datetime, rebase: bool = False) -> dict:
    """Apply an approved change: publish a new version built on the latest one, or report the
    versions that touched the same item since the request's base (nothing is written then)."""
    day = _parse_date(effective_date, "effective_date")
    if day is None:
        raise Invalid("缺少生效日期", {"effective_date": ["批准调整时必须确定新版清单的生效日期"]})
    latest = latest_published(session)
    base = change["base_version"]
    touched = touching_versions(session, base, latest.number, change["code"]) if latest.number != base else []
    if touched and not rebase:
        return {"status": "conflict", "base_version": base, "latest_version": latest.number, "versions": touched,
                "summary": describe_conflict(change, latest.number, touched)}
    changes = _rebased(session, change, latest)
    note = f"清单调整申请（流程 #{instance_id}）：{change['type_name']} {change['code']} {change['name']}"
    if latest.number != base:
        note += f"；申请基于第 {base} 版，" + (
            "经审批同意在最新版本上重新适用" if touched else "期间其他版本未涉及该事项") + f"，在第 {latest.number} 版基础上发布"
    if opinion:
        note += f"；审批意见：{opinion}"
    version = create_version(session, latest.number, changes=changes, title=latest.title, effective_date=day,
                             source="change_request", source_instance_id=instance_id, created_by=created_by,
                             note=note)
    publish_version(session, version.number, today=now.astimezone(SHANGHAI).date(), by=f"流程#{instance_id}", at=now)
    return {"status": "published", "version": version.number, "effective_date": day.isoformat(),
            "built_on": latest.number, "base_version": base, "rebased": bool(touched),
            "summary": f"已发布第 {version.number} 版清单（在第 {latest.number} 版基础上），自 {day.isoformat()} 起生效"}


def describe_conflict(change: Mapping, latest: int, touched: list[dict]) -> str:
    others = "；".join(f"第 {t['version']} 版" + (f"（清单调整申请流程 #{t['instance_id']}）" if t["instance_id"] else "")
                      + f"，{t['effective_date']} 起生效" for t in touched)
    return (f"本申请基于第 {change['base_version']} 版清单提出，此后已发布的 {others} 也调整了事项"
            f"「{change['code']} {change['name']}」。为避免相互覆盖，本次调整未发布。"
            f"可选择在最新的第 {latest} 版基础上重新适用本申请（仅写入本申请修改的栏目），或退回申请单位修改后重新报审。")


def review_text(stage: str, opinions: list[dict], detail: str | None = None) -> str:
    """Every reviewer's decision and opinion at ``stage``, as the applicant reads them."""
    lines = [f"【{stage}】未通过"]
    for o in opinions:
        lines.append(f"{o['reviewer']}：{DECISIONS.get(o['decision'], o['decision'])}。{o.get('opinion') or ''}".rstrip())
    if detail:
        lines.append(detail)
    return "\n".join(lines)


# Review opinions are kept in the instance's event log, one ``review_opinion`` event each, after
# the ``review_round`` event that every (re)submission writes. Gateways read the current round
# from there: parallel branches each carry the process data, so a decision left in the data from
# an earlier round could win when the branches join.
ROUND, OPINION = "review_round", "review_opinion"


def _round_entries(session: Session, instance_id: int, pending: list[dict]) -> list[tuple[str, dict]]:
    """The current round: its ``review_round`` entry and the opinions since (stored, then this step's)."""
    rows = session.execute(select(InstanceEvent.kind, InstanceEvent.data).where(
        InstanceEvent.instance_id == instance_id, InstanceEvent.kind.in_((ROUND, OPINION)))
        .order_by(InstanceEvent.id)).all()
    entries = [(kind, data or {}) for kind, data in rows] + [(e["kind"], e.get("data") or {}) for e in pending
                                                             if e["kind"] in (ROUND, OPINION)]
    starts = [n for n, (kind, _) in enumerate(entries) if kind == ROUND]
    return entries[starts[-1]:] if starts else entries


def round_opinions(session: Session, instance_id: int, pending: list[dict]) -> dict[str, dict]:
    """reviewer → their latest opinion in the current round."""
    return {data["reviewer"]: data for kind, data in _round_entries(session, instance_id, pending) if kind == OPINION}


def submitted_change(session: Session, instance_id: int, pending: list[dict]) -> dict:
    """The change as submitted for the current round (the reviewers judged exactly this)."""
    entries = _round_entries(session, instance_id, pending)
    if not entries or entries[0][0] != ROUND or "change" not in entries[0][1]:
        raise RuntimeError("该流程没有提交审核的清单调整申请")
    return entries[0][1]["change"]


# --- BPMN helpers -----------------------------------------------------------------------------------

def _applicant_summary(session: Session, unit_code: str | None) -> dict:
    info = unit_register(session).get(unit_code or "")
    if info is None:
        return {}
    return {"township": info.township} if info.kind in TOWNSHIP_KINDS else {"department": info.code}


@helper()
def prepare_catalog_change(application: dict, applicant_unit: str | None = None, applicant: str | None = None) -> dict:
    """Check the application (Invalid names the field) and freeze it on the latest version."""
    ctx = current()
    application = application or {}
    change = check_change(ctx.session, application, applicant=applicant,
                          call_stats=_call_stats(ctx.session, application))
    ctx.events.append({"kind": ROUND, "message": f"提交审核：{change['type_name']} {change['code']} {change['name']}"
                       f"（基于第 {change['base_version']} 版清单）", "data": {"change": change}})
    ctx.summary.update({"title": f"{change['type_name']}：{change['code']} {change['name']}",
                        "item_code": change["code"], "item_name": change["name"],
                        "基础版本": f"第 {change['base_version']} 版", "结果": "审核中",
                        **_applicant_summary(ctx.session, applicant_unit)})
    return change


def _call_stats(session: Session, application: Mapping):
    """The call ledger's statistics of the item, when the applicant asked for them."""
    if not application.get("attach_call_stats"):
        return None
    return call_evidence(session, str(application.get("item_code") or "").strip(),
                         clock.now().astimezone(SHANGHAI).date())


@helper()
def publish_catalog_change(effective_date=None, opinion: str | None = None, rebase: bool = False) -> dict:
    """Publish the change submitted in this round as a new version linked to this instance, or
    report a conflict. The change comes from the instance's record, not from the process data:
    SpiffWorkflow's parallel join may merge in data of an earlier round."""
    ctx = current()
    change = submitted_change(ctx.session, ctx.instance_id, ctx.events)
    result = publish_change(ctx.session, change, effective_date, opinion, instance_id=ctx.instance_id,
                            created_by=change.get("applicant"), now=clock.now(), rebase=bool(rebase))
    kind = "catalog_published" if result["status"] == "published" else "catalog_conflict"
    ctx.events.append({"kind": kind, "message": result["summary"], "data": result})
    if result["status"] == "published":
        ctx.summary["结果"] = result["summary"]
    return result


@helper()
def record_review(reviewer: str, decision: str, opinion: str | None = None) -> bool:
    """Keep a reviewer's decision in the instance's record (run as each review is completed).
    Used by both review procedures."""
    ctx = current()
    ctx.events.append({"kind": OPINION, "message": f"{reviewer}：{DECISIONS.get(decision, decision)}。{opinion or ''}",
                       "data": {"reviewer": str(reviewer), "decision": decision, "opinion": opinion}})
    return True


@helper()
def reviews_passed(*reviewers: str) -> bool:
    """Whether every named reviewer approved in the current round."""
    ctx = current()
    opinions = round_opinions(ctx.session, ctx.instance_id, ctx.events)
    return all(opinions.get(r, {}).get("decision") == "approve" for r in reviewers)


@helper()
def rejection_feedback(stage: str, reviewers: list, detail: str | None = None) -> str:
    """Record that ``stage`` did not pass and return its reviewers' opinions of the current round
    for the applicant. Used by both review procedures."""
    ctx = current()
    opinions = round_opinions(ctx.session, ctx.instance_id, ctx.events)
    text = review_text(str(stage), [opinions[r] for r in reviewers or [] if r in opinions], detail)
    ctx.events.append({"kind": "review_rejected", "message": text, "data": {"stage": stage}})
    ctx.summary["结果"] = f"{stage}未通过"
    return text
