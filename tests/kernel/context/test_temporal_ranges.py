"""Aggregation by range scans answers exactly what the general GROUP BY answers.

The general statement (``temporal_sql.aggregate``) is the reference: on the same random
history (numbers, texts, booleans, datasetIds, deleted records, several types and
tenants, instants on period boundaries) both paths must give the same page of
entities, the same periods and the same values, for every aggregation method.
"""

from __future__ import annotations

import random
from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from smartcity.kernel.context import temporal, temporal_ranges, temporal_sql
from smartcity.kernel.context.series import fill_series
from smartcity.kernel.context.tables import context_instance
from smartcity.kernel.context.temporal import TemporalHistory, TemporalPage
from smartcity.kernel.context.temporal_params import (
    AGGREGATION_METHODS,
    Aggregation,
    TemporalQuery,
    TimeWindow,
)
from smartcity.kernel.storage import Store
from tests.kernel.context.test_temporal_support import at, insert, iri, row

TYPES = ("AirQualityObserved", "ParkingSpot", "TrafficFlowObserved")


@pytest.fixture(autouse=True)
def _range_scans_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Range scans are tested on every backend, also where the library prefers a GROUP BY."""
    monkeypatch.setattr(temporal, "RANGE_SCAN_DIALECTS", frozenset({"sqlite", "postgresql"}))


NAMES = ("no2", "status", "intensity")


def _history(chance: random.Random) -> list[dict[str, Any]]:
    rows = []
    for number in range(12):
        entity_type = TYPES[number % len(TYPES)]
        entity_id = f"urn:ngsi-ld:{entity_type}:e{number:02d}"
        for _ in range(chance.randint(0, 40)):
            value: Any = chance.choice(
                [
                    float(chance.randint(0, 5)),
                    chance.uniform(-1e6, 1e6),
                    chance.choice(["free", "occupied"]),
                    chance.random() < 0.5,
                    {"nested": chance.randint(0, 2)},
                ]
            )
            # Some instants exactly on hour boundaries, some anywhere in two days.
            minutes = chance.choice([0, 60, 120, chance.uniform(-120, 48 * 60)])
            rows.append(
                row(
                    entity_id,
                    chance.choice(NAMES),
                    value,
                    at(minutes=minutes),
                    entity_type=entity_type,
                    tenant=chance.choice(["", "", "", "other"]),
                    dataset_id=chance.choice(["", "", "urn:ngsi-ld:Dataset:b"]),
                    deleted=chance.random() < 0.1,
                )
            )
    return rows


def _both(history: TemporalHistory, **arguments: Any) -> tuple[TemporalPage, TemporalPage]:
    fast = history.query("", **arguments)
    general_applies = temporal_ranges.applies
    try:
        temporal_ranges.applies = lambda *_: False  # type: ignore[assignment]
        reference = history.query("", **arguments)
    finally:
        temporal_ranges.applies = general_applies
    return fast, reference


def _plain(page: TemporalPage) -> list[Any]:
    """The page as plain values; sums of the same doubles in another order may differ in
    the last bits, so numbers are compared to 12 significant digits."""
    return [
        (
            entity.id,
            entity.type,
            [
                (
                    p.name,
                    p.dataset_id,
                    p.kind,
                    p.start,
                    p.end,
                    sorted((method, float(f"{value:.12g}")) for method, value in p.values.items()),
                )
                for p in entity.periods
            ],
        )
        for entity in page.entities
    ]


@pytest.mark.parametrize("seed", range(4))
def test_range_scans_equal_the_general_statement(store: Store, seed: int) -> None:
    chance = random.Random(seed)
    insert(store, _history(chance))
    history = TemporalHistory(store)
    periods = [None, timedelta(hours=1), timedelta(minutes=25), timedelta(days=1)]
    for _ in range(6):
        start = at(hours=chance.randint(-3, 30))
        window = TimeWindow(
            timerel="between",
            time_at=start,
            end_time_at=start + timedelta(hours=chance.randint(1, 30)),
        )
        types = tuple(iri(t) for t in chance.sample(TYPES, chance.randint(1, 2)))
        attrs = tuple(iri(n) for n in chance.sample(NAMES, chance.randint(1, 3)))
        query = TemporalQuery(
            window=window,
            types=types,
            attrs=attrs,
            limit=chance.randint(1, 6),
            offset=chance.randint(0, 3),
        )
        methods = tuple(chance.sample(AGGREGATION_METHODS, chance.randint(1, 8)))
        aggregation = Aggregation(methods=methods, period=chance.choice(periods))  # type: ignore[arg-type]
        assert temporal_ranges.applies(query, aggregation, None)
        fast, reference = _both(history, query=query, aggregation=aggregation)
        assert _plain(fast) == _plain(reference)


def test_range_scans_by_entity_ids_and_for_one_entity(store: Store) -> None:
    insert(store, _history(random.Random(7)))
    history = TemporalHistory(store)
    window = TimeWindow(timerel="between", time_at=at(hours=0), end_time_at=at(hours=24))
    ids = tuple(f"urn:ngsi-ld:{TYPES[n % 3]}:e{n:02d}" for n in (0, 4, 5, 11))
    everything = Aggregation(methods=AGGREGATION_METHODS, period=timedelta(hours=2))  # type: ignore[arg-type]
    query = TemporalQuery(window=window, ids=ids, attrs=tuple(iri(n) for n in NAMES))
    fast, reference = _both(history, query=query, aggregation=everything)
    assert fast.entities
    assert _plain(fast) == _plain(reference)
    one = history.retrieve("", ids[0], query, aggregation=everything)
    assert _plain(TemporalPage([one])) == _plain(TemporalPage(fast.entities[:1]))


def test_the_walk_over_entities_stops_at_the_end_of_the_page(store: Store) -> None:
    rows = [
        row(f"urn:ngsi-ld:AirQualityObserved:s{n:03d}", "no2", float(n), at(minutes=n))
        for n in range(150)
    ]
    insert(store, rows)
    window = TimeWindow(timerel="between", time_at=at(hours=0), end_time_at=at(hours=3))
    query = TemporalQuery(
        window=window, types=(iri("AirQualityObserved"),), attrs=(iri("no2"),), limit=7, offset=140
    )
    page = TemporalHistory(store).query(
        "", query, aggregation=Aggregation(methods=("sum",), period=timedelta(hours=1))
    )
    assert [entity.id[-3:] for entity in page.entities] == [f"{n:03d}" for n in range(140, 147)]
    assert [entity.periods[0].values["sum"] for entity in page.entities] == [
        float(n) for n in range(140, 147)
    ]


@pytest.mark.parametrize("seed", range(3))
def test_date_bin_groups_equal_numbered_periods(
    store: Store, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL groups by ``date_bin``; the same periods as numbering each row's period."""
    if store.dialect != "postgresql":
        pytest.skip("date_bin grouping is PostgreSQL's")
    monkeypatch.setattr(temporal, "RANGE_SCAN_DIALECTS", frozenset())
    chance = random.Random(seed)
    insert(store, _history(chance))
    history = TemporalHistory(store)
    periods = [timedelta(hours=1), timedelta(minutes=25), timedelta(days=1), timedelta(seconds=7)]
    for timerel in ("before", "after", "between", None):
        start = at(hours=chance.randint(-3, 30))
        window = TimeWindow(
            timerel=timerel,  # type: ignore[arg-type]
            time_at=None if timerel is None else start,
            end_time_at=start + timedelta(hours=chance.randint(1, 30))
            if timerel == "between"
            else None,
        )
        query = TemporalQuery(
            window=window,
            types=tuple(iri(t) for t in chance.sample(TYPES, chance.randint(1, 3))),
            limit=chance.randint(1, 12),
            offset=chance.randint(0, 3),
        )
        methods = tuple(chance.sample(AGGREGATION_METHODS, chance.randint(1, 8)))
        aggregation = Aggregation(methods=methods, period=chance.choice(periods))  # type: ignore[arg-type]
        binned = history.query("", query=query, aggregation=aggregation)
        with monkeypatch.context() as patch:
            patch.setattr(temporal, "aggregate", partial(temporal_sql.aggregate, binned=False))
            reference = history.query("", query=query, aggregation=aggregation)
        assert binned.entities or not reference.entities
        assert _plain(binned) == _plain(reference)


def test_an_aggregation_without_a_transaction_leaves_the_connection_transactional(
    store: Store,
) -> None:
    """PostgreSQL answers the range scans in one statement outside a transaction; the
    pooled connection must come back to the next user with transactions again."""
    insert(store, [row("urn:ngsi-ld:AirQualityObserved:s1", "no2", 2.0, at(minutes=5))])
    window = TimeWindow(timerel="between", time_at=at(hours=0), end_time_at=at(hours=1))
    query = TemporalQuery(window=window, types=(iri("AirQualityObserved"),), attrs=(iri("no2"),))
    page = TemporalHistory(store).query(
        "", query, aggregation=Aggregation(methods=("avg",), period=None), count=True
    )
    assert page.count == 1
    assert page.entities[0].periods[0].values == {"avg": 2.0}
    one = TemporalHistory(store).retrieve(
        "", "urn:ngsi-ld:AirQualityObserved:s1", query, aggregation=Aggregation(methods=("sum",))
    )
    assert one.periods[0].values == {"sum": 2.0}
    # A write not committed is rolled back on every connection of the pool.
    for _ in range(3):
        with store.connect() as conn:
            written = [row("urn:ngsi-ld:AirQualityObserved:s2", "no2", 1.0, at(minutes=6))]
            fill_series(conn, written)
            store.bulk_insert(conn, context_instance, written)
    assert [e.id for e in TemporalHistory(store).query("", query).entities] == [
        "urn:ngsi-ld:AirQualityObserved:s1"
    ]
