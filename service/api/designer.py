"""The process designers' API: versions and their differences, drafts, validating and deploying
diagrams, the form library, and migrating running instances. Designers and administrators only.
"""
from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..errors import NotFound
from ..services import designer as design
from ..services import designer_forms as forms
from ..services import migration
from .common import core, current_user
from .definitions import dump_definition

blp = Blueprint("designer_api", __name__, url_prefix="/api/designer", description="流程设计：版本、草稿、校验、部署、表单、迁移")


class DesignerDiagramArgs(Schema):
    content = fields.String(required=True, metadata={"description": "BPMN XML"})


class DesignerDraftArgs(DesignerDiagramArgs):
    version = fields.Integer(allow_none=True, metadata={"description": "编辑开始时草稿的版本（无草稿为 null）；"
                                                                        "不一致时返回 409。不传则直接覆盖"})


class DesignerDeployArgs(DesignerDiagramArgs):
    note = fields.String(required=True, metadata={"description": "变更说明"})
    draft_version = fields.Integer(allow_none=True, metadata={"description": "编辑开始时草稿的版本：部署后删除该草稿"})


class DesignerFormArgs(Schema):
    schema = fields.String(required=True, metadata={"description": "JSON Schema 文本"})
    ui_name = fields.String(load_default=None, allow_none=True, metadata={"description": "界面布局文件名"})
    ui = fields.String(load_default=None, allow_none=True, metadata={"description": "界面布局（UI Schema）文本"})
    versions = fields.Dict(keys=fields.String(), values=fields.Integer(allow_none=True), load_default=dict,
                           metadata={"description": "文件名 → 编辑开始时草稿的版本"})


class DesignerPublishArgs(DesignerFormArgs):
    note = fields.String(load_default=None, metadata={"description": "变更说明（有流程使用该表单时必填）"})


class DesignerDiffArgs(Schema):
    from_id = fields.Integer(required=True, data_key="from", metadata={"description": "旧版本的定义 id"})
    to_id = fields.Integer(required=True, data_key="to", metadata={"description": "新版本的定义 id"})


class DesignerPlanArgs(Schema):
    from_id = fields.Integer(required=True, data_key="from", metadata={"description": "实例当前所在版本的定义 id"})
    to_id = fields.Integer(required=True, data_key="to", metadata={"description": "目标版本的定义 id"})


class DesignerMigrateArgs(Schema):
    target = fields.Integer(required=True, metadata={"description": "目标版本的定义 id"})
    instances = fields.List(fields.Raw(), required=True, validate=validate.Length(min=1, max=migration.MAX_BATCH),
                            metadata={"description": "实例编号，或 {id, version}（预检时看到的实例版本）"})


class DesignerMigrationListArgs(Schema):
    process = fields.String(required=True, metadata={"description": "流程 key"})


def _designer(session, what="使用流程设计器"):
    user = current_user(session)
    design.require_designer(user, what)
    return user


def dump_copy(copy: design.WorkingCopy) -> dict:
    return {"filename": copy.filename, "kind": copy.kind, "content": copy.content, "source": copy.source,
            "draft_version": copy.draft_version,
            "draft_updated_by": copy.draft.updated_by if copy.draft else None,
            "deployed_in": dump_definition(copy.deployed_in) if copy.deployed_in else None}


def dump_migration(record) -> dict:
    return {"id": record.id, "instance_id": record.instance_id, "from_definition_id": record.from_definition_id,
            "from_version": record.from_definition.version, "to_definition_id": record.to_definition_id,
            "to_version": record.to_definition.version, "migrated_by": record.migrated_by,
            "migrated_at": record.migrated_at.isoformat() if record.migrated_at else None,
            "reverted_by": record.reverted_by,
            "reverted_at": record.reverted_at.isoformat() if record.reverted_at else None}


# --- processes and versions -----------------------------------------------------------------------

@blp.route("/processes")
class Processes(MethodView):
    def get(self):
        """Every process: its newest version, how many versions, how many instances are not finished."""
        with core().uow() as uow:
            _designer(uow.session)
            return {"items": [{"key": s.key, "name": s.name, "latest": dump_definition(s.latest), "versions": s.versions,
                               "running_instances": s.running, "filename": s.filename}
                              for s in design.process_summaries(uow.session)]}


@blp.route("/processes/<key>/versions")
class Versions(MethodView):
    def get(self, key):
        """The versions of a process, newest first: who deployed, when, the note, what changed, running instances."""
        with core().uow() as uow:
            _designer(uow.session)
            return {"items": [{**dump_definition(v.definition, v.running), "note": v.definition.note,
                               "changes": v.changes.as_dict()} for v in design.process_versions(uow.session, key)]}


@blp.route("/versions/<int:definition_id>/bpmn")
class VersionBpmn(MethodView):
    def get(self, definition_id):
        """The stored BPMN file of a version (download)."""
        with core().uow() as uow:
            _designer(uow.session)
            name, text = design.version_download(uow.session, definition_id)
        return Response(text, mimetype="application/xml", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@blp.route("/diff")
class Diff(MethodView):
    @blp.arguments(DesignerDiffArgs, location="query")
    def get(self, args):
        """Elements added, removed and changed from one version to another (and forms)."""
        with core().uow() as uow:
            _designer(uow.session)
            old, new, diff = design.version_diff(uow.session, args["from_id"], args["to_id"])
            return {"from": dump_definition(old), "to": dump_definition(new), **diff.as_dict()}


# --- diagrams ------------------------------------------------------------------------------------

@blp.route("/diagrams/<filename>")
class Diagram(MethodView):
    def get(self, filename):
        """The current copy of a diagram: its draft, else the newest deployed copy, else the repository's."""
        with core().uow() as uow:
            _designer(uow.session)
            copy = design.working_copy(uow.session, core().settings, "bpmn", filename)
            if copy is None:
                raise NotFound(f"流程图「{filename}」不存在")
            return dump_copy(copy)


@blp.route("/diagrams/<filename>/draft")
class DiagramDraft(MethodView):
    @blp.arguments(DesignerDraftArgs)
    def put(self, args, filename):
        """Save a draft (nothing deployed changes)."""
        c = core()
        with c.uow() as uow:
            user = current_user(uow.session)
            draft = design.save_draft(uow.session, c.settings, user, "bpmn", filename, args["content"],
                                      args.get("version", design.ANY_VERSION))
            uow.commit()
            return {"filename": draft.filename, "version": draft.version}

    @blp.response(204)
    def delete(self, filename):
        """Discard the draft."""
        with core().uow() as uow:
            design.discard_draft(uow.session, current_user(uow.session), "bpmn", filename)
            uow.commit()


@blp.route("/diagrams/<filename>/validate")
class DiagramValidate(MethodView):
    @blp.arguments(DesignerDiagramArgs)
    def post(self, args, filename):
        """The deploy checks on this diagram with what it uses; nothing is stored."""
        c = core()
        with c.uow() as uow:
            user = current_user(uow.session)
            return design.validate_diagram(c, uow.session, user, filename, args["content"]).as_dict()


@blp.route("/diagrams/<filename>/deploy")
class DiagramDeploy(MethodView):
    @blp.arguments(DesignerDeployArgs)
    def post(self, args, filename):
        """Deploy the diagram as a new version (422 with element-level problems when it is refused)."""
        c = core()
        with c.uow() as uow:
            user = current_user(uow.session)
            result = design.deploy_diagram(c, uow.session, user, filename, args["content"], args["note"],
                                           args.get("draft_version", design.ANY_VERSION))
            uow.commit()
        return {"message": result.message(), "deployed": [d.as_dict() for d in result.deployed],
                "drafts": result.drafts}, (201 if result.created else 200)


# --- forms ---------------------------------------------------------------------------------------

def _form_edit(args, filename) -> forms.FormEdit:
    return forms.FormEdit(filename, args["schema"], args.get("ui_name"), args.get("ui"), args.get("versions") or {})


@blp.route("/forms")
class Forms(MethodView):
    def get(self):
        """The form library: every form, where its current copy comes from, which processes use it."""
        c = core()
        with c.uow() as uow:
            _designer(uow.session)
            return {"items": [{"filename": e.name, "source": e.copy.source, "is_ui": e.is_ui,
                               "used_by": [{"key": d.key, "name": d.name, "version": d.version} for d in e.used_by]}
                              for e in forms.form_entries(c, uow.session)]}


@blp.route("/forms/<filename>/validate")
class FormValidate(MethodView):
    @blp.arguments(DesignerFormArgs)
    def post(self, args, filename):
        """JSON syntax, JSON Schema validity, UI schema shape; nothing is stored."""
        with core().uow() as uow:
            _designer(uow.session, "校验表单")
            edit = _form_edit(args, filename).checked()
            problems = forms.validate_form(edit)
            return {"valid": not problems, "problems": problems, "warnings": forms.ui_warnings(edit.schema, edit.ui)}


@blp.route("/forms/<filename>/draft")
class FormDraft(MethodView):
    @blp.arguments(DesignerFormArgs)
    def put(self, args, filename):
        """Save the form (and its UI schema) as drafts."""
        c = core()
        with c.uow() as uow:
            forms.save_form_drafts(c, uow.session, current_user(uow.session), _form_edit(args, filename))
            uow.commit()
            return {"drafts": {name: d.version for name, d in design.drafts(uow.session, "form").items()}}


@blp.route("/forms/<filename>/publish")
class FormPublish(MethodView):
    @blp.arguments(DesignerPublishArgs)
    def post(self, args, filename):
        """Save the form; every deployed process using it gets a new version with it."""
        c = core()
        with c.uow() as uow:
            result = forms.publish_form(c, uow.session, current_user(uow.session), _form_edit(args, filename),
                                        args.get("note"))
            uow.commit()
        return {"message": result.message(), "deployed": [d.as_dict() for d in result.deployed],
                "saved_as_draft": result.saved_as_draft}, (201 if any(d.created for d in result.deployed) else 200)


# --- migration -----------------------------------------------------------------------------------

@blp.route("/migrations/plan")
class MigrationPlan(MethodView):
    @blp.arguments(DesignerPlanArgs, location="query")
    def get(self, args):
        """Dry run: per unfinished instance of a version, whether it can move to the target and why not."""
        c = core()
        with c.uow() as uow:
            user = current_user(uow.session)
            source, target, plans = migration.dry_run(c, uow.session, user, args["from_id"], args["to_id"])
            return {"from": dump_definition(source), "to": dump_definition(target),
                    "items": [p.as_dict() for p in plans]}


@blp.route("/migrations")
class Migrations(MethodView):
    @blp.arguments(DesignerMigrationListArgs, location="query")
    def get(self, args):
        """Migrations of a process's instances, newest first, and whether each can still be reverted."""
        with core().uow() as uow:
            _designer(uow.session)
            return {"items": [{**dump_migration(m), "revertible": migration.revertible(uow.session, m)}
                              for m in migration.migrations_of(uow.session, args["process"])]}

    @blp.arguments(DesignerMigrateArgs)
    def post(self, args):
        """Migrate instances to the target version, each in its own transaction; results per instance."""
        c = core()
        with c.uow() as uow:
            user = _designer(uow.session, "迁移流程实例")
            user_id = user.id
        items = migration.parse_batch(args["instances"])
        results = migration.migrate_batch(c, user_id, args["target"], items)
        return {"results": [r.as_dict() for r in results], "migrated": sum(r.ok for r in results),
                "failed": sum(not r.ok for r in results)}


@blp.route("/migrations/<int:migration_id>/revert")
class MigrationRevert(MethodView):
    def post(self, migration_id):
        """Undo a migration while nothing has happened to the instance since (409 otherwise)."""
        c = core()
        with c.uow() as uow:
            record = migration.revert_migration(c, uow.session, current_user(uow.session), migration_id)
            uow.commit()
            return dump_migration(record)
