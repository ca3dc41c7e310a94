"""Normalizing incoming entities and rendering them back."""

from __future__ import annotations

import contextlib
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.context.normalize import (
    normalize_attributes,
    normalize_entity,
    normalize_fragment,
)
from smartcity.kernel.context.representation import render_entity
from tests.kernel.context.test_entities_fakes import DEFAULT, FakeContext

CONTEXT = FakeContext()
LOCATION = "https://uri.etsi.org/ngsi-ld/location"


def test_normalized_entity_is_expanded() -> None:
    entity = normalize_entity(
        {
            "id": "urn:ngsi-ld:Station:1",
            "type": "Station",
            "temperature": {
                "type": "Property",
                "value": 21.5,
                "unitCode": "CEL",
                "observedAt": "2026-11-21T09:00:00Z",
                "accuracy": {"type": "Property", "value": 0.1},
            },
            "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Organization:1"},
            "location": {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [113.3, 23.1]},
            },
            "name": {"type": "LanguageProperty", "languageMap": {"en": "Station", "zh": "站"}},
        },
        CONTEXT,
    )
    assert entity == {
        "id": "urn:ngsi-ld:Station:1",
        "type": [DEFAULT + "Station"],
        DEFAULT + "temperature": [
            {
                "type": "Property",
                "value": 21.5,
                "unitCode": "CEL",
                "observedAt": "2026-11-21T09:00:00.000Z",
                DEFAULT + "accuracy": {"type": "Property", "value": 0.1},
            }
        ],
        DEFAULT + "owner": [{"type": "Relationship", "object": "urn:ngsi-ld:Organization:1"}],
        LOCATION: [
            {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [113.3, 23.1]}}
        ],
        DEFAULT + "name": [
            {"type": "LanguageProperty", "languageMap": {"en": "Station", "zh": "站"}}
        ],
    }


def test_concise_and_key_values_input() -> None:
    entity = normalize_entity(
        {
            "id": "urn:a:1",
            "type": ["A", "B"],
            "count": 3,
            "tags": ["x", "y"],
            "address": {"street": "Main"},
            "speed": {"value": 4, "observedAt": "2026-01-01T00:00:00+08:00"},
            "owner": {"object": "urn:b:1"},
            "location": {"type": "Point", "coordinates": [1, 2]},
            "label": {"languageMap": {"en": "x"}},
        },
        CONTEXT,
    )
    assert entity["type"] == [DEFAULT + "A", DEFAULT + "B"]
    assert entity[DEFAULT + "count"] == [{"type": "Property", "value": 3}]
    assert entity[DEFAULT + "tags"] == [{"type": "Property", "value": ["x", "y"]}]
    assert entity[DEFAULT + "address"] == [{"type": "Property", "value": {"street": "Main"}}]
    assert entity[DEFAULT + "speed"][0]["observedAt"] == "2025-12-31T16:00:00.000Z"
    assert entity[DEFAULT + "owner"][0]["type"] == "Relationship"
    assert entity[LOCATION][0]["type"] == "GeoProperty"
    assert entity[DEFAULT + "label"][0]["type"] == "LanguageProperty"


def test_multi_instance_attribute() -> None:
    attributes = normalize_attributes(
        {
            "speed": [
                {"type": "Property", "value": 1},
                {"type": "Property", "value": 2, "datasetId": "urn:ngsi-ld:Dataset:gps"},
            ]
        },
        CONTEXT,
    )
    assert [i.get("datasetId") for i in attributes[DEFAULT + "speed"]] == [
        None,
        "urn:ngsi-ld:Dataset:gps",
    ]


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "JSON object"),
        ({"type": "A"}, "no 'id'"),
        ({"id": "not a uri", "type": "A"}, "absolute URI"),
        ({"id": "nocolon", "type": "A"}, "absolute URI"),
        ({"id": "urn:a:1"}, "no 'type'"),
        ({"id": "urn:a:1", "type": []}, "empty list"),
        ({"id": "urn:a:1", "type": "A", "bad name": 1}, "forbidden character"),
        ({"id": "urn:a:1", "type": "A", "p": {"type": "Property"}}, "without 'value'"),
        ({"id": "urn:a:1", "type": "A", "p": {"type": "Property", "value": None}}, "null"),
        ({"id": "urn:a:1", "type": "A", "p": None}, "null"),
        ({"id": "urn:a:1", "type": "A", "r": {"type": "Relationship"}}, "without 'object'"),
        ({"id": "urn:a:1", "type": "A", "r": {"type": "Relationship", "object": "x y"}}, "URI"),
        ({"id": "urn:a:1", "type": "A", "r": {"type": "Relationship", "object": []}}, "empty"),
        ({"id": "urn:a:1", "type": "A", "p": {"type": "Foo", "value": 1}}, "unknown type"),
        ({"id": "urn:a:1", "type": "A", "p": {"value": 1, "observedAt": "yesterday"}}, "ISO 8601"),
        ({"id": "urn:a:1", "type": "A", "p": {"value": 1, "datasetId": "x"}}, "datasetId"),
        ({"id": "urn:a:1", "type": "A", "p": {"value": 1, "object": "urn:x:1"}}, "has no 'object'"),
        ({"id": "urn:a:1", "type": "A", "l": {"type": "LanguageProperty"}}, "languageMap"),
        ({"id": "urn:a:1", "type": "A", "l": {"languageMap": {"en": 3}}}, "text"),
        ({"id": "urn:a:1", "type": "A", "l": {"languageMap": {"e n": "x"}}}, "language tag"),
        ({"id": "urn:a:1", "type": "A", "location": 5}, "GeoProperty"),
        (
            {"id": "urn:a:1", "type": "A", "location": {"type": "Point", "coordinates": [200, 0]}},
            "longitude",
        ),
        (
            {"id": "urn:a:1", "type": "A", "location": {"type": "Point", "coordinates": [0, 91]}},
            "latitude",
        ),
        (
            {"id": "urn:a:1", "type": "A", "location": {"type": "Point", "coordinates": "x"}},
            "position",
        ),
        (
            {"id": "urn:a:1", "type": "A", "location": {"type": "Circle", "coordinates": [0, 0]}},
            "unknown type",
        ),
        (
            {
                "id": "urn:a:1",
                "type": "A",
                "g": {
                    "type": "GeoProperty",
                    "value": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]},
                },
            },
            "ring",
        ),
        (
            {
                "id": "urn:a:1",
                "type": "A",
                "g": {
                    "type": "GeoProperty",
                    "value": {
                        "type": "Polygon",
                        "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]],
                    },
                },
            },
            "valid Polygon",
        ),
        (
            {
                "id": "urn:a:1",
                "type": "A",
                "g": {
                    "type": "GeoProperty",
                    "value": {"type": "LineString", "coordinates": [[0, 0]]},
                },
            },
            "2 positions",
        ),
        ({"id": "urn:a:1", "type": "A", "p": [{"value": 1}, {"value": 2}]}, "repeats"),
        ({"id": "urn:a:1", "type": "A", "p": {"value": 1, "unitCode": 5}}, "unitCode"),
        ({"id": "urn:a:1", "type": "A", "@id": 1}, "keyword"),
    ],
)
def test_malformed_entities_are_bad_request_data(document: Any, reason: str) -> None:
    with pytest.raises(BadRequestData) as caught:
        normalize_entity(document, CONTEXT)
    assert reason in caught.value.reason


# --- property tests -----------------------------------------------------------------

names = st.from_regex(r"[a-z][a-zA-Z0-9_]{0,12}", fullmatch=True).filter(
    lambda n: n not in {"id", "type", "location", "observedAt", "unitCode", "datasetId"}
)
uris = st.from_regex(r"urn:ngsi-ld:[A-Za-z]{1,8}:[A-Za-z0-9]{1,8}", fullmatch=True)
texts = st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=20)
finite = st.floats(allow_nan=False, allow_infinity=False, width=32)
scalars = st.one_of(st.integers(-(10**9), 10**9), finite, texts, st.booleans())
plain_keys = st.text(
    alphabet=st.characters(blacklist_characters="\x00"), min_size=1, max_size=8
).filter(lambda k: k not in {"type", "value", "object", "languageMap", "datasetId"})
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(plain_keys, inner, max_size=3)
    ),
    max_leaves=6,
)
instants = st.datetimes(timezones=st.just(__import__("datetime").UTC)).map(lambda d: d.isoformat())
points = st.tuples(st.floats(-180, 180, allow_nan=False), st.floats(-90, 90, allow_nan=False)).map(
    lambda p: {"type": "Point", "coordinates": list(p)}
)
lines = st.lists(
    st.tuples(st.floats(-180, 180, allow_nan=False), st.floats(-90, 90, allow_nan=False)).map(list),
    min_size=2,
    max_size=4,
).map(lambda c: {"type": "LineString", "coordinates": c})


@st.composite
def instances(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    kind = draw(st.sampled_from(["Property", "Relationship", "GeoProperty", "LanguageProperty"]))
    instance: dict[str, Any] = {"type": kind}
    if kind == "Property":
        instance["value"] = draw(json_values.filter(lambda v: v is not None))
        if draw(st.booleans()):
            instance["unitCode"] = draw(st.sampled_from(["CEL", "MTR", "KMH"]))
    elif kind == "Relationship":
        instance["object"] = draw(st.one_of(uris, st.lists(uris, min_size=1, max_size=3)))
    elif kind == "GeoProperty":
        instance["value"] = draw(st.one_of(points, lines))
    else:
        instance["languageMap"] = draw(
            st.dictionaries(st.sampled_from(["en", "zh", "zh-Hans", "@none"]), texts, min_size=1)
        )
    if draw(st.booleans()):
        instance["observedAt"] = draw(instants)
    if depth < 2:
        for name in draw(st.lists(names, max_size=2, unique=True)):
            instance[name] = draw(instances(depth + 1))
    return instance


@st.composite
def entities(draw: st.DrawFn) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "id": draw(uris),
        "type": draw(st.one_of(names, st.lists(names, min_size=2, max_size=3, unique=True))),
    }
    for name in draw(st.lists(names, max_size=4, unique=True)):
        if name in ("type",):
            continue
        if draw(st.integers(0, 4)) == 0:
            datasets = draw(st.lists(uris, min_size=1, max_size=3, unique=True))
            entity[name] = [dict(draw(instances()), datasetId=d) for d in datasets]
        else:
            entity[name] = draw(instances())
    if draw(st.booleans()):
        entity["location"] = {"type": "GeoProperty", "value": draw(points)}
    return entity


@settings(max_examples=100, deadline=None)
@given(entities())
@example(
    {
        "id": "urn:ngsi-ld:T:1",
        "type": "T",
        "a": [
            {"type": "LanguageProperty", "languageMap": {"en": ""}, "datasetId": "urn:d:1"},
            {"type": "LanguageProperty", "languageMap": {"en": ""}, "datasetId": "urn:d:2"},
        ],
    }
)
def test_normalized_round_trips_through_every_representation(document: dict[str, Any]) -> None:
    entity = normalize_entity(document, CONTEXT)
    for form in ("normalized", "concise"):
        rendered = render_entity(entity, CONTEXT, format=form)  # type: ignore[arg-type]
        assert normalize_entity(rendered, CONTEXT) == entity, form
    key_values = render_entity(entity, CONTEXT, format="keyValues")
    if any(
        isinstance(value, list) and len(value) > 1 and all("languageMap" in v for v in value)
        for value in document.values()
        if isinstance(value, list) and all(isinstance(v, dict) for v in value)
    ):
        # keyValues drops datasetId, so several LanguageProperty instances come back as
        # {"languageMap": ...} objects repeating the default instance: refused, by design.
        with pytest.raises(BadRequestData, match="repeats the default instance"):
            normalize_entity(key_values, CONTEXT)
        return
    again = normalize_entity(key_values, CONTEXT)
    assert render_entity(again, CONTEXT, format="keyValues") == key_values


garbage = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.one_of(
                st.sampled_from(
                    [
                        "type",
                        "value",
                        "object",
                        "languageMap",
                        "datasetId",
                        "observedAt",
                        "coordinates",
                        "unitCode",
                        "id",
                    ]
                ),
                st.text(max_size=5),
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(garbage)
def test_arbitrary_input_either_normalizes_or_is_bad_request_data(document: Any) -> None:
    with contextlib.suppress(BadRequestData):
        normalize_entity(document, CONTEXT)
    with contextlib.suppress(BadRequestData):
        normalize_attributes({"attribute": document}, CONTEXT)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(
        ["Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"]
    ),
    garbage,
)
def test_arbitrary_geometry_is_bad_request_data_or_valid(kind: str, coordinates: Any) -> None:
    with contextlib.suppress(BadRequestData):
        normalize_attributes({"location": {"type": kind, "coordinates": coordinates}}, CONTEXT)


def test_values_the_database_cannot_hold_are_refused() -> None:
    for value in (2**64, "a\x00b", [["\x00"]], {"k\x00": 1}, float("inf")):
        with pytest.raises(BadRequestData):
            normalize_attributes({"p": {"value": value}}, CONTEXT)
    deep: Any = 1
    for _ in range(100):
        deep = {"k": deep}
    with pytest.raises(BadRequestData, match="nests deeper"):
        normalize_attributes({"p": {"value": deep}}, CONTEXT)


def fragment_outcome(raw: Any) -> Any:
    """The normalized fragment, or the error's reason."""
    try:
        return normalize_fragment(raw, CONTEXT, label="temperature")
    except BadRequestData as error:
        return error.reason


@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.booleans(),
        st.none(),
        st.text(max_size=3),
    )
)
@example(2**63)
@example(-(2**63))
@example(float("nan"))
def test_a_fragment_of_one_value_normalizes_as_any_fragment(value: Any) -> None:
    # {"value": x} takes a short way; a read-only mapping takes the general one.
    assert fragment_outcome({"value": value}) == fragment_outcome(
        MappingProxyType({"value": value})
    )
