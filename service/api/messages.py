"""marshmallow's default messages in Chinese, like every other message of the service.

Imported by ``service.api`` before any schema is built: validators format their messages when
they are constructed, so the class defaults must be Chinese by then. Messages a schema spells
out itself (``error=…``) are left as they are.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

_FIELD_MESSAGES = {
    fields.Field: {"required": "必填", "null": "不能为空（null）", "validator_failed": "取值不符合要求"},
    fields.String: {"invalid": "应为文本", "invalid_utf8": "不是有效的 UTF-8 文本"},
    fields.Integer: {"invalid": "应为整数"},
    fields.Number: {"invalid": "应为数字", "too_large": "数值过大"},
    fields.Float: {"special": "不能是 NaN 或无穷大"},
    fields.Boolean: {"invalid": "应为 true 或 false"},
    fields.Mapping: {"invalid": "应为对象（JSON object）"},
    fields.List: {"invalid": "应为列表（JSON array）"},
    fields.Date: {"invalid": "日期格式应为 YYYY-MM-DD", "format": "「{input}」无法格式化为日期"},
    fields.DateTime: {"invalid": "日期时间格式不正确", "invalid_awareness": "日期时间须带时区",
                      "format": "「{input}」无法格式化为日期时间"},
    fields.Nested: {"type": "类型不正确"},
    fields.Email: {"invalid": "不是有效的电子邮箱"},
}


def install() -> None:
    for field, messages in _FIELD_MESSAGES.items():
        # Each class's own dict: a subclass must not share (and overwrite) its parent's.
        field.default_error_messages = {**field.default_error_messages, **messages}
    Schema._default_error_messages = {**Schema._default_error_messages, "type": "输入类型不正确",
                                      "unknown": "没有这个字段"}
    validate.Range.message_min = "不能{min_op} {{min}}"
    validate.Range.message_max = "不能{max_op} {{max}}"
    validate.Range.message_all = "应在 {{min}} 与 {{max}} 之间"
    validate.Range.message_gte, validate.Range.message_gt = "小于", "小于或等于"
    validate.Range.message_lte, validate.Range.message_lt = "大于", "大于或等于"
    validate.Length.message_min = "长度不能少于 {min}"
    validate.Length.message_max = "长度不能超过 {max}"
    validate.Length.message_all = "长度应在 {min} 与 {max} 之间"
    validate.Length.message_equal = "长度应为 {equal}"
    validate.OneOf.default_message = "只能是以下之一：{choices}"


install()
