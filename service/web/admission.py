"""Pages of the admission rule (交办事项准入): the register of admitted tasks that township staff
consult before accepting a task, and the townships' refusals of tasks never admitted."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..domain.admission import (DECLINE_RULE, STATUS_NAMES, answers_of, decline, declines_query, get_admitted,
                                local_today, register_query, township_of_user)
from ..domain.catalog import unit_register
from ..domain.catalog_rules import COUNTY_KINDS
from ..errors import Invalid
from ..models import Unit
from .common import bp, core, now, page_user

PER_PAGE = 50


def _units(session) -> dict[str, str]:
    return {code: info.name for code, info in unit_register(session).items()}


@bp.get("/admission")
def admission_register():
    with core().uow() as uow:
        user = page_user(uow.session)
        own = township_of_user(user)
        # Township staff first see what was handed to their own township; "all" shows everything.
        township = request.args.get("township", own or "") or None
        if township == "all":
            township = None
        status = request.args.get("status") if request.args.get("status") in STATUS_NAMES else None
        page = max(1, request.args.get("page", 1, type=int) or 1)
        today = local_today(now())
        stmt = register_query(township=township, status=status, q=(request.args.get("q") or "").strip() or None,
                              today=today)
        total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        rows = uow.session.scalars(stmt.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
        townships = uow.session.execute(select(Unit.code, Unit.name).where(Unit.kind == "township")
                                        .order_by(Unit.code)).all()
        return render_template("admission/register.html", tasks=rows, total=total, page=page,
                               pages=max(1, -(-total // PER_PAGE)), today=today, township=township, status=status,
                               townships=townships, statuses=STATUS_NAMES, names=_units(uow.session), own=own,
                               can_decline=own is not None and user.has_role("township_office"))


@bp.get("/admission/tasks/<code>")
def admitted_task(code):
    with core().uow() as uow:
        page_user(uow.session)
        task = get_admitted(uow.session, code)
        return render_template("admission/task.html", task=task, today=local_today(now()), statuses=STATUS_NAMES,
                               answers=answers_of(uow.session, task.source_instance_id), names=_units(uow.session))


@bp.get("/admission/declines")
def declines():
    with core().uow() as uow:
        user = page_user(uow.session)
        rows = uow.session.scalars(declines_query(user).limit(200)).all()
        return render_template("admission/declines.html", rows=rows, names=_units(uow.session),
                               can_decline=township_of_user(user) is not None and user.has_role("township_office"))


def _decline_page(session, values: dict, errors: dict, form_errors: list[str], status: int = 200):
    departments = session.execute(select(Unit.code, Unit.name, Unit.short_name).where(Unit.kind.in_(COUNTY_KINDS))
                                  .order_by(Unit.code)).all()
    return render_template("admission/decline_form.html", values=values, errors=errors, form_errors=form_errors,
                           departments=departments, rule=DECLINE_RULE), status


@bp.get("/admission/declines/new")
def decline_page():
    with core().uow() as uow:
        page_user(uow.session)
        return _decline_page(uow.session, {"assigned_on": local_today(now()).isoformat()}, {}, [])


@bp.post("/admission/declines/new")
def decline_submit():
    fields = ("department", "task_title", "task_description", "assigned_on", "cited_item_code",
              "cited_admission_code", "remarks")
    values = {key: (request.form.get(key) or "").strip() for key in fields}
    with core().uow() as uow:
        user = page_user(uow.session)
        data = dict(values)
        try:
            data["assigned_on"] = date.fromisoformat(values["assigned_on"]) if values["assigned_on"] else None
            decline(uow.session, user, data, now())
            uow.commit()
        except ValueError:
            return _decline_page(uow.session, values, {"assigned_on": [_("交办日期格式应为 YYYY-MM-DD")]},
                                 [_("表单填写有误，请按提示修改")], 422)
        except Invalid as err:
            uow.rollback()
            errors = err.errors if isinstance(err.errors, dict) else {}
            return _decline_page(uow.session, values, errors, [err.message], 422)
    flash(_("已登记拒绝承接「%(title)s」，交办部门和县督查考核部门可查看", title=values["task_title"]), "success")
    return redirect(url_for("web.declines"))
