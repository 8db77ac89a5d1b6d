"""Process definitions: list versions, deploy uploads, validate uploads without deploying."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import func, select

from ..errors import Forbidden, Invalid
from ..models import ProcessDefinition, ProcessInstance
from ..services.deployments import deploy, read_folder
from ..services.designer import check_bundle
from .common import core, current_user

blp = Blueprint("definitions", __name__, url_prefix="/api/process-definitions", description="流程定义与部署")

DEPLOYER_ROLES = {"designer", "admin"}


def dump_definition(d: ProcessDefinition, running: int = 0) -> dict:
    return {"id": d.id, "key": d.key, "version": d.version, "name": d.name, "deployed_by": d.deployed_by,
            "deployed_at": d.deployed_at.isoformat() if d.deployed_at else None, "start_roles": d.start_roles,
            "files": sorted(d.bpmn_files), "forms": sorted(d.forms), "running_instances": running}


@blp.route("")
class Definitions(MethodView):
    def get(self):
        """Every deployed version, newest first, with its running instance count."""
        with core().uow() as uow:
            current_user(uow.session)
            counts = dict(uow.session.execute(
                select(ProcessInstance.definition_id, func.count()).where(ProcessInstance.status == "running")
                .group_by(ProcessInstance.definition_id)).all())
            rows = uow.session.scalars(select(ProcessDefinition)
                                       .order_by(ProcessDefinition.key, ProcessDefinition.version.desc())).all()
            return {"items": [dump_definition(d, counts.get(d.id, 0)) for d in rows]}

    @blp.response(201)
    @blp.doc(requestBody={"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
        "note": {"type": "string"}}}}}})
    def post(self):
        """Deploy uploaded .bpmn files and their form .json files (multipart field ``files``)."""
        c = core()
        with c.uow() as uow:
            user, bpmn, forms = _deploy_input(c, uow.session, "部署")
            results = deploy(c, uow.session, bpmn, forms, deployed_by=user.username,
                             note=request.form.get("note"))
            uow.commit()
        first = results[0]
        body = {"key": first.key, "version": first.version, "created": first.created,
                "deployed": [r.as_dict() for r in results]}
        return body, (201 if any(r.created for r in results) else 200)


@blp.route("/validate")
class Validate(MethodView):
    @blp.doc(requestBody={"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}})
    def post(self):
        """The deploy checks on the same upload as a deploy, storing nothing: ``valid`` and the
        element-level ``problems`` ({file, element_id, line, message})."""
        c = core()
        with c.uow() as uow:
            _user, bpmn, forms = _deploy_input(c, uow.session, "校验")
        problems, parsed = check_bundle(c, bpmn, forms)
        return {"valid": not problems, "problems": problems,
                "processes": [{"key": p.key, "name": p.name} for p in parsed.processes] if parsed else []}


def _deploy_input(c, session, action: str):
    """The deploying user and the uploaded files; forms already in the forms folder may be
    referenced without uploading them again."""
    user = current_user(session)
    if not (user.roles & DEPLOYER_ROLES):
        raise Forbidden(f"只有流程设计人员或管理员可以{action}流程")
    bpmn, uploaded_forms = read_uploads(request.files.getlist("files"))
    forms = {**read_folder(c.settings.processes_dir, c.settings.forms_dir)[1], **uploaded_forms}
    return user, bpmn, forms


def read_uploads(uploads) -> tuple[dict[str, str], dict[str, str]]:
    if not uploads:
        raise Invalid("没有上传文件", {"files": ["请上传 .bpmn 文件及其表单 .json 文件"]})
    bpmn, forms, errors = {}, {}, {}
    for upload in uploads:
        name = (upload.filename or "").rsplit("/", 1)[-1]
        try:
            text = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            errors.setdefault("files", []).append(f"文件「{name}」不是 UTF-8 编码")
            continue
        if name.endswith(".bpmn") or name.endswith(".bpmn20.xml"):
            bpmn[name] = text
        elif name.endswith(".json"):
            forms[name] = text
        else:
            errors.setdefault("files", []).append(f"文件「{name}」既不是 .bpmn 也不是 .json")
    if errors:
        raise Invalid("上传的文件有误", errors)
    if not bpmn:
        raise Invalid("没有 BPMN 文件", {"files": ["至少上传一个 .bpmn 文件"]})
    return bpmn, forms
