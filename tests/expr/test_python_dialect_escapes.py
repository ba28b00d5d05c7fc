"""One test per known sandbox-escape or resource-exhaustion technique.

Each must end in a ScriptError (an ExpressionError) within a second.  Techniques refused at compile
time are checked by compiling alone, which proves nothing ran and no variable changed; the rest run
against a variables dict that must come back unchanged.
"""

from __future__ import annotations

import os
import time
from decimal import Decimal
from typing import Any

import pytest

from liucheng.errors import ExpressionError, ScriptError
from liucheng.expr.python_dialect import compile_python, compile_python_script

# (id, text): refused while compiling, before anything runs.
COMPILE_TIME: list[tuple[str, str]] = [
    ("dunder-class", "x.__class__"),
    ("subclasses-chain", "().__class__.__bases__[0].__subclasses__()"),
    ("mro", "x.__class__.__mro__[-1].__subclasses__()"),
    ("mro-method", "str.mro()"),
    ("globals-of-function", "f.__globals__['__builtins__']"),
    ("builtins-name", "__builtins__['eval']('1')"),
    ("init-globals", "x.__init__.__globals__"),
    ("import-dunder", "__import__('os').system('true')"),
    ("wrapper-internals", "len.fn"),
    ("method-self", "x.append.__self__"),
    ("safe-type-internals", "datetime.real"),
    ("frame-walk", "x.gi_frame.f_back.f_globals"),
    ("private-name", "_secret"),
    ("private-attribute", "x._cache"),
    ("name-mangling", "x.__private"),
    ("underscore-keyword", "dict(__class__=1)"),
    ("nfkc-fullwidth-dunder", "ｘ.__ｃｌａｓｓ__"),
    ("nfkc-mixed-dunder", "x.__ｃlass__"),
    ("invalid-lookalike-underscore", "x.＿＿class＿＿"),
    ("str-format", '"{0.__class__}".format(x)'),
    ("str-format-innocent", '"{}".format(x)'),
    ("str-format-unbound", 'str.format("{0.__class__}", x)'),
    ("format-map", '"{a}".format_map(x)'),
    ("percent-format", '"%s" % (x,)'),
    ("percent-format-fstring-left", 'f"%s" % x'),
    ("fstring-dunder", 'f"{x.__class__}"'),
    ("fstring-nested-spec", "f\"{x:{'>'}{10**9}}\""),
    ("fstring-huge-width", 'f"{x:>1000000000}"'),
    ("fstring-huge-precision", 'f"{x:.100000f}"'),
    ("fstring-strftime-width", 'f"{d:%1000000000Y}"'),
    ("fstring-junk-spec", 'f"{x:!r}}"'),
    ("lambda", "(lambda: 1)()"),
    ("lambda-sort-key", "sorted(x, key=lambda v: v.__class__)"),
    ("walrus", "(y := 1)"),
    ("bytes-literal", "b'%s' % x"),
    ("complex-literal", "1j ** 2"),
    ("matmul", "x @ x"),
    ("ellipsis", "..."),
    ("deep-parentheses", "(" * 10000 + "1" + ")" * 10000),
    ("unbalanced-parentheses", "(" * 10000),
    ("deep-unary", "-" * 100000 + "1"),
    ("deep-binop", "1+" * 50000 + "1"),
    ("deep-lists", "[" * 150 + "]" * 150),
    ("deep-method-chain", "x" + ".upper()" * 200),
    ("deep-not", "not " * 500 + "x"),
    ("too-long-text", "x + " * 30000 + "x"),
    ("nul-byte", "x\x00"),
]

COMPILE_TIME_SCRIPTS: list[tuple[str, str]] = [
    ("import", "import os"),
    ("import-from", "from os import system"),
    ("def", "def f():\n    return 1"),
    ("decorator", "@x\ndef f():\n    pass"),
    ("class", "class A:\n    pass"),
    ("class-dunder-trick", "class A:\n    __slots__ = ()"),
    ("try-except", "try:\n    x = 1\nexcept Exception as e:\n    y = e.__traceback__"),
    ("with", "with open('/etc/passwd') as f:\n    pass"),
    ("global", "global x"),
    ("nonlocal", "nonlocal x"),
    ("return", "return 1"),
    ("yield", "yield 1"),
    ("async", "async def f():\n    await x"),
    ("raise", "raise SystemExit"),
    ("assert", "assert False"),
    ("match", "match x:\n    case _:\n        pass"),
    ("attribute-assignment", "x.append = 1"),
    ("attribute-delete", "del x.append"),
    ("starred-assignment", "a, *b = x"),
    ("annotated-assignment", "y: int = 1"),
    ("break-outside-loop", "break"),
    ("continue-outside-loop", "continue"),
    ("late-refusal-before-early-side-effect", "y = 1\nimport os"),
]

# (id, text): refused while running (needs a value, or a name that might be a variable).
RUN_TIME: list[tuple[str, str]] = [
    ("getattr", "getattr(x, '__class__')"),
    ("setattr", "setattr(x, 'a', 1)"),
    ("type", "type(x)"),
    ("vars", "vars()"),
    ("globals", "globals()"),
    ("locals", "locals()"),
    ("dir", "dir(x)"),
    ("eval", "eval('1')"),
    ("exec", "exec('y = 1')"),
    ("compile", "compile('1', '', 'eval')"),
    ("open", "open('/etc/passwd')"),
    ("input", "input()"),
    ("breakpoint", "breakpoint()"),
    ("object", "object()"),
    ("nfkc-bold-getattr", "𝐠𝐞𝐭𝐚𝐭𝐭𝐫(x, 'y')"),
    ("host-function-in-variables", "system('true')"),
    ("host-class-in-variables", "klass()"),
    ("percent-format-variable", "fmt % x"),
    ("format-builtin-missing", "format(x, '>1000000000')"),
    ("isinstance-with-host-type", "isinstance(x, klass)"),
    ("sort-key-host-function", "sorted([1], key=system)"),
    ("huge-power", "10**10**10"),
    ("huge-power-2", "2**100000000"),
    ("huge-power-variables", "n ** y"),
    ("huge-shift", "1 << 10**9"),
    ("huge-product", "(2**4000) * (2**4000)"),
    ("int-growth-by-squaring", "n * n * n * n * n * n * n * n * n * n"),
    ("decimal-power", "Decimal(2) ** (2**100)"),
    ("str-repeat", '"a" * 10**10'),
    ("list-repeat", "[0] * 10**9"),
    ("list-repeat-reversed", "10**9 * [0]"),
    ("nested-repeat-budget", "[[0] * 1000] * 10**6"),
    ("tuple-concat", "tuple(range(10**6)) + tuple(range(10**6))"),
    ("star-expansion", "[*range(10**6), *range(10**6)]"),
    ("set-star-expansion", "{*range(10**6), *range(10**6, 2 * 10**6)}"),
    ("join-bomb", "'x'.join(['a' * 1000] * 1000)"),
    ("replace-bomb", "('a' * 10000).replace('', 'b' * 1000)"),
    ("zfill-bomb", "'a'.zfill(10**9)"),
    ("center-bomb", "'a'.center(10**9)"),
    ("range-bomb", "range(10**12)"),
    ("list-range", "list(range(10**6)) * 2"),
    ("generator-bomb", "sum(x for x in range(10**12))"),
    ("nested-comprehension-bomb", "[a for a in range(10**6) for b in range(10**6)]"),
    ("comprehension-of-comprehensions", "[[i for i in range(10**6)] for j in range(10**6)]"),
    ("int-parse-bomb", "int('9' * 100000)"),
    ("decimal-to-int-bomb", "int(Decimal('1e999999999'))"),
    ("decimal-format-bomb", "f\"{Decimal('1e999999999'):f}\""),
    ("round-bomb", "round(5, -10**100)"),
    ("strftime-width", "d.strftime('%1000000000Y')"),
    ("strptime-width", "datetime.strptime('1', '%1000000000Y')"),
    ("timedelta-overflow", "timedelta(days=10**12)"),
    ("sum-of-lists", "sum([[0] * 1000] * 1000, [])"),
    ("deep-structure-repr", "str(deep)"),
    ("comparison-chain-type-error", "1 < 'a' < x"),
    ("comparison-chain-scan", "big == big == big == big"),
]

RUN_TIME_SCRIPTS: list[tuple[str, str]] = [
    ("infinite-while", "while True:\n    pass"),
    ("infinite-while-work", "i = 0\nwhile 1:\n    i += 1"),
    ("nested-for", "for i in range(10**6):\n    for j in range(10**6):\n        pass"),
    ("list-doubling", "x = [1]\nwhile True:\n    x = x + x"),
    ("list-doubling-extend", "x = [1]\nwhile True:\n    x.extend(x)"),
    ("list-doubling-augmented", "x = [1]\nwhile True:\n    x += x"),
    ("list-doubling-multiply", "x = [1]\nwhile True:\n    x *= 2"),
    ("str-doubling", "s = 'a'\nwhile True:\n    s += s"),
    ("int-doubling", "n = 2\nwhile True:\n    n = n * n"),
    ("int-increment-growth", "n = 1\nwhile True:\n    n = n + n"),
    ("slice-assignment-growth", "x = [1]\nwhile True:\n    x[0:0] = x"),
    ("append-forever", "x = []\nwhile True:\n    x.append(x)"),
    ("scan-in-loop", "x = list(range(10**6))\nfor i in range(10**6):\n    x.index(999999)"),
    ("membership-in-loop", "x = list(range(10**6))\nwhile True:\n    y = -1 in x"),
    ("deep-nesting-at-runtime", "x = []\nfor i in range(100000):\n    x = [x]\ny = str(x)"),
    ("for-over-growing-list", "x = [1]\nfor i in x:\n    x.append(i)"),
]


def _variables() -> dict[str, Any]:
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    return {
        "x": [3, 1, 2],
        "y": 10**9,
        "n": 2**500,
        "d": __import__("datetime").date(2024, 1, 1),
        "fmt": "%s",
        "system": os.system,
        "klass": object,
        "big": list(range(10**6)),
        "deep": deep,
        "f": _variables,
    }


VARIABLES = _variables()


def _assert_fast_refusal(action: Any) -> ScriptError:
    start = time.perf_counter()
    with pytest.raises(ScriptError) as info:
        action()
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"refusal took {elapsed:.2f}s"
    assert isinstance(info.value, ExpressionError)
    assert str(info.value.message).startswith("line ")
    return info.value


@pytest.mark.parametrize("text", [t for _, t in COMPILE_TIME], ids=[i for i, _ in COMPILE_TIME])
def test_expression_refused_at_compile_time(text: str) -> None:
    _assert_fast_refusal(lambda: compile_python(text))
    _assert_fast_refusal(lambda: compile_python_script(text))


@pytest.mark.parametrize(
    "text", [t for _, t in COMPILE_TIME_SCRIPTS], ids=[i for i, _ in COMPILE_TIME_SCRIPTS]
)
def test_script_refused_at_compile_time(text: str) -> None:
    _assert_fast_refusal(lambda: compile_python_script(text))


@pytest.mark.parametrize("text", [t for _, t in RUN_TIME], ids=[i for i, _ in RUN_TIME])
def test_expression_refused_when_run(text: str) -> None:
    evaluate = compile_python(text)
    _assert_fast_refusal(lambda: evaluate(VARIABLES))


@pytest.mark.parametrize(
    "text", [t for _, t in RUN_TIME_SCRIPTS], ids=[i for i, _ in RUN_TIME_SCRIPTS]
)
def test_script_refused_when_run(text: str) -> None:
    script = compile_python_script(text)
    data: dict[str, Any] = {"keep": 1}
    _assert_fast_refusal(lambda: script(data))
    assert data == {"keep": 1}


def test_refusal_names_the_offending_line() -> None:
    error = _assert_fast_refusal(lambda: compile_python_script("a = 1\nb = 2\nimport os"))
    assert "line 3, column 1: imports are not allowed" in error.message


def test_walrus_is_refused_with_a_hint() -> None:
    error = _assert_fast_refusal(lambda: compile_python("(y := 1)"))
    assert ":=" in error.message


def test_unicode_lookalike_dunder_is_normalised_then_refused() -> None:
    error = _assert_fast_refusal(lambda: compile_python("ｘ.__ｃｌａｓｓ__"))
    assert "'__class__'" in error.message


def test_host_callables_in_variables_are_not_callable() -> None:
    error = _assert_fast_refusal(lambda: compile_python("system('true')")(VARIABLES))
    assert "not callable" in error.message


def test_wrappers_leak_nothing_through_repr_or_str() -> None:
    assert compile_python("str(len)")({}) == "<built-in function len>"
    assert compile_python("f'{datetime!r}'")({}) == "<class 'datetime'>"


def test_decimal_values_stay_usable_after_limits() -> None:
    assert compile_python("int(Decimal('1e3'))")({}) == 1000
    assert compile_python("Decimal(2) ** 10")({}) == Decimal(1024)


def test_limits_leave_ordinary_work_alone() -> None:
    data: dict[str, Any] = {}
    compile_python_script(
        "x = [i * 2 for i in range(1000)]\ns = ''.join(str(i) for i in x)\nn = 2 ** 4000\n"
        "t = 'ab' * 1000\ny = sum(range(100000))"
    )(data)
    assert len(data["x"]) == 1000 and data["y"] == sum(range(100000))
