"""Temporal history reads: time windows, lastN, filters, tenants (both backends)."""

from __future__ import annotations

import pytest

from smartcity.kernel.context.errors import ResourceNotFound
from smartcity.kernel.context.temporal import TemporalEntity, TemporalHistory
from smartcity.kernel.context.temporal_params import TemporalQuery, TimeWindow
from smartcity.kernel.context.temporal_representation import normalized, simplified
from smartcity.kernel.storage import Store
from tests.kernel.context.test_temporal_support import at, insert, iri, row

STATION = "urn:ngsi-ld:AirQualityObserved:station-1"
OTHER = "urn:ngsi-ld:AirQualityObserved:station-2"
PARKING = "urn:ngsi-ld:ParkingSpot:spot-1"


@pytest.fixture
def history(store: Store) -> TemporalHistory:
    insert(
        store,
        [
            row(STATION, "no2", 10.0, at(hours=0)),
            row(STATION, "no2", 11.0, at(hours=1)),
            row(STATION, "no2", 12.0, at(hours=2)),
            row(STATION, "no2", 13.0, at(hours=3)),
            row(STATION, "pm10", 40.0, at(hours=1)),
            row(OTHER, "no2", 20.0, at(hours=1)),
            row(PARKING, "status", "free", at(hours=1), entity_type="ParkingSpot"),
            row(PARKING, "status", "occupied", at(hours=2), entity_type="ParkingSpot"),
        ],
    )
    return TemporalHistory(store)


def values(entity: TemporalEntity, name: str) -> list[object]:
    return [i.attribute["value"] for i in entity.instances if i.name == iri(name)]


def window(timerel: str | None = None, start: float = 0, end: float | None = None) -> TimeWindow:
    return TimeWindow(
        timerel=timerel,  # type: ignore[arg-type]
        time_at=at(hours=start) if timerel else None,
        end_time_at=at(hours=end) if end is not None else None,
    )


def test_before_is_strictly_before_time_at(history: TemporalHistory) -> None:
    entity = history.retrieve("", STATION, TemporalQuery(window=window("before", 2)))
    assert values(entity, "no2") == [10.0, 11.0]


def test_after_includes_time_at(history: TemporalHistory) -> None:
    entity = history.retrieve("", STATION, TemporalQuery(window=window("after", 2)))
    assert values(entity, "no2") == [12.0, 13.0]


def test_between_includes_start_and_excludes_end(history: TemporalHistory) -> None:
    entity = history.retrieve("", STATION, TemporalQuery(window=window("between", 1, 3)))
    assert values(entity, "no2") == [11.0, 12.0]
    assert values(entity, "pm10") == [40.0]


def test_last_n_keeps_the_latest_per_attribute_oldest_first(history: TemporalHistory) -> None:
    entity = history.retrieve("", STATION, TemporalQuery(last_n=2))
    assert values(entity, "no2") == [12.0, 13.0]
    assert values(entity, "pm10") == [40.0]


def test_last_n_applies_within_the_time_window(history: TemporalHistory) -> None:
    entity = history.retrieve("", STATION, TemporalQuery(window=window("before", 3), last_n=2))
    assert values(entity, "no2") == [11.0, 12.0]


def test_timeproperty_modified_at_filters_on_when_recorded(store: Store) -> None:
    insert(
        store,
        [
            row(STATION, "no2", 1.0, at(hours=0), recorded_at=at(hours=5)),
            row(STATION, "no2", 2.0, at(hours=1), recorded_at=at(hours=1)),
        ],
    )
    query = TemporalQuery(
        window=TimeWindow(timerel="after", time_at=at(hours=4), timeproperty="modifiedAt")
    )
    entity = TemporalHistory(store).retrieve("", STATION, query)
    assert values(entity, "no2") == [1.0]


def test_query_selects_by_type_attrs_id_and_pattern(history: TemporalHistory) -> None:
    by_type = history.query("", TemporalQuery(types=(iri("ParkingSpot"),)))
    assert [e.id for e in by_type.entities] == [PARKING]
    assert by_type.entities[0].type == iri("ParkingSpot")
    by_attr = history.query("", TemporalQuery(attrs=(iri("pm10"),)))
    assert [(e.id, values(e, "pm10")) for e in by_attr.entities] == [(STATION, [40.0])]
    by_id = history.query("", TemporalQuery(ids=(OTHER,)))
    assert [e.id for e in by_id.entities] == [OTHER]
    by_pattern = history.query("", TemporalQuery(id_pattern=r"station-\d$"))
    assert [e.id for e in by_pattern.entities] == [STATION, OTHER]


def test_query_pages_by_entity_id_and_counts(history: TemporalHistory) -> None:
    first = history.query("", TemporalQuery(limit=2), count=True)
    second = history.query("", TemporalQuery(limit=2, offset=2), count=True)
    assert first.count == second.count == 3
    ids = [e.id for e in first.entities + second.entities]
    assert ids == sorted([STATION, OTHER, PARKING])
    only_count = history.query("", TemporalQuery(limit=0), count=True)
    assert only_count.entities == [] and only_count.count == 3


def test_entities_without_instances_in_the_window_are_left_out(history: TemporalHistory) -> None:
    page = history.query("", TemporalQuery(window=window("after", 3)))
    assert [e.id for e in page.entities] == [STATION]


def test_dataset_instances_are_kept_apart(store: Store) -> None:
    insert(
        store,
        [
            row(STATION, "no2", 1.0, at(hours=0), dataset_id="urn:ngsi-ld:Dataset:a"),
            row(STATION, "no2", 2.0, at(hours=1), dataset_id="urn:ngsi-ld:Dataset:b"),
            row(STATION, "no2", 3.0, at(hours=2), dataset_id="urn:ngsi-ld:Dataset:a"),
        ],
    )
    entity = TemporalHistory(store).retrieve("", STATION, TemporalQuery(last_n=1))
    latest = {i.dataset_id: i.attribute["value"] for i in entity.instances}
    assert latest == {"urn:ngsi-ld:Dataset:a": 3.0, "urn:ngsi-ld:Dataset:b": 2.0}
    document = simplified(TemporalHistory(store).retrieve("", STATION, TemporalQuery()))
    assert document[iri("no2")] == [
        {
            "type": "Property",
            "datasetId": "urn:ngsi-ld:Dataset:a",
            "values": [[1.0, "2026-11-20T00:00:00Z"], [3.0, "2026-11-20T02:00:00Z"]],
        },
        {
            "type": "Property",
            "datasetId": "urn:ngsi-ld:Dataset:b",
            "values": [[2.0, "2026-11-20T01:00:00Z"]],
        },
    ]


def test_tenants_see_only_their_own_history(store: Store) -> None:
    insert(
        store,
        [
            row(STATION, "no2", 1.0, at(hours=0), tenant="environment"),
            row(STATION, "no2", 2.0, at(hours=0), tenant="transport"),
        ],
    )
    history = TemporalHistory(store)
    assert values(history.retrieve("environment", STATION, TemporalQuery()), "no2") == [1.0]
    assert [e.id for e in history.query("", TemporalQuery()).entities] == []
    with pytest.raises(ResourceNotFound):
        history.retrieve("", STATION, TemporalQuery())


def test_deletion_records_are_not_values(store: Store) -> None:
    insert(
        store,
        [
            row(STATION, "no2", 1.0, at(hours=0)),
            row(STATION, "no2", None, at(hours=1), deleted=True),
        ],
    )
    entity = TemporalHistory(store).retrieve("", STATION, TemporalQuery())
    assert values(entity, "no2") == [1.0]


def test_unknown_entity_is_resource_not_found(history: TemporalHistory) -> None:
    with pytest.raises(ResourceNotFound):
        history.retrieve("", "urn:ngsi-ld:Thing:none", TemporalQuery())


def test_normalized_representation_carries_instance_ids(history: TemporalHistory) -> None:
    entity = history.retrieve("", PARKING, TemporalQuery())
    document = normalized(entity, sys_attrs=True)
    first, second = document[iri("status")]
    assert first["value"] == "free" and second["value"] == "occupied"
    assert first["observedAt"] == "2026-11-20T01:00:00Z"
    assert first["instanceId"].startswith("urn:ngsi-ld:attribute:instance:")
    assert first["instanceId"] != second["instanceId"]
    assert first["createdAt"] == "2026-11-20T01:00:00Z"
    assert document["type"] == iri("ParkingSpot")
