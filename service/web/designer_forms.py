"""The form library pages: the list, and the editor with a live preview rendered exactly as staff
see the form (the same server-side rendering as the task pages)."""
from __future__ import annotations

import json

from flask import jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from ..errors import Invalid
from ..services import designer as design
from ..services import designer_forms as forms
from ..services.form_validation import validate_form_data
from .catalog_choices import catalog_item_choices
from .common import core, now
from .designer import bp, designer_user, json_body, json_endpoint, open_new_file
from .forms import FormSpec, render_form
from .schema_form import parse_submission

EMPTY_SCHEMA = json.dumps({"title": "新表单", "type": "object", "required": [], "properties": {
    "remark": {"type": "string", "title": "说明", "maxLength": 500}}}, ensure_ascii=False, indent=2)


@bp.get("/forms")
def form_list():
    c = core()
    with c.uow() as uow:
        designer_user(uow.session)
        return render_template("designer/forms.html", entries=forms.form_entries(c, uow.session))


@bp.get("/forms/new")
def new_form():
    return open_new_file("form", "designer.form_editor")


@bp.get("/forms/<filename>")
def form_editor(filename):
    c = core()
    with c.uow() as uow:
        designer_user(uow.session)
        filename = design.check_filename("form", filename)
        library = design.library(uow.session, c.settings, "form")
        entry = next((e for e in forms.form_entries(c, uow.session) if e.name == filename), None)
        if entry is not None and entry.is_ui:
            # A UI schema is edited with the form it lays out.
            owner = forms.form_of_ui(c, uow.session, filename)
            if owner is None:
                raise Invalid(_("「%(f)s」是界面布局文件，请从使用它的表单打开", f=filename))
            return redirect(url_for("designer.form_editor", filename=owner))
        copy = library.get(filename)
        ui_name = forms.ui_partner(c, uow.session, filename)
        ui_copy = library.get(ui_name)
        schema_text = copy.content if copy else EMPTY_SCHEMA
        ui_text = ui_copy.content if ui_copy else ""
        preview = _preview(uow.session, schema_text, ui_text)
        config = {"csrf": generate_csrf(), "versions": {filename: copy.draft_version if copy else None,
                                                        ui_name: ui_copy.draft_version if ui_copy else None},
                  "urls": {name: url_for(f"designer.form_{name}", filename=filename)
                           for name in ("preview", "validate", "save", "publish")},
                  "labels": {"checking": _("正在校验…"), "valid": _("表单有效。"), "failed": _("操作失败："),
                             "saving": _("正在保存…"), "note_required": _("该表单已被流程使用：请填写变更说明。"),
                             "line": _("行")}}
        return render_template("designer/form_editor.html", filename=filename, entry=entry, copy=copy,
                               ui_name=ui_name, ui_copy=ui_copy, schema_text=schema_text, ui_text=ui_text,
                               preview=preview, config=config)


def _preview(session, schema_text: str, ui_text: str, check: bool = False) -> dict:
    """What the form editor's preview pane shows: the fields, or why the form cannot be shown."""
    edit = forms.FormEdit("preview.json", schema_text, "preview.uischema.json", ui_text)
    problems = forms.validate_form(edit)
    if problems:
        return {"problems": problems, "fields": [], "errors": [], "title": ""}
    spec = FormSpec(schema_text, json.loads(schema_text), json.loads(ui_text) if ui_text.strip() else {})
    errors: dict = {}
    values: dict = {}
    if check:
        catalog = {code for code, _label in catalog_item_choices(session, now())} if spec.uses_catalog else None
        submission = parse_submission(spec.schema, spec.ui, request.form, None, current={},
                                      check_file=lambda _id: False, catalog_codes=catalog)
        values = submission.data
        errors = dict(submission.errors)
        for name, messages in validate_form_data(schema_text, submission.data).items():
            if not any(name == bad or name.startswith(bad + ".") for bad in submission.errors):
                errors.setdefault(name, []).extend(messages)
    rendered = render_form(session, spec, values, errors)
    return {"problems": [], "fields": rendered.fields, "errors": rendered.errors, "title": spec.title,
            "checked": check, "valid": check and not errors}


def _edit(body, filename) -> forms.FormEdit:
    return forms.FormEdit(filename, body.get("schema"), body.get("ui_name"), body.get("ui"),
                          body.get("versions") or {})


@bp.post("/forms/<filename>/preview")
def form_preview(filename):
    """The preview pane as HTML; with ``check=1`` the values typed into it are validated too."""
    with core().uow() as uow:
        designer_user(uow.session)
        design.check_filename("form", filename)
        preview = _preview(uow.session, request.form.get("designer__schema", ""),
                           request.form.get("designer__ui", ""), request.form.get("designer__check") == "1")
        return render_template("designer/_form_preview.html", preview=preview)


@bp.post("/forms/<filename>/validate")
@json_endpoint
def form_validate(filename):
    with core().uow() as uow:
        designer_user(uow.session)
        edit = _edit(json_body(), filename).checked()
        problems = forms.validate_form(edit)
        return jsonify({"valid": not problems, "problems": problems, "warnings": forms.ui_warnings(edit.schema, edit.ui)})


@bp.post("/forms/<filename>/save")
@json_endpoint
def form_save(filename):
    c = core()
    with c.uow() as uow:
        user = designer_user(uow.session)
        edit = _edit(json_body(), filename)
        forms.save_form_drafts(c, uow.session, user, edit)
        uow.commit()
        return jsonify({"message": _("草稿已保存，尚未部署。"), "versions": _draft_versions(uow.session, edit)})


@bp.post("/forms/<filename>/publish")
@json_endpoint
def form_publish(filename):
    c = core()
    body = json_body()
    with c.uow() as uow:
        user = designer_user(uow.session)
        edit = _edit(body, filename)
        result = forms.publish_form(c, uow.session, user, edit, body.get("note"))
        uow.commit()
        versions = _draft_versions(uow.session, edit)
    return jsonify({"message": result.message(), "deployed": [d.as_dict() for d in result.deployed],
                    "saved_as_draft": result.saved_as_draft, "versions": versions}), \
        (201 if any(d.created for d in result.deployed) else 200)


def _draft_versions(session, edit: forms.FormEdit) -> dict:
    """The draft versions of the editor's files (None: no draft), expected when it saves next."""
    current = design.drafts(session, "form")
    return {name: current[name].version if name in current else None for name in (edit.name, edit.ui_name) if name}
