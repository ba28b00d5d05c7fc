"""Recursive-descent parser for FEEL expressions and DMN unary tests.

Precedence, loosest first: ``or``; ``and``; comparisons with ``between``, ``in`` and
``instance of``; ``+ -``; ``* /``; ``**`` (left-associative, as the DMN grammar is written);
unary minus (binds tighter than ``**``: ``-2 ** 2`` is 4, as in Camunda's engine); postfix path,
filter and call.  ``if``, ``for``, ``some``, ``every`` and ``function`` are primaries whose last
part extends as far right as possible.

Two limits keep hostile text from exhausting the Python stack: bracket/minus nesting is bounded
while parsing (:data:`MAX_NESTING`) and the finished tree's depth is bounded (:data:`MAX_DEPTH`),
because the compiler and the compiled closures recurse once per level.
"""

from __future__ import annotations

from decimal import Decimal

from liucheng.errors import ExpressionError

from . import nodes as n
from .lexer import Token, tokenize

MAX_NESTING = 48
MAX_DEPTH = 120

KEYWORDS = frozenset(
    {"and", "or", "then", "else", "return", "satisfies", "in", "between", "instance", "of"}
    | {"for", "some", "every", "if", "true", "false", "null", "function"}
)
TYPE_NAMES = (
    "years and months duration",
    "days and time duration",
    "date and time",
    "number",
    "string",
    "boolean",
    "date",
    "time",
    "list",
    "context",
    "function",
    "range",
    "Any",
    "Null",
)
_COMPARE = ("=", "!=", "<", "<=", ">", ">=")


class Parser:
    """Parses one text; use :func:`parse_expression` or :func:`parse_unary_tests`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.nesting = 0
        # While parsing a range's end, "[" closes the range (``]1..7[``) instead of filtering.
        self.no_filter_at = -1

    # -- token helpers -------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def error(self, message: str, tok: Token | None = None) -> ExpressionError:
        t = tok or self.tok
        return ExpressionError(message, text=self.text, position=t.pos)

    def unexpected(self) -> ExpressionError:
        t = self.tok
        what = "end of expression" if t.kind == "eof" else repr(t.value)
        return self.error(f"unexpected {what}")

    def is_op(self, *values: str) -> bool:
        return self.tok.kind == "op" and self.tok.value in values

    def is_kw(self, *values: str) -> bool:
        return self.tok.kind == "name" and self.tok.value in values

    def expect_op(self, value: str) -> Token:
        if not self.is_op(value):
            raise self.error(f"expected '{value}' but found " + self._describe())
        t = self.tok
        self.i += 1
        return t

    def expect_kw(self, value: str) -> Token:
        if not self.is_kw(value):
            raise self.error(f"expected '{value}' but found " + self._describe())
        t = self.tok
        self.i += 1
        return t

    def _describe(self) -> str:
        return "end of expression" if self.tok.kind == "eof" else repr(self.tok.value)

    def enter(self) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise self.error(f"expression nested more than {MAX_NESTING} levels deep")

    def expect_eof(self) -> None:
        if self.tok.kind != "eof":
            raise self.unexpected()

    # -- expressions ---------------------------------------------------------------------------
    def expression(self) -> n.Node:
        self.enter()
        try:
            return self.disjunction()
        finally:
            self.nesting -= 1

    def disjunction(self) -> n.Node:
        left = self.conjunction()
        while self.is_kw("or"):
            t = self.tok
            self.i += 1
            left = n.Binary("or", left, self.conjunction(), pos=t.pos)
        return left

    def conjunction(self) -> n.Node:
        left = self.comparison()
        while self.is_kw("and"):
            t = self.tok
            self.i += 1
            left = n.Binary("and", left, self.comparison(), pos=t.pos)
        return left

    def comparison(self) -> n.Node:
        left = self.additive()
        while True:
            t = self.tok
            if self.is_op(*_COMPARE):
                self.i += 1
                left = n.Binary(t.value, left, self.additive(), pos=t.pos)
            elif self.is_kw("between"):
                self.i += 1
                low = self.additive()
                self.expect_kw("and")
                left = n.Between(left, low, self.additive(), pos=t.pos)
            elif self.is_kw("in"):
                self.i += 1
                left = n.In(left, self.in_tests(), pos=t.pos)
            elif self.is_kw("instance") and self.peek().value == "of":
                self.i += 2
                left = n.InstanceOf(left, self.type_name(), pos=t.pos)
            else:
                return left

    def type_name(self) -> str:
        words: list[str] = []
        j = self.i
        while self.tokens[j].kind == "name" and len(words) < 4:
            words.append(self.tokens[j].value)
            j += 1
        for k in range(len(words), 0, -1):
            candidate = " ".join(words[:k])
            if candidate in TYPE_NAMES:
                self.i += k
                return candidate
        raise self.error("expected a type name")

    def in_tests(self) -> tuple[n.Node, ...]:
        """Right side of ``in``: one positive unary test, or a parenthesised list of them."""
        if not self.is_op("("):
            return (self.positive_test(full=False),)
        open_tok = self.tok
        self.enter()
        self.i += 1
        first = self.positive_test(full=True)
        if self.is_op("..") and not isinstance(first, n.UnaryCompare):
            self.i += 1
            end = self.range_end()
            rng = n.RangeNode(first, end, False, self.range_close(), pos=open_tok.pos)
            self.nesting -= 1
            return (rng,)
        tests = [first]
        while self.is_op(","):
            self.i += 1
            tests.append(self.positive_test(full=True))
        self.expect_op(")")
        self.nesting -= 1
        return tuple(tests)

    def positive_test(self, *, full: bool) -> n.Node:
        t = self.tok
        if self.is_op("<", "<=", ">", ">=", "=", "!="):
            self.i += 1
            return n.UnaryCompare(t.value, self.additive(), pos=t.pos)
        return self.expression() if full else self.additive()

    def additive(self) -> n.Node:
        left = self.multiplicative()
        while self.is_op("+", "-"):
            t = self.tok
            self.i += 1
            left = n.Binary(t.value, left, self.multiplicative(), pos=t.pos)
        return left

    def multiplicative(self) -> n.Node:
        left = self.power()
        while self.is_op("*", "/"):
            t = self.tok
            self.i += 1
            left = n.Binary(t.value, left, self.power(), pos=t.pos)
        return left

    def power(self) -> n.Node:
        left = self.unary()
        while self.is_op("**"):
            t = self.tok
            self.i += 1
            left = n.Binary("**", left, self.unary(), pos=t.pos)
        return left

    def unary(self) -> n.Node:
        if self.is_op("-"):
            t = self.tok
            self.i += 1
            self.enter()
            operand = self.unary()
            self.nesting -= 1
            if isinstance(operand, n.Literal) and type(operand.value) is Decimal:
                return n.Literal(-operand.value, pos=t.pos)
            return n.Neg(operand, pos=t.pos)
        return self.postfix(self.primary())

    def postfix(self, node: n.Node) -> n.Node:
        while True:
            t = self.tok
            if self.is_op("."):
                self.i += 1
                if self.tok.kind not in ("name", "qname"):
                    raise self.error("expected a name after '.'")
                node = n.Path(node, self.tok.value, pos=self.tok.pos)
                self.i += 1
            elif self.is_op("[") and self.nesting != self.no_filter_at:
                self.enter()
                self.i += 1
                cond = self.expression()
                self.expect_op("]")
                self.nesting -= 1
                node = n.Filter(node, cond, pos=t.pos)
            elif self.is_op("("):
                node = self.call(node)
            else:
                return node

    def call(self, callee: n.Node) -> n.Node:
        open_tok = self.expect_op("(")
        self.enter()
        args: list[n.Node] = []
        named: list[tuple[str, n.Node]] = []
        if not self.is_op(")"):
            if self.named_ahead():
                while True:
                    name = self.entry_name()
                    self.expect_op(":")
                    named.append((name, self.expression()))
                    if not self.is_op(","):
                        break
                    self.i += 1
            else:
                args.append(self.expression())
                while self.is_op(","):
                    self.i += 1
                    args.append(self.expression())
        self.expect_op(")")
        self.nesting -= 1
        pos = callee.pos if isinstance(callee, n.Name) else open_tok.pos
        return n.Call(callee, tuple(args), tuple(named), pos=pos)

    def named_ahead(self) -> bool:
        j = self.i
        while self.tokens[j].kind in ("name", "qname"):
            j += 1
        return j > self.i and self.tokens[j].kind == "op" and self.tokens[j].value == ":"

    def entry_name(self) -> str:
        """A context key or named argument: a string literal, a backtick name or plain words."""
        t = self.tok
        if t.kind in ("str", "qname"):
            self.i += 1
            return t.value
        words = []
        while self.tok.kind == "name":
            words.append(self.tok.value)
            self.i += 1
        if not words:
            raise self.error("expected a name")
        return " ".join(words)

    def primary(self) -> n.Node:
        t = self.tok
        if t.kind == "num":
            self.i += 1
            return n.Literal(Decimal(t.value), pos=t.pos)
        if t.kind == "str":
            self.i += 1
            return n.Literal(t.value, pos=t.pos)
        if t.kind == "qname":
            self.i += 1
            return n.Name(t.value, pos=t.pos)
        if t.kind == "name":
            return self.name_or_keyword()
        if t.kind == "op":
            if t.value == "?":
                self.i += 1
                return n.Input(pos=t.pos)
            if t.value == "@":
                self.i += 1
                if self.tok.kind != "str":
                    raise self.error('expected a string after "@"')
                s = self.tok.value
                self.i += 1
                return n.Temporal(s, pos=t.pos)
            if t.value == "(":
                return self.paren()
            if t.value == "[":
                return self.bracket()
            if t.value == "]":
                return self.open_range()
            if t.value == "{":
                return self.context()
        raise self.unexpected()

    def name_or_keyword(self) -> n.Node:
        t = self.tok
        v = t.value
        if v in ("true", "false"):
            self.i += 1
            return n.Literal(v == "true", pos=t.pos)
        if v == "null":
            self.i += 1
            return n.Literal(None, pos=t.pos)
        if v == "if":
            return self.if_expr()
        if v in ("for", "some", "every"):
            return self.loop()
        if v == "function":
            return self.function_def()
        if v in ("and", "or") and self.peek().value == "(":
            self.i += 1  # the list functions and() / or(): only a call can start with them
            return n.Name(v, pos=t.pos)
        if v in KEYWORDS:
            raise self.unexpected()
        words = [v]
        self.i += 1
        while self.name_continues():
            words.append(self.tok.value)
            self.i += 1
        return n.Name(" ".join(words), pos=t.pos)

    def name_continues(self) -> bool:
        """Whether the current token continues the name before it.

        Plain words do.  So do a number (``Extra days case 1``, ``decision A 2.1``) and the
        word ``of`` (``Years of Service``), common in DMN decision names: no FEEL expression
        can put either right after a name (``of`` is only an operator after ``instance``,
        which ends a name).
        """
        t = self.tok
        if t.kind == "name":
            return " " not in t.value and (t.value not in KEYWORDS or t.value == "of")
        return t.kind == "num" and t.value[0].isdigit()

    def if_expr(self) -> n.Node:
        t = self.expect_kw("if")
        self.enter()
        cond = self.expression()
        self.expect_kw("then")
        then = self.expression()
        self.expect_kw("else")
        otherwise = self.expression()
        self.nesting -= 1
        return n.If(cond, then, otherwise, pos=t.pos)

    def loop(self) -> n.Node:
        t = self.tok
        self.i += 1
        self.enter()
        its = [self.iteration()]
        while self.is_op(","):
            self.i += 1
            its.append(self.iteration())
        if t.value == "for":
            self.expect_kw("return")
            body = self.expression()
            self.nesting -= 1
            return n.For(tuple(its), body, pos=t.pos)
        self.expect_kw("satisfies")
        cond = self.expression()
        self.nesting -= 1
        return n.Quantified(t.value, tuple(its), cond, pos=t.pos)

    def iteration(self) -> n.Iteration:
        t = self.tok
        if t.kind not in ("name", "qname") or (t.kind == "name" and t.value in KEYWORDS):
            raise self.error("expected a variable name")
        self.i += 1
        self.expect_kw("in")
        source = self.expression()
        end = None
        if self.is_op(".."):
            self.i += 1
            end = self.expression()
        return n.Iteration(t.value, source, end, pos=t.pos)

    def function_def(self) -> n.Node:
        t = self.expect_kw("function")
        self.expect_op("(")
        params: list[str] = []
        while not self.is_op(")"):
            if params:
                self.expect_op(",")
            params.append(self.entry_name())
            if self.is_op(":"):  # a type annotation: accepted and ignored
                self.i += 1
                self.type_name()
        self.i += 1
        self.enter()
        body = self.expression()
        self.nesting -= 1
        return n.FunctionDef(tuple(params), body, pos=t.pos)

    def paren(self) -> n.Node:
        t = self.expect_op("(")
        self.enter()
        e = self.expression()
        if self.is_op(".."):
            self.i += 1
            end = self.range_end()
            self.nesting -= 1
            return n.RangeNode(e, end, False, self.range_close(), pos=t.pos)
        self.expect_op(")")
        self.nesting -= 1
        return e

    def bracket(self) -> n.Node:
        t = self.expect_op("[")
        self.enter()
        items: list[n.Node] = []
        if self.is_op("]"):
            self.i += 1
            self.nesting -= 1
            return n.ListNode((), pos=t.pos)
        first = self.expression()
        if self.is_op(".."):
            self.i += 1
            end = self.range_end()
            self.nesting -= 1
            return n.RangeNode(first, end, True, self.range_close(), pos=t.pos)
        items.append(first)
        while self.is_op(","):
            self.i += 1
            items.append(self.expression())
        self.expect_op("]")
        self.nesting -= 1
        return n.ListNode(tuple(items), pos=t.pos)

    def open_range(self) -> n.Node:
        t = self.expect_op("]")
        self.enter()
        start = self.expression()
        self.expect_op("..")
        end = self.range_end()
        self.nesting -= 1
        return n.RangeNode(start, end, False, self.range_close(), pos=t.pos)

    def range_end(self) -> n.Node:
        saved = self.no_filter_at
        self.no_filter_at = self.nesting + 1
        try:
            return self.expression()
        finally:
            self.no_filter_at = saved

    def range_close(self) -> bool:
        """Consume the closing bracket of a range; return whether the end is included."""
        if self.is_op("]"):
            self.i += 1
            return True
        if self.is_op(")", "["):
            self.i += 1
            return False
        raise self.error("expected ']' or ')' to close the range")

    def context(self) -> n.Node:
        t = self.expect_op("{")
        self.enter()
        entries: list[tuple[str, n.Node]] = []
        seen: set[str] = set()
        while not self.is_op("}"):
            if entries:
                self.expect_op(",")
            key_tok = self.tok
            key = self.entry_name()
            if key in seen:
                raise self.error(f"duplicate context key {key!r}", key_tok)
            seen.add(key)
            self.expect_op(":")
            entries.append((key, self.expression()))
        self.i += 1
        self.nesting -= 1
        return n.ContextNode(tuple(entries), pos=t.pos)

    # -- unary tests ---------------------------------------------------------------------------
    def unary_tests(self) -> n.UnaryTests:
        t = self.tok
        if self.is_op("-") and self.peek().kind == "eof":
            return n.UnaryTests((), any=True, pos=t.pos)
        if self.is_kw("not") and self.peek().kind == "op" and self.peek().value == "(":
            start = self.i
            self.i += 2
            tests = self.test_list()
            if self.is_op(")") and self.peek().kind == "eof":
                self.i += 1
                return n.UnaryTests(tests, negated=True, pos=t.pos)
            self.i = start  # not(...) was only the start of an expression
        tests = self.test_list()
        self.expect_eof()
        return n.UnaryTests(tests, pos=t.pos)

    def test_list(self) -> tuple[n.Node, ...]:
        tests = [self.positive_test(full=True)]
        while self.is_op(","):
            self.i += 1
            tests.append(self.positive_test(full=True))
        return tuple(tests)


def check_depth(tree: n.Node, text: str) -> None:
    """Refuse trees deeper than :data:`MAX_DEPTH` (long operator chains nest without brackets)."""
    todo = [(tree, 1)]
    while todo:
        node, d = todo.pop()
        if d > MAX_DEPTH:
            raise ExpressionError(
                f"expression nested more than {MAX_DEPTH} levels deep", text=text, position=node.pos
            )
        todo.extend((c, d + 1) for c in n.children(node))


def parse_expression(text: str) -> n.Node:
    """Parse a whole FEEL expression."""
    p = Parser(text)
    tree = p.expression()
    p.expect_eof()
    check_depth(tree, text)
    return tree


def parse_unary_tests(text: str) -> n.UnaryTests:
    """Parse a DMN input entry (unary tests)."""
    p = Parser(text)
    tree = p.unary_tests()
    check_depth(tree, text)
    return tree
