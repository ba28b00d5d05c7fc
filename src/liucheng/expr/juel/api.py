"""Entry points: compile JUEL text once (cached), evaluate it many times."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from liucheng.errors import ExpressionError

from . import nodes as n
from .coerce import to_str
from .compiler import Compiler, Fn
from .limits import MAX_LEN, MAX_TEXT
from .parser import Parser
from .template import single_expression, split_template

Evaluator = Callable[[Mapping[str, Any]], Any]


def has_juel(text: str) -> bool:
    """Whether ``text`` holds a ``${`` or ``#{`` (is a template rather than plain text)."""
    return "${" in text or "#{" in text


@functools.lru_cache(maxsize=4096)
def compile_juel(text: str) -> Evaluator:
    """Compile an attribute as EL composite text into ``f(variables) -> value``.

    One ``${expr}`` alone gives its typed value; literal text with expressions gives a string
    (each value written as EL writes it: null as ``""``, ``true``, ``3.0``); text without any
    expression gives itself.  Raises ExpressionError, with the offset in ``text``, for invalid
    syntax and for methods, functions or names that are refused.
    """
    _check_length(text)
    try:
        parts = split_template(text)
        only = single_expression(parts)
        if only is not None:
            return _guarded(text, Compiler(text).compile(only))
        compiler = Compiler(text)
        pieces = [p if isinstance(p, str) else compiler.compile(p) for p in parts]
    except RecursionError:
        raise ExpressionError("expression nested too deeply", text=text) from None
    if all(isinstance(p, str) for p in pieces):
        constant = "".join(p for p in pieces if isinstance(p, str))
        return lambda variables: constant
    return _guarded(text, _concatenation(pieces))


@functools.lru_cache(maxsize=4096)
def compile_juel_expression(text: str) -> Evaluator:
    """Compile bare JUEL, without ``${}`` (a condition declared ``language="juel"``)."""
    _check_length(text)
    try:
        tree: n.Node = Parser(text).parse()
        return _guarded(text, Compiler(text).compile(tree))
    except RecursionError:
        raise ExpressionError("expression nested too deeply", text=text) from None


def evaluate_juel(text: str, variables: Mapping[str, Any] | None = None) -> Any:
    """Compile (cached) and evaluate composite text in one call."""
    return compile_juel(text)(variables or {})


def _check_length(text: str) -> None:
    if len(text) > MAX_TEXT:
        raise ExpressionError(
            f"expression longer than {MAX_TEXT:,} characters", text=text[:80] + "…", position=0
        )


def _concatenation(pieces: list[str | Fn]) -> Fn:
    def render(variables: Mapping[str, Any]) -> str:
        out: list[str] = []
        size = 0
        for piece in pieces:
            s = piece if isinstance(piece, str) else to_str(piece(variables))
            size += len(s)
            if size > MAX_LEN:
                raise ExpressionError(f"text would be longer than {MAX_LEN:,} characters")
            out.append(s)
        return "".join(out)

    return render


def _guarded(text: str, fn: Fn) -> Evaluator:
    """Turn a Python stack overflow (data nested absurdly deep, a caller already deep in its
    stack) into an ExpressionError, and make sure every error names the text."""

    def evaluate(variables: Mapping[str, Any]) -> Any:
        try:
            return fn(variables)
        except ExpressionError as e:
            if e.text is None:
                raise ExpressionError(e.message, text=text) from None
            raise
        except RecursionError:
            raise ExpressionError("evaluation nested too deeply", text=text) from None

    return evaluate
