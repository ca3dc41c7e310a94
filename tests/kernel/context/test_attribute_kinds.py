"""The NGSI-LD v1.8 attribute kinds (JsonProperty, VocabProperty, ListProperty,
ListRelationship), ``lang`` and ``pick``/``omit``: normalizing, rendering, storing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.context.errors import BadRequestData, ResourceNotFound
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.context.normalize import normalize_entity
from smartcity.kernel.context.query.memory import matches
from smartcity.kernel.context.query.selection import build_selection
from smartcity.kernel.context.representation import (
    Renderer,
    choose_language,
    parse_language_ranges,
    render_entity,
)
from smartcity.kernel.storage import Store
from tests.kernel.context.test_entities_fakes import DEFAULT, FakeContext
from tests.kernel.context.test_entities_library import RecordingBus

CONTEXT = FakeContext({"eco": "https://example.org/modes/Eco"})
ID = "urn:ngsi-ld:Park:1"


def park(**extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": ID,
        "type": "Park",
        "settings": {
            "type": "JsonProperty",
            "json": {"mode": "eco"},
            "observedAt": "2026-11-21T09:00:00Z",
        },
        "mode": {"type": "VocabProperty", "vocab": "eco"},
        "tags": {"vocab": ["eco", "green"]},
        "readings": {"type": "ListProperty", "valueList": [1, 2.5, "x", {"a": 1}]},
        "gates": {"objectList": ["urn:ngsi-ld:Gate:1", {"object": "urn:ngsi-ld:Gate:2"}]},
        "name": {"languageMap": {"zh-Hans": "越秀公园", "en": "Yuexiu Park", "@none": "Yuexiu"}},
    }
    document.update(extra)
    return document


def test_new_kinds_are_normalized_and_vocab_expanded() -> None:
    entity = normalize_entity(park(), CONTEXT)
    assert entity[DEFAULT + "settings"] == [
        {"type": "JsonProperty", "json": {"mode": "eco"}, "observedAt": "2026-11-21T09:00:00.000Z"}
    ]
    assert entity[DEFAULT + "mode"] == [
        {"type": "VocabProperty", "vocab": "https://example.org/modes/Eco"}
    ]
    assert entity[DEFAULT + "tags"][0]["vocab"] == [
        "https://example.org/modes/Eco",
        DEFAULT + "green",
    ]
    assert entity[DEFAULT + "readings"][0]["type"] == "ListProperty"
    assert entity[DEFAULT + "gates"] == [
        {
            "type": "ListRelationship",
            "objectList": [{"object": "urn:ngsi-ld:Gate:1"}, {"object": "urn:ngsi-ld:Gate:2"}],
        }
    ]


def test_vocabulary_property_is_taken_as_a_vocab_property() -> None:
    document = {"id": ID, "type": "Park", "mode": {"type": "VocabularyProperty", "vocab": "eco"}}
    entity = normalize_entity(document, CONTEXT)
    assert entity[DEFAULT + "mode"][0]["type"] == "VocabProperty"


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ({"type": "JsonProperty", "json": None}, "null"),
        ({"type": "JsonProperty", "json": 1, "unitCode": "CEL"}, "unitCode"),
        ({"type": "VocabProperty", "vocab": ["ok", ""]}, "vocab"),
        ({"type": "VocabProperty", "vocab": "@id"}, "keyword"),
        ({"type": "ListProperty", "valueList": {"a": 1}}, "array"),
        ({"type": "ListProperty", "valueList": [float("inf")]}, "non-finite"),
        ({"type": "ListRelationship", "objectList": [1]}, "string URI"),
        ({"type": "ListRelationship", "objectList": "urn:a:b"}, "array"),
        ({"type": "ListRelationship", "objectList": [], "unitCode": "CEL"}, "unitCode"),
    ],
)
def test_malformed_new_kinds_name_the_problem(member: dict[str, Any], reason: str) -> None:
    with pytest.raises(BadRequestData, match=reason):
        normalize_entity({"id": ID, "type": "Park", "broken": member}, CONTEXT)


def test_renderings_of_the_new_kinds() -> None:
    entity = normalize_entity(park(), CONTEXT)
    normalized = render_entity(entity, CONTEXT)
    assert normalized["mode"] == {"type": "VocabProperty", "vocab": "eco"}
    assert normalized["tags"] == {"type": "VocabProperty", "vocab": ["eco", "green"]}
    simple = render_entity(entity, CONTEXT, format="keyValues")
    assert simple["settings"] == {"json": {"mode": "eco"}}
    assert simple["mode"] == {"vocab": "eco"}
    assert simple["readings"] == {"valueList": [1, 2.5, "x", {"a": 1}]}
    assert simple["gates"] == {
        "objectList": [{"object": "urn:ngsi-ld:Gate:1"}, {"object": "urn:ngsi-ld:Gate:2"}]
    }
    concise = render_entity(entity, CONTEXT, format="concise")
    assert concise["settings"] == {
        "json": {"mode": "eco"},
        "observedAt": "2026-11-21T09:00:00.000Z",
    }


@pytest.mark.parametrize("form", ["normalized", "concise", "keyValues"])
def test_every_form_reads_back_to_the_same_entity(form: Any) -> None:
    entity = normalize_entity(park(), CONTEXT)
    rendered = render_entity(entity, CONTEXT, format=form)
    again = normalize_entity(rendered, CONTEXT)
    if form == "keyValues":
        # keyValues drops observedAt.
        entity[DEFAULT + "settings"][0].pop("observedAt")
    assert again == entity


texts = st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=5)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(value=json_values.filter(lambda v: v is not None))
def test_any_json_survives_a_json_property_in_every_form(value: Any) -> None:
    entity = normalize_entity({"id": ID, "type": "Park", "doc": {"json": value}}, CONTEXT)
    for form in ("normalized", "concise", "keyValues"):
        rendered = render_entity(entity, CONTEXT, format=form)  # type: ignore[arg-type]
        assert normalize_entity(rendered, CONTEXT) == entity


# --- lang ---------------------------------------------------------------------------------


def test_language_ranges_are_ordered_by_quality() -> None:
    assert parse_language_ranges("fr;q=0.5,zh-CN,*;q=0.1,en;q=0.8") == ("zh-cn", "en", "fr", "*")
    assert parse_language_ranges("en;q=0,de") == ("de",)


@pytest.mark.parametrize("text", ["", "en;q=1.5", "en;q=", "a b", "@none", "en;level=1", "x" * 9])
def test_malformed_language_ranges_are_bad_request(text: str) -> None:
    with pytest.raises(BadRequestData):
        parse_language_ranges(text)


@given(st.text(max_size=40))
def test_parsing_language_ranges_never_fails_otherwise(text: str) -> None:
    try:
        ranges = parse_language_ranges(text)
    except BadRequestData:
        return
    assert all(item == item.lower() for item in ranges)


tags = st.from_regex(r"[a-z]{2}(-[A-Z]{2})?", fullmatch=True)


@given(st.dictionaries(tags, st.text(max_size=5), min_size=1), st.lists(tags | st.just("*")))
def test_the_chosen_language_is_always_in_the_map(
    language_map: dict[str, str], ranges: list[str]
) -> None:
    chosen = choose_language(language_map, [r.lower() for r in ranges])
    assert chosen in language_map


def test_choose_language_prefers_exact_then_prefix_then_none() -> None:
    language_map = {"zh-Hans": "越秀", "en": "Yuexiu", "@none": "-"}
    assert choose_language(language_map, ["en"]) == "en"
    assert choose_language(language_map, ["zh"]) == "zh-Hans"
    assert choose_language(language_map, ["fr"]) == "@none"
    assert choose_language(language_map, ["fr", "*"]) == "zh-Hans"
    assert choose_language({"en": "x"}, ["fr"]) == "en"


def test_lang_converts_language_properties_and_their_sub_attributes() -> None:
    document = park(
        label={
            "type": "Property",
            "value": 1,
            "caption": {"type": "LanguageProperty", "languageMap": {"en": "one", "zh": "一"}},
        }
    )
    entity = normalize_entity(document, CONTEXT)
    rendered = render_entity(entity, CONTEXT, lang=("zh",))
    assert rendered["name"] == {"type": "Property", "value": "越秀公园", "lang": "zh-Hans"}
    assert rendered["label"]["caption"] == {"type": "Property", "value": "一", "lang": "zh"}
    # The stored entity is left as it was.
    assert entity[DEFAULT + "name"][0]["type"] == "LanguageProperty"


# --- pick / omit --------------------------------------------------------------------------


def test_pick_and_omit_project_members() -> None:
    entity = normalize_entity(park(), CONTEXT)
    picked = render_entity(entity, CONTEXT, pick=["id", DEFAULT + "mode"])
    assert picked == {"id": ID, "mode": {"type": "VocabProperty", "vocab": "eco"}}
    omitted = render_entity(entity, CONTEXT, omit=["id", "type", DEFAULT + "name"])
    assert set(omitted) == {"settings", "mode", "tags", "readings", "gates"}


def test_attribute_of_a_missing_attribute_is_not_found() -> None:
    entity = normalize_entity(park(), CONTEXT)
    renderer = Renderer(CONTEXT, format="keyValues")
    assert renderer.attribute_of(entity, DEFAULT + "mode") == {"vocab": "eco"}
    for name in (DEFAULT + "nothing", "id", "type"):
        with pytest.raises(ResourceNotFound):
            renderer.attribute_of(entity, name)


# --- storage ------------------------------------------------------------------------------


def test_the_library_stores_and_returns_the_new_kinds(store: Store, clock: FixedClock) -> None:
    library = ContextLibrary(store, RecordingBus(), clock)  # type: ignore[arg-type]
    entity = normalize_entity(park(), CONTEXT)
    library.create_entity("", entity)
    found = library.retrieve_entity("", ID)
    for name in ("settings", "mode", "tags", "readings", "gates", "name"):
        stored = [
            {k: v for k, v in instance.items() if k not in ("createdAt", "modifiedAt")}
            for instance in found[DEFAULT + name]
        ]
        assert stored == entity[DEFAULT + name]
    patched = normalize_entity({"id": ID, "type": "Park", "mode": {"vocab": "green"}}, CONTEXT)
    library.patch_attribute("", ID, DEFAULT + "mode", patched[DEFAULT + "mode"][0])
    assert library.retrieve_entity("", ID)[DEFAULT + "mode"][0]["vocab"] == DEFAULT + "green"


# --- q in memory (subscriptions) agrees with the stored answers ---------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('settings[mode]=="eco"', True),
        ('settings[mode]=="off"', False),
        ('name[en]=="Yuexiu Park"', True),
        ("readings;gates;mode", True),
        ("settings.observedAt>2026-11-21T08:00:00Z", True),
        ('mode=="eco"', True),
        ('tags=="green"', True),
        ('tags=="blue"', False),
        ("readings==2..3", True),
        ("gates==urn:ngsi-ld:Gate:2", True),
        ("gates!=urn:ngsi-ld:Gate:2", False),
    ],
)
def test_q_in_memory_and_in_the_database_agree(
    store: Store, clock: FixedClock, q: str, expected: bool
) -> None:
    library = ContextLibrary(store, RecordingBus(), clock)  # type: ignore[arg-type]
    entity = normalize_entity(park(), CONTEXT)
    library.create_entity("", entity)
    selection = build_selection("", type_param="Park", q_text=q, expand=CONTEXT.expand_term)
    assert matches(library.retrieve_entity("", ID), selection) is expected
    found = [e["id"] for e in library.query_entities(selection).entities]
    assert found == ([ID] if expected else [])
