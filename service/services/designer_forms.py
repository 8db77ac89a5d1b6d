"""The form library: the JSON Schema and UI schema files of the forms, edited in the browser.

Saving a form that deployed processes use is a deployment: each process whose newest version uses
the form gets a new version with the edited form, through the normal deploy path, so running
instances keep the form they started with (until someone migrates them). A form no deployed
process uses yet is kept as a draft (its working copy) until a diagram using it is deployed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from jsonschema import Draft202012Validator, SchemaError, validators

from ..errors import Invalid
from ..models import ProcessDefinition
from .deployments import Deployed, deploy, latest_definition
from .designer import (ANY_VERSION, WorkingCopy, processes_and_callees, check_content, check_filename, check_note,
                       drafts, latest_definitions, library, require_designer, save_draft)


@dataclass
class FormEntry:
    name: str
    copy: WorkingCopy
    is_ui: bool
    used_by: list[ProcessDefinition] = field(default_factory=list)   # newest versions using it

    @property
    def title(self) -> str:
        try:
            value = json.loads(self.copy.content)
        except json.JSONDecodeError:
            return ""
        return str(value.get("title") or "") if isinstance(value, dict) else ""


def _ui_pairs(core, session) -> tuple[dict[str, str], set[str]]:
    """From the newest deployed versions: form → the UI schema it is shown with, and every UI schema."""
    pairs: dict[str, str] = {}
    ui_names: set[str] = set()
    for definition in latest_definitions(session, with_files=True):
        process = core.engine.process_for(definition)
        tasks = [(t.form, t.ui_form) for t in process.user_tasks.values()] + [(process.start_form,
                                                                              process.start_ui_form)]
        for form, ui_form in tasks:
            if ui_form:
                ui_names.add(ui_form)
                if form:
                    pairs.setdefault(form, ui_form)
    return pairs, ui_names


def looks_like_ui(name: str) -> bool:
    return ".uischema." in name or name.endswith((".ui.json", "_ui.json", "-ui.json"))


def form_entries(core, session) -> list[FormEntry]:
    copies = library(session, core.settings, "form")
    _pairs, ui_names = _ui_pairs(core, session)
    entries = {name: FormEntry(name, copy, name in ui_names or looks_like_ui(name)) for name, copy in copies.items()}
    for definition in latest_definitions(session, with_files=True):
        for name in definition.forms:
            if name in entries:
                entries[name].used_by.append(definition)
    return list(entries.values())


def ui_partner(core, session, name: str) -> str:
    """The UI schema shown with form ``name``: the one its user tasks name, else ``<stem>.uischema.json``."""
    pairs, _ui = _ui_pairs(core, session)
    return pairs.get(name) or name[: -len(".json")] + ".uischema.json"


def form_of_ui(core, session, ui_name: str) -> str | None:
    """The form a UI schema lays out (by the deployed user tasks, else by name)."""
    pairs, _ui = _ui_pairs(core, session)
    owner = next((form for form, ui in pairs.items() if ui == ui_name), None)
    if owner is None and ui_name.endswith(".uischema.json"):
        owner = ui_name[: -len(".uischema.json")] + ".json"
    return owner


def form_problems(filename: str, text: str, is_ui: bool) -> list[dict]:
    """What is wrong with one form file, as deploy-style problems ({file, element_id, line, message})."""
    def problem(message, line=None):
        return {"file": filename, "element_id": None, "line": line, "message": message}

    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        return [problem(f"第 {err.lineno} 行第 {err.colno} 列：JSON 格式错误（{err.msg}）", err.lineno)]
    if is_ui:
        return [] if isinstance(value, dict) else [problem("界面布局（UI Schema）的根必须是对象 {…}")]
    if not isinstance(value, dict):
        return [problem("表单（JSON Schema）的根必须是对象 {…}")]
    try:
        validators.validator_for(value, default=Draft202012Validator).check_schema(value)
    except SchemaError as err:
        where = "/".join(str(p) for p in err.absolute_path) or "(根)"
        return [problem(f"不是有效的 JSON Schema（{where}）：{err.message}")]
    if value.get("type") != "object":
        return [problem("表单的根必须是 \"type\": \"object\"")]
    return []


def ui_warnings(schema_text: str, ui_text: str | None) -> list[str]:
    """UI schema entries that name no field of the form (they are ignored when the form is shown)."""
    try:
        schema, ui = json.loads(schema_text), json.loads(ui_text or "{}")
    except json.JSONDecodeError:
        return []
    if not isinstance(schema, dict) or not isinstance(ui, dict):
        return []
    fields = set((schema.get("properties") or {}).keys())
    unknown = [key for key in ui if not key.startswith("ui:") and key not in fields]
    return [f"界面布局中的「{key}」在表单中没有对应字段，将被忽略" for key in unknown]


@dataclass
class FormEdit:
    """One editor submission: the form and, optionally, its UI schema."""
    name: str
    schema: str
    ui_name: str | None = None
    ui: str | None = None
    draft_versions: dict = field(default_factory=dict)   # name → draft version the editor started from

    def files(self) -> dict[str, str]:
        files = {self.name: self.schema}
        if self.ui_name and (self.ui or "").strip():
            files[self.ui_name] = self.ui
        return files

    def checked(self) -> "FormEdit":
        self.name = check_filename("form", self.name)
        self.schema = check_content("form", self.schema)
        if self.ui_name:
            self.ui_name = check_filename("form", self.ui_name)
            if self.ui_name == self.name:
                raise Invalid("界面布局文件名不能与表单相同", {"ui_name": ["请使用另一个文件名，如 xxx.uischema.json"]})
        return self


def validate_form(edit: FormEdit) -> list[dict]:
    problems = form_problems(edit.name, edit.schema, False)
    if edit.ui_name and (edit.ui or "").strip():
        problems += form_problems(edit.ui_name, edit.ui, True)
    return problems


def save_form_drafts(core, session, user, edit: FormEdit) -> None:
    """Save the form (and its UI schema) as drafts; nothing deployed changes."""
    require_designer(user, "保存表单")
    edit.checked()
    for name, text in edit.files().items():
        save_draft(session, core.settings, user, "form", name, text, edit.draft_versions.get(name, ANY_VERSION))


@dataclass
class FormPublish:
    deployed: list[Deployed]
    drafts: list[str]          # files saved as drafts: no deployed process uses them (yet)

    @property
    def saved_as_draft(self) -> bool:
        return not self.deployed

    def message(self) -> str:
        created = [d for d in self.deployed if d.created]
        if self.saved_as_draft:
            return "表单已保存（尚无已部署的流程使用该表单；部署引用它的流程时一并部署）"
        text = ("表单已保存并部署：" + "、".join(f"{d.name} 第 {d.version} 版" for d in created)) if created \
            else "表单与已部署的版本相同，未创建新版本"
        if self.drafts:
            text += f"；{'、'.join(self.drafts)} 尚未被任何流程的环节引用，已保存为草稿"
        return text


def _bundle_forms(session, bpmn_files: dict[str, str]) -> dict[str, str]:
    """The frozen forms of the newest versions of every process defined in these files (so the
    other processes of a multi-process bundle deploy with exactly the forms they have now)."""
    keys = set()
    for text in bpmn_files.values():
        keys |= processes_and_callees(text)[0]
    forms: dict[str, str] = {}
    for definition in latest_definitions(session, with_files=True):
        if definition.key in keys:
            forms.update(definition.forms)
    return forms


def publish_form(core, session, user, edit: FormEdit, note: str | None) -> FormPublish:
    """Save the form; each deployed process using it gets a new version with it."""
    require_designer(user, "保存表单")
    edit.checked()
    problems = validate_form(edit)
    if problems:
        raise Invalid("表单有误，未保存", problems)
    files = edit.files()
    users = [d.key for d in latest_definitions(session, with_files=True) if set(files) & set(d.forms)]
    if not users:
        save_form_drafts(core, session, user, edit)
        return FormPublish([], sorted(files))
    note = check_note(note)
    deployed: list[Deployed] = []
    for key in users:
        latest = latest_definition(session, key)
        if all(latest.forms.get(name, text) == text for name, text in files.items()):
            continue  # an earlier deploy of this loop (a shared bundle) already gave it the form
        forms = {**_bundle_forms(session, latest.bpmn_files), **latest.forms, **files}
        deployed += deploy(core, session, latest.bpmn_files, forms, deployed_by=user.username,
                           note=f"修改表单「{edit.name}」：{note}")
    # A file no deployed version took (a UI schema no task names yet) stays as the working copy.
    frozen = {(name, text) for d in latest_definitions(session, with_files=True) for name, text in d.forms.items()}
    own = drafts(session, "form")
    kept = []
    for name, text in files.items():
        draft = own.get(name)
        if (name, text) not in frozen:
            save_draft(session, core.settings, user, "form", name, text)
            kept.append(name)
        elif draft is not None and (draft.content == text or draft.version == edit.draft_versions.get(name)):
            session.delete(draft)
    session.flush()
    return FormPublish(deployed, kept)
