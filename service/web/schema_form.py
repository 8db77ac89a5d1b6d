"""Task forms rendered on the server from a JSON Schema and an RJSF-style UI schema, and the
submitted HTML form turned back into typed JSON data.

The pages work without JavaScript, so every widget is a plain HTML control. What the form parser
cannot even read (a number that is not a number) becomes a field error here; everything else is
left to ``services.form_validation`` (the rule), whose errors are mapped back onto the fields.

Supported: string (text, textarea, email, date, date-time, enum as select or radio, catalog item,
file upload), number/integer, boolean (checkbox, or 是/否 radio/select), array of enum (checkboxes
or multi-select), array of files, nested objects (a fieldset); anything else is edited as JSON.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

from ..uploads import UploadRejected

SHANGHAI = ZoneInfo("Asia/Shanghai")
FORM_ERRORS = "__form__"
KEEP_SUFFIX = "__keep"     # hidden inputs carrying files uploaded on an earlier, rejected submission


@dataclass
class Field:
    name: str                         # dotted path of the value in the data ("details.place")
    label: str
    widget: str                       # see WIDGETS
    required: bool = False
    help: str = ""
    placeholder: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)   # (submitted value, label)
    value: Any = None                 # the current value, as data (not as text)
    errors: list[str] = field(default_factory=list)
    attrs: dict = field(default_factory=dict)                      # maxlength, min, max, step, rows, accept
    children: list["Field"] = field(default_factory=list)          # for "group"
    readonly: bool = False
    files: list[dict] = field(default_factory=list)                # metadata of uploaded files shown

    @property
    def html_id(self) -> str:
        return "f-" + self.name.replace(".", "-")

    @property
    def text(self) -> str:
        """The value as an input shows it."""
        value = self.value
        if value is None:
            return ""
        if self.widget == "datetime":
            return _to_local_input(value)
        if self.widget == "json":
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2)
        if self.widget == "lines":
            return "\n".join(map(str, value)) if isinstance(value, list) else str(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def selected(self, option_value: str) -> bool:
        if isinstance(self.value, list):
            return option_value in [_option_text(v) for v in self.value]
        return self.value is not None and _option_text(self.value) == option_value

    @property
    def all_errors(self) -> list[str]:
        return self.errors + [e for child in self.children for e in child.all_errors]


WIDGETS = ("text", "textarea", "email", "number", "integer", "date", "datetime", "select", "radio", "checkbox",
           "checkboxes", "multiselect", "file", "catalog", "group", "lines", "json", "hidden")


def _option_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _to_local_input(value) -> str:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(SHANGHAI)
    return moment.strftime("%Y-%m-%dT%H:%M")


def ordered(properties: dict, order: list | None) -> list[str]:
    """RJSF's ui:order: listed names first, ``*`` standing for all the others in schema order."""
    names = list(properties)
    if not order:
        return names
    rest = [n for n in names if n not in order]
    result = []
    for name in order:
        if name == "*":
            result.extend(rest)
        elif name in properties:
            result.append(name)
    if "*" not in order:
        result.extend(rest)
    return result


def _choices(schema: dict, ui: dict) -> list[tuple[Any, str]]:
    """Enum values and their labels (enum + enumNames / ui:enumNames, or oneOf/anyOf of const+title)."""
    if "enum" in schema:
        names = ui.get("ui:enumNames") or schema.get("enumNames") or []
        return [(v, names[i] if i < len(names) else _option_text(v)) for i, v in enumerate(schema["enum"])]
    for key in ("oneOf", "anyOf"):
        if isinstance(schema.get(key), list) and all(isinstance(o, dict) and "const" in o for o in schema[key]):
            return [(o["const"], o.get("title") or _option_text(o["const"])) for o in schema[key]]
    return []


def _options(schema: dict, ui: dict) -> list[tuple[Any, str]]:
    """Choices of a select or radio; a boolean offers 是/否 (or its ui:enumNames)."""
    choices = _choices(schema, ui)
    if not choices and schema.get("type") == "boolean":
        names = ui.get("ui:enumNames") or ["是", "否"]
        choices = [(True, names[0]), (False, names[1])]
    return choices


def _items_schema(schema: dict) -> dict:
    items = schema.get("items")
    return items if isinstance(items, dict) else {}


def _widget_of(schema: dict, ui: dict) -> str:
    wanted = ui.get("ui:widget")
    kind = schema.get("type")
    if wanted == "hidden":
        return "hidden"
    if wanted == "file":
        return "file"
    if wanted == "catalog-item":
        return "catalog"
    if kind == "object" and isinstance(schema.get("properties"), dict):
        return "group"
    if kind == "array":
        items = _items_schema(schema)
        if _choices(items, {}) or items.get("enum"):
            return "multiselect" if wanted == "select" else "checkboxes"
        if items.get("type") in ("string", "number", "integer") and not _choices(items, {}):
            return "lines"
        return "json"
    if _choices(schema, ui):
        return "radio" if wanted == "radio" else "select"
    if kind == "boolean":
        return {"radio": "radio", "select": "select"}.get(wanted, "checkbox")
    if kind in ("number", "integer"):
        return kind if kind == "integer" else "number"
    if kind == "string" or kind is None and "type" not in schema and not schema.get("properties"):
        if wanted == "textarea":
            return "textarea"
        return {"date": "date", "date-time": "datetime", "email": "email"}.get(schema.get("format"), "text")
    return "json"


def build_fields(schema: dict, ui: dict | None, values: dict | None, errors: dict | None = None, *,
                 catalog: list[tuple[str, str]] | None = None, file_info: Callable[[str], dict | None] | None = None,
                 prefix: str = "") -> list[Field]:
    """The fields of an object schema, in display order, with current values and errors attached."""
    ui = ui or {}
    values = values or {}
    errors = errors or {}
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    fields = []
    for key in ordered(properties, ui.get("ui:order")):
        sub = properties[key] if isinstance(properties[key], dict) else {}
        sub_ui = ui.get(key) if isinstance(ui.get(key), dict) else {}
        name = f"{prefix}{key}"
        options = sub_ui.get("ui:options") or {}
        widget = _widget_of(sub, sub_ui)
        value = values.get(key, sub.get("default"))
        f = Field(name=name, label=sub_ui.get("ui:title") or sub.get("title") or key, widget=widget,
                  required=key in required, help=sub_ui.get("ui:help") or sub.get("description") or "",
                  placeholder=sub_ui.get("ui:placeholder") or "", value=value,
                  readonly=bool(sub_ui.get("ui:readonly") or sub_ui.get("ui:disabled") or sub.get("readOnly")))
        f.errors = list(errors.get(name, []))
        if widget == "group":
            f.children = build_fields(sub, sub_ui, value if isinstance(value, dict) else {}, errors,
                                      catalog=catalog, file_info=file_info, prefix=name + ".")
        elif widget in ("select", "radio"):
            f.options = [(_option_text(v), label) for v, label in _options(sub, sub_ui)]
        elif widget in ("checkboxes", "multiselect"):
            f.options = [(_option_text(v), label) for v, label in _choices(_items_schema(sub), {})]
        elif widget == "catalog":
            f.options = list(catalog or [])
        elif widget == "file":
            ids = value if isinstance(value, list) else ([value] if value else [])
            f.files = [info for info in (file_info(i) if file_info else {"id": i, "name": i} for i in ids) if info]
            f.attrs["multiple"] = sub.get("type") == "array"
            if options.get("accept"):
                f.attrs["accept"] = options["accept"]
        _constraints(f, sub, options)
        fields.append(f)
    return fields


def _constraints(f: Field, schema: dict, options: dict) -> None:
    if "maxLength" in schema:
        f.attrs["maxlength"] = schema["maxLength"]
    for source, attr in (("minimum", "min"), ("maximum", "max")):
        if source in schema:
            f.attrs[attr] = schema[source]
    if f.widget == "integer":
        f.attrs["step"] = 1
    elif f.widget == "number":
        f.attrs["step"] = "any"
    if f.widget in ("textarea", "json", "lines"):
        f.attrs["rows"] = options.get("rows", 8 if f.widget == "json" else 4)


def attach_errors(fields: list[Field], errors: dict[str, list[str]]) -> list[str]:
    """Put each error on its field (an array item's error on the array); return the unplaced ones."""
    by_name = {}

    def index(items):
        for f in items:
            by_name[f.name] = f
            index(f.children)

    index(fields)
    unplaced = []
    for path, messages in (errors or {}).items():
        parts = path.split(".")
        while parts and ".".join(parts) not in by_name:
            parts.pop()
        target = by_name.get(".".join(parts)) if parts else None
        for message in messages:
            if target is None:
                unplaced.append(message)
            elif message not in target.errors:
                target.errors.append(message)
    return unplaced


# --- reading a submission -----------------------------------------------------------------------

class Submission:
    """The typed data read from an HTML form, and what could not even be read."""

    def __init__(self):
        self.data: dict = {}
        self.errors: dict[str, list[str]] = {}
        self.raw: dict[str, str] = {}     # the text of fields that could not be read, to show again

    def error(self, name: str, message: str, raw: str | None = None) -> None:
        self.errors.setdefault(name, []).append(message)
        if raw is not None:
            self.raw[name] = raw


def parse_submission(schema: dict, ui: dict | None, form, files=None, *, current: dict | None = None,
                     store_file: Callable | None = None, check_file: Callable[[str], bool] | None = None,
                     catalog_codes: set[str] | None = None, prefix: str = "") -> Submission:
    """``form``/``files``: werkzeug MultiDicts (anything with ``get`` and ``getlist``).

    Empty optional inputs are left out, so the schema's own rules decide what is required.
    Read-only fields keep their current value. ``store_file(name, upload)`` stores an upload and
    returns its id; ``check_file(id)`` says whether a kept id may be reused by this user.
    """
    result = Submission()
    _parse_object(schema, ui or {}, form, files, current or {}, result, result.data, prefix,
                  store_file, check_file, catalog_codes)
    return result


def _parse_object(schema, ui, form, files, current, result, into, prefix, store_file, check_file, catalog_codes):
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    for key in ordered(properties, ui.get("ui:order")):
        sub = properties[key] if isinstance(properties[key], dict) else {}
        sub_ui = ui.get(key) if isinstance(ui.get(key), dict) else {}
        name = f"{prefix}{key}"
        label = sub_ui.get("ui:title") or sub.get("title") or key
        widget = _widget_of(sub, sub_ui)
        if sub_ui.get("ui:readonly") or sub_ui.get("ui:disabled") or sub.get("readOnly"):
            if key in current:
                into[key] = current[key]
            continue
        if widget == "group":
            nested: dict = {}
            _parse_object(sub, sub_ui, form, files, current.get(key) if isinstance(current.get(key), dict) else {},
                          result, nested, name + ".", store_file, check_file, catalog_codes)
            if nested or key in required:
                into[key] = nested
            continue
        value = _parse_value(sub, sub_ui, widget, name, label, key in required, form, files, result,
                             store_file, check_file, catalog_codes)
        if value is not _MISSING:
            into[key] = value


_MISSING = object()


def _parse_value(schema, ui, widget, name, label, required, form, files, result, store_file, check_file,
                 catalog_codes):
    if widget in ("checkboxes", "multiselect"):
        choices = {_option_text(v): v for v, _ in _choices(_items_schema(schema), {})}
        picked = [raw for raw in form.getlist(name) if raw != ""]
        unknown = [raw for raw in picked if raw not in choices]
        if unknown:
            result.error(name, f"「{label}」的选项「{'、'.join(unknown)}」不存在")
            return _MISSING
        return [choices[raw] for raw in picked] if picked or not required else _MISSING
    if widget == "file":
        return _parse_files(schema, name, label, form, files, result, store_file, check_file)
    if widget == "checkbox":
        raw = form.get(name)
        if raw not in (None, "", "true", "on", "1", "false", "0"):
            result.error(name, f"「{label}」的取值「{raw}」无效", raw)
            return _MISSING
        return raw in ("true", "on", "1")
    raw = form.get(name)
    if raw is None or raw.strip() == "":
        return _MISSING
    if widget in ("select", "radio"):
        choices = {_option_text(v): v for v, _ in _options(schema, ui)}
        if raw not in choices:
            result.error(name, f"「{label}」的选项「{raw}」不存在", raw)
            return _MISSING
        return choices[raw]
    if widget in ("number", "integer"):
        return _parse_number(raw.strip(), widget, name, label, result)
    if widget == "datetime":
        return _parse_datetime(raw.strip(), name, label, result)
    if widget == "catalog":
        code = raw.strip()
        if catalog_codes and code not in catalog_codes:
            result.error(name, f"「{label}」不是清单中的事项：{code}", raw)
            return _MISSING
        return code
    if widget == "lines":
        kind = _items_schema(schema).get("type")
        items = [line.strip() for line in raw.splitlines() if line.strip()]
        if kind in ("number", "integer"):
            parsed = [_parse_number(item, kind, name, label, result) for item in items]
            if any(p is _MISSING for p in parsed):
                result.raw[name] = raw
                return _MISSING
            return parsed
        return items
    if widget == "json":
        try:
            return json.loads(raw)
        except json.JSONDecodeError as err:
            result.error(name, f"「{label}」不是有效的 JSON（第 {err.lineno} 行第 {err.colno} 列）", raw)
            return _MISSING
        except RecursionError:
            result.error(name, f"「{label}」的 JSON 嵌套层次过深", raw)
            return _MISSING
    return raw if widget == "textarea" else raw.strip()


def _parse_number(raw, widget, name, label, result):
    try:
        if widget == "integer":
            return int(raw)
        number = float(raw)
        if not math.isfinite(number):
            raise ValueError(raw)
        return int(number) if number.is_integer() and "." not in raw and "e" not in raw.lower() else number
    except ValueError:
        result.error(name, f"「{label}」应为{'整数' if widget == 'integer' else '数字'}", raw)
        return _MISSING


def _parse_datetime(raw, name, label, result):
    """``datetime-local`` gives Beijing wall-clock time without a zone; data carries the offset."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        result.error(name, f"「{label}」格式不正确，应为日期时间", raw)
        return _MISSING
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.isoformat()


def _parse_files(schema, name, label, form, files, result, store_file, check_file):
    ids = []
    for kept in form.getlist(name + KEEP_SUFFIX):
        if check_file is not None and check_file(kept):
            ids.append(kept)
    for upload in (files.getlist(name) if files is not None else []):
        if not getattr(upload, "filename", ""):
            continue
        if store_file is None:
            result.error(name, f"「{label}」不能上传文件")
            continue
        try:
            ids.append(store_file(name, upload))
        except UploadRejected as err:
            result.error(name, f"「{label}」：{err}")
    if schema.get("type") == "array":
        return ids
    if len(ids) > 1:
        ids = ids[-1:]  # a single-file field keeps the newest upload
    return ids[0] if ids else _MISSING
