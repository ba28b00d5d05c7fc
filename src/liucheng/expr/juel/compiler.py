"""Turn a JUEL syntax tree into nested Python closures, once, so evaluation does no dispatch.

Each node becomes ``env -> value`` over the variables mapping.  Everything that depends only on
the text is settled here: which operator, which method table, whether a name is ``execution``,
whether a method or function exists at all (an unknown one is refused now, with its offset,
rather than when a case first reaches it).  The hot shape of gateway conditions, a variable
compared with a constant (``amount > 1000``, ``type == 'external'``), gets a closure that reads
the variable and compares inline when the value already has the constant's type.

Errors raised by the helpers carry no position; the closure of the node that called them adds
the text and the node's offset (:meth:`Compiler.locate`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from liucheng.errors import ExpressionError

from . import nodes as n
from .access import METHOD_NAMES, call_method, get_index, get_property
from .context import EXECUTION, FLOWABLE, FUNCTIONS, variable_name
from .ops import BINARY, empty, neg, to_bool

Env = Mapping[str, Any]
Fn = Callable[[Env], Any]
StepFn = Callable[[Any, Env], Any]

_COMPARISONS = frozenset({"<", ">", "<=", ">=", "==", "!="})
_PYTHON_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
# For a constant of this type, operand types for which Python's comparison gives EL's answer.
_SAME_ANSWER: dict[type, frozenset[type]] = {
    int: frozenset({int, Decimal}),
    Decimal: frozenset({int, Decimal}),
    str: frozenset({str}),
}
_UNARY: dict[str, Callable[[Any], Any]] = {
    "!": lambda v: not to_bool(v),
    "-": neg,
    "empty": empty,
}
_EXECUTION_HELP = (
    "on 'execution' only getVariable(name), getVariableLocal(name), hasVariable(name) and "
    "hasVariableLocal(name) are available"
)


class Compiler:
    """Compiles the trees of one text; ``text`` is kept for error messages."""

    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, message: str, pos: int) -> ExpressionError:
        return ExpressionError(message, text=self.text, position=pos)

    def locate(self, err: ExpressionError, pos: int) -> ExpressionError:
        """Give an error raised by a helper the text and the offset of the node that failed."""
        return err if err.text is not None else self.fail(err.message, pos)

    def unknown(self, name: str, pos: int) -> ExpressionError:
        return self.fail(
            f"unknown property used in expression: there is no variable {name!r} "
            "(execution.getVariable('name') gives null for a missing variable)",
            pos,
        )

    def truth(self, value: Any, pos: int) -> bool:
        try:
            return to_bool(value)
        except ExpressionError as e:
            raise self.locate(e, pos) from None

    def compile(self, node: n.Node) -> Fn:
        method: Callable[[Any], Fn] = getattr(self, "c_" + type(node).__name__)
        return method(node)

    # -- values --------------------------------------------------------------------------------
    def c_Literal(self, node: n.Literal) -> Fn:
        value = node.value
        return lambda env: value

    def c_Ident(self, node: n.Ident) -> Fn:
        key, pos = node.name, node.pos
        if key == "execution":
            raise self.fail("'execution' is not a value here; " + _EXECUTION_HELP, pos)
        unknown = self.unknown

        def read(env: Env) -> Any:
            try:
                return env[key]
            except KeyError:
                raise unknown(key, pos) from None

        return read

    def c_Call(self, node: n.Call) -> Fn:
        if node.namespace is not None:
            return self.flowable(node)
        function = FUNCTIONS.get(node.name)
        if function is None:
            raise self.fail(
                f"function {node.name}() is not available; JUEL here has now() and dateTime(), "
                "and Flowable's variables:get(name) family",
                node.pos,
            )
        if node.args:
            raise self.fail(f"{node.name}() takes no arguments", node.pos)
        return lambda env: function()

    def flowable(self, node: n.Call) -> Fn:
        entry = FLOWABLE.get(node.name)
        if entry is None:
            known = ", ".join(sorted(FLOWABLE))
            raise self.fail(
                f"{node.namespace}:{node.name}() is not available (known: {known})", node.pos
            )
        low, high, impl = entry
        if not node.args:
            raise self.fail(f"{node.namespace}:{node.name}() needs a variable name", node.pos)
        first = node.args[0]
        if isinstance(first, n.Ident):
            name = first.name
        elif isinstance(first, n.Literal) and first.value.__class__ is str:
            name = first.value
        else:
            raise self.fail("the first argument must be a variable name", first.pos)
        if not low <= len(node.args) - 1 <= high:
            raise self.fail(
                f"{node.namespace}:{node.name}() takes a variable name and "
                f"{low if low == high else f'{low} or more'} more argument(s)",
                node.pos,
            )
        extra = [self.compile(a) for a in node.args[1:]]
        pos, locate = node.pos, self.locate

        def call(env: Env) -> Any:
            value = env.get(name)
            present = value is not None or name in env
            try:
                return impl(value, present, *[f(env) for f in extra])
            except ExpressionError as e:
                raise locate(e, pos) from None

        return call

    # -- paths ---------------------------------------------------------------------------------
    def c_Path(self, node: n.Path) -> Fn:
        steps = node.steps
        if isinstance(node.base, n.Ident) and node.base.name == "execution":
            base = self.execution(node.base, steps[0])
            steps = steps[1:]
        else:
            base = self.compile(node.base)
        fns = [self.step(s) for s in steps]
        if not fns:
            return base
        if len(fns) == 1:
            only = fns[0]
            return lambda env: only(base(env), env)

        def path(env: Env) -> Any:
            value = base(env)
            for step in fns:
                value = step(value, env)
            return value

        return path

    def execution(self, base: n.Ident, step: n.Step) -> Fn:
        if not isinstance(step, n.Method) or step.name not in EXECUTION:
            raise self.fail(_EXECUTION_HELP, step.pos)
        if len(step.args) != 1:
            raise self.fail(f"execution.{step.name}() takes one argument, the name", step.pos)
        impl, arg = EXECUTION[step.name], self.compile(step.args[0])
        pos, locate = step.pos, self.locate

        def read(env: Env) -> Any:
            try:
                return impl(env, variable_name(arg(env)))
            except ExpressionError as e:
                raise locate(e, pos) from None

        return read

    def step(self, step: n.Step) -> StepFn:
        pos, locate = step.pos, self.locate
        if isinstance(step, n.Prop):
            return self.prop(step)
        if isinstance(step, n.Index):
            key = self.compile(step.key)

            def index(value: Any, env: Env) -> Any:
                k = key(env)
                try:
                    return get_index(value, k)
                except ExpressionError as e:
                    raise locate(e, pos) from None

            return index
        name = step.name
        if name.startswith("_"):
            raise self.fail(f"names starting with '_' are not accessible: {name!r}", pos)
        if name not in METHOD_NAMES:
            raise self.fail(
                f"method {name}() is not available: expressions call only execution.getVariable"
                "(…) and the string, list, map and date helpers listed in docs/juel.md",
                pos,
            )
        args = [self.compile(a) for a in step.args]

        def method(value: Any, env: Env) -> Any:
            values = [f(env) for f in args]
            try:
                return call_method(value, name, values)
            except ExpressionError as e:
                raise locate(e, pos) from None

        return method

    def prop(self, step: n.Prop) -> StepFn:
        name, pos, locate = step.name, step.pos, self.locate
        if name.startswith("_"):
            raise self.fail(f"names starting with '_' are not accessible: {name!r}", pos)

        def prop(value: Any, env: Env) -> Any:
            if value.__class__ is dict:
                return value.get(name)
            try:
                return get_property(value, name)
            except ExpressionError as e:
                raise locate(e, pos) from None

        return prop

    # -- operators -----------------------------------------------------------------------------
    def c_Unary(self, node: n.Unary) -> Fn:
        operand = self.compile(node.operand)
        ops = tuple((_UNARY[op], pos) for op, pos in reversed(node.ops))  # innermost first
        locate = self.locate
        if len(node.ops) == 1 and node.ops[0][0] == "!":
            truth, pos = self.truth, node.pos

            def not_(env: Env) -> bool:
                v = operand(env)
                if v is True or v is False:
                    return not v
                return not truth(v, pos)

            return not_

        def unary(env: Env) -> Any:
            value = operand(env)
            for op, pos in ops:
                try:
                    value = op(value)
                except ExpressionError as e:
                    raise locate(e, pos) from None
            return value

        return unary

    def c_Chain(self, node: n.Chain) -> Fn:
        if len(node.rest) == 1:
            op, right, pos = node.rest[0]
            return self.binary(node.first, op, right, pos)
        first = self.compile(node.first)
        rest = [(BINARY[op], self.compile(x), pos) for op, x, pos in node.rest]
        locate = self.locate

        def chain(env: Env) -> Any:
            value = first(env)
            for op, right, pos in rest:
                b = right(env)
                try:
                    value = op(value, b)
                except ExpressionError as e:
                    raise locate(e, pos) from None
            return value

        return chain

    def binary(self, left_node: n.Node, op: str, right_node: n.Node, pos: int) -> Fn:
        slow = BINARY[op]
        locate = self.locate
        if (
            op in _COMPARISONS
            and isinstance(right_node, n.Literal)
            and right_node.value.__class__ in _SAME_ANSWER
        ):
            return self.compare_constant(left_node, op, right_node.value, pos)
        left, right = self.compile(left_node), self.compile(right_node)

        def binary(env: Env) -> Any:
            a, b = left(env), right(env)
            try:
                return slow(a, b)
            except ExpressionError as e:
                raise locate(e, pos) from None

        return binary

    def compare_constant(self, left_node: n.Node, op: str, const: Any, pos: int) -> Fn:
        """``x > 1000``, ``type == 'external'``: compare inline when Python's answer is EL's."""
        slow, fast, same = BINARY[op], _PYTHON_COMPARE[op], _SAME_ANSWER[const.__class__]
        locate = self.locate
        if isinstance(left_node, n.Ident) and left_node.name != "execution":
            key, key_pos, unknown = left_node.name, left_node.pos, self.unknown

            def compare_variable(env: Env) -> Any:
                try:
                    a = env[key]
                except KeyError:
                    raise unknown(key, key_pos) from None
                if a.__class__ in same:
                    return fast(a, const)
                try:
                    return slow(a, const)
                except ExpressionError as e:
                    raise locate(e, pos) from None

            return compare_variable
        left = self.compile(left_node)

        def compare(env: Env) -> Any:
            a = left(env)
            if a.__class__ in same:
                return fast(a, const)
            try:
                return slow(a, const)
            except ExpressionError as e:
                raise locate(e, pos) from None

        return compare

    def c_Logic(self, node: n.Logic) -> Fn:
        parts = [(self.compile(x), x.pos) for x in node.operands]
        truth = self.truth
        stop = node.op == "||"  # the value that decides: true for ||, false for &&
        if len(parts) == 2:
            (f, f_pos), (g, g_pos) = parts

            def logic2(env: Env) -> bool:
                a = f(env)
                if a is not True and a is not False:
                    a = truth(a, f_pos)
                if a is stop:
                    return stop
                b = g(env)
                if b is True or b is False:
                    return b
                return truth(b, g_pos)

            return logic2

        def logic(env: Env) -> bool:
            for fn, fn_pos in parts:
                v = fn(env)
                if v is not True and v is not False:
                    v = truth(v, fn_pos)
                if v is stop:
                    return stop
            return not stop

        return logic

    def c_Choice(self, node: n.Choice) -> Fn:
        cond, yes, no = self.compile(node.condition), self.compile(node.yes), self.compile(node.no)
        truth, pos = self.truth, node.condition.pos

        def choice(env: Env) -> Any:
            c = cond(env)
            if c is not True and c is not False:
                c = truth(c, pos)
            return yes(env) if c else no(env)

        return choice
