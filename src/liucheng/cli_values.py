"""Reading ``--var name=value`` options: text on the command line, typed values in the case.

The rules, so ``liucheng start pass_application --var deposit=50.00 --var renewal=false``
gives a Decimal and a boolean:

* ``true`` / ``false`` / ``null`` are booleans and None;
* whole numbers are ``int``; numbers with a point or exponent are ``Decimal`` (money stays exact);
* ``2026-06-30`` is a date and ``2026-06-30T09:00:00+08:00`` a date-time;
* a value starting with ``[``, ``{`` or ``"`` is JSON (numbers inside become Decimal too);
* anything else is text.  Quote it as JSON (``--var 'code="007"'``) to keep such text as text.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from liucheng.errors import LiuchengError

_INT = re.compile(r"-?\d+")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NAME = re.compile(r"[A-Za-z_\u3400-\u9fff][\w\u3400-\u9fff]*")


def parse_value(text: str) -> Any:
    """The typed value of one command-line value (see the module docstring)."""
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if _INT.fullmatch(text):
        return int(text)
    if _NUMBER.fullmatch(text):
        return Decimal(text)
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            return text
    if len(text) > 10 and _DATE.match(text) and text[10] == "T":
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return text
    if text[:1] in ("[", "{", '"'):
        try:
            return json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise LiuchengError(f"{text!r} looks like JSON but is not: {exc.msg}") from exc
    return text


def parse_assignments(items: list[str] | None) -> dict[str, Any]:
    """``["a=1", "b=x"]`` → ``{"a": 1, "b": "x"}``; a malformed item is a clear error."""
    result: dict[str, Any] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not _NAME.fullmatch(name):
            raise LiuchengError(f"--var {item!r}: write name=value, with a name like amount_due")
        result[name] = parse_value(value)
    return result
