"""Server-side validation of submitted form data against the task's JSON Schema.

Always on: the browser's checks are a convenience, this is the rule. Messages are Chinese and
name the field by its label (``title``) so staff know what to fix.
"""
from __future__ import annotations

import json
from functools import lru_cache

from jsonschema import Draft202012Validator, FormatChecker, validators

from ..domain import form_choices
from ..engine.serializer import find_reserved_keys

_TYPE_NAMES = {"string": "文本", "integer": "整数", "number": "数字", "boolean": "是/否",
               "array": "列表", "object": "对象", "null": "空值"}
_FORMAT_NAMES = {"date": "日期（YYYY-MM-DD）", "date-time": "日期时间", "email": "电子邮箱", "uri": "网址",
                 "time": "时间"}


@lru_cache(maxsize=256)
def _validator(schema_text: str):
    schema = json.loads(schema_text)
    cls = validators.validator_for(schema, default=Draft202012Validator)
    return cls(schema, format_checker=FormatChecker())


def _label(schema: dict, path: list) -> str:
    """The field's title; an untitled list entry goes by its list's title."""
    node, label = schema, None
    for part in path:
        if isinstance(part, int):
            node = node.get("items", {}) if isinstance(node, dict) else {}
        else:
            node = node.get("properties", {}).get(part, {}) if isinstance(node, dict) else {}
            label = None
        title = node.get("title") if isinstance(node, dict) else None
        label = title or (label if isinstance(part, int) else None)
    return label or (str(path[-1]) if path else "表单")


def _message(error, label: str) -> str:
    v = error.validator
    if v == "required":
        return f"「{label}」为必填项"
    if v == "type":
        expected = error.validator_value
        expected = expected if isinstance(expected, list) else [expected]
        return f"「{label}」应为{'或'.join(_TYPE_NAMES.get(t, t) for t in expected)}"
    if v == "maxLength":
        return f"「{label}」不能超过 {error.validator_value} 个字符"
    if v == "minLength":
        return f"「{label}」至少需要 {error.validator_value} 个字符" if error.validator_value > 1 else f"「{label}」为必填项"
    if v == "enum" and isinstance(error.schema, dict) and form_choices.KEYWORD in error.schema:
        return f"「{label}」应从列表中选择现有的{form_choices.kind_names(error.schema)}"
    if v == "enum":
        return f"「{label}」的取值必须是以下之一：{'、'.join(map(str, error.validator_value))}"
    if v == "const":
        return f"「{label}」的取值必须是 {error.validator_value}"
    if v == "format":
        return f"「{label}」格式不正确，应为{_FORMAT_NAMES.get(error.validator_value, error.validator_value)}"
    if v == "minimum":
        return f"「{label}」不能小于 {error.validator_value}"
    if v == "maximum":
        return f"「{label}」不能大于 {error.validator_value}"
    if v == "pattern":
        return f"「{label}」格式不正确"
    if v == "maxItems":
        return f"「{label}」最多选择 {error.validator_value} 项"
    if v == "minItems":
        return f"「{label}」至少选择 {error.validator_value} 项"
    if v == "additionalProperties":
        return f"表单中没有这些字段：{error.message.split('(')[-1].rstrip(')')}"
    return f"「{label}」不符合要求：{error.message}"


def validate_form_data(schema_text: str, data) -> dict[str, list[str]]:
    """Field → messages; empty when ``data`` is valid."""
    if not isinstance(data, dict):
        return {"data": ["提交的数据必须是一个对象（JSON object）"]}
    errors: dict[str, list[str]] = {}
    for path in find_reserved_keys(data):
        errors.setdefault(path, []).append("字段名 typename 为系统保留，不能使用")
    schema = json.loads(schema_text)
    for error in _validator(schema_text).iter_errors(data):
        path = list(error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path = path + [missing]
        field = ".".join(str(p) for p in path) or "data"
        errors.setdefault(field, []).append(_message(error, _label(schema, path)))
    return errors


def drop_unknown_fields(schema_text: str, data: dict) -> dict:
    """Only fields the form declares reach the workflow (a form cannot overwrite other data), and
    never a read-only one: what a form shows for reference (the application a reviewer judges)
    keeps the value the process gave it, whatever a client sends."""
    schema = json.loads(schema_text)
    properties = schema.get("properties")
    if not properties:
        return dict(data)
    return {k: v for k, v in data.items()
            if k in properties and not (isinstance(properties[k], dict) and properties[k].get("readOnly"))}
