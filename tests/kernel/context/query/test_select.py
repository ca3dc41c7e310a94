"""Selections answered in SQL on the backend under test, and in memory: same answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.context.query import (
    build_selection,
    build_selector,
    matches,
    select_entity_ids,
)
from smartcity.kernel.context.query.selection import EntitySelection
from smartcity.kernel.storage import Store

from .conftest import VOCABULARY, entity, expand, point, prop, rel

BLOCK = {
    "type": "GeoProperty",
    "value": {
        "type": "Polygon",
        "coordinates": [
            [[119.59, 39.92], [119.61, 39.92], [119.61, 39.94], [119.59, 39.94], [119.59, 39.92]]
        ],
    },
}
ENTITIES = [
    entity(
        "urn:ngsi-ld:Sensor:1",
        "AirQualityObserved",
        temperature=prop(
            21.5,
            observedAt="2026-11-21T08:00:00Z",
            unitCode="CEL",
            **{VOCABULARY + "accuracy": prop(0.5)},
        ),
        name=prop("North station"),
        active=prop(True),
        address=prop({"city": "Qinhuangdao", "street": {"name": "Main"}}),
        refDevice=rel("urn:ngsi-ld:Device:1"),
        location=point(119.60, 39.93),
    ),
    entity(
        "urn:ngsi-ld:Sensor:2",
        ["AirQualityObserved", "Device"],
        temperature=prop(30, observedAt="2026-11-21T10:00:00+08:00"),
        name=prop("South station"),
        active=prop(False),
        address=prop({"city": "Beijing"}),
        location=point(119.62, 39.94),
    ),
    entity(
        "urn:ngsi-ld:Sensor:3",
        "WeatherObserved",
        temperature=[prop(-5), prop(12, datasetId="urn:ngsi-ld:dataset:backup")],
        name=prop("Harbor"),
        location=point(121.0, 31.0),
    ),
    entity(
        "urn:ngsi-ld:ParkingSpot:1",
        "ParkingSpot",
        status=prop("free"),
        location=BLOCK,
        observationSpace=point(119.0, 39.0),
    ),
]
ALL = [document["id"] for document in ENTITIES]


@pytest.fixture
def loaded(insert: Callable[..., None]) -> None:
    insert(ENTITIES)


def select(store: Store, selection: EntitySelection, **paging: Any) -> list[str]:
    """Ids in SQL, checked against the in-memory evaluator."""
    with store.connect() as conn:
        ids, _ = select_entity_ids(
            conn, selection, limit=paging.get("limit", 100), offset=0, count=False
        )
    assert ids == sorted(document["id"] for document in ENTITIES if matches(document, selection))
    return ids


def ids_for(store: Store, **parameters: Any) -> list[str]:
    return select(store, build_selection("", expand=expand, **parameters))


def short(ids: Sequence[str]) -> list[str]:
    return [entity_id.removeprefix("urn:ngsi-ld:") for entity_id in ids]


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(
    ("type_param", "expected"),
    [
        ("AirQualityObserved", ["Sensor:1", "Sensor:2"]),
        ("Device", ["Sensor:2"]),
        ("WeatherObserved,ParkingSpot", ["ParkingSpot:1", "Sensor:3"]),
        ("AirQualityObserved;Device", ["Sensor:2"]),
        ("(AirQualityObserved;Device)|WeatherObserved", ["Sensor:2", "Sensor:3"]),
        ("Nothing", []),
    ],
)
def test_types(store: Store, type_param: str, expected: list[str]) -> None:
    assert short(ids_for(store, type_param=type_param)) == expected


@pytest.mark.usefixtures("loaded")
def test_ids_pattern_and_attrs(store: Store) -> None:
    assert short(ids_for(store, id_param="urn:ngsi-ld:Sensor:3,urn:ngsi-ld:Sensor:1")) == [
        "Sensor:1",
        "Sensor:3",
    ]
    assert short(ids_for(store, id_pattern="Sensor:[12]$")) == ["Sensor:1", "Sensor:2"]
    assert short(ids_for(store, attrs_param="status,refDevice")) == ["ParkingSpot:1", "Sensor:1"]
    selectors = [
        build_selector(type_param="ParkingSpot", expand=expand),
        build_selector(id_param="urn:ngsi-ld:Sensor:2"),
    ]
    assert short(ids_for(store, selectors=selectors)) == ["ParkingSpot:1", "Sensor:2"]


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("temperature>20", ["Sensor:1", "Sensor:2"]),
        ("temperature==21.5", ["Sensor:1"]),
        ("temperature!=30", ["Sensor:1", "Sensor:3"]),
        ("temperature==10..25", ["Sensor:1", "Sensor:3"]),
        ("temperature!=-10..25", ["Sensor:2"]),
        ("temperature==-5,30", ["Sensor:2", "Sensor:3"]),
        ('name=="Harbor"', ["Sensor:3"]),
        ('name=="A".."O"', ["Sensor:3", "Sensor:1"][::-1]),
        ('name!="Harbor","South station"', ["Sensor:1"]),
        ("name~=station$", ["Sensor:1", "Sensor:2"]),
        ("name~=(?i)^harbor", ["Sensor:3"]),
        ('name!~="North"', ["Sensor:2", "Sensor:3"]),
        ("active==true", ["Sensor:1"]),
        ("active!=true", ["Sensor:2"]),
        ("refDevice==urn:ngsi-ld:Device:1", ["Sensor:1"]),
        ("status", ["ParkingSpot:1"]),
        ('address[city]=="Beijing"', ["Sensor:2"]),
        ('address[street][name]=="Main"', ["Sensor:1"]),
        ("address[street]", ["Sensor:1"]),
        ("temperature.accuracy<1", ["Sensor:1"]),
        ("temperature.observedAt>=2026-11-21T05:00:00Z", ["Sensor:1"]),
        ("temperature.observedAt<2026-11-21T03:00:00+00:30", ["Sensor:2"]),
        ('temperature.unitCode=="CEL"', ["Sensor:1"]),
        ("temperature>25|status", ["ParkingSpot:1", "Sensor:2"]),
        ('temperature>0;(name~=North|address[city]=="Beijing")', ["Sensor:1", "Sensor:2"]),
        ("temperature>100", []),
    ],
)
def test_q(store: Store, q: str, expected: list[str]) -> None:
    assert short(ids_for(store, q_text=q)) == expected


@pytest.mark.usefixtures("loaded")
def test_type_and_q_together(store: Store) -> None:
    # Device is Sensor:2's second type: the first-type shortcut must not lose it.
    assert short(ids_for(store, type_param="Device", q_text="temperature>25")) == ["Sensor:2"]
    assert short(ids_for(store, type_param="Device,WeatherObserved", q_text="temperature>0")) == [
        "Sensor:2",
        "Sensor:3",
    ]
    assert short(ids_for(store, type_param="AirQualityObserved", q_text="temperature<25")) == [
        "Sensor:1"
    ]


@pytest.mark.usefixtures("loaded")
def test_limit_offset_count_in_id_order(store: Store) -> None:
    selection = build_selection("", expand=expand, q_text="temperature")
    with store.connect() as conn:
        assert select_entity_ids(conn, selection, limit=2, offset=1, count=True) == (
            ["urn:ngsi-ld:Sensor:2", "urn:ngsi-ld:Sensor:3"],
            3,
        )
        assert select_entity_ids(conn, selection, limit=0, offset=0, count=True) == ([], 3)


def test_tenants_see_only_their_entities(store: Store, insert: Callable[..., None]) -> None:
    insert(ENTITIES[:1], tenant="transport")
    insert(ENTITIES[2:3])
    with store.connect() as conn:
        for tenant, expected in (
            ("transport", ["urn:ngsi-ld:Sensor:1"]),
            ("", ["urn:ngsi-ld:Sensor:3"]),
        ):
            selection = build_selection(tenant, expand=expand, q_text="temperature")
            assert select_entity_ids(conn, selection, limit=10, offset=0, count=True) == (
                expected,
                1,
            )


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(
    ("georel", "geometry", "coordinates", "expected"),
    [
        (
            "near;maxDistance==2000",
            "Point",
            "[119.605, 39.93]",
            ["ParkingSpot:1", "Sensor:1", "Sensor:2"],
        ),
        ("near;maxDistance==600", "Point", [119.605, 39.93], ["ParkingSpot:1", "Sensor:1"]),
        ("near;minDistance==100000", "Point", "[119.605, 39.93]", ["Sensor:3"]),
        (
            "within",
            "Polygon",
            "[[[119.5,39.9],[119.7,39.9],[119.7,40.0],[119.5,40.0],[119.5,39.9]]]",
            ["ParkingSpot:1", "Sensor:1", "Sensor:2"],
        ),
        ("contains", "Point", "[119.6, 39.925]", ["ParkingSpot:1"]),
        (
            "intersects",
            "LineString",
            "[[119.58, 39.93], [119.62, 39.93]]",
            ["ParkingSpot:1", "Sensor:1"],
        ),
        ("equals", "Point", "[121.0, 31.0]", ["Sensor:3"]),
        (
            "disjoint",
            "MultiPolygon",
            "[[[[119.5,39.9],[119.7,39.9],[119.7,40.0],[119.5,40.0],[119.5,39.9]]]]",
            ["Sensor:3"],
        ),
        (
            "overlaps",
            "Polygon",
            "[[[119.60,39.93],[119.70,39.93],[119.70,40.0],[119.60,40.0],[119.60,39.93]]]",
            ["ParkingSpot:1"],
        ),
        ("within", "MultiPoint", "[[119.6, 39.93], [119.62, 39.94]]", ["Sensor:1", "Sensor:2"]),
    ],
)
def test_geo_on_location(
    store: Store, georel: str, geometry: str, coordinates: Any, expected: list[str]
) -> None:
    found = ids_for(store, georel=georel, geometry=geometry, coordinates=coordinates)
    assert short(found) == expected


@pytest.mark.usefixtures("loaded")
def test_geo_on_another_geoproperty_with_paging(store: Store) -> None:
    parameters = {
        "georel": "near;maxDistance==1000",
        "geometry": "Point",
        "coordinates": "[119.0, 39.0]",
    }
    assert short(ids_for(store, geoproperty="observationSpace", **parameters)) == ["ParkingSpot:1"]
    assert ids_for(store, **parameters) == []
    selection = build_selection(
        "",
        expand=expand,
        georel="near;maxDistance==5000",
        geometry="Point",
        coordinates="[119.61,39.935]",
    )
    with store.connect() as conn:
        assert select_entity_ids(conn, selection, limit=1, offset=1, count=True) == (
            ["urn:ngsi-ld:Sensor:1"],
            3,
        )


@pytest.mark.usefixtures("loaded")
def test_geo_with_q_and_type(store: Store) -> None:
    found = ids_for(
        store,
        type_param="AirQualityObserved",
        q_text="temperature>25",
        georel="near;maxDistance==5000",
        geometry="Point",
        coordinates="[119.6, 39.93]",
    )
    assert short(found) == ["Sensor:2"]


def test_pattern_the_database_cannot_compile_is_bad_request(
    store: Store, insert: Callable[..., None]
) -> None:
    insert(ENTITIES)
    # Python and PostgreSQL regex dialects differ; either refusal is a 400, never a 500.
    with store.connect() as conn:
        try:
            selection = build_selection("", expand=expand, id_pattern="(?P<n>Sensor)")
            select_entity_ids(conn, selection, limit=10, offset=0, count=True)
        except BadRequestData as error:
            assert "regular expression" in error.reason
