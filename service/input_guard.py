"""What no request may carry into the database, refused at the door with the field named.

PostgreSQL refuses text with NUL characters and integers beyond its column types, and SQLite
cannot bind integers beyond 64 bits: either surfaced as a 500 from deep inside a query. Here:

- ids in URLs are bounded by the ``int`` converter (a larger id is simply no such page: 404);
- query, form and JSON text is checked before any view runs: a NUL character, or JSON nested
  deeper than any form, is a 422 naming the field (too deep even to parse: a 400);
- a value the database still refuses (an integer argument beyond its range) is a 422 naming
  the fields that hold such integers, after the unit of work rolled back: never a stack trace.
"""
from __future__ import annotations

import re

from flask import Request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from .engine.serializer import MAX_DATA_DEPTH

# The range of the integer columns (ids, versions, pages) on PostgreSQL.
MAX_INT = 2**31 - 1
_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")
_NUL = "\x00"
MAX_DEPTH = MAX_DATA_DEPTH
DEPTH_MESSAGE = f"数据嵌套层次过深（不能超过 {MAX_DEPTH} 层）"
NUL_MESSAGE = "含有不允许的控制字符（NUL）"
RANGE_MESSAGE = f"数值超出范围（不能超过 {MAX_INT}）"


class GuardedRequest(Request):
    """A JSON body nested too deeply for the parser is refused, not a RecursionError (500)."""

    json_too_deep = False

    def get_json(self, force=False, silent=False, cache=True):
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            self.json_too_deep = True
            if silent:
                return None
            raise BadRequest(DEPTH_MESSAGE) from None


class BoundedIntConverter(IntegerConverter):
    """Flask's ``int`` converter, bounded to what an integer column holds."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_INT, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def nul_problems(args, form, json_body) -> dict[str, list[str]]:
    """Field → messages for text containing NUL or JSON nested deeper than any form (checked
    before any view runs)."""
    found: dict[str, list[str]] = {}
    for source in (args, form):
        for name, value in source.items(multi=True):
            if _NUL in name or _NUL in value:
                found.setdefault(_shown(name), []).append(NUL_MESSAGE)
    _walk_json(json_body, "", found, nul=True)
    return found


def range_problems(args, form, json_body) -> dict[str, list[str]]:
    """Field → messages for integers beyond the database's range: names the culprits once the
    database has refused a value (free text may hold any digits, so this is not checked before)."""
    found: dict[str, list[str]] = {}
    for source in (args, form):
        for name, value in source.items(multi=True):
            if _INTEGER.match(value) and abs(int(value)) > MAX_INT:
                found.setdefault(_shown(name), []).append(RANGE_MESSAGE)
    _walk_json(json_body, "", found, nul=False)
    return found


def _shown(name: str) -> str:
    return name.replace(_NUL, "\\0")


def _walk_json(value, path: str, found: dict, *, nul: bool, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        if nul:
            found.setdefault(path or "body", []).append(DEPTH_MESSAGE)
        return
    if isinstance(value, str):
        if nul and _NUL in value:
            found.setdefault(path or "body", []).append(NUL_MESSAGE)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not nul and abs(value) > MAX_INT:
            found.setdefault(path or "body", []).append(RANGE_MESSAGE)
    elif isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if nul and _NUL in str(key):
                found.setdefault(_shown(here), []).append(NUL_MESSAGE)
            _walk_json(item, here, found, nul=nul, depth=depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk_json(item, f"{path}[{index}]", found, nul=nul, depth=depth + 1)
