"""Driver-level batches: the parameter tuples and instance ids the write path sends."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from smartcity.kernel.context.bulk import driver_rows, random_uuids

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


def test_random_uuids_are_distinct_version_4_uuids() -> None:
    ids = random_uuids(2000)
    assert len(set(ids)) == 2000
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_random_uuids_carry_their_prefix() -> None:
    prefix = "urn:ngsi-ld:attribute:instance:"
    ids = random_uuids(300, prefix)
    assert len(set(ids)) == 300
    for text in ids:
        assert text.startswith(prefix)
        assert uuid.UUID(text.removeprefix(prefix)).version == 4
    assert random_uuids(0, prefix) == []


def test_random_uuids_of_every_small_count_are_version_4_uuids() -> None:
    # A few ids are formatted one by one, many laid out column-wise: both are UUIDs.
    prefix = "urn:ngsi-ld:attribute:instance:"
    for count in range(1, 40):
        ids = random_uuids(count, prefix)
        assert len(ids) == count == len(set(ids))
        for text in ids:
            parsed = uuid.UUID(text.removeprefix(prefix))
            assert prefix + str(parsed) == text
            assert parsed.version == 4
            assert parsed.variant == uuid.RFC_4122
