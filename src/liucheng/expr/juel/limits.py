"""Bounds that keep a hostile or careless expression from exhausting time, memory or the stack.

JUEL has no loops, lambdas or string repetition, so the work of one evaluation is already bounded
by the size of the text and of the variables it reads.  What remains to bound is what Python does
*more* generously than Java: integers never overflow (a Java ``long`` would wrap, a Python ``int``
grows), recursion follows the nesting of the text, and composite text can repeat a long variable.
"""

from __future__ import annotations

from decimal import Clamped, Context, DivisionByZero, InvalidOperation, Overflow

MAX_TEXT = 100_000
"""Longest text accepted, in characters."""

MAX_NESTING = 40
"""Deepest bracket/ternary/argument nesting; the parser, compiler and closures recurse per level,
and a flat chain (``a + b + c …``, ``a.b.c …``, ``!!!x``) is built as one node, so it does not
count."""

MAX_INT_BITS = 4096
"""Largest integer an expression may produce (about 1233 digits); Java's ``long`` has 64 bits."""

MAX_LEN = 1_000_000
"""Longest string an evaluation may build (composite text, ``toString()``)."""

DECIMAL = Context(
    prec=34,
    Emax=6144,
    Emin=-6143,
    traps=[InvalidOperation, DivisionByZero, Overflow, Clamped],
)
"""Arithmetic context for Decimal results: 34 significant digits (decimal128, as FEEL uses).

Passed explicitly to every operation so a thread-local context set by the host cannot change a
result; overflow and invalid operations raise instead of producing infinities or NaN."""
