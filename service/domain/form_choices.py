"""Form fields whose choices are the county's own units.

A form marks a string field (or the items of an array field) with ``"x-units": [kinds]``; when
the form is shown or a submission is checked, the field gets ``enum`` (unit codes) and
``enumNames`` (unit names) from the unit table. So a picker always lists the units this county
has — not a list frozen into the form file — and the server refuses a code that is not one of
them, through the API as well as on the page.
"""
from __future__ import annotations

import copy
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models.auth import UNIT_KINDS, Unit

KEYWORD = "x-units"
_KIND_NAMES = {"county_department": "县级部门", "county_office": "县级办公室", "city_office": "市直单位",
               "township": "乡镇（街道）", "township_office": "乡镇办公室", "village": "村（社区）"}


def uses_units(schema_text: str) -> bool:
    return f'"{KEYWORD}"' in schema_text


def kinds_of(node: dict) -> list[str]:
    value = node.get(KEYWORD)
    return [value] if isinstance(value, str) else list(value or [])


def kind_names(node: dict) -> str:
    return "或".join(_KIND_NAMES.get(kind, kind) for kind in kinds_of(node))


def problems(schema) -> list[str]:
    """What is wrong with the ``x-units`` marks of a form (checked when it is deployed)."""
    found = []
    for path, node in _marked(schema, ""):
        value = node.get(KEYWORD)
        kinds = kinds_of(node)
        if not kinds or not all(isinstance(k, str) for k in kinds) or not isinstance(value, (str, list)):
            found.append(f"{path or '(根)'}：{KEYWORD} 应为单位类别或其列表，例如 [\"township\"]")
            continue
        unknown = [k for k in kinds if k not in UNIT_KINDS]
        if unknown:
            found.append(f"{path or '(根)'}：未知的单位类别 {'、'.join(unknown)}（可用：{'、'.join(UNIT_KINDS)}）")
        if node.get("type") not in (None, "string"):
            found.append(f"{path or '(根)'}：{KEYWORD} 只能用于 type: string 的字段（多选时用于数组的 items）")
    return found


def with_units(session: Session, schema_text: str) -> str:
    """``schema_text`` with the unit choices filled in (the same text when it marks no field)."""
    if not uses_units(schema_text):
        return schema_text
    schema = json.loads(schema_text)
    marked = list(_marked(schema, ""))
    if not marked:
        return schema_text
    kinds = {kind for _, node in marked for kind in kinds_of(node)}
    rows = session.execute(select(Unit.code, Unit.name, Unit.short_name, Unit.kind)
                           .where(Unit.kind.in_(sorted(kinds))).order_by(Unit.id)).all()
    expanded = copy.deepcopy(schema)
    for _, node in list(_marked(expanded, "")):
        wanted = set(kinds_of(node))
        units = [(code, short or name) for code, name, short, kind in rows if kind in wanted]
        if units:  # no such unit yet: leave the field open and let the procedure's own checks decide
            node["enum"] = [code for code, _ in units]
            node["enumNames"] = [name for _, name in units]
    return json.dumps(expanded, ensure_ascii=False)


def _marked(node, path):
    """Every (path, schema node) carrying the keyword, anywhere in the schema."""
    if isinstance(node, dict):
        if KEYWORD in node:
            yield path, node
        for key, value in node.items():
            if key != KEYWORD:
                yield from _marked(value, f"{path}/{key}" if path else key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _marked(value, f"{path}/{index}")
