"""Recursive-descent parser for one JUEL (Unified EL 2.2) expression.

Precedence, loosest first, as in the EL specification: ``?:``; ``|| or``; ``&& and``;
``== eq != ne``; ``< lt > gt <= le >= ge``; ``+ -``; ``* / div % mod``; prefix ``- ! not empty``;
then a value with its ``.name``, ``[expr]`` and ``.name(args)`` steps.  Word operators are
reserved words: ``${empty}`` or ``${div}`` is a syntax error, except after a dot
(``${order.div}``), which JUEL refuses but costs nothing to allow.

The parser counts nesting (brackets, arguments, ``?:`` branches) and refuses more than
:data:`~.limits.MAX_NESTING` levels, so hostile text gets an ExpressionError naming the
offset instead of a RecursionError.
"""

from __future__ import annotations

from decimal import Decimal

from liucheng.errors import ExpressionError

from . import nodes as n
from .lexer import Token, tokenize
from .limits import DECIMAL, MAX_INT_BITS, MAX_NESTING

_WORDS = {
    "and": "&&",
    "or": "||",
    "not": "!",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
    "div": "/",
    "mod": "%",
}
RESERVED = frozenset({*_WORDS, "true", "false", "null", "empty", "instanceof"})
_LEVELS: tuple[frozenset[str], ...] = (
    frozenset({"||"}),
    frozenset({"&&"}),
    frozenset({"==", "!="}),
    frozenset({"<", ">", "<=", ">="}),
    frozenset({"+", "-"}),
    frozenset({"*", "/", "%"}),
)
_LOGIC_LEVELS = 2  # the first two levels short-circuit and become Logic nodes
_CONSTANTS = {"true": True, "false": False, "null": None}
FLOWABLE_NAMESPACES = frozenset({"variables", "vars", "var"})
_MAX_INT_DIGITS = MAX_INT_BITS * 3 // 10 + 1


class Parser:
    """Parses the expression that starts at ``start`` in ``text``.

    In template mode the expression ends at its closing ``}`` and :attr:`end` is the offset
    after it; otherwise it runs to the end of the text.
    """

    def __init__(self, text: str, start: int = 0, *, template: bool = False) -> None:
        self.text = text
        self.tokens = tokenize(text, start, template=template)
        self.i = 0
        self.nesting = 0
        self.end = len(text)

    # -- token helpers -------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def error(self, message: str, tok: Token | None = None) -> ExpressionError:
        return ExpressionError(message, text=self.text, position=(tok or self.tok).pos)

    def describe(self, tok: Token | None = None) -> str:
        t = tok or self.tok
        if t.kind == "eof":
            return "the end of the expression"
        if t.kind == "end":
            return "'}'"
        if t.kind == "str":
            return "a string"
        return repr(t.value)

    def is_op(self, value: str) -> bool:
        t = self.tok
        return t.kind == "op" and t.value == value

    def expect_op(self, value: str) -> Token:
        if not self.is_op(value):
            raise self.error(f"expected '{value}' but found {self.describe()}")
        t = self.tok
        self.i += 1
        return t

    def operator(self) -> str | None:
        """The canonical operator the current token stands for, if it is one."""
        t = self.tok
        if t.kind == "op":
            return t.value
        if t.kind == "name":
            return _WORDS.get(t.value)
        return None

    # -- entry ---------------------------------------------------------------------------------
    def parse(self) -> n.Node:
        """The whole expression; anything left before its end is an error."""
        if self.tok.kind in ("end", "eof"):
            raise self.error("the expression is empty")
        node = self.expression()
        t = self.tok
        if t.kind == "end":
            self.end = t.pos + 1
        elif t.kind != "eof":
            raise self.error(f"unexpected {self.describe()}")
        return node

    # -- expressions ---------------------------------------------------------------------------
    def expression(self) -> n.Node:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise self.error(f"expression nested more than {MAX_NESTING} levels deep")
        try:
            condition = self.binary(0)
            if not self.is_op("?"):
                return condition
            pos = self.tok.pos
            self.i += 1
            yes = self.expression()
            self.expect_op(":")
            no = self.expression()
            return n.Choice(pos, condition, yes, no)
        finally:
            self.nesting -= 1

    def binary(self, level: int) -> n.Node:
        if level == len(_LEVELS):
            return self.unary()
        ops = _LEVELS[level]
        first = self.binary(level + 1)
        rest: list[tuple[str, n.Node, int]] = []
        while (op := self.operator()) in ops:
            assert op is not None
            pos = self.tok.pos
            self.i += 1
            rest.append((op, self.binary(level + 1), pos))
        if not rest:
            return first
        if level < _LOGIC_LEVELS:
            return n.Logic(first.pos, rest[0][0], (first, *(x for _, x, _ in rest)))
        return n.Chain(first.pos, first, tuple(rest))

    def unary(self) -> n.Node:
        ops: list[tuple[str, int]] = []
        while True:
            t = self.tok
            if t.kind == "op" and t.value in ("-", "!"):
                ops.append((t.value, t.pos))
            elif t.kind == "name" and t.value in ("not", "empty"):
                ops.append(("!" if t.value == "not" else "empty", t.pos))
            else:
                break
            self.i += 1
        operand = self.value()
        if len(ops) == 1 and ops[0][0] == "-":
            folded = _negate_literal(operand)
            if folded is not None:
                return n.Literal(ops[0][1], folded)
        return n.Unary(ops[0][1], tuple(ops), operand) if ops else operand

    def value(self) -> n.Node:
        base = self.primary()
        steps: list[n.Step] = []
        while True:
            if self.is_op("."):
                self.i += 1
                t = self.tok
                if t.kind != "name":
                    found = self.describe()
                    raise self.error(f"expected a property name after '.' but found {found}")
                self.i += 1
                if self.is_op("("):
                    steps.append(n.Method(t.pos, t.value, self.arguments()))
                else:
                    steps.append(n.Prop(t.pos, t.value))
            elif self.is_op("["):
                pos = self.tok.pos
                self.i += 1
                key = self.expression()
                self.expect_op("]")
                steps.append(n.Index(pos, key))
            else:
                break
        return n.Path(base.pos, base, tuple(steps)) if steps else base

    def primary(self) -> n.Node:
        t = self.tok
        if t.kind == "int":
            self.i += 1
            return n.Literal(t.pos, self.integer(t))
        if t.kind == "float":
            self.i += 1
            return n.Literal(t.pos, self.decimal(t))
        if t.kind == "str":
            self.i += 1
            return n.Literal(t.pos, t.value)
        if t.kind == "name":
            return self.name()
        if self.is_op("("):
            self.i += 1
            inner = self.expression()
            self.expect_op(")")
            return inner
        if t.kind in ("end", "eof"):
            raise self.error(f"expected a value but found {self.describe()}")
        raise self.error(f"unexpected {self.describe()}")

    def name(self) -> n.Node:
        t = self.tok
        if t.value in _CONSTANTS:
            self.i += 1
            return n.Literal(t.pos, _CONSTANTS[t.value])
        if t.value in RESERVED:
            raise self.error(f"{t.value!r} is a reserved word and cannot be used as a name")
        after = self.peek(1)
        if after.kind == "op" and after.value == "(":
            self.i += 1
            return n.Call(t.pos, None, t.value, self.arguments())
        if (
            t.value in FLOWABLE_NAMESPACES
            and after.kind == "op"
            and after.value == ":"
            and self.peek(2).kind == "name"
            and self.peek(3).kind == "op"
            and self.peek(3).value == "("
        ):
            name = self.peek(2).value
            self.i += 3
            return n.Call(t.pos, t.value, name, self.arguments())
        self.i += 1
        return n.Ident(t.pos, t.value)

    def arguments(self) -> tuple[n.Node, ...]:
        self.expect_op("(")
        args: list[n.Node] = []
        if not self.is_op(")"):
            args.append(self.expression())
            while self.is_op(","):
                self.i += 1
                args.append(self.expression())
        self.expect_op(")")
        return tuple(args)

    # -- literals ------------------------------------------------------------------------------
    def integer(self, t: Token) -> int:
        if len(t.value) > _MAX_INT_DIGITS or int(t.value).bit_length() > MAX_INT_BITS:
            raise self.error(f"integer literal is larger than {MAX_INT_BITS} bits", t)
        return int(t.value)

    def decimal(self, t: Token) -> Decimal:
        """A floating-point literal is a Decimal (Java would make it a double): money stays
        exact, and ``0.1 + 0.2 == 0.3`` holds."""
        try:
            return DECIMAL.create_decimal(t.value)
        except ArithmeticError:
            raise self.error("number literal is out of range", t) from None


def _negate_literal(node: n.Node) -> int | Decimal | None:
    """``-5`` is the literal -5, so ``x > -5`` takes the compiler's constant fast path."""
    if isinstance(node, n.Literal):
        if type(node.value) is int:
            return -node.value
        if type(node.value) is Decimal:
            return node.value.copy_negate()
    return None


def parse_expression(text: str) -> n.Node:
    """Parse ``text`` as one bare expression (no ``${`` around it)."""
    return Parser(text).parse()
