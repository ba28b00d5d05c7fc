"""A sandboxed Python subset for expressions and script tasks (SpiffWorkflow-style models).

Why an interpreter of our own: the text is parsed with ``ast.parse``, checked against a whitelist
of node types, and then *walked* by closures built once per text — it is never handed to ``eval``,
``exec`` or ``compile``, so no code object is made from user text and the usual escapes through
``__class__``/``__globals__``/frames have nothing to act on.  See ``checker`` (what is refused
before running), ``interpreter`` (how it runs), ``attributes`` and ``builtins`` (what a script can
reach) and ``limits`` (bounded time and memory).

Semantics are Python's, with these differences, each refused with a ScriptError naming line and
column: no imports, def, lambda, class, try, with, return, global, walrus, ``str.format`` or
``%``-formatting; names and attributes starting with ``_`` do not exist; generator expressions are
evaluated eagerly; ``reversed``/``zip``/``enumerate`` return lists; ``datetime.now()`` reads the
engine clock (``set_clock``) and is timezone-aware.

Errors: every problem is a ``ScriptError`` (a subclass of ``ExpressionError``) whose message begins
``line L, column C:`` and whose ``position`` is the 0-based character offset in the text.

Measured speed (CPython 3.11.7, development container, see README.md): a cached condition
``compile_python("amount > 100")({"amount": 150})`` costs about 0.9 µs per call including the cache
lookup (0.65 µs when the compiled function is kept); a 10-line script with a loop, Decimal
arithmetic, an f-string and datetime arithmetic runs in about 45 µs.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from liucheng.errors import ScriptError

from .builtins import reset_clock, set_clock, using_clock
from .checker import parse
from .interpreter import Compiler, Ctx

__all__ = [
    "compile_python",
    "compile_python_script",
    "reset_clock",
    "set_clock",
    "using_clock",
]

Expression = Callable[[Mapping[str, Any]], Any]
Script = Callable[[dict[str, Any]], None]


def compile_python(text: str) -> Expression:
    """Compile one expression (gateway condition, timer value, mapping) into a function of the
    case variables.  Raises ScriptError for syntax errors and refused constructs; the returned
    function raises ScriptError for runtime errors and exhausted limits."""
    _require_str(text)
    return _compile_expression(text)


def compile_python_script(text: str) -> Script:
    """Compile a script task body into a function that runs it against a dict of case variables.

    Assignments create or update variables and ``del`` removes them.  The script runs on a copy of
    the top-level dict that is written back only when it finishes, so a failing script leaves the
    variables as they were — except for in-place changes to nested lists and dicts (``x.append``),
    which the caller undoes by discarding its working state, as the engine does on any failure.
    """
    _require_str(text)
    return _compile_script(text)


def _require_str(text: object) -> None:
    if not isinstance(text, str):
        raise ScriptError(f"expected the text of an expression, got {type(text).__name__}")


@lru_cache(maxsize=2048)
def _compile_expression(text: str) -> Expression:
    tree, source = parse(text, "eval")
    assert isinstance(tree, ast.Expression)
    run = Compiler(source).expr(tree.body, frozenset())

    def evaluate(variables: Mapping[str, Any]) -> Any:
        return run(Ctx(variables))

    return evaluate


@lru_cache(maxsize=512)
def _compile_script(text: str) -> Script:
    tree, source = parse(text, "exec")
    assert isinstance(tree, ast.Module)
    run = Compiler(source).block(tree.body) if tree.body else (lambda ctx: None)

    def execute(variables: dict[str, Any]) -> None:
        work = dict(variables)
        run(Ctx(work))
        for name in variables.keys() - work.keys():
            del variables[name]
        variables.update(work)

    return execute
