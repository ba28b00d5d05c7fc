"""Entry points: compile FEEL text once (cached), evaluate it many times."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from liucheng.errors import ExpressionError

from . import nodes as n
from .clock import Budget
from .compiler import Compiler
from .parser import parse_expression, parse_unary_tests
from .values import to_feel

_LOOPING = (n.For, n.Quantified, n.Filter, n.Call, n.Iteration)


def _guarded(text: str, fn: Callable[..., Any], loops: bool) -> Callable[..., Any]:
    """Wrap the compiled closure: start the work budget (unless called inside another
    evaluation, see ``Budget``), and turn a Python stack overflow (from a user-defined function
    calling itself) into an ExpressionError."""

    def run(*args: Any) -> Any:
        try:
            return fn(*args)
        except RecursionError:
            raise ExpressionError("evaluation recursed too deeply", text=text) from None
        except ExpressionError as e:
            if e.text is None:
                raise ExpressionError(e.message, text=text) from None
            raise

    if not loops:
        return run

    def run_counted(*args: Any) -> Any:
        Budget.enter()
        try:
            return run(*args)
        finally:
            Budget.exit()

    return run_counted


@functools.lru_cache(maxsize=4096)
def compile_feel(text: str) -> Callable[[Mapping[str, Any]], Any]:
    """Compile a FEEL expression into ``f(variables) -> value``; a leading ``=`` is ignored.

    Raises ExpressionError (with the offset of the offending token) for invalid syntax.
    """
    source = text.lstrip()
    if source.startswith("="):
        source = source[1:]
    try:
        tree = parse_expression(source)
        fn = Compiler(source).compile(tree)
    except RecursionError:
        raise ExpressionError("expression nested too deeply", text=text) from None
    loops = any(isinstance(x, _LOOPING) for x in n.walk(tree))
    return _guarded(text, fn, loops)


@functools.lru_cache(maxsize=4096)
def compile_unary_tests(text: str) -> Callable[[Any, Mapping[str, Any]], bool]:
    """Compile a DMN input entry into ``f(input, variables) -> bool`` (null counts as no match)."""
    try:
        tree = parse_unary_tests(text)
        test = Compiler(text).unary_tests(tree)
    except RecursionError:
        raise ExpressionError("expression nested too deeply", text=text) from None
    loops = any(isinstance(x, _LOOPING) for x in n.walk(tree))
    guarded = _guarded(text, test, loops)

    def run(value: Any, variables: Mapping[str, Any]) -> bool:
        return bool(guarded(to_feel(value), variables))

    return run


def evaluate_feel(text: str, variables: Mapping[str, Any] | None = None) -> Any:
    """Compile (cached) and evaluate in one call."""
    return compile_feel(text)(variables or {})
