"""Aggregated temporal values, computed by the database, checked on hand-made data."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smartcity.kernel.context.temporal import TemporalHistory
from smartcity.kernel.context.temporal_params import (
    AGGREGATION_METHODS,
    Aggregation,
    TemporalQuery,
    TimeWindow,
)
from smartcity.kernel.context.temporal_representation import aggregated
from smartcity.kernel.storage import Store
from tests.kernel.context.test_temporal_support import at, insert, iri, row

STATION = "urn:ngsi-ld:AirQualityObserved:station-1"
SPOT = "urn:ngsi-ld:ParkingSpot:spot-1"
ALL = Aggregation(methods=AGGREGATION_METHODS, period=timedelta(hours=1))  # type: ignore[arg-type]


@pytest.fixture
def history(store: Store) -> TemporalHistory:
    insert(
        store,
        [
            row(STATION, "no2", 1.0, at(minutes=0)),
            row(STATION, "no2", 2.0, at(minutes=15)),
            row(STATION, "no2", 3.0, at(minutes=30)),
            row(STATION, "no2", 4.0, at(minutes=45)),
            # nothing in hour 1
            row(STATION, "no2", 10.0, at(hours=2)),
            row(STATION, "no2", 10.0, at(hours=2, minutes=59, seconds=59)),
            row(STATION, "no2", 7.0, at(hours=3, minutes=30)),
            row(STATION, "no2", 100.0, at(hours=4)),  # endTimeAt is excluded
            row(SPOT, "status", "free", at(minutes=5), entity_type="ParkingSpot"),
            row(SPOT, "status", "occupied", at(minutes=10), entity_type="ParkingSpot"),
            row(SPOT, "status", "free", at(minutes=20), entity_type="ParkingSpot"),
        ],
    )
    return TemporalHistory(store)


def between(start: float, end: float) -> TimeWindow:
    return TimeWindow(timerel="between", time_at=at(hours=start), end_time_at=at(hours=end))


def attribute(
    history: TemporalHistory,
    entity_id: str,
    name: str,
    window: TimeWindow,
    aggregation: Aggregation = ALL,
) -> Any:
    entity = history.retrieve("", entity_id, TemporalQuery(window=window), aggregation=aggregation)
    return aggregated(entity, aggregation.methods)[iri(name)]


def test_hourly_aggregates_are_exact_and_empty_hours_absent(history: TemporalHistory) -> None:
    no2 = attribute(history, STATION, "no2", between(0, 4))
    assert no2["type"] == "Property"
    hour0 = ("2026-11-20T00:00:00Z", "2026-11-20T01:00:00Z")
    hour2 = ("2026-11-20T02:00:00Z", "2026-11-20T03:00:00Z")
    hour3 = ("2026-11-20T03:00:00Z", "2026-11-20T04:00:00Z")
    assert no2["totalCount"] == [[4, *hour0], [2, *hour2], [1, *hour3]]
    assert no2["distinctCount"] == [[4, *hour0], [1, *hour2], [1, *hour3]]
    assert no2["sum"] == [[10.0, *hour0], [20.0, *hour2], [7.0, *hour3]]
    assert no2["avg"] == [[2.5, *hour0], [10.0, *hour2], [7.0, *hour3]]
    assert no2["min"] == [[1.0, *hour0], [10.0, *hour2], [7.0, *hour3]]
    assert no2["max"] == [[4.0, *hour0], [10.0, *hour2], [7.0, *hour3]]
    assert no2["sumsq"] == [[30.0, *hour0], [200.0, *hour2], [49.0, *hour3]]
    stddevs = [item[0] for item in no2["stddev"]]
    # population standard deviation: sqrt(mean of squares - square of mean)
    assert stddevs == pytest.approx([math.sqrt(1.25), 0.0, 0.0], abs=1e-9)
    assert [item[1:] for item in no2["stddev"]] == [list(hour0), list(hour2), list(hour3)]


def test_without_period_one_aggregate_spans_the_window(history: TemporalHistory) -> None:
    whole = Aggregation(methods=("totalCount", "sum", "max"))
    no2 = attribute(history, STATION, "no2", between(0, 4), whole)
    span = ("2026-11-20T00:00:00Z", "2026-11-20T04:00:00Z")
    assert no2["totalCount"] == [[7, *span]]
    assert no2["sum"] == [[37.0, *span]]
    assert no2["max"] == [[10.0, *span]]


def test_periods_before_time_at_run_back_from_it(history: TemporalHistory) -> None:
    window = TimeWindow(timerel="before", time_at=at(hours=3))
    two_hours = Aggregation(methods=("totalCount", "avg"), period=timedelta(hours=2))
    no2 = attribute(history, STATION, "no2", window, two_hours)
    assert no2["totalCount"] == [
        [4, "2026-11-19T23:00:00Z", "2026-11-20T01:00:00Z"],
        [2, "2026-11-20T01:00:00Z", "2026-11-20T03:00:00Z"],
    ]
    assert no2["avg"][0][0] == 2.5


def test_without_timerel_days_fall_on_midnight(history: TemporalHistory) -> None:
    daily = Aggregation(methods=("totalCount",), period=timedelta(days=1))
    no2 = attribute(history, STATION, "no2", TimeWindow(), daily)
    assert no2["totalCount"] == [[8, "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"]]


def test_text_values_count_but_have_no_numeric_aggregates(history: TemporalHistory) -> None:
    status = attribute(history, SPOT, "status", between(0, 1))
    hour0 = ["2026-11-20T00:00:00Z", "2026-11-20T01:00:00Z"]
    assert status["totalCount"] == [[3, *hour0]]
    assert status["distinctCount"] == [[2, *hour0]]
    assert status["avg"] == [] and status["sum"] == []


def test_dataset_instances_aggregate_separately(store: Store) -> None:
    insert(
        store,
        [
            row(STATION, "no2", 1.0, at(minutes=1), dataset_id="urn:ngsi-ld:Dataset:a"),
            row(STATION, "no2", 3.0, at(minutes=2), dataset_id="urn:ngsi-ld:Dataset:a"),
            row(STATION, "no2", 50.0, at(minutes=3), dataset_id="urn:ngsi-ld:Dataset:b"),
        ],
    )
    sums = Aggregation(methods=("sum",), period=timedelta(hours=1))
    no2 = attribute(TemporalHistory(store), STATION, "no2", between(0, 1), sums)
    hour0 = ["2026-11-20T00:00:00Z", "2026-11-20T01:00:00Z"]
    assert no2 == [
        {"type": "Property", "datasetId": "urn:ngsi-ld:Dataset:a", "sum": [[4.0, *hour0]]},
        {"type": "Property", "datasetId": "urn:ngsi-ld:Dataset:b", "sum": [[50.0, *hour0]]},
    ]


def test_other_tenants_values_are_not_aggregated(store: Store) -> None:
    insert(
        store,
        [
            row(STATION, "no2", 1.0, at(minutes=1), tenant="environment"),
            row(STATION, "no2", 1000.0, at(minutes=2), tenant="transport"),
        ],
    )
    history = TemporalHistory(store)
    query = TemporalQuery(window=between(0, 1))
    entity = history.retrieve("environment", STATION, query, aggregation=ALL)
    assert aggregated(entity, ("sum",))[iri("no2")]["sum"][0][0] == 1.0


def test_periods_of_the_last_partial_hour_end_at_the_window(history: TemporalHistory) -> None:
    no2 = attribute(history, STATION, "no2", between(0, 3.75))
    assert no2["totalCount"][-1] == [1, "2026-11-20T03:00:00Z", "2026-11-20T03:45:00Z"]


@pytest.mark.parametrize(
    ("timerel", "period"),
    [
        ("between", timedelta(minutes=7)),
        ("before", timedelta(seconds=90)),
        ("after", timedelta(hours=1)),
        (None, timedelta(days=1)),
    ],
)
def test_period_numbers_match_exact_arithmetic(
    store: Store, timerel: str | None, period: timedelta
) -> None:
    """Random millisecond instants land in the period exact arithmetic puts them in,
    including instants exactly on a period boundary."""
    generator = random.Random(20261120)
    time_at = at(hours=6)
    end_time_at = at(hours=12) if timerel == "between" else None
    offsets = [
        timedelta(milliseconds=generator.randrange(-6 * 3600_000, 6 * 3600_000)) for _ in range(150)
    ]
    offsets += [k * period for k in range(-3, 4)]  # on the boundaries
    instants = [time_at + offset for offset in offsets]
    insert(store, [row(STATION, "no2", 1.0, instant) for instant in instants])
    window = TimeWindow(
        timerel=timerel,  # type: ignore[arg-type]
        time_at=time_at if timerel else None,
        end_time_at=end_time_at,
    )
    counts = Aggregation(methods=("totalCount",), period=period)
    entity = TemporalHistory(store).retrieve(
        "", STATION, TemporalQuery(window=window), aggregation=counts
    )
    found = {(p.start, p.end): p.values["totalCount"] for p in entity.periods}

    expected: dict[tuple[datetime, datetime], int] = {}
    origin = time_at if timerel else datetime(1, 1, 1, tzinfo=UTC)
    for instant in instants:
        if timerel == "before" and not instant < time_at:
            continue
        if timerel in ("after", "between") and not instant >= time_at:
            continue
        if end_time_at is not None and not instant < end_time_at:
            continue
        if timerel == "before":
            number = -((time_at - instant) // -period) - 1  # ceil(d / p) - 1
            end = time_at - number * period
            key = (end - period, end)
        else:
            start = origin + ((instant - origin) // period) * period
            key = (start, min(start + period, end_time_at) if end_time_at else start + period)
        expected[key] = expected.get(key, 0) + 1
    assert found == expected


def test_a_page_of_many_entities_gets_each_its_recorded_type(store: Store) -> None:
    # More entities than one type lookup statement takes (and than SQLite's 500 terms
    # of a compound SELECT), of two types.
    ids = [f"urn:ngsi-ld:Thing:{number:04d}" for number in range(600)]
    insert(
        store,
        [
            row(entity_id, "no2", 1.0, at(minutes=1), entity_type=f"Kind{number % 2}")
            for number, entity_id in enumerate(ids)
        ],
    )
    query = TemporalQuery(window=between(0, 1), limit=1000)
    sums = Aggregation(methods=("sum",), period=timedelta(hours=1))
    page = TemporalHistory(store).query("", query, aggregation=sums)
    assert [entity.id for entity in page.entities] == ids
    assert [entity.type for entity in page.entities] == [
        iri(f"Kind{number % 2}") for number in range(600)
    ]
