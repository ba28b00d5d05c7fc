"""Turn a FEEL syntax tree into nested Python closures, once, so evaluation does no dispatch.

Every node becomes a function ``env -> value`` where ``env`` is the variables mapping (or a
scope dict built from it).  Decisions that depend only on the text — which operator, constant
operands, which built-in a name refers to, whether a context literal needs its own scope — are
taken here, not on each evaluation.  Hot shapes get dedicated closures (``x > 5`` reads the
variable and compares Decimals inline).

Scopes: ``for``/``some``/``every``/filters and user functions copy the current mapping into one
new dict when entered and update it per element; nothing else copies.  A user-defined function
captures a snapshot of its defining scope, so a function created inside a loop keeps the values
of its own iteration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from liucheng.errors import ExpressionError
from liucheng.fileref import FileRef

from . import fn_list, fn_misc, fn_number, fn_text, ops, temporal
from . import nodes as n
from .clock import Budget
from .registry import BUILTINS
from .values import MAX_ITEMS, MISSING, FeelFunction, Range, to_feel, type_name

assert fn_list and fn_misc and fn_number and fn_text  # imported to register the built-ins

Env = Mapping[str, Any]
Fn = Callable[[Env], Any]
Test = Callable[[Any, Env], "bool | None"]

_D = Decimal
_PLAIN = frozenset({Decimal, str, bool, type(None)})
_COMPARE: dict[str, Callable[[Any, Any], bool | None]] = {
    "=": ops.eq,
    "!=": ops.ne,
    "<": ops.lt,
    "<=": ops.le,
    ">": ops.gt,
    ">=": ops.ge,
}
_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": ops.add,
    "-": ops.sub,
    "*": ops.mul,
    "/": ops.div,
    "**": ops.power,
}
_FAST_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def names_in(node: n.Node) -> set[str]:
    """Every variable name the tree mentions (over-approximate: ignores shadowing)."""
    return {x.name for x in n.walk(node) if isinstance(x, n.Name)}


def uses_input(node: n.Node) -> bool:
    return any(isinstance(x, n.Input) for x in n.walk(node))


class Compiler:
    """Compiles the trees of one source text; ``text`` is kept for error messages."""

    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, message: str, pos: int) -> ExpressionError:
        return ExpressionError(message, text=self.text, position=pos)

    def locate(self, err: ExpressionError, pos: int) -> ExpressionError:
        """Attach text and position to an error raised below a node that knew neither."""
        return err if err.text is not None else self.fail(err.message, pos)

    # -- dispatch ------------------------------------------------------------------------------
    def compile(self, node: n.Node) -> Fn:
        method = getattr(self, "c_" + type(node).__name__)
        fn: Fn = method(node)
        return fn

    def c_Literal(self, node: n.Literal) -> Fn:
        value = node.value
        return lambda env: value

    def c_Temporal(self, node: n.Temporal) -> Fn:
        value = temporal.parse_temporal(node.text)
        if value is None:
            raise self.fail(f"invalid temporal literal {node.text!r}", node.pos)
        return lambda env: value

    def c_Name(self, node: n.Name) -> Fn:
        key = node.name

        def read(env: Env) -> Any:
            v = env.get(key)
            return v if v.__class__ in _PLAIN else to_feel(v)

        return read

    def c_Input(self, node: n.Input) -> Fn:
        return lambda env: env.get("?")

    def c_Neg(self, node: n.Neg) -> Fn:
        f = self.compile(node.operand)
        return lambda env: ops.neg(f(env))

    def c_Binary(self, node: n.Binary) -> Fn:
        if node.op == "and":
            return self.c_and(node)
        if node.op == "or":
            return self.c_or(node)
        if node.op in _COMPARE:
            return self.c_compare(node)
        op = _ARITH[node.op]
        left, right = self.compile(node.left), self.compile(node.right)
        pos = node.pos

        def arith(env: Env) -> Any:
            try:
                return op(left(env), right(env))
            except ExpressionError as e:
                raise self.locate(e, pos) from None

        return arith

    def c_compare(self, node: n.Binary) -> Fn:
        slow = _COMPARE[node.op]
        right_node = node.right
        if isinstance(right_node, n.Literal) and type(right_node.value) in (Decimal, str):
            # The hot path of gateway conditions: ``amount > 1000``, ``status = "ok"``.
            const = right_node.value
            cls = type(const)
            fast = _FAST_CMP[node.op]
            if isinstance(node.left, n.Name):
                key = node.left.name

                def cmp_name_const(env: Env) -> Any:
                    a = env.get(key)
                    if a.__class__ is cls:
                        return fast(a, const)
                    return slow(to_feel(a), const)

                return cmp_name_const
            left = self.compile(node.left)

            def cmp_const(env: Env) -> Any:
                a = left(env)
                if a.__class__ is cls:
                    return fast(a, const)
                return slow(a, const)

            return cmp_const
        left, right = self.compile(node.left), self.compile(node.right)
        return lambda env: slow(left(env), right(env))

    def c_and(self, node: n.Binary) -> Fn:
        left, right = self.compile(node.left), self.compile(node.right)

        def and_(env: Env) -> bool | None:
            a = left(env)
            if a is False:
                return False
            b = right(env)
            if b is False:
                return False
            return True if a is True and b is True else None

        return and_

    def c_or(self, node: n.Binary) -> Fn:
        left, right = self.compile(node.left), self.compile(node.right)

        def or_(env: Env) -> bool | None:
            a = left(env)
            if a is True:
                return True
            b = right(env)
            if b is True:
                return True
            return False if a is False and b is False else None

        return or_

    def c_Between(self, node: n.Between) -> Fn:
        v, lo, hi = (self.compile(x) for x in (node.value, node.low, node.high))

        def between(env: Env) -> bool | None:
            x = v(env)
            a, b = ops.ge(x, lo(env)), ops.le(x, hi(env))
            if a is False or b is False:
                return False
            return True if a and b else None

        return between

    def c_InstanceOf(self, node: n.InstanceOf) -> Fn:
        value, want = self.compile(node.value), node.type_name
        if want == "Any":
            return lambda env: value(env) is not None
        return lambda env: type_name(value(env)) == want

    # -- tests (``in`` and unary tests) ---------------------------------------------------------
    def c_In(self, node: n.In) -> Fn:
        value = self.compile(node.value)
        tests = [self.test(t) for t in node.tests]
        return lambda env: _any_test(tests, value(env), env)

    def test(self, node: n.Node) -> Test:
        """One positive unary test as a function ``(input, env) -> bool | None``."""
        if isinstance(node, n.UnaryCompare):
            operand, cmp = self.compile(node.operand), _COMPARE[node.op]
            return lambda x, env: cmp(x, operand(env))
        if uses_input(node):
            expr = self.compile(node)

            def with_input(x: Any, env: Env) -> bool | None:
                scope = dict(env)
                scope["?"] = x
                r = expr(scope)
                return r if type(r) is bool else None

            return with_input
        expr = self.compile(node)
        return lambda x, env: _matches(x, expr(env))

    def c_UnaryTests(self, node: n.UnaryTests) -> Fn:
        raise self.fail("unary tests are not an expression", node.pos)

    def unary_tests(self, node: n.UnaryTests) -> Callable[[Any, Env], bool]:
        if node.any:
            return lambda x, env: True
        tests = [self.test(t) for t in node.tests]
        if node.negated:
            return lambda x, env: _any_test(tests, x, env) is False
        if len(tests) == 1:
            only = tests[0]
            return lambda x, env: only(x, env) is True
        return lambda x, env: _any_test(tests, x, env) is True

    def c_UnaryCompare(self, node: n.UnaryCompare) -> Fn:
        # ``< 10`` used as a value: DMN 1.4 gives it the meaning of a range.
        operand = self.compile(node.operand)
        op = node.op
        if op in ("=", "!="):
            raise self.fail(f"'{op}' needs a left operand here", node.pos)

        def as_range(env: Env) -> Range:
            v = operand(env)
            if op[0] == "<":
                return Range(None, v, False, op == "<=")
            return Range(v, None, op == ">=", False)

        return as_range

    # -- structures ----------------------------------------------------------------------------
    def c_RangeNode(self, node: n.RangeNode) -> Fn:
        start, end = self.compile(node.start), self.compile(node.end)
        si, ei = node.start_included, node.end_included
        if isinstance(node.start, n.Literal) and isinstance(node.end, n.Literal):
            a, b = node.start.value, node.end.value  # ``[1..5]`` in a decision table: build once
            const = None if ops.compare(a, b) is None else Range(a, b, si, ei)
            return lambda env: const

        def rng(env: Env) -> Range | None:
            a, b = start(env), end(env)
            if a is None or b is None or ops.compare(a, b) is None:
                return None
            return Range(a, b, si, ei)

        return rng

    def c_ListNode(self, node: n.ListNode) -> Fn:
        items = [self.compile(i) for i in node.items]
        return lambda env: [f(env) for f in items]

    def c_ContextNode(self, node: n.ContextNode) -> Fn:
        entries = [(k, self.compile(v)) for k, v in node.entries]
        earlier: set[str] = set()
        chained = False
        for k, v in node.entries:
            chained = chained or bool(names_in(v) & earlier)
            earlier.add(k)
        if not chained:
            return lambda env: {k: f(env) for k, f in entries}

        def ctx(env: Env) -> dict[str, Any]:
            scope = dict(env)
            out: dict[str, Any] = {}
            for k, f in entries:
                out[k] = scope[k] = f(scope)
            return out

        return ctx

    def c_Path(self, node: n.Path) -> Fn:
        chain: list[str] = []
        base: n.Node = node
        while isinstance(base, n.Path):
            chain.append(base.name)
            base = base.base
        chain.reverse()
        if isinstance(base, n.Name):
            root = base.name

            def var_path(env: Env) -> Any:
                v = raw_path(env, root, chain)
                return None if v is MISSING else to_feel(v)

            return var_path
        f = self.compile(base)

        def path(env: Env) -> Any:
            v = f(env)
            for key in chain:
                v = get_member(v, key)
            return v

        return path

    def c_Filter(self, node: n.Filter) -> Fn:
        base, cond = self.compile(node.base), self.compile(node.condition)
        used = sorted(names_in(node.condition))
        pos = node.pos
        static_index = _static_number(node.condition)

        def filt(env: Env) -> Any:
            xs = base(env)
            if xs is None:
                return None
            if type(xs) is not list:
                xs = [xs]
            if static_index is not None:
                return _index(xs, static_index)
            Budget.charge(len(xs))
            scope = dict(env)
            out: list[Any] = []
            shadowed: list[str] = []
            for x in xs:
                for name in shadowed:
                    if name in env:
                        scope[name] = env[name]
                    else:
                        del scope[name]
                if type(x) is dict:
                    shadowed = [k for k in used if k in x]
                    for k in shadowed:
                        scope[k] = x[k]
                else:
                    shadowed = []
                scope["item"] = x
                try:
                    r = cond(scope)
                except ExpressionError as e:
                    raise self.locate(e, pos) from None
                if type(r) is Decimal:
                    return _index(xs, r)
                if r is True:
                    out.append(x)
            return out

        return filt

    def c_If(self, node: n.If) -> Fn:
        c, t, o = (
            self.compile(node.condition),
            self.compile(node.then),
            self.compile(node.otherwise),
        )
        return lambda env: t(env) if c(env) is True else o(env)

    # -- loops ---------------------------------------------------------------------------------
    def iterations(self, its: tuple[n.Iteration, ...]) -> list[tuple[str, Fn, Fn | None, int]]:
        return [
            (
                it.var,
                self.compile(it.source),
                None if it.end is None else self.compile(it.end),
                it.pos,
            )
            for it in its
        ]

    def c_For(self, node: n.For) -> Fn:
        its, body = self.iterations(node.iterations), self.compile(node.body)
        pos = node.pos

        def for_(env: Env) -> list[Any] | None:
            scope = dict(env)
            out: list[Any] = []
            scope["partial"] = out

            def each(s: dict[str, Any]) -> bool:
                out.append(body(s))
                if len(out) > MAX_ITEMS:
                    raise self.fail("result too large: more than 1,000,000 items", pos)
                return False

            try:
                ok = self.run_iterations(its, 0, scope, each)
            except ExpressionError as e:
                raise self.locate(e, pos) from None
            return out if ok is not None else None

        return for_

    def c_Quantified(self, node: n.Quantified) -> Fn:
        its, cond = self.iterations(node.iterations), self.compile(node.condition)
        want = node.kind == "some"  # stop at the first True (some) or first non-True (every)
        pos = node.pos

        def quantified(env: Env) -> bool | None:
            scope = dict(env)

            def each(s: dict[str, Any]) -> bool:
                r = cond(s) is True
                return r if want else not r

            try:
                stopped = self.run_iterations(its, 0, scope, each)
            except ExpressionError as e:
                raise self.locate(e, pos) from None
            if stopped is None:
                return None
            return want if stopped else not want

        return quantified

    def run_iterations(
        self,
        its: list[tuple[str, Fn, Fn | None, int]],
        k: int,
        scope: dict[str, Any],
        each: Callable[[dict[str, Any]], bool],
    ) -> bool | None:
        """Bind iteration ``k``'s variable to each element in turn, nesting for the rest.

        Returns True when ``each`` asked to stop, False when all ran, None when a source was
        not iterable (FEEL null).
        """
        var, source, end, _pos = its[k]
        items = _iterable(source(scope), None if end is None else end(scope))
        if items is None:
            return None
        Budget.charge(len(items))
        last = k == len(its) - 1
        for x in items:
            scope[var] = x
            if last:
                if each(scope):
                    return True
            else:
                r = self.run_iterations(its, k + 1, scope, each)
                if r is None or r:
                    return r
        return False

    # -- functions -----------------------------------------------------------------------------
    def c_FunctionDef(self, node: n.FunctionDef) -> Fn:
        body, params = self.compile(node.body), node.params

        def define(env: Env) -> FeelFunction:
            captured = dict(env)

            def call(*args: Any) -> Any:
                scope = dict(captured)
                scope.update(zip(params, args, strict=False))
                return body(scope)

            return FeelFunction("anonymous", params, len(params), call)

        return define

    def c_Call(self, node: n.Call) -> Fn:
        args = [self.compile(a) for a in node.args]
        named = [(k, self.compile(v)) for k, v in node.named]
        pos = node.pos
        callee = node.callee
        if isinstance(callee, n.Name) and callee.name == "is defined":
            return self.is_defined(node)
        if isinstance(callee, n.Name):
            key = callee.name
            builtin = BUILTINS.get(key)

            def call_name(env: Env) -> Any:
                fn = env.get(key)
                if fn.__class__ is not FeelFunction:
                    if builtin is None:
                        raise self.fail(f"no function named {key!r}", pos)
                    fn = builtin
                return self.invoke(fn, args, named, env, pos)

            return call_name
        f = self.compile(callee)

        def call_value(env: Env) -> Any:
            fn = f(env)
            if type(fn) is not FeelFunction:
                raise self.fail("this value is not a function", pos)
            return self.invoke(fn, args, named, env, pos)

        return call_value

    def invoke(
        self, fn: FeelFunction, args: list[Fn], named: list[tuple[str, Fn]], env: Env, pos: int
    ) -> Any:
        if named:
            values: list[Any] = [MISSING] * len(fn.params)
            for k, f in named:
                if k not in fn.params:
                    raise self.fail(f"{fn.name}() has no parameter {k!r}", pos)
                values[fn.params.index(k)] = f(env)
            while values and values[-1] is MISSING:
                values.pop()
            if len(values) < fn.required or MISSING in values[: fn.required]:
                raise self.fail(f"{fn.name}() is missing arguments", pos)
            actual = [None if v is MISSING else v for v in values]
        else:
            actual = [f(env) for f in args]
            if not fn.varargs and not fn.required <= len(actual) <= len(fn.params):
                raise self.fail(
                    f"{fn.name}() takes {_arity(fn)} arguments, {len(actual)} given", pos
                )
            if fn.varargs and len(actual) < fn.required:
                raise self.fail(f"{fn.name}() needs at least {fn.required} argument(s)", pos)
        try:
            return fn.call(*actual)
        except ExpressionError as e:
            raise self.locate(e, pos) from None

    def is_defined(self, node: n.Call) -> Fn:
        if len(node.args) != 1 or node.named:
            raise self.fail("is defined() takes one argument", node.pos)
        arg = node.args[0]
        chain: list[str] = []
        while isinstance(arg, n.Path):
            chain.append(arg.name)
            arg = arg.base
        chain.reverse()
        if isinstance(arg, n.Name):
            root = arg.name
            return lambda env: raw_path(env, root, chain) is not MISSING
        f = self.compile(node.args[0])

        def defined(env: Env) -> bool:
            f(env)
            return True

        return defined


# -- runtime helpers ---------------------------------------------------------------------------


def raw_path(env: Env, root: str, chain: list[str]) -> Any:
    """Walk ``root.a.b`` through host mappings without converting them; MISSING if absent."""
    v = env.get(root, MISSING)
    for key in chain:
        if v is MISSING:
            return MISSING
        v = v.get(key, MISSING) if isinstance(v, Mapping) else get_member(to_feel(v), key, MISSING)
    return v


def get_member(value: Any, key: str, missing: Any = None) -> Any:
    """FEEL path semantics: context entry, per-element on lists, documented temporal properties."""
    t = type(value)
    if t is dict:
        return value.get(key, missing)
    if t is list:
        return [get_member(x, key) for x in value]
    if t is FileRef:  # a file reference reads like a context: ``doc.name``, ``doc.size``
        return to_feel(value.feel_context().get(key, missing))
    if t is Range:
        props = {
            "start": value.start,
            "end": value.end,
            "start included": value.start_included,
            "end included": value.end_included,
        }
        return props.get(key, missing)
    r = temporal.property_of(value, key)
    return missing if r is MISSING else r


def _matches(x: Any, v: Any) -> bool | None:
    """Whether input ``x`` satisfies a test whose expression evaluated to ``v``."""
    t = type(v)
    if t is Range:
        return ops.in_range(x, v)
    if t is list:
        if type(x) is list and ops.eq(x, v) is True:
            return True
        return any(ops.eq(x, item) is True for item in v)
    if t is bool and type(x) is not bool and x is not None:
        # A boolean expression used as a test (``x > 3``, DMN 1.2+): its value decides.  A
        # null input is not "any input": like a boolean input, it is compared, so that a
        # missing flag does not match the entry ``true``.
        return bool(v)
    if t is FeelFunction:
        r = v.call(x)
        return r if type(r) is bool else None
    return ops.eq(x, v)


def _any_test(tests: list[Test], x: Any, env: Env) -> bool | None:
    seen_false = False
    for t in tests:
        r = t(x, env)
        if r is True:
            return True
        if r is False:
            seen_false = True
    return False if seen_false else None


def _static_number(node: n.Node) -> Decimal | None:
    if isinstance(node, n.Literal) and type(node.value) is Decimal:
        return node.value
    return None


def _index(xs: list[Any], number: Decimal) -> Any:
    i = int(number)
    if i != number or i == 0 or abs(i) > len(xs):
        return None
    return xs[i - 1] if i > 0 else xs[i]


def _iterable(v: Any, end: Any) -> list[Any] | range | None:
    """Items of a loop source: a list, ``a..b`` integers, or an integer range value."""
    if end is not None or type(v) is Range:
        if type(v) is Range:
            lo, hi = v.start, v.end
            if type(lo) is not _D or type(hi) is not _D:
                return None
            lo += 0 if v.start_included else 1
            hi -= 0 if v.end_included else 1
        else:
            lo, hi = v, end
        if type(lo) is not _D or type(hi) is not _D or lo % 1 or hi % 1:
            return None
        a, b = int(lo), int(hi)
        if abs(b - a) >= MAX_ITEMS:
            raise ExpressionError("result too large: range of more than 1,000,000 items")
        return [_D(i) for i in (range(a, b + 1) if a <= b else range(a, b - 1, -1))]
    if type(v) is list:
        return v
    return None


def _arity(fn: FeelFunction) -> str:
    n_max = len(fn.params)
    return str(n_max) if fn.required == n_max else f"{fn.required} to {n_max}"
