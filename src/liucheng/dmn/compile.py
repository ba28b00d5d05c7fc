"""FEEL text of a DMN file → closures, at deployment, with errors that name the cell.

Everything here runs once per file.  An expression that does not compile is a deployment error
naming its file, line and place (``rule 3, input entry 2``); at run time the closures are called
directly.  Only FEEL is executed: an element that declares another expression language (JUEL,
JavaScript, Groovy, Python...) is refused by name, never evaluated as FEEL by accident.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lxml import etree

from liucheng.errors import ExpressionError
from liucheng.expr.feel import compile_feel, compile_unary_tests
from liucheng.expr.feel.nodes import unparse
from liucheng.expr.feel.parser import parse_unary_tests

from .errors import DmnParseError, Where

Env = Mapping[str, Any]
Expr = Callable[[Env], Any]
UnaryTest = Callable[[Any, Env], bool]


def _null(env: Env) -> Any:
    return None


NULL: Expr = _null


def is_feel(language: str | None) -> bool:
    """Whether an ``expressionLanguage`` URI or name means FEEL (any DMN version, or S-FEEL)."""
    return language is None or not language.strip() or "feel" in language.lower()


def check_language(el: etree._Element | None, default: str | None, where: Where) -> None:
    """Refuse an element whose expression language (own, else the file's) is not FEEL."""
    language = el.get("expressionLanguage") if el is not None else None
    language = language if language is not None and language.strip() else default
    if not is_feel(language):
        raise DmnParseError(
            f"expression language {language!r} is not supported (only FEEL is)", where
        )


def expression(text: str | None, where: Where, *, empty_is_null: bool = False) -> Expr:
    """Compile a FEEL expression; empty text is an error unless ``empty_is_null``."""
    if text is None or not text.strip():
        if empty_is_null:
            return NULL
        raise DmnParseError("the expression is empty", where)
    try:
        return compile_feel(text.strip())
    except ExpressionError as exc:
        raise DmnParseError(str(exc), where) from None


def unary_tests(text: str | None, where: Where) -> UnaryTest | None:
    """Compile an input entry; None means "any input" (``-``, or an empty cell as dmn-js
    writes it), which the table then skips entirely."""
    if text is None or not text.strip() or text.strip() == "-":
        return None
    try:
        return compile_unary_tests(text.strip())
    except ExpressionError as exc:
        raise DmnParseError(str(exc), where) from None


def value_list(text: str, where: Where) -> tuple[UnaryTest, ...]:
    """Each test of an ``outputValues`` list on its own, in order: position is priority."""
    try:
        tree = parse_unary_tests(text.strip())
        if tree.any or tree.negated:
            raise DmnParseError("output values must list the values, in priority order", where)
        return tuple(compile_unary_tests(unparse(t)) for t in tree.tests)
    except ExpressionError as exc:
        raise DmnParseError(str(exc), where) from None


def mentions(text: str | None, name: str) -> bool:
    """Whether ``name`` may occur in ``text`` (over-approximate, used to avoid work)."""
    return bool(text) and name in str(text)
