"""Driver-level batches: the parameter tuples and instance ids the write path sends."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from smartcity.kernel.context.bulk import driver_rows

NAMES = ("a", "b", "c", "d")


def _tag(value: Any) -> tuple[str, Any]:
    return ("converted", value)


@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {name: st.one_of(st.integers(), st.none(), st.text(max_size=3)) for name in NAMES}
        ),
        min_size=1,
        max_size=20,
    ),
    names=st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True),
    converted=st.sets(st.sampled_from(NAMES)),
)
def test_driver_rows_are_each_row_in_statement_order_converted(
    rows: list[dict[str, Any]], names: list[str], converted: set[str]
) -> None:
    processors = [_tag if name in converted else None for name in names]
    expected = [
        tuple(_tag(row[name]) if name in converted else row[name] for name in names) for row in rows
    ]
    assert driver_rows(rows, names, processors) == expected


def test_unhashable_values_are_converted_one_by_one() -> None:
    rows = [{"a": [1], "b": 2}, {"a": [1], "b": 3}]
    assert driver_rows(rows, ["b", "a"], [None, len]) == [(2, 1), (3, 1)]
