"""The script sandbox for BPMN expressions, conditions and script tasks.

Everything a diagram runs is compiled with RestrictedPython: no imports, no dunder attributes,
no ``open``/``exec``/``eval``, only the builtins RestrictedPython deems safe plus our named
helper functions. ``().__class__.__base__.__subclasses__()`` and friends fail at compile time.
"""
from __future__ import annotations

import ast
import copy
from functools import lru_cache

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, limited_builtins, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment


class ScriptRejected(Exception):
    """The script or expression does not compile under the sandbox."""


_EXTRA_BUILTINS = {
    name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in ("min", "max", "sum", "any", "all", "enumerate", "dict", "list", "set", "sorted",
                 "reversed", "map", "filter")
}


def _guarded_getattr(obj, name, default=None):
    if name.startswith("_"):
        raise AttributeError(f"不允许访问以下划线开头的属性：{name}")
    return getattr(obj, name, default) if default is not None else getattr(obj, name)


def _inplacevar(op, x, y):
    ops = {"+=": lambda: x + y, "-=": lambda: x - y, "*=": lambda: x * y, "/=": lambda: x / y,
           "//=": lambda: x // y, "%=": lambda: x % y}
    if op not in ops:
        raise ScriptRejected(f"不支持的运算符 {op}")
    return ops[op]()


def base_globals() -> dict:
    builtins = dict(safe_builtins)
    builtins.update(limited_builtins)
    builtins.update(_EXTRA_BUILTINS)
    return {
        "__builtins__": builtins,
        "_getattr_": _guarded_getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": _inplacevar,
        "_print_": None,
    }


@lru_cache(maxsize=4096)
def compile_expression(expression: str):
    result = compile_restricted_eval(expression.strip(), "<expression>")
    if result.errors:
        raise ScriptRejected("; ".join(result.errors))
    return result.code


def _refuse_imports(source: str) -> None:
    # RestrictedPython compiles imports and fails only when they run; refuse them up front so
    # a deploy reports them on the element.
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return  # compile_restricted reports it with its line
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            raise ScriptRejected(f"第 {node.lineno} 行：脚本中不允许 import，请调用系统提供的命名函数")


@lru_cache(maxsize=1024)
def compile_script(script: str):
    _refuse_imports(script)
    result = compile_restricted_exec(script, "<string>")
    if result.errors:
        raise ScriptRejected("; ".join(result.errors))
    return result.code


class SandboxEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment with RestrictedPython compilation instead of bare eval/exec."""

    def __init__(self, helpers: dict | None = None):
        super().__init__({**base_globals(), **(helpers or {})})

    def evaluate(self, expression, context, external_context=None):
        code = compile_expression(expression)
        my_globals = copy.copy(self.globals)
        my_globals.update(external_context or {})
        my_globals.update(context)
        return eval(code, my_globals)  # noqa: S307 - compiled by RestrictedPython

    def execute(self, script, context, external_context=None):
        code = compile_script(script)
        self.check_for_overwrite(context, external_context or {})
        my_globals = copy.copy(self.globals)
        my_globals.update(external_context or {})
        context.update(my_globals)
        try:
            exec(code, context)  # noqa: S102 - compiled by RestrictedPython
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True


class SandboxScriptEngine(PythonScriptEngine):
    def __init__(self, helpers: dict | None = None):
        super().__init__(environment=SandboxEnvironment(helpers))

    def validate(self, expression):
        compile_expression(expression)
