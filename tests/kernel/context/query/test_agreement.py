"""Property: for random entities and random q's, SQL and the in-memory evaluator agree.

The entities hold every attribute kind q compares: Properties (scalars, JSON objects and
arrays), Relationships (one object or several), and the v1.8 kinds whose whole values
are lists or vocabulary terms (ListProperty, ListRelationship, VocabProperty,
JsonProperty)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcity.kernel.context.query import build_selection, matches, select_entity_ids
from smartcity.kernel.context.query.ast import (
    ORDERED_KINDS,
    AttributePath,
    Comparison,
    Existence,
    Pattern,
    Query,
    Value,
    ValueList,
    ValueRange,
)
from smartcity.kernel.storage import Store

from .conftest import VOCABULARY, entity, expand, prop, rel
from .strategies import queries

NAMES = ["a", "b", "c"]
SUBS = ["s", "observedAt", "unitCode"]
KEYS = ["k", "j"]
WORDS = ["urban", "green"]
TEXTS = ["x", "y", "ab", "Ab", "2026-01-01", "12:00:00", *WORDS]
INSTANTS = [
    "2026-01-01T00:00:00Z",
    "2026-01-01T08:00:00+08:00",
    "2026-06-01T12:30:00Z",
    "2025-12-31T23:00:00",
]
URIS = ["urn:ngsi-ld:Thing:1", "urn:ngsi-ld:Thing:2", VOCABULARY + "urban"]


def random_value(chance: random.Random, depth: int = 0) -> Any:
    pick = chance.randrange(7 if depth == 0 else 5)
    if pick == 0:
        return chance.randint(-5, 5)
    if pick == 1:
        return chance.choice([-2.5, 0.5, 3.25])
    if pick == 2:
        return chance.choice(TEXTS + INSTANTS)
    if pick == 3:
        return chance.choice([True, False])
    if pick == 4:
        return None if depth else chance.choice(INSTANTS)
    return {
        key: random_value(chance, depth + 1) for key in chance.sample(KEYS, chance.randint(1, 2))
    }


def random_scalars(chance: random.Random) -> list[Any]:
    return [random_value(chance, depth=1) for _ in range(chance.randint(0, 3))]


def random_whole_value(chance: random.Random) -> dict[str, Any]:
    """An instance whose whole value is a list, a JSON value or vocabulary terms."""
    pick = chance.randrange(6)
    if pick == 0:
        terms = [VOCABULARY + word for word in chance.sample(WORDS, chance.randint(1, 2))]
        return {"type": "VocabProperty", "vocab": terms if chance.random() < 0.6 else terms[0]}
    if pick == 1:
        values = [value for value in random_scalars(chance) if value is not None]
        return {"type": "ListProperty", "valueList": values}
    if pick == 2:
        objects = chance.sample(URIS, chance.randint(0, 2))
        return {"type": "ListRelationship", "objectList": [{"object": uri} for uri in objects]}
    if pick == 3:
        json = random_scalars(chance) if chance.random() < 0.5 else random_value(chance)
        return {"type": "JsonProperty", "json": json}
    if pick == 4:
        return prop(random_scalars(chance) or [chance.choice(TEXTS)])
    return rel(chance.sample(URIS, 2))


def random_instance(chance: random.Random, depth: int = 0) -> dict[str, Any]:
    if chance.random() < 0.5:
        instance = random_whole_value(chance)
    elif chance.random() < 0.2:
        instance = rel(chance.choice(URIS))
    else:
        instance = prop(random_value(chance))
    if chance.random() < 0.3:
        instance["observedAt"] = chance.choice(INSTANTS)
    if chance.random() < 0.2:
        instance["unitCode"] = chance.choice(["CEL", "MTR"])
    if depth == 0 and chance.random() < 0.3:
        instance[VOCABULARY + "s"] = random_instance(chance, depth + 1)
    return instance


def random_entities(seed: int, count: int) -> list[dict[str, Any]]:
    chance = random.Random(seed)
    documents = []
    for number in range(count):
        attributes: dict[str, Any] = {}
        for name in chance.sample(NAMES, chance.randint(0, 3)):
            instances = [random_instance(chance)]
            if chance.random() < 0.2:
                instances.append(
                    {**random_instance(chance), "datasetId": "urn:ngsi-ld:dataset:second"}
                )
            attributes[name] = instances
        documents.append(entity(f"urn:ngsi-ld:Thing:{number:03d}", "Thing", **attributes))
    return documents


# Bare paths half the time: they compare whole values (lists, vocabulary terms).
paths = st.one_of(
    st.sampled_from(NAMES).map(AttributePath),
    st.builds(
        AttributePath,
        st.sampled_from(NAMES),
        st.lists(st.sampled_from(SUBS), max_size=2).map(tuple),
        st.lists(st.sampled_from(KEYS), max_size=2).map(tuple),
    ),
)
values = st.one_of(
    st.sampled_from(WORDS).map(lambda word: Value("text", word)),
    st.integers(-5, 5).map(lambda number: Value("number", number)),
    st.sampled_from([-2.5, 0.5, 3.25]).map(lambda number: Value("number", number)),
    st.sampled_from(TEXTS).map(lambda text: Value("text", text)),
    st.sampled_from(INSTANTS).map(lambda text: Value("datetime", text)),
    st.sampled_from(["2026-01-01", "2025-06-01"]).map(lambda text: Value("date", text)),
    st.sampled_from(URIS).map(lambda text: Value("uri", text)),
    st.booleans().map(lambda flag: Value("boolean", flag)),
)


@st.composite
def comparisons(draw: Any) -> Comparison:
    path = draw(paths)
    value = draw(values)
    shape = draw(st.sampled_from(["value", "range", "list"]))
    if shape == "range" and value.kind in ORDERED_KINDS:
        other = draw(values.filter(lambda candidate: candidate.kind == value.kind))
        low, high = sorted(
            [value, other],
            key=lambda item: str(item.value) if item.kind != "number" else item.value,
        )
        return Comparison(path, draw(st.sampled_from(["==", "!="])), ValueRange(low, high))
    if shape == "list":
        operand = ValueList((value, draw(values)))
        return Comparison(path, draw(st.sampled_from(["==", "!="])), operand)
    operators = ["==", "!=", ">", ">=", "<", "<="] if value.kind in ORDERED_KINDS else ["==", "!="]
    return Comparison(path, draw(st.sampled_from(operators)), value)


terms = st.one_of(
    comparisons(),
    st.builds(Existence, paths),
    st.builds(
        Pattern, paths, st.sampled_from(["^a", "(?i)^a", "y$", "2026", r"\d"]), st.booleans()
    ),
)


@pytest.mark.parametrize("type_param", [None, "Thing"])
def test_sql_and_memory_agree(
    store: Store, insert: Callable[..., None], type_param: str | None
) -> None:
    """Without a type the whole-value tests ride along every bare term; with one (the
    entities' only type) the index probes decide which terms need them."""
    entities = random_entities(seed=7, count=60)
    insert(entities)

    @settings(max_examples=120, deadline=None)
    @given(queries(terms))
    def agree(query: Query) -> None:
        selection = build_selection(
            "", type_param=type_param, q_text=query.to_text(), expand=expand
        )
        with store.connect() as conn:
            ids, total = select_entity_ids(conn, selection, limit=1000, offset=0, count=True)
        expected = [document["id"] for document in entities if matches(document, selection)]
        assert ids == expected, query.to_text()
        assert total == len(expected)

    agree()
