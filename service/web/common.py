"""What every page needs: the blueprints, the core, the logged-in user, formatting for templates."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..domain.calendar import SHANGHAI
from ..domain.roles import ROLES
from ..engine import clock
from ..engine.store import EngineError
from ..errors import Forbidden, ServiceError, Unauthorized
from ..models import HumanTask, Unit, User
from ..services.auth import load_user
from ..services.worklist import actionable

bp = Blueprint("web", __name__)
admin_bp = Blueprint("web_admin", __name__, url_prefix="/admin")

# Pages load scripts and styles from this site only; inline styles stay allowed because
# bpmn-js styles the SVG it draws through style attributes.
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'")


@bp.after_request
@admin_bp.after_request
def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.errorhandler(ServiceError)
@admin_bp.errorhandler(ServiceError)
def _service_error(err: ServiceError):
    """Use-case errors as pages: login for 401, a Chinese explanation otherwise."""
    if isinstance(err, Unauthorized):
        flash(err.message, "error")
        return redirect(url_for("web.login", next=request.full_path if request.method == "GET" else None))
    titles = {403: _("没有权限"), 404: _("未找到"), 409: _("操作冲突"), 422: _("提交的内容有误")}
    details = err.errors if isinstance(err.errors, dict) else {}
    return render_template("error.html", title=titles.get(err.status, _("请求有误")), message=err.message,
                           details=details), err.status


@bp.errorhandler(EngineError)
@admin_bp.errorhandler(EngineError)
def _engine_error(err: EngineError):
    return render_template("error.html", title=_("流程执行出错"), message=str(err)), 422


def core():
    return current_app.extensions["shudi"]


def now() -> datetime:
    return clock.now()


@dataclass(frozen=True)
class Viewer:
    """The logged-in user as templates see it (no ORM object outlives its unit of work)."""
    id: int
    username: str
    display_name: str
    unit_name: str | None
    roles: tuple[str, ...]
    is_admin: bool

    @property
    def role_names(self) -> list[str]:
        return [ROLES[r].name if r in ROLES else r for r in self.roles]

    def has_role(self, role: str) -> bool:
        return role in self.roles


def page_user(session) -> User:
    """The active logged-in user, loaded in ``session``; otherwise the login page."""
    user_id = getattr(g, "user_id", None)
    user = load_user(session, user_id) if user_id is not None else None
    if user is None or not user.active:
        raise Unauthorized(_("请先登录"))
    g.viewer = Viewer(user.id, user.username, user.display_name,
                      user.unit.display_name if user.unit else None, tuple(sorted(user.roles)), user.is_admin)
    g.open_task_count = session.scalar(select(func.count()).select_from(HumanTask).where(actionable(user)))
    return user


def admin_user(session) -> User:
    user = page_user(session)
    if not user.is_admin:
        raise Forbidden(_("只有系统管理员可以访问该页面"))
    return user


def safe_next(target: str | None, default: str) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@dataclass(frozen=True)
class Names:
    """Display names of the users and units a page mentions (tasks, events and summaries carry ids)."""
    people: dict
    units: dict

    @classmethod
    def of(cls, session, user_ids=(), unit_codes=()) -> "Names":
        user_ids = {i for i in user_ids if i}
        unit_codes = {c for c in unit_codes if c}
        people = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all()) \
            if user_ids else {}
        units = {code: short or name for code, name, short in session.execute(
            select(Unit.code, Unit.name, Unit.short_name).where(Unit.code.in_(unit_codes))).all()} if unit_codes else {}
        return cls(people, units)

    def person(self, user_id, fallback: str = "") -> str:
        return self.people.get(user_id, fallback or "")

    def unit(self, code) -> str:
        return self.units.get(code, code or "")


def mentioned_units(summary: dict | None) -> set[str]:
    """Unit codes a summary names (township, department) — shown by name."""
    return {v for k, v in (summary or {}).items() if k in ("township", "department") and isinstance(v, str)}


# --- formatting ---------------------------------------------------------------------------------

def local_time(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC datetime (or ISO text) as Beijing wall-clock time."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:
        return value.strftime(fmt)
    return value.astimezone(SHANGHAI).strftime(fmt)


def time_left(urgency) -> str:
    """Working days left; within a day of the deadline, hours and minutes (limits like 签收 1 小时)."""
    seconds = urgency.remaining_seconds
    if seconds is not None and abs(seconds) < 24 * 3600:
        minutes = int(abs(seconds) // 60)
        amount = (_("%(h)s 小时 %(m)s 分钟", h=minutes // 60, m=minutes % 60) if minutes >= 60
                  else _("%(m)s 分钟", m=minutes))
        return _("超期 %(t)s", t=amount) if seconds < 0 else _("剩余 %(t)s", t=amount)
    return working_days(urgency.remaining_days)


def working_days(value: float | None) -> str:
    """Remaining working days as staff read them: 剩余 2.5 个工作日 / 超期 0.5 个工作日."""
    if value is None:
        return ""
    amount = abs(value)
    text = f"{amount:.1f}".removesuffix(".0")
    if text == "0" and amount > 0:
        text = "0.1"  # less than a tenth of a day left still reads as "some time", not none
    if value < 0:
        return _("超期 %(days)s 个工作日", days=text)
    return _("剩余 %(days)s 个工作日", days=text)


def N_(text: str) -> str:
    """Marks a string for translation where it is defined; ``label`` translates it when shown."""
    return text


STATUS_LABELS = {"running": N_("运行中"), "suspended": N_("已挂起"), "completed": N_("已完成"),
                 "terminated": N_("已终止"), "error": N_("出错")}
EVENT_LABELS = {"started": N_("发起"), "task_ready": N_("待办"), "task_completed": N_("办理"),
                "task_claimed": N_("认领"), "task_released": N_("退回"), "task_cancelled": N_("取消"),
                "timer_fired": N_("定时器"), "timer_retry": N_("重试"), "error": N_("出错"), "completed": N_("结束"),
                "admin_action": N_("管理操作"), "escalation": N_("督办"), "reminder": N_("预警提醒"),
                "supervision": N_("督办要求"), "migrated": N_("版本迁移"),
                "migration_reverted": N_("撤销迁移")}
STATE_LABELS = {"completed": N_("已完成"), "active": N_("进行中"), "waiting": N_("等待中"), "error": N_("出错"),
                None: N_("未到达")}
LIGHT_LABELS = {"green": N_("正常"), "yellow": N_("即将到期"), "red": N_("已超期")}
# What the review procedures (catalog change, task admission) write into an instance's record.
EVENT_LABELS.update({"reminder": N_("催办"), "review_round": N_("提交审核"), "review_opinion": N_("审核意见"),
                     "review_rejected": N_("未通过"), "catalog_published": N_("发布清单"),
                     "catalog_conflict": N_("版本冲突"), "consultation_absent": N_("逾期未反馈"),
                     "admitted": N_("准入登记")})


_KINDS = (("Start Event", "开始事件"), ("End Event", "结束事件"), ("Boundary Event", "边界事件"),
          ("Intermediate", "中间事件"), ("User Task", "用户任务"), ("Manual Task", "人工任务"),
          ("Script Task", "脚本任务"), ("Service Task", "服务任务"), ("Business Rule", "业务规则任务"),
          ("Send Task", "发送任务"), ("Receive Task", "接收任务"), ("Call Activity", "调用活动"),
          ("Subprocess", "子流程"), ("Transaction", "事务子流程"), ("Exclusive Gateway", "排他网关"),
          ("Parallel Gateway", "并行网关"), ("Inclusive Gateway", "包容网关"), ("Event Based Gateway", "事件网关"),
          ("Task", "任务"))
_EVENT_KINDS = (("Timer", "定时"), ("Message", "消息"), ("Signal", "信号"), ("Error", "错误"),
                ("Escalation", "升级"), ("Conditional", "条件"), ("Terminate", "终止"))


def element_kind(description: str | None) -> str:
    """SpiffWorkflow's English element description ("Non-Interrupting Timer Boundary Event") in Chinese."""
    text = description or ""
    if str(get_locale()) == "en":
        return text
    kind = next((name for key, name in _KINDS if key in text), text)
    prefix = next((name for key, name in _EVENT_KINDS if key in text), "")
    return prefix + kind + ("（不中断）" if "Non-Interrupting" in text else "")


def label(mapping: dict, key) -> str:
    text = mapping.get(key)
    return _(text) if text else (key or "")
