"""Turn a checked syntax tree into nested closures, and run them against the case variables.

Why closures rather than ``eval``: no code object is ever made from user text, so the sandbox does
not depend on hiding Python's introspection from compiled code — there is no compiled code.  Each
node becomes one small Python function that calls its children's functions; building them once per
text (the public functions cache by text) makes evaluation cost a few function calls per node.

Every place where user data meets a Python operation catches the exception there and re-raises it
as a ScriptError naming that node's line and column.  Children are evaluated *outside* the ``try``,
so an error is reported once, at the innermost node that caused it.

Cost accounting: straight-line code is bounded by the size of the text, so steps are charged where
repetition happens — each loop iteration and comprehension element pays the node count of its body —
plus the length of every collection or string an operation builds and of every container a builtin
or method scans.  That makes the step budget a bound on both time and memory.
"""

from __future__ import annotations

import ast
import builtins as builtins_module
import operator
from collections.abc import Callable, Iterable, Mapping
from datetime import date, time
from decimal import Decimal
from time import monotonic
from typing import Any

from liucheng.errors import LiuchengError, ScriptError

from .attributes import ARGUMENT_SCANNING_METHODS, LINEAR_METHODS, get_attribute, method_of
from .builtins import BUILTINS
from .callables import SafeFunction, SafeMethod
from .checker import classify_format_spec
from .limits import (
    DEADLINE_CHECK_EVERY,
    MAX_INT_BITS,
    MAX_SECONDS,
    MAX_STEPS,
    SIZED_TYPES,
    LimitError,
    check_len,
    guard_add,
    guard_decimal_size,
    guard_lshift,
    guard_mod,
    guard_mul,
    guard_pow,
)
from .source import Source

_BIG = 1 << MAX_INT_BITS
_MISSING = object()
_BREAK = "break"
_CONTINUE = "continue"

_PYTHON_BUILTINS = frozenset(dir(builtins_module))
"""Real Python builtins, to explain why e.g. ``getattr`` is "not defined"."""

_NOT_SCANNING = frozenset({"len", "isinstance", "bool", "print"})
"""Builtins whose cost does not grow with the size of their argument."""


class Ctx:
    """The state of one evaluation: variables, comprehension locals and the remaining budget."""

    __slots__ = ("deadline", "left", "locals", "next_check", "vars")

    def __init__(self, variables: Mapping[str, Any]) -> None:
        self.vars: Any = variables
        self.locals: dict[str, Any] = {}
        self.left = MAX_STEPS
        self.next_check = MAX_STEPS - DEADLINE_CHECK_EVERY
        self.deadline = 0.0  # set on the first check, keeping monotonic() off the fast path

    def charge(self, steps: int) -> None:
        """Pay ``steps``; every DEADLINE_CHECK_EVERY steps also look at the clock."""
        self.left -= steps
        if self.left < self.next_check:
            self._check()

    def _check(self) -> None:
        if self.left < 0:
            raise LimitError(f"script took too many steps (the limit is {MAX_STEPS:,})")
        now = monotonic()
        if not self.deadline:
            self.deadline = now + MAX_SECONDS
        elif now > self.deadline:
            raise LimitError(f"script ran longer than {MAX_SECONDS:g} seconds")
        self.next_check = self.left - DEADLINE_CHECK_EVERY


Eval = Callable[[Ctx], Any]
Exec = Callable[[Ctx], str | None]
Store = Callable[[Ctx, Any], None]
Fail = Callable[[BaseException], ScriptError]


def _size(nodes: Iterable[ast.AST]) -> int:
    """Node count of a body: the steps one iteration of it is charged."""
    return max(1, sum(1 for n in nodes for _ in ast.walk(n)))


def _finish(ctx: Ctx, result: Any) -> Any:
    """Post-checks shared by operators and calls: int size, and charge for what was built."""
    cls = result.__class__
    if cls is int:
        if not -_BIG < result < _BIG:
            raise LimitError(f"integer result is larger than {MAX_INT_BITS} bits")
    elif cls in SIZED_TYPES:
        n = len(result)
        check_len(n)
        ctx.charge(n)
    return result


def _weight(value: Any) -> int:
    """Length of a built-in container or string (what scanning it costs), else 0."""
    cls = value.__class__
    return len(value) if cls in SIZED_TYPES else 0


def _unpack(value: Any, count: int) -> list[Any]:
    items = []
    for item in value:
        items.append(item)
        if len(items) > count:
            raise ValueError(f"too many values to unpack (expected {count})")
    if len(items) < count:
        raise ValueError(f"not enough values to unpack (expected {count}, got {len(items)})")
    return items


def _no_guard(a: Any, b: Any) -> None:
    return None


_BINARY: dict[type[ast.operator], tuple[Callable[[Any, Any], Any], Callable[[Any, Any], Any]]] = {
    ast.Add: (operator.add, guard_add),
    ast.Sub: (operator.sub, _no_guard),
    ast.Mult: (operator.mul, guard_mul),
    ast.Div: (operator.truediv, _no_guard),
    ast.FloorDiv: (operator.floordiv, _no_guard),
    ast.Mod: (operator.mod, guard_mod),
    ast.Pow: (operator.pow, guard_pow),
    ast.LShift: (operator.lshift, guard_lshift),
    ast.RShift: (operator.rshift, _no_guard),
    ast.BitOr: (operator.or_, _no_guard),
    ast.BitAnd: (operator.and_, _no_guard),
    ast.BitXor: (operator.xor, _no_guard),
}

_INPLACE: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.iadd,
    ast.Sub: operator.isub,
    ast.Mult: operator.imul,
    ast.Div: operator.itruediv,
    ast.FloorDiv: operator.ifloordiv,
    ast.Mod: operator.imod,
    ast.Pow: operator.ipow,
    ast.LShift: operator.ilshift,
    ast.RShift: operator.irshift,
    ast.BitOr: operator.ior,
    ast.BitAnd: operator.iand,
    ast.BitXor: operator.ixor,
}

_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.Not: operator.not_,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Invert: operator.invert,
}

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


def _message(error: BaseException) -> str:
    if isinstance(error, LimitError):
        return str(error)
    text = str(error)
    name = type(error).__name__
    return f"{name}: {text}" if text else name


class Compiler:
    """Builds closures for one text; knows the text so every closure can name its position."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.loop_depth = 0

    # --- errors ----------------------------------------------------------------------------

    def error(self, node: ast.AST, message: str) -> ScriptError:
        return self.source.error(
            message, getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
        )

    def failer(self, node: ast.AST) -> Fail:
        """A function turning any exception raised at ``node`` into a positioned ScriptError."""

        def fail(error: BaseException) -> ScriptError:
            if isinstance(error, ScriptError):
                return error
            if isinstance(error, LiuchengError):
                return self.error(node, str(error))
            return self.error(node, _message(error))

        return fail

    # --- expressions -----------------------------------------------------------------------

    def expr(self, node: ast.expr, scope: frozenset[str]) -> Eval:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:  # the checker refuses these first; this is a second line
            raise self.error(node, f"{type(node).__name__} is not supported in this dialect")
        result: Eval = method(node, scope)
        return result

    def _Constant(self, node: ast.Constant, scope: frozenset[str]) -> Eval:
        value = node.value
        return lambda ctx: value

    def _Name(self, node: ast.Name, scope: frozenset[str]) -> Eval:
        name = node.id
        if name in scope:

            def load_local(ctx: Ctx) -> Any:
                try:
                    return ctx.locals[name]
                except KeyError:
                    raise self.error(node, f"name {name!r} is not defined") from None

            return load_local
        builtin = BUILTINS.get(name, _MISSING)
        if builtin is not _MISSING:
            return lambda ctx: ctx.vars.get(name, builtin)

        message = f"name {name!r} is not defined"
        if name in _PYTHON_BUILTINS:
            message += " (this Python built-in is not available in scripts)"

        def load(ctx: Ctx) -> Any:
            try:
                return ctx.vars[name]
            except KeyError:
                raise self.error(node, message) from None

        return load

    def _BoolOp(self, node: ast.BoolOp, scope: frozenset[str]) -> Eval:
        parts = [self.expr(v, scope) for v in node.values]
        is_and = isinstance(node.op, ast.And)
        if len(parts) == 2:
            a, b = parts
            if is_and:
                return lambda ctx: a(ctx) and b(ctx)
            return lambda ctx: a(ctx) or b(ctx)

        def run(ctx: Ctx) -> Any:
            value: Any = None
            for part in parts:
                value = part(ctx)
                if bool(value) is not is_and:
                    return value
            return value

        return run

    def _BinOp(self, node: ast.BinOp, scope: frozenset[str]) -> Eval:
        left, right = self.expr(node.left, scope), self.expr(node.right, scope)
        op, guard = _BINARY[type(node.op)]
        fail = self.failer(node)

        def run(ctx: Ctx) -> Any:
            a = left(ctx)
            b = right(ctx)
            try:
                guard(a, b)
                return _finish(ctx, op(a, b))
            except Exception as e:
                raise fail(e) from None

        return run

    def _UnaryOp(self, node: ast.UnaryOp, scope: frozenset[str]) -> Eval:
        operand = self.expr(node.operand, scope)
        op = _UNARY[type(node.op)]
        if op is operator.not_:
            return lambda ctx: not operand(ctx)
        fail = self.failer(node)

        def run(ctx: Ctx) -> Any:
            value = operand(ctx)
            try:
                return op(value)
            except Exception as e:
                raise fail(e) from None

        return run

    def _Compare(self, node: ast.Compare, scope: frozenset[str]) -> Eval:
        left = self.expr(node.left, scope)
        ops = [_COMPARE[type(op)] for op in node.ops]
        rights = [self.expr(c, scope) for c in node.comparators]
        scans = [isinstance(op, (ast.In, ast.NotIn, ast.Eq, ast.NotEq)) for op in node.ops]
        fail = self.failer(node)

        def compare(ctx: Ctx, op: Callable[[Any, Any], Any], a: Any, b: Any, scan: bool) -> Any:
            try:
                if scan:
                    ctx.charge(_weight(b))
                return op(a, b)
            except Exception as e:
                raise fail(e) from None

        if len(ops) == 1:
            op0, right0, scan0 = ops[0], rights[0], scans[0]
            if not scan0:

                def simple(ctx: Ctx) -> Any:
                    a = left(ctx)
                    b = right0(ctx)
                    try:
                        return op0(a, b)
                    except Exception as e:
                        raise fail(e) from None

                return simple
            return lambda ctx: compare(ctx, op0, left(ctx), right0(ctx), scan0)

        steps = list(zip(ops, rights, scans, strict=True))

        def chain(ctx: Ctx) -> Any:
            a = left(ctx)
            result: Any = True
            for op, right, scan in steps:
                b = right(ctx)
                result = compare(ctx, op, a, b, scan)
                if not result:
                    return result
                a = b
            return result

        return chain

    def _IfExp(self, node: ast.IfExp, scope: frozenset[str]) -> Eval:
        test, body = self.expr(node.test, scope), self.expr(node.body, scope)
        orelse = self.expr(node.orelse, scope)
        return lambda ctx: body(ctx) if test(ctx) else orelse(ctx)

    def _arguments(
        self, node: ast.Call, scope: frozenset[str]
    ) -> Callable[[Ctx], tuple[list[Any], dict[str, Any]]]:
        """Evaluate call arguments, expanding ``*args`` and ``**kwargs`` with size checks."""
        positional = [
            (
                isinstance(a, ast.Starred),
                self.expr(a.value if isinstance(a, ast.Starred) else a, scope),
            )
            for a in node.args
        ]
        keywords = [(k.arg, self.expr(k.value, scope)) for k in node.keywords]
        simple = not any(star for star, _ in positional) and all(k for k, _ in keywords)
        fail = self.failer(node)
        if simple:
            fns = [fn for _, fn in positional]
            named = [(k, fn) for k, fn in keywords if k is not None]
            if not named:
                return lambda ctx: ([fn(ctx) for fn in fns], {})
            return lambda ctx: ([fn(ctx) for fn in fns], {k: fn(ctx) for k, fn in named})

        def evaluate(ctx: Ctx) -> tuple[list[Any], dict[str, Any]]:
            args: list[Any] = []
            for star, fn in positional:
                value = fn(ctx)
                if star:
                    try:
                        args.extend(value)
                        check_len(len(args), "argument list")
                    except Exception as e:
                        raise fail(e) from None
                else:
                    args.append(value)
            kwargs: dict[str, Any] = {}
            for key, fn in keywords:
                value = fn(ctx)
                try:
                    if key is None:
                        for k, v in dict(value).items():
                            if not isinstance(k, str) or k.startswith("_"):
                                raise TypeError(f"keyword argument {k!r} is not allowed")
                            kwargs[k] = v
                    else:
                        kwargs[key] = value
                except Exception as e:
                    raise fail(e) from None
            return args, kwargs

        return evaluate

    def _Call(self, node: ast.Call, scope: frozenset[str]) -> Eval:
        arguments = self._arguments(node, scope)
        fail = self.failer(node)
        func = node.func
        if isinstance(func, ast.Attribute):
            target = self.expr(func.value, scope)
            name = func.attr
            scans = name in LINEAR_METHODS
            scans_args = name in ARGUMENT_SCANNING_METHODS

            def call_method(ctx: Ctx) -> Any:
                obj = target(ctx)
                args, kwargs = arguments(ctx)
                try:
                    fn = method_of(obj, name)
                    if scans:
                        ctx.charge(_weight(obj))
                    if scans_args:
                        for arg in args:
                            ctx.charge(_weight(arg))
                    return _finish(ctx, fn(obj, *args, **kwargs))
                except Exception as e:
                    raise fail(e) from None

            return call_method

        callee_fn = self.expr(func, scope)

        def call(ctx: Ctx) -> Any:
            callee = callee_fn(ctx)
            args, kwargs = arguments(ctx)
            try:
                if isinstance(callee, SafeFunction):
                    if callee.name not in _NOT_SCANNING:
                        for arg in args:
                            ctx.charge(_weight(arg))
                    fn: Callable[..., Any] = callee.fn
                elif isinstance(callee, SafeMethod):
                    fn = callee
                else:
                    raise TypeError(f"'{type(callee).__name__}' object is not callable")
                return _finish(ctx, fn(*args, **kwargs))
            except Exception as e:
                raise fail(e) from None

        return call

    def _Attribute(self, node: ast.Attribute, scope: frozenset[str]) -> Eval:
        target = self.expr(node.value, scope)
        name = node.attr
        fail = self.failer(node)

        def run(ctx: Ctx) -> Any:
            obj = target(ctx)
            try:
                return get_attribute(obj, name)
            except Exception as e:
                raise fail(e) from None

        return run

    def _Subscript(self, node: ast.Subscript, scope: frozenset[str]) -> Eval:
        target, index = self.expr(node.value, scope), self.expr(node.slice, scope)
        fail = self.failer(node)

        def run(ctx: Ctx) -> Any:
            obj = target(ctx)
            key = index(ctx)
            try:
                return _finish(ctx, obj[key])
            except Exception as e:
                raise fail(e) from None

        return run

    def _Slice(self, node: ast.Slice, scope: frozenset[str]) -> Eval:
        parts = [
            self.expr(p, scope) if p is not None else None
            for p in (node.lower, node.upper, node.step)
        ]

        def run(ctx: Ctx) -> slice:
            lower, upper, step = (p(ctx) if p is not None else None for p in parts)
            return slice(lower, upper, step)

        return run

    def _elements(self, elts: list[ast.expr], scope: frozenset[str], node: ast.AST) -> Eval:
        """Items of a list/tuple/set display as a list, expanding ``*x`` with a size check."""
        parts = [
            (
                isinstance(e, ast.Starred),
                self.expr(e.value if isinstance(e, ast.Starred) else e, scope),
            )
            for e in elts
        ]
        if not any(star for star, _ in parts):
            fns = [fn for _, fn in parts]
            return lambda ctx: [fn(ctx) for fn in fns]
        fail = self.failer(node)

        def run(ctx: Ctx) -> list[Any]:
            items: list[Any] = []
            for star, fn in parts:
                value = fn(ctx)
                if star:
                    try:
                        items.extend(value)
                        check_len(len(items))
                    except Exception as e:
                        raise fail(e) from None
                else:
                    items.append(value)
            try:
                ctx.charge(len(items))
            except Exception as e:
                raise fail(e) from None
            return items

        return run

    def _List(self, node: ast.List, scope: frozenset[str]) -> Eval:
        return self._elements(node.elts, scope, node)

    def _Tuple(self, node: ast.Tuple, scope: frozenset[str]) -> Eval:
        items = self._elements(node.elts, scope, node)
        return lambda ctx: tuple(items(ctx))

    def _Set(self, node: ast.Set, scope: frozenset[str]) -> Eval:
        items = self._elements(node.elts, scope, node)
        fail = self.failer(node)

        def run(ctx: Ctx) -> set[Any]:
            values = items(ctx)
            try:
                return set(values)
            except Exception as e:
                raise fail(e) from None

        return run

    def _Dict(self, node: ast.Dict, scope: frozenset[str]) -> Eval:
        pairs = [
            (self.expr(k, scope) if k is not None else None, self.expr(v, scope))
            for k, v in zip(node.keys, node.values, strict=True)
        ]
        fail = self.failer(node)

        def run(ctx: Ctx) -> dict[Any, Any]:
            result: dict[Any, Any] = {}
            for key_fn, value_fn in pairs:
                if key_fn is None:
                    value = value_fn(ctx)
                    try:
                        result.update(value)
                        check_len(len(result))
                        ctx.charge(len(value))
                    except Exception as e:
                        raise fail(e) from None
                else:
                    key = key_fn(ctx)
                    value = value_fn(ctx)
                    try:
                        result[key] = value
                    except Exception as e:
                        raise fail(e) from None
            return result

        return run

    # --- comprehensions --------------------------------------------------------------------

    def _comprehension(
        self,
        node: ast.expr,
        generators: list[ast.comprehension],
        scope: frozenset[str],
        make_emit: Callable[[frozenset[str]], Callable[[Ctx, Any], None]],
        new: Callable[[], Any],
    ) -> Eval:
        """Run the generators eagerly (a generator expression becomes a list), charging each
        element the size of the element expression and conditions."""
        inner = set(scope)
        for gen in generators:
            inner.update(n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name))
        inner_scope = frozenset(inner)
        emit = make_emit(inner_scope)
        fail = self.failer(node)
        first_iter = self.expr(generators[0].iter, scope)
        levels = []
        for i, gen in enumerate(generators):
            iter_fn = self.expr(gen.iter, inner_scope) if i else first_iter
            store = self.store(gen.target, inner_scope, local=True)
            ifs = [self.expr(c, inner_scope) for c in gen.ifs]
            cost = _size([gen.target, *gen.ifs])
            levels.append((iter_fn, store, ifs, cost))
        last = len(levels) - 1
        # The innermost level also pays for the element expression(s): whole node, over-estimated.
        levels[last] = (*levels[last][:3], levels[last][3] + _size([node]))

        def loop(ctx: Ctx, level: int, iterable: Any, out: Any) -> None:
            _, store, ifs, cost = levels[level]
            try:
                iterator = iter(iterable)
            except Exception as e:
                raise fail(e) from None
            # Everything inside raises ScriptError only; anything else came from the iterator
            # itself (e.g. "dictionary changed size during iteration") or the budget.
            try:
                for item in iterator:
                    ctx.charge(cost)
                    store(ctx, item)
                    if ifs and not all(cond(ctx) for cond in ifs):
                        continue
                    if level == last:
                        emit(ctx, out)
                    else:
                        loop(ctx, level + 1, levels[level + 1][0](ctx), out)
            except ScriptError:
                raise
            except Exception as e:
                raise fail(e) from None

        def run(ctx: Ctx) -> Any:
            iterable = first_iter(ctx)
            saved = ctx.locals
            ctx.locals = dict(saved)
            out = new()
            try:
                loop(ctx, 0, iterable, out)
            finally:
                ctx.locals = saved
            return out

        return run

    def _ListComp(self, node: ast.ListComp, scope: frozenset[str]) -> Eval:
        def make(inner: frozenset[str]) -> Callable[[Ctx, Any], None]:
            elt = self.expr(node.elt, inner)
            return lambda ctx, out: out.append(elt(ctx))

        return self._comprehension(node, node.generators, scope, make, list)

    _GeneratorExp = _ListComp  # eager: no suspended computation can outlive the evaluation

    def _SetComp(self, node: ast.SetComp, scope: frozenset[str]) -> Eval:
        fail = self.failer(node)

        def make(inner: frozenset[str]) -> Callable[[Ctx, Any], None]:
            elt = self.expr(node.elt, inner)

            def emit(ctx: Ctx, out: set[Any]) -> None:
                value = elt(ctx)
                try:
                    out.add(value)
                except Exception as e:
                    raise fail(e) from None

            return emit

        return self._comprehension(node, node.generators, scope, make, set)

    def _DictComp(self, node: ast.DictComp, scope: frozenset[str]) -> Eval:
        fail = self.failer(node)

        def make(inner: frozenset[str]) -> Callable[[Ctx, Any], None]:
            key_fn, value_fn = self.expr(node.key, inner), self.expr(node.value, inner)

            def emit(ctx: Ctx, out: dict[Any, Any]) -> None:
                key = key_fn(ctx)
                value = value_fn(ctx)
                try:
                    out[key] = value
                except Exception as e:
                    raise fail(e) from None

            return emit

        return self._comprehension(node, node.generators, scope, make, dict)

    # --- f-strings -------------------------------------------------------------------------

    def _JoinedStr(self, node: ast.JoinedStr, scope: frozenset[str]) -> Eval:
        parts: list[Eval] = [self.expr(v, scope) for v in node.values]
        fail = self.failer(node)

        def run(ctx: Ctx) -> str:
            text = "".join([part(ctx) for part in parts])
            try:
                check_len(len(text), "f-string")
                ctx.charge(len(text))
            except Exception as e:
                raise fail(e) from None
            return text

        return run

    def _FormattedValue(self, node: ast.FormattedValue, scope: frozenset[str]) -> Eval:
        value_fn = self.expr(node.value, scope)
        conversions: dict[int, Callable[[Any], str]] = {115: str, 114: repr, 97: ascii}
        conversion = conversions.get(node.conversion)
        spec = ""
        if isinstance(node.format_spec, ast.JoinedStr):
            spec = "".join(
                str(v.value) for v in node.format_spec.values if isinstance(v, ast.Constant)
            )
        kind = classify_format_spec(spec)
        if kind is None:  # the checker refuses these; kept so this class stands on its own
            raise self.error(node, f"format spec {spec!r} is not allowed")
        fail = self.failer(node)

        def run(ctx: Ctx) -> str:
            value = value_fn(ctx)
            try:
                if conversion is not None:
                    value = conversion(value)
                    check_len(len(value), "f-string value")
                if kind == "date" and not isinstance(value, (date, time)):
                    raise TypeError(f"format spec {spec!r} needs a date, time or datetime")
                if spec and isinstance(value, Decimal):
                    guard_decimal_size(value, "format")
                text = format(value, spec)
                check_len(len(text), "f-string value")
                return text
            except Exception as e:
                raise fail(e) from None

        return run

    # --- assignment targets ----------------------------------------------------------------

    def store(self, target: ast.expr, scope: frozenset[str], *, local: bool = False) -> Store:
        """A function assigning a value to ``target`` (a name, subscript or tuple of them)."""
        if isinstance(target, ast.Name):
            name = target.id
            if local:

                def set_local(ctx: Ctx, value: Any) -> None:
                    ctx.locals[name] = value

                return set_local

            def set_var(ctx: Ctx, value: Any) -> None:
                ctx.vars[name] = value

            return set_var
        fail = self.failer(target)
        if isinstance(target, (ast.Tuple, ast.List)):
            stores = [self.store(e, scope, local=local) for e in target.elts]
            count = len(stores)

            def unpack(ctx: Ctx, value: Any) -> None:
                try:
                    items = _unpack(value, count)
                except Exception as e:
                    raise fail(e) from None
                for store, item in zip(stores, items, strict=True):
                    store(ctx, item)

            return unpack
        if isinstance(target, ast.Subscript):
            obj_fn, key_fn = self.expr(target.value, scope), self.expr(target.slice, scope)

            def set_item(ctx: Ctx, value: Any) -> None:
                obj = obj_fn(ctx)
                key = key_fn(ctx)
                try:
                    _set_item(obj, key, value)
                except Exception as e:
                    raise fail(e) from None

            return set_item
        raise self.error(target, "only names, subscripts and tuples of them can be assigned to")

    # --- statements ------------------------------------------------------------------------

    def block(self, body: list[ast.stmt]) -> Exec:
        stmts = [(self.stmt(s), self.failer(s)) for s in body]

        def run(ctx: Ctx) -> str | None:
            for stmt, fail in stmts:
                try:
                    signal = stmt(ctx)
                except ScriptError:
                    raise
                except Exception as e:  # a safety net: name the statement if a node did not
                    raise fail(e) from None
                if signal is not None:
                    return signal
            return None

        return run

    def stmt(self, node: ast.stmt) -> Exec:
        method = getattr(self, "_stmt_" + type(node).__name__, None)
        if method is None:
            raise self.error(node, f"{type(node).__name__} is not supported in this dialect")
        result: Exec = method(node)
        return result

    def _stmt_Expr(self, node: ast.Expr) -> Exec:
        value = self.expr(node.value, frozenset())

        def run(ctx: Ctx) -> None:
            value(ctx)

        return run

    def _stmt_Pass(self, node: ast.Pass) -> Exec:
        return lambda ctx: None

    def _stmt_Assign(self, node: ast.Assign) -> Exec:
        value_fn = self.expr(node.value, frozenset())
        stores = [self.store(t, frozenset()) for t in node.targets]
        if len(stores) == 1:
            only = stores[0]

            def assign_one(ctx: Ctx) -> None:
                only(ctx, value_fn(ctx))

            return assign_one

        def assign(ctx: Ctx) -> None:
            value = value_fn(ctx)
            for store in stores:
                store(ctx, value)

        return assign

    def _stmt_AugAssign(self, node: ast.AugAssign) -> Exec:
        value_fn = self.expr(node.value, frozenset())
        op = _INPLACE[type(node.op)]
        guard = _BINARY[type(node.op)][1]
        fail = self.failer(node)
        target = node.target

        def combine(ctx: Ctx, current: Any, value: Any) -> Any:
            try:
                guard(current, value)
                return _finish(ctx, op(current, value))
            except Exception as e:
                raise fail(e) from None

        if isinstance(target, ast.Name):
            name = target.id
            load = self._Name(target, frozenset())

            def aug_name(ctx: Ctx) -> None:
                current = load(ctx)
                ctx.vars[name] = combine(ctx, current, value_fn(ctx))

            return aug_name
        assert isinstance(target, ast.Subscript)  # the checker allows nothing else
        obj_fn, key_fn = self.expr(target.value, frozenset()), self.expr(target.slice, frozenset())

        def aug_item(ctx: Ctx) -> None:
            obj = obj_fn(ctx)
            key = key_fn(ctx)
            try:
                current = obj[key]
            except Exception as e:
                raise fail(e) from None
            result = combine(ctx, current, value_fn(ctx))
            try:
                _set_item(obj, key, result)
            except Exception as e:
                raise fail(e) from None

        return aug_item

    def _stmt_Delete(self, node: ast.Delete) -> Exec:
        deleters: list[Callable[[Ctx], None]] = []
        for target in node.targets:
            fail = self.failer(target)
            if isinstance(target, ast.Name):
                deleters.append(self._delete_name(target))
            else:
                assert isinstance(target, ast.Subscript)
                obj_fn = self.expr(target.value, frozenset())
                key_fn = self.expr(target.slice, frozenset())

                def delete_item(
                    ctx: Ctx, obj_fn: Eval = obj_fn, key_fn: Eval = key_fn, fail: Fail = fail
                ) -> None:
                    obj = obj_fn(ctx)
                    key = key_fn(ctx)
                    try:
                        if not isinstance(obj, (list, dict)):
                            raise TypeError("only items of lists and dicts can be deleted")
                        del obj[key]
                    except Exception as e:
                        raise fail(e) from None

                deleters.append(delete_item)

        def run(ctx: Ctx) -> None:
            for delete in deleters:
                delete(ctx)

        return run

    def _delete_name(self, target: ast.Name) -> Callable[[Ctx], None]:
        name = target.id

        def delete_name(ctx: Ctx) -> None:
            try:
                del ctx.vars[name]
            except KeyError:
                raise self.error(target, f"name {name!r} is not defined") from None

        return delete_name

    def _stmt_If(self, node: ast.If) -> Exec:
        test = self.expr(node.test, frozenset())
        body = self.block(node.body)
        orelse = self.block(node.orelse) if node.orelse else None

        def run(ctx: Ctx) -> str | None:
            if test(ctx):
                return body(ctx)
            if orelse is not None:
                return orelse(ctx)
            return None

        return run

    def _loop_body(self, node: ast.For | ast.While) -> tuple[Exec, Exec | None]:
        self.loop_depth += 1
        try:
            body = self.block(node.body)
        finally:
            self.loop_depth -= 1
        orelse = self.block(node.orelse) if node.orelse else None
        return body, orelse

    def _stmt_For(self, node: ast.For) -> Exec:
        iterable_fn = self.expr(node.iter, frozenset())
        store = self.store(node.target, frozenset())
        body, orelse = self._loop_body(node)
        cost = _size([node.target, *node.body])
        fail = self.failer(node)

        def run(ctx: Ctx) -> str | None:
            iterable = iterable_fn(ctx)
            try:
                iterator = iter(iterable)
            except Exception as e:
                raise fail(e) from None
            try:  # as in comprehensions: non-ScriptErrors come from the iterator or the budget
                for item in iterator:
                    ctx.charge(cost)
                    store(ctx, item)
                    if body(ctx) == _BREAK:
                        return None
            except ScriptError:
                raise
            except Exception as e:
                raise fail(e) from None
            if orelse is not None:
                return orelse(ctx)
            return None

        return run

    def _stmt_While(self, node: ast.While) -> Exec:
        test = self.expr(node.test, frozenset())
        body, orelse = self._loop_body(node)
        cost = _size([node.test, *node.body])
        fail = self.failer(node)

        def run(ctx: Ctx) -> str | None:
            while True:
                try:
                    ctx.charge(cost)
                except Exception as e:
                    raise fail(e) from None
                if not test(ctx):
                    break
                if body(ctx) == _BREAK:
                    return None
            if orelse is not None:
                return orelse(ctx)
            return None

        return run

    def _stmt_Break(self, node: ast.Break) -> Exec:
        if not self.loop_depth:
            raise self.error(node, "'break' outside loop")
        return lambda ctx: _BREAK

    def _stmt_Continue(self, node: ast.Continue) -> Exec:
        if not self.loop_depth:
            raise self.error(node, "'continue' not properly in loop")
        return lambda ctx: _CONTINUE


def _set_item(obj: Any, key: Any, value: Any) -> None:
    """``obj[key] = value`` for lists and dicts only; slice assignment may not grow a list past
    the length limit."""
    if isinstance(obj, dict):
        obj[key] = value
        return
    if isinstance(obj, list):
        if isinstance(key, slice):
            value = list(value)
            check_len(len(obj) + len(value), "list")
        obj[key] = value
        return
    raise TypeError(f"'{type(obj).__name__}' object does not support item assignment in scripts")
