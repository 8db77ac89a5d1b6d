"""The process designer's pages: processes and versions, the diagram editor, version differences.

Designers and administrators only. The editor's buttons post JSON to the routes here (with the
page's CSRF token in a header), since the API takes changes only with a bearer token. The form
library is in ``designer_forms``, moving running instances in ``designer_migration``.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from ..domain.roles import ROLES
from ..engine.store import EngineError
from ..errors import Invalid, NotFound, ServiceError
from ..services import designer as design
from ..services.designer_diff import parse
from ..services.designer_forms import form_entries
from ..services.migration import migrations_of, revertible
from . import common
from .common import core, page_user

bp = Blueprint("designer", __name__, url_prefix="/designer")
bp.after_request(common._security_headers)
bp.errorhandler(ServiceError)(common._service_error)
bp.errorhandler(EngineError)(common._engine_error)


def register(app) -> None:
    from . import designer_forms, designer_migration  # noqa: F401 - their views register on ``bp``

    app.register_blueprint(bp)


def designer_user(session):
    user = page_user(session)
    design.require_designer(user)
    return user


def json_endpoint(view):
    """A route the page's scripts post JSON to: use-case errors come back as JSON, not pages."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except ServiceError as err:
            return jsonify({"code": err.code, "message": err.message, "errors": err.errors or {}}), err.status
        except EngineError as err:
            return jsonify({"code": "process_error", "message": str(err), "errors": {}}), 422
    return wrapper


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid(_("请求格式错误"), {"body": [_("请求内容应为 JSON 对象")]})
    return body


def role_choices() -> list[dict]:
    return [{"key": r.key, "name": r.name, "lanes": list(r.lanes) or [r.name]} for r in ROLES.values()]


# --- processes and versions -----------------------------------------------------------------------

@bp.get("/")
def index():
    c = core()
    with c.uow() as uow:
        designer_user(uow.session)
        summaries = design.process_summaries(uow.session)
        deployed = {s.filename for s in summaries}
        new_drafts = [d for d in design.drafts(uow.session, "bpmn").values() if d.filename not in deployed]
        changed_drafts = {d.filename: d for d in design.drafts(uow.session, "bpmn").values() if d.filename in deployed}
        return render_template("designer/index.html", summaries=summaries, new_drafts=new_drafts,
                               changed_drafts=changed_drafts)


def open_new_file(kind: str, endpoint: str):
    """The editor of a typed-in file name (checked here, so a bad name is explained, not a 404)."""
    with core().uow() as uow:
        designer_user(uow.session)
    suffix = ".bpmn" if kind == "bpmn" else ".json"
    filename = (request.args.get("filename") or "").strip()
    if filename and not filename.endswith(suffix):
        filename += suffix
    design.check_filename(kind, filename)
    return redirect(url_for(endpoint, filename=filename))


@bp.get("/new")
def new_diagram():
    return open_new_file("bpmn", "designer.diagram")


@bp.get("/processes/<key>")
def process(key):
    with core().uow() as uow:
        designer_user(uow.session)
        versions = design.process_versions(uow.session, key)
        latest = versions[0].definition
        migrations = [(m, revertible(uow.session, m)) for m in migrations_of(uow.session, key, limit=20)]
        return render_template("designer/process.html", key=key, latest=latest, versions=versions,
                               filename=design.version_file(latest)[0], migrations=migrations)


@bp.get("/versions/<int:definition_id>/bpmn")
def download(definition_id):
    with core().uow() as uow:
        designer_user(uow.session)
        name, text = design.version_download(uow.session, definition_id)
    return Response(text, mimetype="application/xml", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/processes/<key>/diff")
def diff(key):
    with core().uow() as uow:
        designer_user(uow.session)
        versions = design.process_versions(uow.session, key)
        if len(versions) < 2:
            raise Invalid(_("该流程只有一个版本，无可比较"))
        by_id = {v.definition.id: v.definition for v in versions}
        old_id = request.args.get("from", type=int) or versions[1].definition.id
        new_id = request.args.get("to", type=int) or versions[0].definition.id
        if old_id not in by_id or new_id not in by_id:
            raise NotFound(_("所选版本不属于该流程"))
        old, new, changes = design.version_diff(uow.session, old_id, new_id)
        old_xml, new_xml = design.version_file(old)[1], design.version_file(new)[1]
        diagrams = {"old": {"xml": old_xml, "has_di": _has_di(old_xml)},
                    "new": {"xml": new_xml, "has_di": _has_di(new_xml)},
                    "added": [e.id for e in changes.added], "removed": [e.id for e in changes.removed],
                    "changed": [c.new.id for c in changes.changed]}
        return render_template("designer/diff.html", key=key, old=old, new=new, changes=changes,
                               versions=[v.definition for v in versions], diagrams=diagrams)


def _has_di(xml: str) -> bool:
    return any(True for _node in parse(xml).iter("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNShape"))


# --- the diagram editor --------------------------------------------------------------------------

@bp.get("/diagrams/<filename>")
def diagram(filename):
    c = core()
    with c.uow() as uow:
        designer_user(uow.session)
        filename = design.check_filename("bpmn", filename)
        copy = design.working_copy(uow.session, c.settings, "bpmn", filename)
        xml = copy.content if copy else design.blank_diagram(filename)
        forms = [{"name": e.name, "ui": e.is_ui} for e in form_entries(c, uow.session)]
        config = {
            "filename": filename, "xml": xml, "draft_version": copy.draft_version if copy else None,
            "locale": str(get_locale()), "forms": forms, "roles": role_choices(), "csrf": generate_csrf(),
            "urls": {name: url_for(f"designer.diagram_{name}", filename=filename)
                     for name in ("validate", "save", "deploy")},
            "labels": editor_labels(),
        }
        return render_template("designer/editor.html", filename=filename, copy=copy, config=config)


def editor_labels() -> dict:
    return {"validating": _("正在校验…"), "valid": _("校验通过，可以部署。"),
            "invalid": _("发现 %(n)s 个问题，已在图中标出。", n="%(n)s"),
            "problems_title": _("校验问题（%(n)s）", n="%(n)s"), "line": _("行"),
            "drafts_included": _("部署时将一并包含草稿："), "saving": _("正在保存草稿…"),
            "deploying": _("正在部署…"), "note_required": _("请填写变更说明后再部署。"), "failed": _("操作失败："),
            "imported": _("已导入文件，尚未保存。"), "warnings": _("导入时有 %(n)s 条提示。", n="%(n)s"),
            "import_failed": _("流程图导入失败：")}


@bp.post("/diagrams/<filename>/validate")
@json_endpoint
def diagram_validate(filename):
    c = core()
    with c.uow() as uow:
        user = designer_user(uow.session)
        return jsonify(design.validate_diagram(c, uow.session, user, filename, json_body().get("xml")).as_dict())


@bp.post("/diagrams/<filename>/save")
@json_endpoint
def diagram_save(filename):
    c = core()
    body = json_body()
    with c.uow() as uow:
        user = designer_user(uow.session)
        draft = design.save_draft(uow.session, c.settings, user, "bpmn", filename, body.get("xml"),
                                  body.get("version"))
        uow.commit()
        return jsonify({"version": draft.version, "message": _("草稿已保存（第 %(v)s 次保存），尚未部署。", v=draft.version)})


@bp.post("/diagrams/<filename>/deploy")
@json_endpoint
def diagram_deploy(filename):
    c = core()
    body = json_body()
    with c.uow() as uow:
        user = designer_user(uow.session)
        result = design.deploy_diagram(c, uow.session, user, filename, body.get("xml"), body.get("note"),
                                       body.get("draft_version", design.ANY_VERSION))
        uow.commit()
        draft = design.drafts(uow.session, "bpmn").get(filename)
        draft_version = draft.version if draft else None
    target = next((d for d in result.deployed if d.created), None)
    return jsonify({"message": result.message(), "deployed": [d.as_dict() for d in result.deployed],
                    "draft_version": draft_version,
                    "redirect": url_for("designer.process", key=target.key) if target else None}), \
        (201 if result.created else 200)


@bp.post("/diagrams/<filename>/discard")
def diagram_discard(filename):
    with core().uow() as uow:
        user = designer_user(uow.session)
        design.discard_draft(uow.session, user, "bpmn", filename)
        uow.commit()
    flash(_("已删除草稿「%(f)s」", f=filename), "success")
    return redirect(url_for("designer.diagram", filename=filename))
