"""Boxed expressions other than decision tables, compiled into closures ``env -> value``.

Supported: literal expression, context, invocation, function definition (FEEL kind), list,
relation, and DMN 1.4's conditional, filter, for, some and every.  A nested decision table
is compiled by ``table.read_table`` and used for its value.

Scopes follow DMN: a context entry sees the entries before it (and a function defined in a
context sees the whole context, so it may call itself or a later entry); a function body sees
its parameters and the scope it was defined in; an invocation binds parameters by name, and a
parameter without a binding is null.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from liucheng.errors import ExpressionError
from liucheng.expr.feel import FeelFunction
from liucheng.expr.feel.clock import Budget

from . import compile as c
from .errors import DmnEvaluationError, DmnParseError, Where
from .table import read_table
from .types import TypeTable
from .xml_read import Reader, local

#: Local names of the elements that are a boxed expression (XSD substitution group
#: ``expression``).
BOXED = frozenset(
    {
        "literalExpression",
        "decisionTable",
        "context",
        "invocation",
        "functionDefinition",
        "relation",
        "list",
        "conditional",
        "filter",
        "for",
        "some",
        "every",
    }
)


class Boxed:
    """Compiles the boxed expressions of one file (its reader, default language, types)."""

    def __init__(self, reader: Reader, language: str | None, types: TypeTable) -> None:
        self.reader = reader
        self.language = language
        self.types = types

    def find(self, parent: etree._Element, where: Where) -> etree._Element | None:
        """The one boxed expression among ``parent``'s children, or None."""
        found = [x for x in self.reader.children(parent) if local(x) in BOXED]
        if len(found) > 1:
            raise DmnParseError(
                f"more than one expression (<{local(found[0])}> and <{local(found[1])}>)",
                where.at(None, found[1]),
            )
        return found[0] if found else None

    def child_expr(self, parent: etree._Element, where: Where, name: str) -> c.Expr:
        """The expression inside a DMN 1.4 child element such as ``<if>`` or ``<return>``."""
        holder = self.reader.child(parent, name)
        if holder is None:
            raise DmnParseError(f"<{local(parent)}> without <{name}>", where)
        here = where.at(name, holder)
        el = self.find(holder, here)
        if el is None:
            raise DmnParseError(f"<{name}> without an expression", here)
        return self.compile(el, here, name)

    def compile(self, el: etree._Element, where: Where, result_name: str) -> c.Expr:
        kind = local(el)
        method: Callable[[etree._Element, Where, str], c.Expr] = getattr(self, "_" + kind)
        self.types.resolve(el.get("typeRef"), where)
        return method(el, where, result_name)

    # -- the kinds -----------------------------------------------------------------------------
    def _literalExpression(self, el: etree._Element, where: Where, result_name: str) -> c.Expr:
        self.reader.check_children(el, ("text", "importedValues"), where, "a literal expression")
        if self.reader.child(el, "importedValues") is not None:
            raise DmnParseError("importedValues are not supported", where)
        c.check_language(el, self.language, where)
        return c.expression(self.reader.text(el), where)

    def _decisionTable(self, el: etree._Element, where: Where, result_name: str) -> c.Expr:
        table = read_table(self.reader, el, where, result_name, self.language, self.types)
        return table.value

    def _context(self, el: etree._Element, where: Where, result_name: str) -> c.Expr:
        self.reader.check_children(el, ("contextEntry",), where, "a context")
        entries: list[tuple[str | None, c.Expr]] = []
        entry_els = self.reader.children(el, "contextEntry")
        for n, entry in enumerate(entry_els, 1):
            var = self.reader.child(entry, "variable")
            name = (var.get("name") or "").strip() if var is not None else ""
            here = where.at(f"context entry '{name}'" if name else f"context entry {n}", entry)
            self.reader.check_children(entry, ("variable", *BOXED), here, "a context entry")
            if not name and n != len(entry_els):
                raise DmnParseError("only the last context entry may be without a name", here)
            if var is not None:
                self.types.resolve(var.get("typeRef"), here)
            body = self.find(entry, here)
            expr = c.NULL if body is None else self.compile(body, here, name or result_name)
            entries.append((name or None, expr))

        def context(env: c.Env) -> Any:
            scope = dict(env)
            out: dict[str, Any] = {}
            for name, expr in entries:
                value = expr(scope)
                if name is None:
                    return value
                out[name] = scope[name] = value
            return out

        return context

    def _invocation(self, el: etree._Element, where: Where, result_name: str) -> c.Expr:
        self.reader.check_children(el, ("binding", *BOXED), where, "an invocation")
        callee_el = self.find(el, where)
        if callee_el is None:
            raise DmnParseError("invocation without the function to call", where)
        callee = self.compile(callee_el, where.at("called function", callee_el), result_name)
        # The callee is usually just a knowledge model's name, which may contain characters
        # FEEL would read as operators ("Pre-bureau risk category table"): look it up as is.
        callee_name = " ".join((self.reader.text(callee_el) or "").split())
        bindings: list[tuple[str, c.Expr]] = []
        for b in self.reader.children(el, "binding"):
            param = self.reader.child(b, "parameter")
            name = (param.get("name") or "").strip() if param is not None else ""
            here = where.at(f"binding '{name}'", b)
            if not name:
                raise DmnParseError("binding without a parameter name", here)
            body = self.find(b, here)
            bindings.append((name, c.NULL if body is None else self.compile(body, here, name)))

        def invoke(env: c.Env) -> Any:
            fn = env.get(callee_name)
            if type(fn) is not FeelFunction:
                fn = callee(env)
            if type(fn) is not FeelFunction:
                raise DmnEvaluationError("the invoked expression is not a function", where)
            args: dict[str, Any] = {}
            for name, expr in bindings:
                if name not in fn.params:
                    raise DmnEvaluationError(f"{fn.name}() has no parameter {name!r}", where)
                args[name] = expr(env)
            return fn.call(*(args.get(p) for p in fn.params))

        return invoke

    def _functionDefinition(self, el: etree._Element, where: Where, result_name: str) -> c.Expr:
        self.reader.check_children(el, ("formalParameter", *BOXED), where, "a function definition")
        kind = (el.get("kind") or "FEEL").strip()
        if kind != "FEEL":
            raise DmnParseError(f"functions of kind {kind!r} are not supported", where)
        params = tuple(
            (p.get("name") or "").strip() for p in self.reader.children(el, "formalParameter")
        )
        if "" in params:
            raise DmnParseError("a formal parameter without a name", where)
        body_el = self.find(el, where)
        body = c.NULL if body_el is None else self.compile(body_el, where, result_name)
        return function_value(result_name, params, body)

    def _list(self, el: etree._Element, where: Where, result_name: str) -> c.Expr:
        self.reader.check_children(el, BOXED, where, "a list")
        items = [
            self.compile(x, where.at(f"item {n}", x), result_name)
            for n, x in enumerate(self.reader.children(el), 1)
        ]
        return lambda env: [f(env) for f in items]

    def _relation(self, el: etree._Element, where: Where, result_name: str) -> c.Expr:
        self.reader.check_children(el, ("column", "row"), where, "a relation")
        columns = [(x.get("name") or "").strip() for x in self.reader.children(el, "column")]
        if "" in columns or len(set(columns)) != len(columns):
            raise DmnParseError("relation columns need distinct names", where)
        rows: list[list[c.Expr]] = []
        for n, row in enumerate(self.reader.children(el, "row"), 1):
            here = where.at(f"row {n}", row)
            self.reader.check_children(row, BOXED, here, "a relation row")
            cell_els = self.reader.children(row)
            if len(cell_els) != len(columns):
                raise DmnParseError(
                    f"the row has {len(cell_els)} cells for {len(columns)} columns", here
                )
            rows.append(
                [
                    self.compile(x, here.at(f"column '{name}'", x), name)
                    for name, x in zip(columns, cell_els, strict=True)
                ]
            )
        return lambda env: [
            {k: f(env) for k, f in zip(columns, cells, strict=True)} for cells in rows
        ]

    def _conditional(self, el: etree._Element, where: Where, result_name: str) -> c.Expr:
        self.reader.check_children(el, ("if", "then", "else"), where, "a conditional")
        cond = self.child_expr(el, where, "if")
        then = self.child_expr(el, where, "then")
        other = self.child_expr(el, where, "else")

        def conditional(env: c.Env) -> Any:
            test = cond(env)
            if test is True:
                return then(env)
            if test is False or test is None:
                return other(env)
            return None  # a condition that is not a boolean: null, as DMN 1.4 says

        return conditional

    def _filter(self, el: etree._Element, where: Where, result_name: str) -> c.Expr:
        self.reader.check_children(el, ("in", "match"), where, "a filter")
        source = self.child_expr(el, where, "in")
        match = self.child_expr(el, where, "match")

        def filtered(env: c.Env) -> Any:
            items = source(env)
            if items is None:
                return None
            if type(items) is not list:
                items = [items]
            Budget.charge(len(items))
            scope = dict(env)
            out = []
            for item in items:
                each = dict(scope)
                if type(item) is dict:
                    each.update(item)
                each["item"] = item
                keep = match(each)
                if keep is True:
                    out.append(item)
                elif keep is not False and keep is not None:
                    return None  # a match that is not a boolean makes the whole filter null
            return out

        return filtered

    def _for(self, el: etree._Element, where: Where, result_name: str) -> c.Expr:
        self.reader.check_children(el, ("in", "return"), where, "a for expression")
        var = _iterator(el, where)
        source = self.child_expr(el, where, "in")
        body = self.child_expr(el, where, "return")

        def loop(env: c.Env) -> Any:
            items = source(env)
            if type(items) is not list:
                return None
            Budget.charge(len(items))
            scope = dict(env)
            out: list[Any] = []
            scope["partial"] = out
            for item in items:
                scope[var] = item
                out.append(body(scope))
            return out

        return loop

    def _some(self, el: etree._Element, where: Where, result_name: str) -> c.Expr:
        return self._quantified(el, where, want=True)

    def _every(self, el: etree._Element, where: Where, result_name: str) -> c.Expr:
        return self._quantified(el, where, want=False)

    def _quantified(self, el: etree._Element, where: Where, *, want: bool) -> c.Expr:
        self.reader.check_children(el, ("in", "satisfies"), where, f"<{local(el)}>")
        var = _iterator(el, where)
        source = self.child_expr(el, where, "in")
        cond = self.child_expr(el, where, "satisfies")

        def quantified(env: c.Env) -> Any:
            items = source(env)
            if type(items) is not list:
                return None
            Budget.charge(len(items))
            scope = dict(env)
            for item in items:
                scope[var] = item
                ok = cond(scope)
                if type(ok) is not bool:
                    return None  # a condition that is not a boolean: null
                if ok is want:
                    return want
            return not want

        return quantified


def _iterator(el: etree._Element, where: Where) -> str:
    var = (el.get("iteratorVariable") or "").strip()
    if not var:
        raise DmnParseError(f"<{local(el)}> without an iteratorVariable", where)
    return var


def function_value(name: str, params: tuple[str, ...], body: c.Expr) -> c.Expr:
    """A boxed function definition: evaluates to a FEEL function closing over its scope.

    The scope is kept by reference, not copied: inside a context it is the context's own
    scope, which is how a function can call itself or another entry defined after it.
    """

    def define(env: c.Env) -> FeelFunction:
        def call(*args: Any) -> Any:
            scope = dict(env)
            scope.update(zip(params, args, strict=False))
            try:
                return body(scope)
            except RecursionError:
                raise ExpressionError(f"{name}() recursed too deeply") from None

        return FeelFunction(name, params, len(params), call)

    return define
