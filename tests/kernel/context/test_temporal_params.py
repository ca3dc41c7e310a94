"""Temporal query parameters: durations, instants, time windows, aggregation methods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.context.temporal_params import (
    TemporalQuery,
    parse_aggregation,
    parse_datetime,
    parse_duration,
    parse_time_window,
)

parts = st.integers(min_value=0, max_value=500)


@given(weeks=parts, days=parts, hours=parts, minutes=parts, seconds=parts)
def test_durations_read_back_what_was_written(
    weeks: int, days: int, hours: int, minutes: int, seconds: int
) -> None:
    text = f"P{weeks}W{days}DT{hours}H{minutes}M{seconds}S"
    expected = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    assert parse_duration(text) == expected


@given(st.text(max_size=20))
def test_any_text_is_a_duration_or_bad_request_data(text: str) -> None:
    try:
        duration = parse_duration(text)
    except BadRequestData as error:
        assert error.reason
    else:
        assert duration >= timedelta(0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT1H", timedelta(hours=1)),
        ("P1D", timedelta(days=1)),
        ("P1W", timedelta(weeks=1)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("P1DT12H", timedelta(days=1, hours=12)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["P", "PT", "P1DT", "1H", "PT1H30", "P1.5D", "", "PT-1H"])
def test_malformed_durations(text: str) -> None:
    with pytest.raises(BadRequestData):
        parse_duration(text)


@pytest.mark.parametrize("text", ["P1M", "P1Y", "P1Y2M3D"])
def test_months_and_years_are_refused_with_the_reason(text: str) -> None:
    with pytest.raises(BadRequestData, match="fixed length"):
        parse_duration(text)


@given(st.datetimes(timezones=st.just(UTC)))
def test_instants_read_back(instant: datetime) -> None:
    assert parse_datetime(instant.isoformat(), "timeAt") == instant


def test_instants_with_offsets_become_utc_and_naive_ones_are_utc() -> None:
    assert parse_datetime("2026-11-20T08:00:00+08:00", "timeAt") == datetime(
        2026, 11, 20, tzinfo=UTC
    )
    assert parse_datetime("2026-11-20T00:00:00", "timeAt") == datetime(2026, 11, 20, tzinfo=UTC)
    with pytest.raises(BadRequestData, match="timeAt"):
        parse_datetime("2026-11-20", "timeAt")


def test_time_windows() -> None:
    between = parse_time_window("between", "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z", None)
    assert between.start == datetime(2026, 11, 20, tzinfo=UTC)
    assert between.end == datetime(2026, 11, 21, tzinfo=UTC)
    before = parse_time_window("before", "2026-11-20T00:00:00Z", None, "modifiedAt")
    assert before.start is None and before.end == datetime(2026, 11, 20, tzinfo=UTC)
    assert before.timeproperty == "modifiedAt"
    assert parse_time_window(None, None, None, None).timerel is None


@pytest.mark.parametrize(
    ("timerel", "time_at", "end_time_at", "reason"),
    [
        ("between", "2026-11-21T00:00:00Z", "2026-11-20T00:00:00Z", "later than"),
        ("after", "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z", "only allowed"),
        (None, "2026-11-20T00:00:00Z", None, "need timerel"),
    ],
)
def test_inconsistent_windows(
    timerel: str | None, time_at: str, end_time_at: str | None, reason: str
) -> None:
    with pytest.raises(BadRequestData, match=reason):
        parse_time_window(timerel, time_at, end_time_at, None)


def test_aggregation_methods_and_whole_range_period() -> None:
    aggregation = parse_aggregation("avg, max,avg", "PT0S")
    assert aggregation.methods == ("avg", "max")
    assert aggregation.period is None
    assert parse_aggregation("sum", "PT15M").period == timedelta(minutes=15)


def test_paging_bounds() -> None:
    with pytest.raises(BadRequestData, match="limit"):
        TemporalQuery(limit=5000)
    with pytest.raises(BadRequestData, match="offset"):
        TemporalQuery(offset=-1)
