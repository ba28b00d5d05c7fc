"""Composite text: literal text with ``${…}``/``#{…}`` expressions, as EL evaluates attributes.

``Dear ${name}, pass ${id}`` is the literal ``Dear `` + the text of ``name`` + ``, pass `` + the
text of ``id``.  A text that is one expression and nothing else (surrounding whitespace aside,
since XML element text often carries line breaks) gives that expression's *typed* value:
``${amount}`` is a Decimal, ``${approved}`` a bool.  ``\\${`` and ``\\#{`` write a literal
``${``/``#{``.  Immediate (``$``) and deferred (``#``) syntax mean the same here, and may be
mixed.
"""

from __future__ import annotations

import re

from . import nodes as n
from .parser import Parser

_MARK = re.compile(r"\\?[$#]\{")

Part = str | n.Node


def split_template(text: str) -> list[Part]:
    """The literal strings and expression trees of ``text``, in order; no empty strings."""
    parts: list[Part] = []
    literal: list[str] = []
    i = 0
    while (m := _MARK.search(text, i)) is not None:
        literal.append(text[i : m.start()])
        if m.group().startswith("\\"):
            literal.append(m.group()[1:])
            i = m.end()
            continue
        parser = Parser(text, m.end(), template=True)
        node = parser.parse()
        if "".join(literal):
            parts.append("".join(literal))
        literal = []
        parts.append(node)
        i = parser.end
    literal.append(text[i:])
    if "".join(literal):
        parts.append("".join(literal))
    return parts


def single_expression(parts: list[Part]) -> n.Node | None:
    """The one expression when ``parts`` is just that, give or take whitespace around it."""
    nodes = [p for p in parts if not isinstance(p, str)]
    if len(nodes) == 1 and all(p.isspace() for p in parts if isinstance(p, str)):
        return nodes[0]
    return None
