"""The only things a script can call.

A script never receives a raw Python function, type or bound method: every callable it can reach is
one of the three wrappers below, made by this package.  The interpreter refuses to call anything
else, so a host object that happens to sit in the case variables (a function, a class) cannot be
invoked from a script, and a wrapper exposes no attributes of its own (the attribute whitelist does
not list these types), so ``len.__self__``-style chains lead nowhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


class SafeFunction:
    """A whitelisted builtin, e.g. ``len``: ``fn`` is what actually runs."""

    __slots__ = ("fn", "name")

    def __init__(self, name: str, fn: Callable[..., Any]) -> None:
        self.name = name
        self.fn = fn

    def __repr__(self) -> str:
        return f"<built-in function {self.name}>"


class SafeType(SafeFunction):
    """A whitelisted type, e.g. ``datetime``: callable (a guarded constructor), usable with
    ``isinstance``, and carrying a few whitelisted class attributes such as ``datetime.now``."""

    __slots__ = ("attrs", "real")

    def __init__(
        self,
        name: str,
        real: type | tuple[type, ...],
        fn: Callable[..., Any],
        attrs: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(name, fn)
        self.real = real
        self.attrs: Mapping[str, Any] = attrs or {}

    def __repr__(self) -> str:
        return f"<class '{self.name}'>"


class SafeMethod:
    """A whitelisted method bound to its object, made when a script reads ``x.append``
    without calling it (e.g. to pass ``d.get`` as a sort key)."""

    __slots__ = ("fn", "obj")

    def __init__(self, fn: Callable[..., Any], obj: Any) -> None:
        self.fn = fn
        self.obj = obj

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(self.obj, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<method of {type(self.obj).__name__} object>"


def unwrap_key(key: Any) -> Callable[..., Any] | None:
    """Turn a script-supplied ``key=`` argument into a host callable, refusing anything that is not
    one of our wrappers (lambdas do not exist in the dialect, so these are the only candidates)."""
    if key is None:
        return None
    if isinstance(key, SafeFunction):
        return key.fn
    if isinstance(key, SafeMethod):
        return key
    raise TypeError("key must be a built-in function such as len or str, or a method like d.get")
