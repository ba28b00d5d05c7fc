"""Errors of the DMN layer, and ``Where``: the address of a piece of a DMN file.

A DMN file is a tree of small expressions, and a message that says only "unexpected '1'" is
useless in a table of forty rules.  Every compiled piece therefore carries a ``Where`` — file,
line, and a path such as ``decision 'deposit', rule 3, input entry 2`` — and every error the
layer raises, at deployment or at evaluation, is built from one, so it reads::

    pass_deposit.dmn line 14, decision 'deposit', rule 3, input entry 2: <what is wrong>
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from liucheng.errors import LiuchengError


@dataclass(frozen=True, slots=True)
class Where:
    """File, line and path inside the DMN model of one element (for messages only)."""

    source: str | None = None
    line: int | None = None
    path: tuple[str, ...] = ()

    def at(self, part: str | None = None, el: etree._Element | None = None) -> Where:
        """The address of a child: ``part`` appended to the path, the line of ``el`` if known."""
        line = self.line
        if el is not None and isinstance(el.sourceline, int):
            line = el.sourceline
        path = (*self.path, part) if part else self.path
        return Where(self.source, line, path)

    def __str__(self) -> str:
        head = " ".join(p for p in (self.source, f"line {self.line}" if self.line else None) if p)
        return ", ".join(p for p in (head, *self.path) if p)


class DmnError(LiuchengError):
    """Base class of DMN errors; ``where`` names the file, line and element concerned."""

    def __init__(self, message: str, where: Where | None = None) -> None:
        self.message = message
        self.where = where or Where()
        super().__init__(self.__str__())

    @property
    def source(self) -> str | None:
        return self.where.source

    @property
    def line(self) -> int | None:
        return self.where.line

    def __str__(self) -> str:
        prefix = str(self.where)
        return f"{prefix}: {self.message}" if prefix else self.message


class DmnParseError(DmnError):
    """The file cannot be deployed: hostile or malformed XML, not DMN, an unknown or
    unsupported element, a broken reference or cycle, or an expression that does not compile."""


class DmnEvaluationError(DmnError):
    """A decision could not be evaluated: a hit policy was violated, a value is outside the
    allowed values, an expression failed, or the decision asked for does not exist."""
