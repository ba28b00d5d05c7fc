"""The syntax tree of FEEL, and a printer that turns a tree back into FEEL text.

Nodes are frozen dataclasses; ``pos`` (offset in the source) is excluded from equality so that a
printed-and-reparsed tree compares equal to the original, which the property tests rely on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Node:
    """Base of all nodes."""

    pos: int = field(default=0, compare=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: Decimal | str | bool | None


@dataclass(frozen=True, slots=True)
class Temporal(Node):
    """``@"2026-01-01"``: parsed into a date/time/duration value at compile time."""

    text: str


@dataclass(frozen=True, slots=True)
class Name(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Input(Node):
    """``?``: the input value of a unary test."""


@dataclass(frozen=True, slots=True)
class Neg(Node):
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """Arithmetic, comparison and boolean operators: ``op`` is the FEEL spelling."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Between(Node):
    value: Node
    low: Node
    high: Node


@dataclass(frozen=True, slots=True)
class In(Node):
    value: Node
    tests: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class InstanceOf(Node):
    value: Node
    type_name: str


@dataclass(frozen=True, slots=True)
class UnaryCompare(Node):
    """``< 10`` in a unary test or on the right of ``in``."""

    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class RangeNode(Node):
    start: Node
    end: Node
    start_included: bool
    end_included: bool


@dataclass(frozen=True, slots=True)
class ListNode(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class ContextNode(Node):
    entries: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class Path(Node):
    base: Node
    name: str


@dataclass(frozen=True, slots=True)
class Filter(Node):
    base: Node
    condition: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    callee: Node
    args: tuple[Node, ...]
    named: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class If(Node):
    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class Iteration(Node):
    """``x in xs`` or ``x in 1..n`` inside ``for``/``some``/``every``."""

    var: str
    source: Node
    end: Node | None = None


@dataclass(frozen=True, slots=True)
class For(Node):
    iterations: tuple[Iteration, ...]
    body: Node


@dataclass(frozen=True, slots=True)
class Quantified(Node):
    kind: str  # "some" or "every"
    iterations: tuple[Iteration, ...]
    condition: Node


@dataclass(frozen=True, slots=True)
class FunctionDef(Node):
    params: tuple[str, ...]
    body: Node


@dataclass(frozen=True, slots=True)
class UnaryTests(Node):
    """A whole DMN input entry: ``-`` (``any``), or tests, possibly wrapped in ``not(...)``."""

    tests: tuple[Node, ...]
    negated: bool = False
    any: bool = False


def children(node: Node) -> list[Node]:
    """Direct sub-nodes, for analyses such as "which names does this expression use"."""
    out: list[Node] = []
    for f in node.__dataclass_fields__:
        if f == "pos":
            continue
        v: Any = getattr(node, f)
        if isinstance(v, Node):
            out.append(v)
        elif isinstance(v, tuple):
            for x in v:
                if isinstance(x, Node):
                    out.append(x)
                elif isinstance(x, tuple):
                    out.extend(y for y in x if isinstance(y, Node))
    return out


def walk(node: Node) -> list[Node]:
    """All nodes of a tree, iteratively (the tree depth is bounded, but recursion is not needed)."""
    out, todo = [], [node]
    while todo:
        n = todo.pop()
        out.append(n)
        todo.extend(children(n))
    return out


def _name(n: str) -> str:
    return n if n.isidentifier() and " " not in n else f"`{n}`"


def _str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def unparse(node: Node) -> str:
    """FEEL text for a tree, fully parenthesised so it reparses to the same tree."""
    match node:
        case Literal(value=None):
            return "null"
        case Literal(value=bool() as b):
            return "true" if b else "false"
        case Literal(value=str() as s):
            return _str(s)
        case Literal(value=Decimal() as d):
            text = format(d, "f")
            return f"(-{text[1:]})" if text.startswith("-") else text
        case Temporal(text=t):
            return "@" + _str(t)
        case Name(name=n):
            return _name(n)
        case Input():
            return "?"
        case Neg(operand=o):
            return f"(-{unparse(o)})"
        case Binary(op=op, left=a, right=b):
            return f"({unparse(a)} {op} {unparse(b)})"
        case Between(value=v, low=lo, high=hi):
            return f"({unparse(v)} between {unparse(lo)} and {unparse(hi)})"
        case In(value=v, tests=ts):
            return f"({unparse(v)} in ({', '.join(unparse(t) for t in ts)}))"
        case InstanceOf(value=v, type_name=t):
            return f"({unparse(v)} instance of {t})"
        case UnaryCompare(op=op, operand=o):
            return f"{op} {unparse(o)}"
        case RangeNode(start=s, end=e, start_included=si, end_included=ei):
            # The end is bracketed: a filter there would read as the range's closing "[".
            return f"{'[' if si else '('}{unparse(s)}..({unparse(e)}){']' if ei else ')'}"
        case ListNode(items=items):
            return "[" + ", ".join(unparse(i) for i in items) + "]"
        case ContextNode(entries=es):
            return "{" + ", ".join(f"{_str(k)}: {unparse(v)}" for k, v in es) + "}"
        case Path(base=b, name=n):
            return f"{unparse(b)}.{_name(n)}"
        case Filter(base=b, condition=c):
            return f"{unparse(b)}[{unparse(c)}]"
        case Call(callee=c, args=args, named=named):
            inner = [unparse(a) for a in args] + [f"{_name(k)}: {unparse(v)}" for k, v in named]
            return f"{unparse(c)}({', '.join(inner)})"
        case If(condition=c, then=t, otherwise=o):
            return f"(if {unparse(c)} then {unparse(t)} else {unparse(o)})"
        case For(iterations=its, body=b):
            return f"(for {_iters(its)} return {unparse(b)})"
        case Quantified(kind=k, iterations=its, condition=c):
            return f"({k} {_iters(its)} satisfies {unparse(c)})"
        case FunctionDef(params=ps, body=b):
            return f"(function({', '.join(_name(p) for p in ps)}) {unparse(b)})"
        case UnaryTests(any=True):
            return "-"
        case UnaryTests(tests=ts, negated=neg):
            joined = ", ".join(unparse(t) for t in ts)
            return f"not({joined})" if neg else joined
    raise TypeError(f"cannot print {node!r}")


def _iters(its: tuple[Iteration, ...]) -> str:
    parts = []
    for it in its:
        src = unparse(it.source) + (f"..{unparse(it.end)}" if it.end is not None else "")
        parts.append(f"{_name(it.var)} in {src}")
    return ", ".join(parts)
