"""Expression languages, and the one place that decides which language a text is written in.

A model names its language in ``definitions/@expressionLanguage``, a condition's ``language``
attribute or a script task's ``scriptFormat``; a deployment may set a default (SpiffWorkflow models
are Python); files that declare the SpiffWorkflow namespace default to Python; everything else is
FEEL, as in Camunda 8 and DMN.

Every evaluator is compiled once and cached; none of them ever hands text to ``eval``/``exec``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from liucheng.errors import ExpressionError

FEEL = "feel"
PYTHON = "python"
JUEL = "juel"

Evaluator = Callable[[Mapping[str, Any]], Any]
Script = Callable[[dict[str, Any]], None]

_ALIASES = {
    "feel": FEEL,
    "http://www.omg.org/spec/feel/20140401": FEEL,
    "http://www.omg.org/spec/dmn/20180521/feel/": FEEL,
    "https://www.omg.org/spec/dmn/20191111/feel/": FEEL,
    "https://www.omg.org/spec/dmn/20211108/feel/": FEEL,
    "https://www.omg.org/spec/dmn/20230324/feel/": FEEL,
    "python": PYTHON,
    "python3": PYTHON,
    "text/x-python": PYTHON,
    "juel": JUEL,
    "http://www.w3.org/1999/xpath": "xpath",
}


def language_name(declared: str | None) -> str | None:
    """Map a declared language (name or URI, any case) to ``feel``/``python``/``juel``.

    Returns None when nothing was declared; raises for a language Liucheng does not run.
    """
    if declared is None or not declared.strip():
        return None
    name = _ALIASES.get(declared.strip().lower())
    if name in (FEEL, PYTHON):
        return name
    if name == JUEL:
        raise ExpressionError("JUEL expressions are not supported yet", text=declared)
    raise ExpressionError(
        f"expression language {declared!r} is not supported (use FEEL or Python)", text=declared
    )


def _is_juel(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith(("${", "#{")) and stripped.endswith("}")


def compile_expression(text: str, language: str) -> Evaluator:
    """Compile an expression in ``language`` (``feel`` or ``python``)."""
    if _is_juel(text):
        raise ExpressionError("JUEL-style ${...} expressions are not supported yet", text=text)
    if language == PYTHON:
        from liucheng.expr.python_dialect import compile_python

        return compile_python(text)
    if language == FEEL:
        from liucheng.expr.feel import compile_feel

        return compile_feel(text)
    raise ExpressionError(f"unknown expression language {language!r}", text=text)


def compile_script(text: str, language: str) -> Script:
    """Compile a script task body; only the Python dialect has statements."""
    if language == PYTHON:
        from liucheng.expr.python_dialect import compile_python_script

        return compile_python_script(text)
    raise ExpressionError(
        f"scripts in {language!r} are not supported; use scriptFormat 'python', or a FEEL "
        "expression with a result variable",
        text=text[:80],
    )


def _constant(value: str) -> Evaluator:
    def evaluate(_variables: Mapping[str, Any]) -> Any:
        return value

    return evaluate


def compile_value(text: str, language: str) -> Evaluator:
    """Compile an attribute that is a literal unless written as an expression.

    Assignees, candidate groups, due dates, timer values and mapping sources are literal text in
    most files; ``=expr`` (Camunda 8) marks FEEL.  In a Python-dialect model the text is Python.
    """
    if text.startswith("="):
        return compile_expression(text[1:], FEEL)
    if _is_juel(text):
        raise ExpressionError("JUEL-style ${...} expressions are not supported yet", text=text)
    if language == PYTHON:
        return compile_expression(text, PYTHON)
    return _constant(text)
