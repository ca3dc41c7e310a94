"""UltraLight 2.0 parsing: examples, round trips, and only its own error on bad text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.gateways.iot.ultralight import (
    MeasureGroup,
    UltraLightSyntaxError,
    format_ultralight,
    parse_ultralight,
)


def test_pairs_become_measures() -> None:
    assert parse_ultralight("t|21.5|h|40\n") == [MeasureGroup({"t": "21.5", "h": "40"})]


def test_groups_with_leading_timestamps() -> None:
    groups = parse_ultralight("2026-11-21T09:00:00Z|t|21.5#2026-11-21T09:01:00+08:00|t|21.7")
    assert groups[0].observed_at == datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    assert groups[1].measures == {"t": "21.7"}
    assert groups[1].observed_at is not None and groups[1].observed_at.utcoffset() is not None


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("", "empty"),
        ("t|1#", "group 2 is empty"),
        ("t|1|h", "not an ISO 8601 timestamp"),
        ("|1", "empty key"),
        ("2026-11-21T09:00:00Z", "no measures"),
    ],
)
def test_bad_text_names_the_problem(payload: str, reason: str) -> None:
    with pytest.raises(UltraLightSyntaxError, match=reason):
        parse_ultralight(payload)


keys = st.text(
    st.characters(blacklist_characters="|#", blacklist_categories=("Cs", "Zs", "Cc", "Zl", "Zp")),
    min_size=1,
    max_size=12,
)
values = st.text(
    st.characters(blacklist_characters="|#", blacklist_categories=("Cs", "Zs", "Cc", "Zl", "Zp")),
    max_size=12,
)
instants = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
groups = st.builds(
    MeasureGroup,
    measures=st.dictionaries(keys, values, min_size=1, max_size=6),
    observed_at=st.none() | instants,
)


@given(st.lists(groups, min_size=1, max_size=5))
def test_formatted_groups_parse_back(generated: list[MeasureGroup]) -> None:
    assert parse_ultralight(format_ultralight(generated)) == generated


@given(st.text(max_size=80))
def test_any_text_parses_or_raises_the_parsers_own_error(text: str) -> None:
    try:
        parse_ultralight(text)
    except UltraLightSyntaxError as error:
        assert error.reason
