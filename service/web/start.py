"""Start pages: the procedures this user's roles may start, each with its start form."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..engine.store import EngineError
from ..errors import Forbidden, Invalid, NotFound
from ..models import ProcessDefinition
from ..services.deployments import latest_definition
from ..services.instances import can_start, start_instance
from ..services.worklist import next_task_for
from .common import bp, core, page_user
from .forms import FormSpec, attach_uploads, read_form, render_form, shown_values

def startable_definitions(session, user) -> list[ProcessDefinition]:
    """The latest version of every procedure the user may start."""
    latest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.key).subquery())
    rows = session.scalars(select(ProcessDefinition).join(
        latest, (latest.c.key == ProcessDefinition.key) & (latest.c.version == ProcessDefinition.version))
        .order_by(ProcessDefinition.name)).all()
    return [d for d in rows if can_start(user, d)]


def start_form_of(definition: ProcessDefinition) -> FormSpec | None:
    """The start event's form and UI schema, as frozen with the deployed version."""
    process = core().engine.process_for(definition)
    return FormSpec.of(process.forms, process.start_form, process.start_ui_form) if process.start_form else None


def _definition(session, user, key: str) -> ProcessDefinition:
    definition = latest_definition(session, key)
    if definition is None:
        raise NotFound(_("流程「%(key)s」不存在或尚未部署", key=key))
    if not can_start(user, definition):
        raise Forbidden(_("您的角色不能发起「%(name)s」", name=definition.name))
    return definition


@bp.get("/start")
def start_list():
    with core().uow() as uow:
        user = page_user(uow.session)
        return render_template("start/list.html", definitions=startable_definitions(uow.session, user))


def _start_page(session, definition, spec, values, errors, form_errors, business_key="", status=200):
    form = render_form(session, spec, values, errors) if spec else None
    return render_template("start/form.html", definition=definition, spec=spec, form=form,
                           form_errors=list(form_errors) + (form.errors if form else []),
                           business_key=business_key, business_key_error=(errors or {}).get("business_key")), status


@bp.get("/start/<key>")
def start_page(key):
    with core().uow() as uow:
        user = page_user(uow.session)
        definition = _definition(uow.session, user, key)
        return _start_page(uow.session, definition, start_form_of(definition), {}, {}, [])


@bp.post("/start/<key>")
def start(key):
    c = core()
    with c.uow() as uow:
        user = page_user(uow.session)
        definition = _definition(uow.session, user, key)
        spec = start_form_of(definition)
        business_key = (request.form.get("business_key") or "").strip()
        data = {}
        if spec is not None:
            submission = read_form(uow.session, spec, user, None, {})
            if submission.errors:
                return _start_page(uow.session, definition, spec, shown_values(submission), submission.errors,
                                   [_("表单填写有误，请按提示修改")], business_key, 422)
            data = submission.data
        try:
            instance, new_tasks = start_instance(c, uow.session, user, key, data, business_key or None)
            uow.commit()
        except (Invalid, EngineError) as err:
            uow.rollback()
            errors = err.errors if isinstance(err, Invalid) and isinstance(err.errors, dict) else {}
            message = err.message if isinstance(err, Invalid) else str(err)
            return _start_page(uow.session, definition, spec, data, errors, [message], business_key, 422)
        attach_uploads(data, instance.id)
        flash(_("已发起「%(name)s」，流程编号 %(id)s", name=definition.name, id=instance.id), "success")
        following = next_task_for(user, new_tasks)
        if following is not None:
            return redirect(url_for("web.task_page", task_id=following.id))
        return redirect(url_for("web.instance_page", instance_id=instance.id))
