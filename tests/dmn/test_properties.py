"""Property tests: random integer rule tables against a brute-force reading of the same rules.

Each generated entry is kept twice: as the FEEL text written into the DMN file, and as a plain
Python predicate written independently here.  For random inputs, the DMN layer must agree with
the predicates for every hit policy: FIRST is the first match, RULE ORDER all matches in order,
COLLECT SUM/MIN/MAX/COUNT the aggregate of the matches, UNIQUE the one match or an error.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from liucheng.dmn import DmnEvaluationError, parse_dmn

Entry = tuple[str, Callable[[int | None], bool]]
SMALL = st.integers(min_value=-5, max_value=5)


def _cmp(op: str, k: int) -> Entry:
    tests: dict[str, Callable[[int, int], bool]] = {
        "<": lambda x, k: x < k,
        "<=": lambda x, k: x <= k,
        ">": lambda x, k: x > k,
        ">=": lambda x, k: x >= k,
    }
    fn = tests[op]
    return f"{op} {k}", lambda x: x is not None and fn(x, k)


@st.composite
def entries(draw: st.DrawFn) -> Entry:
    kind = draw(st.sampled_from(["any", "empty", "cmp", "eq", "range", "list", "not", "q"]))
    k = draw(SMALL)
    if kind == "any":
        return "-", lambda x: True
    if kind == "empty":
        return "", lambda x: True
    if kind == "cmp":
        return _cmp(draw(st.sampled_from(["<", "<=", ">", ">="])), k)
    if kind == "eq":
        return str(k), lambda x: x == k
    if kind == "range":
        lo, hi = sorted((k, draw(SMALL)))
        open_lo, open_hi = draw(st.booleans()), draw(st.booleans())
        text = f"{'(' if open_lo else '['}{lo}..{hi}{')' if open_hi else ']'}"

        def in_range(x: int | None) -> bool:
            if x is None:
                return False
            above = x > lo if open_lo else x >= lo
            below = x < hi if open_hi else x <= hi
            return above and below

        return text, in_range
    if kind == "list":
        j = draw(SMALL)
        return f"{k}, {j}", lambda x: x in (k, j)
    if kind == "not":
        return f"not({k})", lambda x: x != k
    return f"? > {k}", lambda x: x is not None and x > k


@st.composite
def tables(draw: st.DrawFn) -> tuple[int, list[tuple[list[Entry], int]]]:
    n_inputs = draw(st.integers(min_value=1, max_value=3))
    rules = draw(
        st.lists(
            st.tuples(st.lists(entries(), min_size=n_inputs, max_size=n_inputs), SMALL),
            max_size=8,
        )
    )
    return n_inputs, rules


def _table(ident: str, policy: str, n_inputs: int, rules: list[tuple[list[Entry], int]]) -> str:
    hit, _, aggregation = policy.partition("+")
    agg = f' aggregation="{aggregation}"' if aggregation else ""
    inputs = "".join(
        f'<input id="{ident}_i{k}"><inputExpression id="{ident}_e{k}" typeRef="number">'
        f"<text>x{k}</text></inputExpression></input>"
        for k in range(n_inputs)
    )
    body = []
    for n, (cells, out) in enumerate(rules):
        entries_xml = "".join(
            f"<inputEntry><text>{text.replace('<', '&lt;').replace('>', '&gt;')}</text>"
            "</inputEntry>"
            for text, _ in cells
        )
        body.append(
            f'<rule id="{ident}_r{n}">{entries_xml}<outputEntry><text>{out}</text>'
            "</outputEntry></rule>"
        )
    return (
        f'<decision id="{ident}" name="{ident}"><decisionTable hitPolicy="{hit}"{agg}>'
        f'{inputs}<output name="out" typeRef="number"/>{"".join(body)}</decisionTable></decision>'
    )


POLICIES = {
    "first": "FIRST",
    "rule_order": "RULE ORDER",
    "collect": "COLLECT",
    "total": "COLLECT+SUM",
    "smallest": "COLLECT+MIN",
    "largest": "COLLECT+MAX",
    "count": "COLLECT+COUNT",
    "unique": "UNIQUE",
}


def _model(n_inputs: int, rules: list[tuple[list[Entry], int]]) -> str:
    decisions = "".join(_table(i, p, n_inputs, rules) for i, p in POLICIES.items())
    return (
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="p" '
        f'namespace="urn:p">{decisions}</definitions>'
    )


@settings(max_examples=150, deadline=None)
@given(
    table=tables(),
    values=st.lists(st.one_of(SMALL, SMALL, SMALL, st.none()), min_size=3, max_size=3),
)
def test_hit_policies_agree_with_brute_force(
    table: tuple[int, list[tuple[list[Entry], int]]], values: list[int | None]
) -> None:
    n_inputs, rules = table
    model = parse_dmn(_model(n_inputs, rules), "generated.dmn")
    variables: dict[str, Any] = {f"x{k}": values[k] for k in range(n_inputs)}
    matches = [
        Decimal(out)
        for cells, out in rules
        if all(test(values[k]) for k, (_, test) in enumerate(cells))
    ]
    assert model.evaluate("first", variables) == (matches[0] if matches else None)
    assert model.evaluate("rule_order", variables) == matches
    assert model.evaluate("collect", variables) == matches
    assert model.evaluate("total", variables) == (sum(matches) if matches else None)
    assert model.evaluate("smallest", variables) == (min(matches) if matches else None)
    assert model.evaluate("largest", variables) == (max(matches) if matches else None)
    assert model.evaluate("count", variables) == len(matches)
    if len(matches) > 1:
        try:
            model.evaluate("unique", variables)
        except DmnEvaluationError as exc:
            assert "hit policy UNIQUE allows one matching rule" in str(exc)
        else:
            raise AssertionError("UNIQUE accepted several matching rules")
    else:
        assert model.evaluate("unique", variables) == (matches[0] if matches else None)


@settings(max_examples=50, deadline=None)
@given(table=tables(), values=st.lists(SMALL, min_size=3, max_size=3))
def test_matched_rules_are_the_brute_force_matches(
    table: tuple[int, list[tuple[list[Entry], int]]], values: list[int]
) -> None:
    n_inputs, rules = table
    model = parse_dmn(_model(n_inputs, rules), "generated.dmn")
    result = model.evaluate_detailed("rule_order", {f"x{k}": values[k] for k in range(n_inputs)})
    expected = [
        f"rule_order_r{n}"
        for n, (cells, _) in enumerate(rules)
        if all(test(values[k]) for k, (_, test) in enumerate(cells))
    ]
    assert list(result.matched_rule_ids) == expected
