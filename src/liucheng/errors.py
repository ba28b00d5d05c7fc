"""Every error Liucheng raises on purpose.

Bad input must produce an error that names *where* it is wrong (file, line, element, field or
position in an expression) and must change nothing.  Keeping all error types in one module lets
callers catch ``LiuchengError`` for "the product refused this" without also catching bugs.
"""

from __future__ import annotations


class LiuchengError(Exception):
    """Base class: the product refused an input or an operation, with a clear reason."""


class BpmnParseError(LiuchengError):
    """A BPMN/DMN file could not be read: malformed, hostile or not BPMN at all."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        element: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.element = element
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.source:
            where.append(self.source)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.element:
            where.append(f"element '{self.element}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class ValidationIssue:
    """One problem found by validation: which element, on which line, and what is wrong."""

    __slots__ = ("element", "line", "message", "source")

    def __init__(
        self, message: str, *, element: str | None, line: int | None, source: str | None = None
    ) -> None:
        self.message = message
        self.element = element
        self.line = line
        self.source = source

    def __str__(self) -> str:
        return str(
            BpmnParseError(self.message, source=self.source, line=self.line, element=self.element)
        )

    def __repr__(self) -> str:
        return f"ValidationIssue({self!s})"


class BpmnValidationError(LiuchengError):
    """A model parsed but cannot run; ``issues`` lists every problem, not just the first."""

    def __init__(self, issues: list[ValidationIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


class ExpressionError(LiuchengError):
    """An expression could not be parsed or evaluated.

    ``position`` is the 0-based character offset in ``text`` where the problem was found, when
    known; ``element`` is the BPMN element the expression belongs to, filled in by the engine.
    """

    def __init__(
        self,
        message: str,
        *,
        text: str | None = None,
        position: int | None = None,
        element: str | None = None,
    ) -> None:
        self.message = message
        self.text = text
        self.position = position
        self.element = element
        super().__init__(self.__str__())

    def __str__(self) -> str:
        parts = []
        if self.element:
            parts.append(f"element '{self.element}'")
        if self.text is not None:
            at = f" at position {self.position}" if self.position is not None else ""
            parts.append(f"expression {self.text!r}{at}")
        prefix = ", ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message

    def at_element(self, element: str) -> ExpressionError:
        """Return a copy of this error that also names the BPMN element."""
        return type(self)(self.message, text=self.text, position=self.position, element=element)


class ScriptError(ExpressionError):
    """A script (Python dialect) was refused by the sandbox or failed while running."""


class UnknownProcessError(LiuchengError):
    """No deployed process has this id."""


class UnknownTaskError(LiuchengError):
    """No open task has this id."""


class UnknownInstanceError(LiuchengError):
    """No case (process instance) has this id."""


class ConflictError(LiuchengError):
    """The operation lost a race or targets something already done (e.g. a completed task)."""


class VariableTypeError(LiuchengError):
    """A value set from outside does not have its variable's declared type
    (``engine/vartypes.py``): ``name`` the variable, ``expected`` and ``given`` the types in
    words.  Raised before the call changes anything."""

    def __init__(self, name: str, expected: str, given: str, value: str) -> None:
        self.name = name
        self.expected = expected
        self.given = given
        super().__init__(f"variable '{name}' must be {expected}, not {given} ({value})")


class CorrelationError(LiuchengError):
    """A message matched no waiting case and no message start event."""


class BpmnError(LiuchengError):
    """Raised by a service handler to throw a BPMN error that an error boundary event can catch."""

    def __init__(self, code: str, message: str = "") -> None:
        self.code = code
        self.message = message
        super().__init__(f"BPMN error {code}: {message}" if message else f"BPMN error {code}")
