"""Administrators' pages: instance list with filters and counts, incidents, repair actions."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import Conflict, Invalid
from ..models import Unit
from ..services import admin as admin_actions
from ..services.admin_queries import (InstanceFilters, incidents, open_tasks_by_instance, overdue_instance_ids,
                                      process_versions, search_instances)
from ..services.worklist import process_names
from .common import N_, admin_bp, admin_user, core, now
from .instances import render_instance

PER_PAGE_CHOICES = (20, 50, 100)


def _date_arg(name: str, errors: dict) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = [_("日期格式应为 YYYY-MM-DD")]
        return None


def _filters(errors: dict) -> InstanceFilters:
    args = request.args
    version = args.get("version", type=int)
    return InstanceFilters(
        process_key=args.get("process") or None, version=version, status=args.get("status") or None,
        township=args.get("township") or None, department=args.get("department") or None,
        overdue=args.get("overdue") == "1", started_from=_date_arg("from", errors), started_to=_date_arg("to", errors),
        q=(args.get("q") or "").strip() or None, sort=args.get("sort") or "started_desc")


@admin_bp.get("/instances")
def instances():
    with core().uow() as uow:
        admin_user(uow.session)
        errors: dict = {}
        filters = _filters(errors)
        per_page = request.args.get("per_page", 20, type=int)
        per_page = per_page if per_page in PER_PAGE_CHOICES else 20
        page_number = max(1, request.args.get("page", 1, type=int) or 1)
        errors.update(filters.problems())
        moment = now()
        page = search_instances(uow.session, filters.without_problems(), moment, page_number, per_page)
        ids = [i.id for i in page.items]
        units = uow.session.execute(select(Unit.code, Unit.name, Unit.kind)
                                    .where(Unit.kind.in_(("township", "county_department"))).order_by(Unit.code)).all()
        return render_template("admin/instances.html", page=page, filters=filters, errors=errors,
                               names=process_names(uow.session), versions=process_versions(uow.session),
                               tasks=open_tasks_by_instance(uow.session, ids),
                               overdue=overdue_instance_ids(uow.session, ids, moment),
                               townships=[u for u in units if u.kind == "township"],
                               departments=[u for u in units if u.kind == "county_department"],
                               per_page_choices=PER_PAGE_CHOICES, args=request.args), 422 if errors else 200


@admin_bp.get("/incidents")
def incident_list():
    with core().uow() as uow:
        admin_user(uow.session)
        rows = incidents(uow.session)
        return render_template("admin/incidents.html", incidents=rows, names=process_names(uow.session))


# --- actions ------------------------------------------------------------------------------------

_ACTIONS = {
    "suspend": (admin_actions.suspend, N_("已挂起流程实例")),
    "resume": (admin_actions.resume, N_("已恢复流程实例")),
    "terminate": (admin_actions.terminate, N_("已终止流程实例")),
    "retry": (admin_actions.retry, N_("已安排重试，出错的步骤将立即重新执行")),
}


def _expected_version() -> int | None:
    return request.form.get("version", type=int)


def _rejected(session, user, instance_id: int, action: str, err):
    """Show the instance page again with the problem next to the action's fields."""
    errors = err.errors if isinstance(err.errors, dict) and err.errors else {"form": [err.message]}
    session.rollback()
    return render_instance(session, user, instance_id, action=action, errors=errors,
                           values=request.form.to_dict(), status=err.status)


@admin_bp.post("/instances/<int:instance_id>/<action>")
def instance_action(instance_id, action):
    c = core()
    if action == "data":
        return _edit_data(instance_id)
    if action not in _ACTIONS:
        return render_template("error.html", title=_("未找到"), message=_("未知操作")), 404
    use_case, done = _ACTIONS[action]
    with c.uow() as uow:
        user = admin_user(uow.session)
        try:
            use_case(c, uow.session, user, instance_id, request.form.get("reason"), _expected_version())
            uow.commit()
        except (Invalid, Conflict) as err:
            return _rejected(uow.session, user, instance_id, action, err)
    flash(_(done), "success")
    return redirect(url_for("web.instance_page", instance_id=instance_id))


def _edit_data(instance_id: int):
    c = core()
    with c.uow() as uow:
        user = admin_user(uow.session)
        try:
            data = admin_actions.parse_data(request.form.get("data"))
            admin_actions.edit_data(c, uow.session, user, instance_id, data, request.form.get("reason"),
                                    _expected_version())
            uow.commit()
        except (Invalid, Conflict) as err:
            return _rejected(uow.session, user, instance_id, "data", err)
    flash(_("已修改流程数据"), "success")
    return redirect(url_for("web.instance_page", instance_id=instance_id))


@admin_bp.post("/tasks/<task_id>/reassign")
def reassign(task_id):
    c = core()
    with c.uow() as uow:
        user = admin_user(uow.session)
        instance_id = request.form.get("instance_id", type=int)
        try:
            row = admin_actions.reassign(c, uow.session, user, task_id, request.form.get("username"),
                                         request.form.get("reason"))
            instance_id = row.instance_id
            uow.commit()
        except (Invalid, Conflict) as err:
            if instance_id is None:
                raise
            return _rejected(uow.session, user, instance_id, f"reassign-{task_id}", err)
    flash(_("已改派任务"), "success")
    return redirect(url_for("web.instance_page", instance_id=instance_id))
