"""The syntax tree of one JUEL expression.

Flat chains are single nodes — ``a + b - c`` is one :class:`Chain`, ``a && b && c`` one
:class:`Logic`, ``a.b[0].c`` one :class:`Path`, ``!!x`` one :class:`Unary` — so a long but flat
expression neither deepens the tree nor the Python stack of the closures compiled from it; only
brackets, arguments and ``?:`` nest.  Every node keeps ``pos``, the offset of its first
character (for operators, of the operator) in the whole attribute text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Node:
    pos: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """``1``, ``2.5`` (a Decimal), ``'text'``, ``true``, ``null``."""

    value: Any


@dataclass(frozen=True, slots=True)
class Ident(Node):
    """A variable name, resolved against the variables mapping when evaluated."""

    name: str


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A function call: ``now()``, ``dateTime()``, or Flowable's ``variables:get(x)``.

    ``namespace`` is ``None`` for an unprefixed call; ``args`` are the argument trees.
    """

    namespace: str | None
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Prop(Node):
    """``.name`` after a value."""

    name: str


@dataclass(frozen=True, slots=True)
class Index(Node):
    """``[expr]`` after a value."""

    key: Node


@dataclass(frozen=True, slots=True)
class Method(Node):
    """``.name(args)`` after a value; only whitelisted names get past the compiler."""

    name: str
    args: tuple[Node, ...]


Step = Prop | Index | Method


@dataclass(frozen=True, slots=True)
class Path(Node):
    """A value followed by property, index and method steps, applied left to right."""

    base: Node
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class Unary(Node):
    """Prefix operators (``-``, ``!``, ``empty``), outermost first, applied to ``operand``.

    ``ops`` pairs each operator with its offset.
    """

    ops: tuple[tuple[str, int], ...]
    operand: Node


@dataclass(frozen=True, slots=True)
class Chain(Node):
    """A left-associative run of one precedence level: ``first op1 x1 op2 x2 …``.

    ``rest`` holds ``(operator, operand, operator offset)``; operators are canonical symbols
    (``div`` is ``/``, ``eq`` is ``==``…).
    """

    first: Node
    rest: tuple[tuple[str, Node, int], ...]


@dataclass(frozen=True, slots=True)
class Logic(Node):
    """``a && b && …`` (``op`` is ``&&``) or ``a || b || …`` (``||``), short-circuited."""

    op: str
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Choice(Node):
    """``condition ? yes : no``."""

    condition: Node
    yes: Node
    no: Node
