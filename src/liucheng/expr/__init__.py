"""Expression languages, and the one place that decides which language a text is written in.

A model names its language in ``definitions/@expressionLanguage``, a condition's ``language``
attribute or a script task's ``scriptFormat``; a deployment may set a default (SpiffWorkflow models
are Python); files that declare the SpiffWorkflow namespace default to Python; everything else is
FEEL, as in Camunda 8 and DMN.

Whatever the default, a text that starts with ``${`` or ``#{`` is JUEL, as Camunda 7, Flowable
and Activiti read it: those files never declare JUEL (Activiti and Flowable designers write the
BPMN specification's default, XPath, which those engines ignore — so XPath means JUEL here too).
An attribute that is literal unless written as an expression (assignee, due date, mapping source)
may also be EL composite text, ``Dear ${name}``, outside Python-dialect models.

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
    # The BPMN specification's default expressionLanguage, written verbatim by the Activiti and
    # Flowable designers; those engines (and Camunda 7) evaluate such files' expressions as JUEL.
    "http://www.w3.org/1999/xpath": JUEL,
}


def language_name(declared: str | None) -> str | None:
    """Map a declared language (name or URI, any case) to ``feel``/``python``/``juel``.

    Returns None when nothing was declared; raises for a language Liucheng does not run.
    """
    if declared is None or not declared.strip():
        return None
    name = _ALIASES.get(declared.strip().lower())
    if name is not None:
        return name
    raise ExpressionError(
        f"expression language {declared!r} is not supported (use FEEL, Python or JUEL)",
        text=declared,
    )


def _is_juel(text: str) -> bool:
    """Written as ``${…}``/``#{…}`` (possibly composite: ``${a} of ${b}``)."""
    return text.lstrip().startswith(("${", "#{"))


def compile_expression(text: str, language: str) -> Evaluator:
    """Compile an expression in ``language`` (``feel``, ``python`` or ``juel``).

    ``${…}`` text is JUEL whatever ``language`` says; with ``language == "juel"`` bare text
    (``amount > 1000``) is one JUEL expression too.
    """
    if _is_juel(text) or language == JUEL:
        from liucheng.expr.juel import compile_juel, compile_juel_expression, has_juel

        return compile_juel(text) if has_juel(text) else compile_juel_expression(text)
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
    most files; ``=expr`` (Camunda 8) marks FEEL; ``${expr}`` (Camunda 7, Flowable, Activiti)
    marks JUEL and gives the typed value, and text with embedded expressions (``Dear ${name}``)
    gives a string.  In a Python-dialect model the text is Python unless it starts with ``${``.
    """
    if text.startswith("="):
        return compile_expression(text[1:], FEEL)
    if _is_juel(text):
        from liucheng.expr.juel import compile_juel

        return compile_juel(text)
    if language == PYTHON:
        return compile_expression(text, PYTHON)
    if language == JUEL or "${" in text or "#{" in text:
        from liucheng.expr.juel import compile_juel

        return compile_juel(text)
    return _constant(text)
