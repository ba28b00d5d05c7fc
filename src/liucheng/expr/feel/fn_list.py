"""List built-ins.  Aggregates accept a list or the items as arguments (``max(1, 2)``);
mixed or non-numeric items give null, as do empty lists where no value makes sense."""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from . import ops
from .clock import Budget
from .registry import bounded, builtin, spread
from .values import CTX, FeelFunction


def _numbers(args: tuple[Any, ...]) -> list[Decimal] | None:
    items = spread(args)
    if not items or any(type(x) is not Decimal for x in items):
        return None
    return items


def _extreme(args: tuple[Any, ...], want: int) -> Any:
    items = spread(args)
    if not items:
        return None
    best = items[0]
    for x in items[1:]:
        c = ops.compare(x, best)
        if c is None:
            return None
        if c == want:
            best = x
    return best if ops.compare(best, best) is not None else None


@builtin("min(list: list)", varargs=True)
def min_(*args: Any) -> Any:
    return _extreme(args, -1)


@builtin("max(list: list)", varargs=True)
def max_(*args: Any) -> Any:
    return _extreme(args, 1)


@builtin("sum(list: list)", varargs=True)
def sum_(*args: Any) -> Decimal | None:
    nums = _numbers(args)
    return None if nums is None else functools.reduce(CTX.add, nums, Decimal(0))


@builtin("product(list: list)", varargs=True)
def product(*args: Any) -> Decimal | None:
    nums = _numbers(args)
    return None if nums is None else functools.reduce(CTX.multiply, nums, Decimal(1))


@builtin("mean(list: list)", varargs=True)
def mean(*args: Any) -> Decimal | None:
    nums = _numbers(args)
    if nums is None:
        return None
    return CTX.divide(functools.reduce(CTX.add, nums, Decimal(0)), Decimal(len(nums)))


@builtin("median(list: list)", varargs=True)
def median(*args: Any) -> Decimal | None:
    nums = _numbers(args)
    if nums is None:
        return None
    s = sorted(nums)
    mid = len(s) // 2
    if len(s) % 2:
        return s[mid]
    return CTX.divide(CTX.add(s[mid - 1], s[mid]), Decimal(2))


@builtin("stddev(list: list)", varargs=True)
def stddev(*args: Any) -> Decimal | None:
    nums = _numbers(args)
    if nums is None or len(nums) < 2:
        return None
    m = CTX.divide(functools.reduce(CTX.add, nums, Decimal(0)), Decimal(len(nums)))
    sq = functools.reduce(CTX.add, (CTX.power(CTX.subtract(x, m), 2) for x in nums), Decimal(0))
    return CTX.sqrt(CTX.divide(sq, Decimal(len(nums) - 1)))


@builtin("mode(list: list)", varargs=True)
def mode(*args: Any) -> list[Decimal] | None:
    nums = spread(args)
    if nums is None or any(type(x) is not Decimal for x in nums):
        return None
    counts: dict[Decimal, int] = {}
    for x in nums:
        counts[x] = counts.get(x, 0) + 1
    if not counts:
        return []
    top = max(counts.values())
    return sorted(k for k, v in counts.items() if v == top)


def _booleans(args: tuple[Any, ...], stop: bool) -> bool | None:
    items = spread(args)
    if items is None:
        return None
    seen_null = False
    for x in items:
        if x is stop:
            return bool(stop)
        if type(x) is not bool:
            seen_null = True
    return None if seen_null else not stop


@builtin("all(list: list)", varargs=True)
def all_(*args: Any) -> bool | None:
    return _booleans(args, False)


@builtin("any(list: list)", varargs=True)
def any_(*args: Any) -> bool | None:
    return _booleans(args, True)


@builtin("and(list: list)", varargs=True)
def and_(*args: Any) -> bool | None:
    return _booleans(args, False)


@builtin("or(list: list)", varargs=True)
def or_(*args: Any) -> bool | None:
    return _booleans(args, True)


@builtin("list contains(list: list, element: any)")
def list_contains(items: list[Any], element: Any) -> bool:
    return any(ops.eq(x, element) is True for x in items)


@builtin("count(list: list)")
def count(items: list[Any]) -> Decimal:
    return Decimal(len(items))


@builtin("is empty(list: list)")
def is_empty(items: list[Any]) -> bool:
    return not items


def _position(items: list[Any], pos: Decimal, *, insert: bool = False) -> int | None:
    """0-based index for a FEEL 1-based (negative: from the end) position, or None."""
    i = int(pos)
    n = len(items) + (1 if insert else 0)
    if i != pos or i == 0 or abs(i) > n:
        return None
    return i - 1 if i > 0 else n + i


@builtin("sublist(list: list, start position: number, length?: number)")
def sublist(items: list[Any], start: Decimal, length: Decimal | None = None) -> list[Any] | None:
    i = _position(items, start)
    if i is None:
        return None
    if length is None:
        return items[i:]
    if length < 0 or int(length) != length:
        return None
    return items[i : i + int(length)]


@builtin("append(list: list, item: any)", varargs=True)
def append(items: Any, *more: Any) -> list[Any] | None:
    if type(items) is not list:
        return None
    return list(bounded([*items, *more]))


@builtin("concatenate(list: list)", varargs=True)
def concatenate(*lists: Any) -> list[Any] | None:
    out: list[Any] = []
    for x in lists:
        if type(x) is not list:
            return None
        out.extend(x)
        bounded(out)
    return out


@builtin("insert before(list: list, position: number, newItem: any)")
def insert_before(items: list[Any], pos: Decimal, item: Any) -> list[Any] | None:
    i = _position(items, pos)
    return None if i is None else [*items[:i], item, *items[i:]]


@builtin("remove(list: list, position: number)")
def remove(items: list[Any], pos: Decimal) -> list[Any] | None:
    i = _position(items, pos)
    return None if i is None else items[:i] + items[i + 1 :]


@builtin("reverse(list: list)")
def reverse(items: list[Any]) -> list[Any]:
    return items[::-1]


@builtin("index of(list: list, match: any)")
def index_of(items: list[Any], match: Any) -> list[Decimal]:
    return [Decimal(i + 1) for i, x in enumerate(items) if ops.eq(x, match) is True]


def _distinct(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    Budget.charge(len(items))
    for x in items:
        if not any(ops.eq(x, y) is True for y in out):
            out.append(x)
            Budget.charge(len(out))
    return out


@builtin("union(list: list)", varargs=True)
def union(*lists: Any) -> list[Any] | None:
    joined = concatenate(*lists)
    return None if joined is None else _distinct(joined)


@builtin("distinct values(list: list)")
def distinct_values(items: list[Any]) -> list[Any]:
    return _distinct(items)


@builtin("flatten(list: list)")
def flatten(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    todo = [iter(items)]
    while todo:
        for x in todo[-1]:
            if type(x) is list:
                todo.append(iter(x))
                break
            out.append(x)
            bounded(out)
        else:
            todo.pop()
    return out


@builtin("sort(list: list, precedes?: function)")
def sort(items: list[Any], precedes: FeelFunction | None = None) -> list[Any] | None:
    Budget.charge(len(items))
    if precedes is None:
        if any(ops.compare(x, items[0]) is None for x in items):
            return None
        return sorted(items, key=functools.cmp_to_key(_natural))
    before: Callable[..., Any] = precedes.call

    def cmp(a: Any, b: Any) -> int:
        Budget.charge(1)
        if before(a, b) is True:
            return -1
        return 1 if before(b, a) is True else 0

    return sorted(items, key=functools.cmp_to_key(cmp))


def _natural(a: Any, b: Any) -> int:
    return ops.compare(a, b) or 0
