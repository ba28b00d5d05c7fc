"""An event's changed variables as the engine keeps them (one flat tuple) and as dicts.

``state.flat_changes`` and ``state.changes_dict`` convert between the two on every store
write and read; whatever the variables, the round trip gives them back in order, and a flat
tuple that lost a value is refused instead of pairing names with the wrong values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liucheng.engine.state import changes_dict, event_of, flat_changes

VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.datetimes(timezones=st.just(UTC)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


@given(st.dictionaries(st.text(max_size=12), VALUES, max_size=8))
def test_changed_variables_round_trip_in_order(variables: dict[str, Any]) -> None:
    flat = flat_changes(variables)
    assert len(flat) == 2 * len(variables)
    assert flat[0::2] == tuple(variables)
    back = changes_dict(flat)
    assert back == variables and list(back) == list(variables)
    assert back is not variables


def test_a_flat_tuple_without_its_last_value_is_refused() -> None:
    with pytest.raises(ValueError):
        changes_dict(("approved", True, "level"))


def test_the_typed_event_gives_the_changes_as_a_dict() -> None:
    at = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    raw = (7, at, "task_completed", "review", 1, ("approved", True, "level", 2), "c.3")
    event = event_of(raw)
    assert event.variables == {"approved": True, "level": 2}
    assert event_of((8, at, "element_completed", "review", 1, None, None)).variables is None
