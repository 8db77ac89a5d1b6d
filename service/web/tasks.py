"""Staff pages: home, my open tasks (我的待办), what I completed (已办), one task with its form."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..api.views import task_data
from ..engine.store import EngineError
from ..engine.trace import documentation_of
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..models import HumanTask, InstanceEvent, ProcessInstance, Unit
from ..services.instances import can_view_instance, claim_task, complete_task, task_refusal
from ..services.worklist import (TaskFilters, completed_by, next_task_for, open_tasks_for,
                                 process_names, task_counts, urgency)
from .common import Names, bp, core, mentioned_units, now, page_user, safe_next
from .forms import FormSpec, attach_uploads, read_form, render_form, shown_values
from .start import startable_definitions

PER_PAGE = 50


@bp.get("/")
def home():
    with core().uow() as uow:
        user = page_user(uow.session)
        moment = now()
        counts = task_counts(uow.session, user, moment)
        calendar = core().calendar()
        urgent = uow.session.scalars(open_tasks_for(user, TaskFilters(), moment).limit(8)).unique().all()
        started = uow.session.scalars(select(ProcessInstance).where(ProcessInstance.started_by_id == user.id)
                                      .order_by(ProcessInstance.id.desc()).limit(8)).unique().all()
        done_count = uow.session.scalar(select(func.count()).select_from(completed_by(user).subquery()))
        return render_template("home.html", counts=counts, done_count=done_count, started=started,
                               tasks=[(t, urgency(t, moment, calendar)) for t in urgent],
                               startable=startable_definitions(uow.session, user), names=process_names(uow.session))


def _filters() -> TaskFilters:
    return TaskFilters(process_key=request.args.get("process") or None, township=request.args.get("township") or None,
                       item_code=(request.args.get("item") or "").strip() or None,
                       overdue=request.args.get("overdue") == "1",
                       claimed=request.args.get("claimed") if request.args.get("claimed") in ("mine", "open") else None)


@bp.get("/tasks")
def task_list():
    with core().uow() as uow:
        user = page_user(uow.session)
        moment = now()
        filters = _filters()
        page = max(1, request.args.get("page", 1, type=int) or 1)
        stmt = open_tasks_for(user, filters, moment)
        total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        rows = uow.session.scalars(stmt.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).unique().all()
        calendar = core().calendar()
        names = Names.of(uow.session, {t.assignee_id for t in rows}, {t.candidate_unit for t in rows})
        townships = uow.session.execute(select(Unit.code, Unit.name).where(Unit.kind == "township")
                                        .order_by(Unit.code)).all()
        return render_template("tasks/list.html", tasks=[(t, urgency(t, moment, calendar)) for t in rows],
                               total=total, page=page, pages=max(1, -(-total // PER_PAGE)), filters=filters,
                               counts=task_counts(uow.session, user, moment), names=process_names(uow.session),
                               townships=townships, who=names, user_id=user.id)


@bp.get("/tasks/done")
def done_list():
    with core().uow() as uow:
        user = page_user(uow.session)
        page = max(1, request.args.get("page", 1, type=int) or 1)
        stmt = completed_by(user)
        total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        rows = uow.session.execute(stmt.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).unique().all()
        return render_template("tasks/done.html", rows=rows, total=total, page=page,
                               pages=max(1, -(-total // PER_PAGE)), names=process_names(uow.session))


def _load_task(session, user, task_id: str) -> HumanTask:
    row = session.get(HumanTask, task_id)
    if row is None:
        finished = session.scalars(select(InstanceEvent).where(InstanceEvent.task_id == task_id,
                                                               InstanceEvent.kind == "task_completed")).first()
        if finished is not None:
            raise Conflict(_("该任务已办理完毕（%(who)s）", who=finished.username or ""))
        raise NotFound(_("任务不存在或已取消"))
    if task_refusal(user, row) is not None and not can_view_instance(session, user, row.instance):
        raise Forbidden(_("您无权查看该任务"))
    return row


def _task_page(session, user, row: HumanTask, values: dict | None = None, errors: dict | None = None,
               form_errors: list[str] = (), status: int = 200):
    c = core()
    instance = row.instance
    definition = instance.definition
    spec = FormSpec.of(definition.forms, row.form_file, row.ui_form_file)
    current = task_data(c, row)
    form = render_form(session, spec, current if values is None else values, errors) if spec else None
    events = session.scalars(select(InstanceEvent).where(InstanceEvent.instance_id == instance.id)
                             .order_by(InstanceEvent.at, InstanceEvent.id)).all()
    refusal = task_refusal(user, row)
    # An admin may act on any task, but should see who it is really meant for.
    return render_template(
        "tasks/task.html", task=row, instance=instance, definition=definition, spec=spec, form=form,
        form_errors=list(form_errors) + (form.errors if form else []), events=events, refusal=refusal,
        instructions=documentation_of(c.engine.process_for(definition), row.element_id),
        urgency=urgency(row, now(), c.calendar()),
        who=Names.of(session, {row.assignee_id} | {e.user_id for e in events},
                     {row.candidate_unit} | mentioned_units(instance.summary)),
        can_claim=refusal is None and row.assignee_id is None and row.owner_id is None,
        can_release=row.assignee_id == user.id, user_id=user.id), status


@bp.get("/tasks/<task_id>")
def task_page(task_id):
    with core().uow() as uow:
        user = page_user(uow.session)
        return _task_page(uow.session, user, _load_task(uow.session, user, task_id))


@bp.post("/tasks/<task_id>")
def complete(task_id):
    c = core()
    with c.uow() as uow:
        user = page_user(uow.session)
        row = _load_task(uow.session, user, task_id)
        title, instance_id = row.title, row.instance_id
        spec = FormSpec.of(row.instance.definition.forms, row.form_file, row.ui_form_file)
        data = {}
        if spec is not None:
            submission = read_form(uow.session, spec, user, instance_id, task_data(c, row))
            if submission.errors:
                return _task_page(uow.session, user, row, shown_values(submission), submission.errors,
                                  [_("表单填写有误，请按提示修改")], 422)
            data = submission.data
        try:
            _instance, new_tasks = complete_task(c, uow.session, user, task_id, data)
            uow.commit()
        except Invalid as err:
            uow.rollback()
            errors = err.errors if isinstance(err.errors, dict) else {}
            return _task_page(uow.session, user, row, data, errors, [err.message], 422)
        except EngineError as err:
            uow.rollback()
            return _task_page(uow.session, user, row, data, {}, [str(err)], 422)
        attach_uploads(data, instance_id)
        following = next_task_for(user, new_tasks)
        flash(_("已办理「%(title)s」", title=title), "success")
        if following is not None:
            flash(_("下一步「%(title)s」也由您办理", title=following.title), "info")
            return redirect(url_for("web.task_page", task_id=following.id))
        return redirect(url_for("web.task_list"))


@bp.post("/tasks/<task_id>/claim")
def claim(task_id):
    return _claim(task_id, release=False)


@bp.post("/tasks/<task_id>/release")
def release(task_id):
    return _claim(task_id, release=True)


def _claim(task_id: str, release: bool):
    with core().uow() as uow:
        user = page_user(uow.session)
        row = claim_task(uow.session, user, task_id, release=release)
        title = row.title
        uow.commit()
    flash(_("已退回「%(title)s」，同岗位人员均可办理", title=title) if release else _("已认领「%(title)s」", title=title),
          "success")
    return redirect(safe_next(request.form.get("next"), url_for("web.task_page", task_id=task_id)))
