"""q on whole values: lists match when any element does, vocabulary terms compare expanded.

Every case runs in SQL on the backend under test and in memory (``select`` checks both).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event

from smartcity.kernel.context.query import build_selection, matches, select_entity_ids
from smartcity.kernel.storage import Store

from .conftest import VOCABULARY, entity, expand, prop, rel


def vocab(*words: str) -> dict[str, Any]:
    terms = [VOCABULARY + word for word in words]
    return {"type": "VocabProperty", "vocab": terms[0] if len(terms) == 1 else terms}


def value_list(*values: Any) -> dict[str, Any]:
    return {"type": "ListProperty", "valueList": list(values)}


def object_list(*objects: str) -> dict[str, Any]:
    return {"type": "ListRelationship", "objectList": [{"object": item} for item in objects]}


def json_value(value: Any) -> dict[str, Any]:
    return {"type": "JsonProperty", "json": value}


ENTITIES = [
    entity(
        "urn:ngsi-ld:Park:1",
        "Park",
        category=vocab("urban", "heritage"),
        visitors=value_list(120, 340, 510),
        openings=value_list("2026-11-21T08:00:00Z", "2026-11-21T20:00:00+08:00"),
        gates=object_list("urn:ngsi-ld:Gate:1", "urn:ngsi-ld:Gate:2"),
        settings=json_value({"mode": "eco", "levels": [1, 2]}),
        tags=prop(["quiet", "shaded"]),
        rating=prop(4.5, **{VOCABULARY + "scale": vocab("stars")}),
    ),
    entity(
        "urn:ngsi-ld:Park:2",
        "Park",
        category=vocab("rural"),
        visitors=value_list(5, "n/a"),
        gates=object_list("urn:ngsi-ld:Gate:3"),
        settings=json_value("off"),
        tags=prop("quiet"),
        rating=prop(3, **{VOCABULARY + "scale": value_list(1, 5)}),
    ),
    entity(
        "urn:ngsi-ld:Park:3",
        "Park",
        category=prop("urban"),
        visitors=prop(700),
        gates=rel("urn:ngsi-ld:Gate:1"),
        settings=json_value([3, "eco"]),
    ),
    entity("urn:ngsi-ld:Park:4", "Park", visitors=value_list()),
]


@pytest.fixture
def loaded(insert: Callable[..., None]) -> None:
    insert(ENTITIES)


def ids_for(store: Store, q: str, type_param: str | None = "Park") -> list[str]:
    selection = build_selection("", type_param=type_param, q_text=q, expand=expand)
    with store.connect() as conn:
        ids, _ = select_entity_ids(conn, selection, limit=100)
    assert ids == [document["id"] for document in ENTITIES if matches(document, selection)]
    return [entity_id.removeprefix("urn:ngsi-ld:Park:") for entity_id in ids]


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("type_param", ["Park", None])
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # VocabProperty: the literal is expanded like the stored terms; a Property's
        # value "urban" still compares as written.
        ('category=="urban"', ["1", "3"]),
        ('category=="heritage"', ["1"]),
        ('category=="rural","heritage"', ["1", "2"]),
        (f"category=={VOCABULARY}rural", ["2"]),
        ('category!="urban"', ["2"]),
        ('category~="default-context/her"', ["1"]),
        ("category==5", []),
        # ListProperty: any element.
        ("visitors==340", ["1"]),
        ("visitors>500", ["1", "3"]),
        ("visitors==300..400", ["1"]),
        ("visitors==6..100", []),
        ('visitors=="n/a"', ["2"]),
        ("visitors!=340", ["2", "3", "4"]),
        ("visitors~=n", ["2"]),
        ("visitors!~=n", ["1", "3", "4"]),
        ("openings>2026-11-21T10:00:00Z", ["1"]),
        ("openings<2026-11-21T17:00:00+08:00", ["1"]),
        # ListRelationship: the objects' ids; a Relationship's object as before.
        ("gates==urn:ngsi-ld:Gate:2", ["1"]),
        ('gates=="urn:ngsi-ld:Gate:1"', ["1", "3"]),
        ("gates!=urn:ngsi-ld:Gate:1", ["2"]),
        ("gates~=Gate:3$", ["2"]),
        # JsonProperty: a single JSON value, or any element of a JSON array.
        ('settings=="off"', ["2"]),
        ('settings=="eco"', ["3"]),
        ("settings==3", ["3"]),
        ('settings!="eco"', ["1", "2"]),
        ("settings[levels]==2", ["1"]),
        # A Property whose value is a JSON array: any element.
        ('tags=="shaded"', ["1"]),
        ('tags=="quiet"', ["1", "2"]),
        # Sub-attributes of the new kinds, through the JSON path.
        ('rating.scale=="stars"', ["1"]),
        ("rating.scale==5", ["2"]),
    ],
)
def test_whole_values(store: Store, q: str, expected: list[str], type_param: str | None) -> None:
    assert ids_for(store, q, type_param) == expected


@pytest.fixture
def statements(store: Store) -> Iterator[list[str]]:
    """The SQL statements run on the store while the test runs."""
    seen: list[str] = []

    def record(*arguments: Any) -> None:
        seen.append(str(arguments[2]))

    event.listen(store.engine, "before_cursor_execute", record)
    yield seen
    event.remove(store.engine, "before_cursor_execute", record)


def test_typed_attributes_keep_their_index_range_sql(
    store: Store, insert: Callable[..., None], statements: list[str]
) -> None:
    """Numbers and texts only: no whole-value test joins the q terms' SQL."""
    insert(
        [
            entity(
                f"urn:ngsi-ld:Sensor:{number}",
                "Sensor",
                temperature=prop(float(number)),
                status=prop("free" if number % 2 else "occupied"),
            )
            for number in range(6)
        ]
    )
    selection = build_selection(
        "", type_param="Sensor", q_text='temperature>2;status=="free"', expand=expand
    )
    with store.connect() as conn:
        ids, _ = select_entity_ids(conn, selection, limit=10)
    assert ids == ["urn:ngsi-ld:Sensor:3", "urn:ngsi-ld:Sensor:5"]
    query = next(text for text in statements if "ORDER BY" in text)
    assert "json" not in query.lower()


def test_a_list_attribute_gets_the_whole_value_test(
    store: Store, insert: Callable[..., None], statements: list[str]
) -> None:
    insert(ENTITIES)
    assert ids_for(store, "visitors==510") == ["1"]
    query = next(text for text in statements if "ORDER BY" in text)
    assert "json_each" in query or "jsonb_array_elements" in query
