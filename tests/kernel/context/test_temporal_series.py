"""History rows are indexed by series (decision 0014): what a user reads is unchanged.

An attribute instance whose entity was replaced under another type has two series; its
periods must still come out once each, counting the rows of both, on every path.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from smartcity.kernel.context.tables import context_series
from smartcity.kernel.context.temporal import TemporalHistory
from smartcity.kernel.context.temporal_params import Aggregation, TemporalQuery, TimeWindow
from smartcity.kernel.storage import Store
from tests.kernel.context.test_temporal_support import at, insert, iri, row

ENTITY = "urn:ngsi-ld:Thing:t1"


def _two_types(store: Store) -> None:
    insert(
        store,
        [
            *(row(ENTITY, "no2", 1.0, at(minutes=m), entity_type="Before") for m in (5, 65)),
            *(row(ENTITY, "no2", 3.0, at(minutes=m), entity_type="After") for m in (10, 70, 130)),
        ],
    )


def _counts(history: TemporalHistory, query: TemporalQuery) -> list[tuple[str, float, float]]:
    aggregation = Aggregation(methods=("totalCount", "avg"), period=timedelta(hours=1))
    page = history.query("", query, aggregation=aggregation)
    return [
        (p.name, p.values["totalCount"], p.values["avg"])
        for entity in page.entities
        for p in entity.periods
    ]


def test_an_attribute_under_two_types_keeps_one_period_each(store: Store) -> None:
    _two_types(store)
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(context_series)).scalar_one() == 2
    history = TemporalHistory(store)
    window = TimeWindow(timerel="between", time_at=at(hours=0), end_time_at=at(hours=3))
    expected = [(iri("no2"), 2, 2.0), (iri("no2"), 2, 2.0), (iri("no2"), 1, 3.0)]
    # Named attributes and a between window: the range scans.
    ranges = TemporalQuery(window=window, ids=(ENTITY,), attrs=(iri("no2"),))
    assert _counts(history, ranges) == expected
    # No attributes named: the general GROUP BY.
    general = TemporalQuery(window=window, ids=(ENTITY,))
    assert _counts(history, general) == expected
    # By type: each type sees its own rows only.
    by_type = TemporalQuery(window=window, types=(iri("Before"),))
    assert _counts(history, by_type) == [(iri("no2"), 1, 1.0), (iri("no2"), 1, 1.0)]


def test_a_history_read_returns_the_rows_of_both_series(store: Store) -> None:
    _two_types(store)
    history = TemporalHistory(store)
    window = TimeWindow(timerel="between", time_at=at(hours=0), end_time_at=at(hours=3))
    page = history.query("", TemporalQuery(window=window, ids=(ENTITY,)))
    assert len(page.entities[0].instances) == 5
