"""Parse the text and refuse, before anything runs, every construct outside the dialect.

The check is a whitelist of ``ast`` node types: a construct added to Python later is refused until
someone decides it is safe.  Names and attributes beginning with ``_`` are refused outright (that is
where every known escape starts: ``__class__``, ``__globals__``, ``__subclasses__``), and attribute
names must appear somewhere in the attribute whitelist, so ``"{}".format`` or ``x.mro`` fail here
rather than when the line is reached.  Python's parser NFKC-normalises identifiers, so a look-alike
such as ``ｘ.__ｃｌａｓｓ__`` arrives here as ``__class__`` and is refused the same way.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Callable
from typing import Literal

from .attributes import ALLOWED_ATTRIBUTES
from .limits import MAX_AST_DEPTH, MAX_FORMAT_WIDTH, MAX_TEXT_CHARS
from .source import Source

Mode = Literal["eval", "exec"]

_EXPRESSIONS: frozenset[type[ast.AST]] = frozenset(
    {
        ast.Expression, ast.Constant, ast.Name, ast.Load, ast.Store, ast.Del,
        ast.BoolOp, ast.And, ast.Or, ast.BinOp, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
        ast.Invert, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
        ast.LShift, ast.RShift, ast.BitOr, ast.BitAnd, ast.BitXor, ast.Compare, ast.Eq,
        ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
        ast.IfExp, ast.Call, ast.keyword, ast.Attribute, ast.Subscript, ast.Slice,
        ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Starred, ast.ListComp, ast.SetComp,
        ast.DictComp, ast.GeneratorExp, ast.comprehension, ast.JoinedStr, ast.FormattedValue,
    }
)  # fmt: skip

_STATEMENTS: frozenset[type[ast.AST]] = frozenset(
    {
        ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.If, ast.For, ast.While,
        ast.Break, ast.Continue, ast.Pass, ast.Delete,
    }
)  # fmt: skip

_REFUSALS: dict[type[ast.AST], str] = {
    ast.Import: "imports are not allowed",
    ast.ImportFrom: "imports are not allowed",
    ast.Lambda: "lambda is not supported",
    ast.FunctionDef: "function definitions (def) are not supported",
    ast.AsyncFunctionDef: "function definitions (def) are not supported",
    ast.ClassDef: "class definitions are not supported",
    ast.Return: "return is not allowed in a script",
    ast.Try: "try/except is not supported",
    ast.TryStar: "try/except is not supported",
    ast.Raise: "raise is not supported",
    ast.Assert: "assert is not supported",
    ast.With: "with statements are not supported",
    ast.AsyncWith: "with statements are not supported",
    ast.AsyncFor: "async code is not supported",
    ast.Await: "async code is not supported",
    ast.Yield: "yield is not supported",
    ast.YieldFrom: "yield is not supported",
    ast.Global: "global and nonlocal are not allowed",
    ast.Nonlocal: "global and nonlocal are not allowed",
    ast.NamedExpr: "the := operator is not supported; assign on its own line",
    ast.AnnAssign: "annotated assignments are not supported; write 'x = value'",
    ast.Match: "match statements are not supported",
    ast.MatMult: "the @ operator is not supported",
}

_GENERAL_SPEC = re.compile(
    r"(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>\d+)?[,_]?(?:\.(?P<precision>\d+))?[bcdeEfFgGnosxX%]?\Z",
    re.DOTALL,
)
_DATE_SPEC = re.compile(r"(?:[^%{}]|%[A-Za-z%])*%[A-Za-z](?:[^%{}]|%[A-Za-z%])*\Z")

_Fail = Callable[[str], Exception]
SpecKind = Literal["general", "date"]


def classify_format_spec(spec: str) -> SpecKind | None:
    """``general`` for number/str specs with width and precision up to the limit, ``date`` for
    strftime-style specs without field widths, None for anything else (refused)."""
    m = _GENERAL_SPEC.match(spec)
    if m:
        for part in ("width", "precision"):
            digits = m.group(part)
            if digits is not None and int(digits) > MAX_FORMAT_WIDTH:
                return None
        return "general"
    if len(spec) <= 200 and _DATE_SPEC.match(spec):
        return "date"
    return None


def parse(text: str, mode: Mode) -> tuple[ast.AST, Source]:
    """Parse and check; raise ScriptError naming the first refused construct."""
    if not isinstance(text, str):
        raise Source(repr(text)).error("expression must be a string", 1, 0)
    start = 0
    if mode == "eval":
        start = len(text) - len(text.lstrip())
    source = Source(text, start)
    if len(text) > MAX_TEXT_CHARS:
        raise source.error(
            f"text is {len(text):,} characters long; the limit is {MAX_TEXT_CHARS:,}", 1, 0
        )
    body = text.strip() if mode == "eval" else text
    try:
        with warnings.catch_warnings():
            # e.g. "invalid decimal literal" for 1and: the user's text, not the host's concern
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(body, mode=mode)
    except SyntaxError as e:
        col = (e.offset - 1) if e.offset else 0
        raise source.error(e.msg, e.lineno or 1, col, col_is_bytes=False) from None
    except (RecursionError, MemoryError):
        raise source.error("the text is nested too deeply", 1, 0) from None
    except ValueError as e:  # e.g. NUL characters on some Python versions
        raise source.error(str(e), 1, 0) from None
    check(tree, source, mode)
    return tree, source


def check(tree: ast.AST, source: Source, mode: Mode) -> None:
    """Walk the tree iteratively (no recursion to exhaust) applying the whitelist."""
    allowed = _EXPRESSIONS if mode == "eval" else _EXPRESSIONS | _STATEMENTS
    stack: list[tuple[ast.AST, int, ast.AST]] = [(tree, 0, tree)]
    while stack:
        node, depth, located = stack.pop()
        if hasattr(node, "lineno"):
            located = node
        kind = type(node)

        def fail(message: str, at: ast.AST = located) -> Exception:
            return source.error(message, getattr(at, "lineno", 1), getattr(at, "col_offset", 0))

        if depth > MAX_AST_DEPTH:
            raise fail(f"the text is nested more than {MAX_AST_DEPTH} levels deep")
        if kind not in allowed:
            if kind in _REFUSALS:
                raise fail(_REFUSALS[kind])
            if mode == "eval" and kind in _STATEMENTS:
                raise fail("a statement is not allowed here; an expression is expected")
            raise fail(f"{kind.__name__} is not supported in this dialect")
        _check_node(node, fail)
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1, located))


def _check_node(node: ast.AST, fail: _Fail) -> None:
    """Rules for individual node types beyond "is this type allowed"."""
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise fail(f"names starting with '_' are not allowed: {node.id!r}")
    elif isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            raise fail(f"attributes starting with '_' are not allowed: {node.attr!r}")
        if not isinstance(node.ctx, ast.Load):
            raise fail("assigning to or deleting attributes is not allowed")
        if node.attr not in ALLOWED_ATTRIBUTES:
            hint = "; use an f-string" if node.attr in ("format", "format_map") else ""
            raise fail(f"attribute {node.attr!r} is not allowed{hint}")
    elif isinstance(node, ast.keyword):
        if node.arg is not None and node.arg.startswith("_"):
            raise fail(f"names starting with '_' are not allowed: {node.arg!r}")
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bytes):
            raise fail("bytes literals are not supported")
        if isinstance(node.value, complex):
            raise fail("complex numbers are not supported")
        if node.value is Ellipsis:
            raise fail("... is not supported")
    elif isinstance(node, ast.BinOp):
        left = node.left
        string_left = isinstance(left, ast.JoinedStr) or (
            isinstance(left, ast.Constant) and isinstance(left.value, str)
        )
        if isinstance(node.op, ast.Mod) and string_left:
            raise fail("%-formatting of strings is not allowed; use an f-string")
    elif isinstance(node, ast.FormattedValue):
        _check_spec(node, fail)
    elif isinstance(node, ast.Starred):
        if not isinstance(node.ctx, ast.Load):
            raise fail("starred assignment (a, *b = ...) is not supported")
    elif isinstance(node, ast.comprehension):
        if node.is_async:
            raise fail("async code is not supported")
    elif isinstance(node, (ast.Assign, ast.For)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            _check_target(target, fail)
    elif isinstance(node, ast.AugAssign):
        if not isinstance(node.target, (ast.Name, ast.Subscript)):
            raise fail("only names and subscripts can be assigned to")
    elif isinstance(node, ast.Delete):
        for target in node.targets:
            if not isinstance(target, (ast.Name, ast.Subscript)):
                raise fail("only names and subscripts can be deleted")


def _check_target(target: ast.AST, fail: _Fail) -> None:
    if isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _check_target(element, fail)
    elif not isinstance(target, (ast.Name, ast.Subscript)):
        raise fail("only names, subscripts and tuples of them can be assigned to")


def _check_spec(node: ast.FormattedValue, fail: _Fail) -> None:
    spec = node.format_spec
    if spec is None:
        return
    if not isinstance(spec, ast.JoinedStr) or not all(
        isinstance(v, ast.Constant) and isinstance(v.value, str) for v in spec.values
    ):
        raise fail("format specs must be fixed text, e.g. {amount:.2f}; nested {} are not allowed")
    text = "".join(str(v.value) for v in spec.values if isinstance(v, ast.Constant))
    if classify_format_spec(text) is None:
        raise fail(
            f"format spec {text!r} is not allowed (simple specs only, widths up to "
            f"{MAX_FORMAT_WIDTH}; dates take %-directives without widths)"
        )
