"""Where in the text something happened, and the error that says so.

``ast`` reports a line number and a column counted in UTF-8 *bytes*; people (and the ``position``
field of ``ExpressionError``) count characters, so a Chinese variable name before the mistake must
not shift the reported column.  Expressions are parsed with surrounding whitespace removed (BPMN
files indent them inside XML elements); ``start`` maps positions back to the original text.
"""

from __future__ import annotations

import re

from liucheng.errors import ScriptError

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Source:
    """The original text plus the offset at which the parsed part of it starts."""

    __slots__ = ("_line_starts", "start", "text")

    def __init__(self, text: str, start: int = 0) -> None:
        self.text = text
        self.start = start
        self._line_starts: list[int] | None = None

    def _starts(self) -> list[int]:
        if self._line_starts is None:
            self._line_starts = [0] + [m.end() for m in _LINE_BREAK.finditer(self.text)]
        return self._line_starts

    def _parsed_line_start(self, lineno: int) -> int:
        """Offset in ``text`` of line ``lineno`` (1-based) of the parsed part."""
        first_line = self._line_of(self.start)
        starts = self._starts()
        index = min(first_line + lineno - 1, len(starts) - 1)
        return self.start if lineno == 1 else starts[index]

    def _line_of(self, offset: int) -> int:
        starts = self._starts()
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def offset(self, lineno: int | None, col: int | None, *, col_is_bytes: bool = True) -> int:
        """Character offset in the original text of a parser position."""
        if not lineno:
            return self.start
        line_start = self._parsed_line_start(lineno)
        if not col:
            return line_start
        if col_is_bytes:
            end = _LINE_BREAK.search(self.text, line_start)
            line = self.text[line_start : end.start() if end else len(self.text)]
            col = len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))
        return min(line_start + col, len(self.text))

    def error(
        self, message: str, lineno: int | None, col: int | None, *, col_is_bytes: bool = True
    ) -> ScriptError:
        """A ScriptError whose message starts with the human line and column (both 1-based)."""
        position = self.offset(lineno, col, col_is_bytes=col_is_bytes)
        line = self._line_of(position)
        column = position - self._starts()[line]
        return ScriptError(
            f"line {line + 1}, column {column + 1}: {message}", text=self.text, position=position
        )
