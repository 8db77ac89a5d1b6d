"""Glue between a page's HTML form and a process form (JSON Schema + UI schema): rendering fields
with values and errors, reading a submission with its uploads."""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass

from flask import request, url_for

from ..domain.form_choices import with_units
from ..services.form_validation import validate_form_data
from .catalog_choices import catalog_item_choices
from .common import core, now
from .schema_form import Field, Submission, attach_errors, build_fields, parse_submission
from ..uploads import UploadStore, is_upload_id


@dataclass
class FormSpec:
    schema_text: str
    schema: dict
    ui: dict

    @classmethod
    def of(cls, forms: dict, form_file: str | None, ui_file: str | None = None) -> "FormSpec | None":
        if not form_file or form_file not in forms:
            return None
        ui = json.loads(forms[ui_file]) if ui_file and ui_file in forms else {}
        return cls(forms[form_file], json.loads(forms[form_file]), ui)

    def with_units(self, session) -> "FormSpec":
        """The form with its unit pickers filled from the unit table (service.domain.form_choices)."""
        text = with_units(session, self.schema_text)
        return self if text is self.schema_text else FormSpec(text, json.loads(text), self.ui)

    @property
    def title(self) -> str:
        return self.schema.get("title") or ""

    @property
    def uses_catalog(self) -> bool:
        return "catalog-item" in _widgets(self.ui)

    @property
    def uses_files(self) -> bool:
        return "file" in _widgets(self.ui)


def _widgets(ui) -> set[str]:
    """Every ``ui:widget`` named anywhere in a UI schema (nested objects included)."""
    if not isinstance(ui, dict):
        return set()
    found = {ui["ui:widget"]} if isinstance(ui.get("ui:widget"), str) else set()
    for value in ui.values():
        found |= _widgets(value)
    return found


def upload_store() -> UploadStore:
    settings = core().settings
    return UploadStore(settings.var_dir, settings.upload_max_bytes)


def file_info(upload_id: str) -> dict | None:
    stored = upload_store().get(upload_id)
    if stored is None:
        return {"id": upload_id, "name": upload_id, "missing": True}
    return {"id": stored.id, "name": stored.name, "size": stored.size, "url": url_for("web.download", upload_id=stored.id)}


@dataclass
class RenderedForm:
    fields: list[Field]
    errors: list[str]          # errors that belong to no single field
    multipart: bool


def render_form(session, spec: FormSpec, values: dict, errors: dict | None = None) -> RenderedForm:
    spec = spec.with_units(session)
    catalog = catalog_item_choices(session, now()) if spec.uses_catalog else None
    fields = build_fields(spec.schema, spec.ui, values, {}, catalog=catalog, file_info=file_info)
    unplaced = attach_errors(fields, errors or {})
    return RenderedForm(fields, unplaced, spec.uses_files)


def read_form(session, spec: FormSpec, user, instance_id: int | None, current: dict) -> Submission:
    """The typed data of the submitted page form; parse errors plus the schema's own errors on
    the other fields, so staff see every problem at once."""
    spec = spec.with_units(session)
    store = upload_store()
    uploaded_here: set[str] = set()

    def store_file(name: str, upload) -> str:
        accept = _ui_option(spec.ui, name, "accept")
        stored = store.save(upload, user_id=user.id, instance_id=instance_id, accept=accept)
        uploaded_here.add(stored.id)
        return stored.id

    def may_keep(upload_id: str) -> bool:
        stored = store.get(upload_id)
        return stored is not None and (stored.uploaded_by == user.id or upload_id in _ids_in(current))

    catalog = {code for code, _ in catalog_item_choices(session, now())} if spec.uses_catalog else None
    submission = parse_submission(spec.schema, spec.ui, request.form, request.files, current=current,
                                  store_file=store_file, check_file=may_keep, catalog_codes=catalog)
    if submission.errors:
        for name, messages in validate_form_data(spec.schema_text, submission.data).items():
            if not any(name == bad or name.startswith(bad + ".") for bad in submission.errors):
                submission.errors.setdefault(name, []).extend(messages)
    return submission


def shown_values(submission: Submission) -> dict:
    """What a re-shown form displays: the typed data, plus the raw text of fields that could not
    be read, so nothing typed is lost."""
    values = copy.deepcopy(submission.data)
    for name, raw in submission.raw.items():
        node = values
        *parents, last = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = raw
    return values


def attach_uploads(data: dict, instance_id: int) -> None:
    """After an accepted submission: its files belong to the instance and are kept."""
    upload_store().attach(_ids_in(data), instance_id)


def _ids_in(value) -> list[str]:
    if isinstance(value, str):
        return [value] if is_upload_id(value) else []
    if isinstance(value, dict):
        return [i for v in value.values() for i in _ids_in(v)]
    if isinstance(value, list):
        return [i for v in value for i in _ids_in(v)]
    return []


def _ui_option(ui: dict, dotted: str, option: str):
    node = ui
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return ((node or {}).get("ui:options") or {}).get(option) if isinstance(node, dict) else None
