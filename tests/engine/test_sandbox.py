"""The script sandbox: diagrams may compute, call named helpers, and nothing else."""
from __future__ import annotations

import pytest

from service.engine.sandbox import ScriptRejected, SandboxEnvironment

ESCAPES = [
    "().__class__.__base__.__subclasses__()",
    "[].__class__.__mro__[1].__subclasses__()",
    "__import__('os').system('true')",
    "open('/etc/passwd').read()",
    "getattr((), '__class__')",
    "eval('1+1')",
    "exec('x = 1')",
    "(lambda: 0).__globals__",
    "type(1).__subclasses__(int)",
    "globals()",
    "compile('1', 'x', 'eval')",
]


@pytest.mark.parametrize("expression", ESCAPES)
def test_escape_attempts_are_refused(expression):
    env = SandboxEnvironment()
    with pytest.raises((ScriptRejected, NameError, AttributeError, SyntaxError, TypeError)):
        env.evaluate(expression, {})


def test_imports_in_scripts_are_refused():
    env = SandboxEnvironment()
    with pytest.raises(ScriptRejected):
        env.execute("import os\nx = os.getcwd()", {})
    with pytest.raises(ScriptRejected):
        env.execute("from subprocess import run", {})


def test_attribute_access_to_underscore_names_fails_even_when_built_dynamically():
    env = SandboxEnvironment()
    with pytest.raises((ScriptRejected, AttributeError, NameError)):
        env.evaluate("getattr(x, '_' + '_class__')", {"x": 1})


def test_ordinary_expressions_and_scripts_work_and_leave_only_data_behind():
    env = SandboxEnvironment({"double": lambda v: v * 2})
    assert env.evaluate("double(n) + len(items)", {"n": 2, "items": [1, 2]}) == 6
    assert env.evaluate("rating == '满意' and not urgent", {"rating": "满意", "urgent": False}) is True
    data = {"n": 3}
    env.execute("total = 0\nfor i in range(n):\n    total += i\nlabel = f'共{total}'", data)
    assert data == {"n": 3, "total": 3, "label": "共3", "i": 2}


def test_scripts_cannot_write_attributes_of_objects():
    env = SandboxEnvironment()

    class Box:
        value = 1
    with pytest.raises((TypeError, AttributeError, ScriptRejected)):
        env.execute("box.value = 2", {"box": Box()})
