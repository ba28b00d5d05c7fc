"""FEEL (DMN 1.4 Friendly Enough Expression Language), as used by Camunda 8 models.

Expressions are parsed once and compiled into nested Python closures; no Python source is ever
generated or evaluated.  See ``README.md`` beside this file for the design and known gaps.

Null semantics (our reading of DMN 1.4, matching Camunda 8's engine):

* Missing variables and missing context entries evaluate to null; only ``is defined(x)``
  tells "absent" from "null".
* Operations FEEL does not define for the operand types — ``1 + "a"``, ``date < 5``, ``1 / 0``,
  numeric overflow, a built-in given an argument of the wrong type, a malformed ``date("x")`` —
  evaluate to null rather than raising.  ``=`` between values of different types is null;
  ``null = null`` is true and ``null = 1`` is false.
* ``and``/``or`` use three-valued logic (``false and null`` is false, ``true and null`` null);
  ``if`` takes the ``else`` branch unless the condition is exactly true.

ExpressionError is raised for syntax errors (with the offending token's offset), for calling a
function that does not exist or with the wrong number of arguments (a modelling mistake that a
null would hide), and when a safety limit is hit: text over 100,000 characters, nesting over
48 brackets or 120 tree levels, a result over 1,000,000 items or characters, or more than
5,000,000 loop iterations in one evaluation.
"""

from .api import compile_feel, compile_unary_tests, evaluate_feel
from .clock import set_clock
from .values import FeelFunction, Range, YearsMonthsDuration

__all__ = [
    "FeelFunction",
    "Range",
    "YearsMonthsDuration",
    "compile_feel",
    "compile_unary_tests",
    "evaluate_feel",
    "set_clock",
]
