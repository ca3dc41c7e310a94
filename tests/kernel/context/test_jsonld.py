"""Term expansion and IRI compaction with user contexts (the core context applied last)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcity.kernel.context.errors import BadRequestData, LdContextNotAvailable
from smartcity.kernel.context.jsonld import (
    CORE_CONTEXT_URL,
    DEFAULT_CONTEXT_VOCAB,
    ContextResolver,
    LdContext,
    core_context,
)

NGSI_LD = "https://uri.etsi.org/ngsi-ld/"
SDM = "https://smartdatamodels.org/"


def no_network(url: str, timeout_s: float, max_bytes: int) -> bytes:
    raise AssertionError(f"unexpected fetch of {url}")


def resolve(value: Any) -> LdContext:
    return ContextResolver(fetch=no_network).resolve(value)


# A Smart Data Models style context: prefixes, full IRIs, compact IRIs, and redefinitions
# of id, type and location as the published ones have.
SMART_DATA_MODELS = {
    "id": "@id",
    "type": "@type",
    "ngsi-ld": NGSI_LD,
    "fiware": "https://uri.fiware.org/ns/dataModels#",
    "schema": "https://schema.org/",
    "AirQualityObserved": SDM + "dataModel.Environment/AirQualityObserved",
    "NO2": SDM + "dataModel.Environment/NO2",
    "refDevice": {"@id": SDM + "dataModel.Environment/refDevice", "@type": "@id"},
    "address": "schema:address",
    "name": "schema:name",
    "temperature": "fiware:temperature",
    "location": "https://example.org/not-the-core-location",
}


def test_a_smart_data_models_context_expands_its_names() -> None:
    context = resolve([SMART_DATA_MODELS, CORE_CONTEXT_URL])
    assert (
        context.expand_term("AirQualityObserved")
        == SDM + "dataModel.Environment/AirQualityObserved"
    )
    assert context.expand_term("address") == "https://schema.org/address"
    assert context.expand_term("temperature") == "https://uri.fiware.org/ns/dataModels#temperature"
    assert context.expand_term("fiware:humidity") == "https://uri.fiware.org/ns/dataModels#humidity"
    assert context.expand_term("unknownThing") == DEFAULT_CONTEXT_VOCAB + "unknownThing"
    definition = context.term_definition("refDevice")
    assert definition is not None
    assert definition.type_mapping == "@id"


# The shape of the published Smart Data Models Environment context: it uses the
# ngsi-ld: prefix without defining it, counting on the core context.
ENVIRONMENT = {
    "@context": {
        "id": "@id",
        "type": "@type",
        "location": "ngsi-ld:location",
        "description": "http://purl.org/dc/terms/description",
        "no2": SDM + "dataModel.Environment/no2",
        "refDevice": SDM + "dataModel.Environment/refDevice",
    }
}


def test_user_contexts_may_use_the_core_prefixes() -> None:
    context = resolve(ENVIRONMENT["@context"])
    assert context.expand_term("location") == NGSI_LD + "location"
    assert context.expand_term("no2") == SDM + "dataModel.Environment/no2"
    assert resolve({"hasSensor": "ngsi-ld:hasObject"}).expand_term("hasSensor") == (
        NGSI_LD + "hasObject"
    )


def test_compaction_prefers_terms_then_compact_iris() -> None:
    context = resolve(SMART_DATA_MODELS)
    assert context.compact_iri("https://schema.org/address") == "address"
    assert context.compact_iri("https://schema.org/streetAddress") == "schema:streetAddress"
    assert context.compact_iri(NGSI_LD + "observedAt") == "observedAt"
    assert context.compact_iri(DEFAULT_CONTEXT_VOCAB + "speed") == "speed"
    assert context.compact_iri("urn:x:unknown") == "urn:x:unknown"
    assert context.compact_iri("https://other.example/speed") == "https://other.example/speed"


def test_core_terms_cannot_be_redefined_by_a_user_context() -> None:
    # The user context says location is something else; the core context is last.
    for value in (
        SMART_DATA_MODELS,
        [SMART_DATA_MODELS, CORE_CONTEXT_URL],
        [CORE_CONTEXT_URL, SMART_DATA_MODELS],
    ):
        context = resolve(value)
        assert context.expand_term("location") == NGSI_LD + "location"
        assert context.compact_iri(NGSI_LD + "location") == "location"


def test_core_terms_win_even_over_protected_user_terms() -> None:
    context = resolve({"@protected": True, "observedAt": "https://example.org/seen"})
    assert context.expand_term("observedAt") == NGSI_LD + "observedAt"


def test_user_context_vocab_gives_way_to_the_default_context() -> None:
    context = resolve({"@vocab": "https://example.org/vocab/"})
    assert context.expand_term("speed") == DEFAULT_CONTEXT_VOCAB + "speed"


def test_contexts_in_a_list_apply_in_order() -> None:
    context = resolve([{"speed": "https://a.example/speed"}, {"speed": "https://b.example/speed"}])
    assert context.expand_term("speed") == "https://b.example/speed"


def test_user_protected_terms_cannot_be_redefined_by_a_later_user_context() -> None:
    first = {"@protected": True, "speed": "https://a.example/speed"}
    with pytest.raises(BadRequestData, match="protected term 'speed'"):
        resolve([first, {"speed": "https://b.example/speed"}])
    # Repeating the same definition is allowed.
    assert resolve([first, {"speed": "https://a.example/speed"}]).expand_term("speed") == (
        "https://a.example/speed"
    )


def test_null_term_definition_falls_back_to_the_default_context() -> None:
    context = resolve([{"speed": "https://a.example/speed"}, {"speed": None}])
    assert context.expand_term("speed") == DEFAULT_CONTEXT_VOCAB + "speed"


def test_null_context_resets_earlier_user_terms() -> None:
    context = resolve([{"speed": "https://a.example/speed"}, None])
    assert context.expand_term("speed") == DEFAULT_CONTEXT_VOCAB + "speed"


def test_compact_iri_needs_a_prefix_term() -> None:
    # An expanded definition without @prefix is not a prefix (JSON-LD 1.1).
    not_prefix = resolve({"ex": {"@id": "https://example.org/ns/"}})
    assert not_prefix.expand_term("ex:speed") == "ex:speed"
    prefix = resolve({"ex": {"@id": "https://example.org/ns/", "@prefix": True}})
    assert prefix.expand_term("ex:speed") == "https://example.org/ns/speed"


def test_absolute_iris_and_blank_nodes_pass_through() -> None:
    context = core_context()
    assert context.expand_term("https://example.org/speed") == "https://example.org/speed"
    assert context.expand_term("urn:ngsi-ld:Thing:1") == "urn:ngsi-ld:Thing:1"
    assert context.expand_term("_:b0") == "_:b0"


def test_terms_defined_through_each_other_in_any_order() -> None:
    context = resolve(
        {"speed": "ex:speed", "ex": "https://example.org/ns#", "fast": {"@id": "speed"}}
    )
    assert context.expand_term("speed") == "https://example.org/ns#speed"
    assert context.expand_term("fast") == "https://example.org/ns#speed"


@pytest.mark.parametrize(
    ("context", "reason"),
    [
        ({"speed": 42}, "must be a string, an object or null"),
        ({"a": {"@id": "b"}, "b": {"@id": "a"}}, "cyclic IRI mapping"),
        ({"speed": {"@id": "https://e.org/s", "@container": "@bag"}}, "@container"),
        ({"speed": {"@id": "https://e.org/s", "@unknown": 1}}, "unknown members"),
        ({"@version": 1.0}, "@version"),
        ({"speed": {"@id": "@nonsense"}}, "not a keyword"),
        ({"@vocab": 5}, "@vocab"),
        ({"speed": {"@id": "https://e.org/s", "@protected": "yes"}}, "@protected"),
        ({"alias": {"@id": "@context"}}, "cannot alias @context"),
        (42, "a context must be a URL, an object or null"),
        ("not-a-url", "not an absolute URL"),
        ({"https://e.org/a": "https://e.org/b"}, "looks like an IRI"),
    ],
)
def test_invalid_contexts_are_bad_request_data(context: Any, reason: str) -> None:
    with pytest.raises(BadRequestData, match=reason):
        resolve(context)


def test_null_cannot_clear_protected_user_terms() -> None:
    with pytest.raises(BadRequestData, match="protected"):
        resolve([{"@protected": True, "speed": "https://a.example/speed"}, None])


# ---- properties -------------------------------------------------------------------

names = st.from_regex(r"[a-z][A-Za-z0-9_]{0,11}", fullmatch=True)
path_segments = st.from_regex(r"[A-Za-z0-9_\-]{1,10}", fullmatch=True)
hosts = st.sampled_from(["example.org", "schema.org", "uri.etsi.org", "smartdatamodels.org"])
iris = st.builds(
    lambda scheme, host, segments, end: f"{scheme}://{host}/" + "/".join(segments) + end,
    st.sampled_from(["http", "https"]),
    hosts,
    st.lists(path_segments, min_size=0, max_size=3),
    st.sampled_from(["", "/", "#", "#x"]),
)
prefixes = st.sampled_from(
    [
        ("ex", "https://example.org/"),
        ("schema", "https://schema.org/"),
        ("sdm", "https://smartdatamodels.org/dataModel.Environment/"),
        ("ngsi-ld", NGSI_LD),
    ]
)


@st.composite
def user_contexts(draw: st.DrawFn) -> dict[str, Any]:
    context: dict[str, Any] = dict(draw(st.lists(prefixes, max_size=3)))
    prefix_names = sorted(context)
    defined: list[str] = draw(st.lists(names, max_size=8, unique=True))
    for name in defined:
        if name in context:
            continue
        compact: bool = draw(st.booleans())
        coerced: bool = draw(st.booleans())
        if prefix_names and compact:
            context[name] = f"{draw(st.sampled_from(prefix_names))}:{draw(path_segments)}"
        elif coerced:
            context[name] = {"@id": draw(iris), "@type": draw(st.sampled_from(["@id", "@vocab"]))}
        else:
            context[name] = draw(iris)
    return context


@settings(max_examples=100, deadline=None)
@given(user_contexts(), st.lists(names | iris, min_size=1, max_size=6))
def test_compaction_round_trips_any_name(context: dict[str, Any], terms: list[str]) -> None:
    active = resolve(context)
    for term in terms:
        iri = active.expand_term(term)
        compacted = active.compact_iri(iri)
        assert active.expand_term(compacted) == iri
        assert len(compacted) <= len(iri)


@settings(max_examples=100, deadline=None)
@given(user_contexts(), iris)
def test_expansion_inverts_compaction_of_any_iri(context: dict[str, Any], iri: str) -> None:
    active = resolve(context)
    assert active.expand_term(active.compact_iri(iri)) == iri


@settings(max_examples=100, deadline=None)
@given(
    user_contexts(),
    st.sampled_from(["location", "observedAt", "unitCode", "datasetId", "Property", "Point"]),
)
def test_core_terms_survive_any_user_context(context: dict[str, Any], core_term: str) -> None:
    hostile = {**context, core_term: "https://example.org/hijacked"}
    assert resolve(hostile).expand_term(core_term) == core_context().expand_term(core_term)


@settings(max_examples=100, deadline=None)
@given(user_contexts())
def test_every_defined_term_compacts_back_to_a_name_for_its_iri(context: dict[str, Any]) -> None:
    active = resolve(context)
    for term in context:
        iri = active.expand_term(term)
        compacted = active.compact_iri(iri)
        assert active.expand_term(compacted) == iri
        definition = active.term_definition(compacted)
        if definition is not None:
            assert definition.iri == iri


json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
definition_keys = st.sampled_from(
    ["@id", "@type", "@container", "@reverse", "@prefix", "@protected", "@language", "@context"]
)
term_keys = names | st.sampled_from(
    ["@vocab", "@version", "@protected", "@import", "@base", "ex:x", "location"]
)
fuzzed_definitions = json_values | st.dictionaries(
    definition_keys, json_values | iris | names, max_size=3
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(term_keys, fuzzed_definitions | iris, max_size=5))
def test_any_json_context_is_processed_or_refused_with_an_ngsi_ld_error(
    context: dict[str, Any],
) -> None:
    def unreachable(url: str, timeout_s: float, max_bytes: int) -> bytes:
        raise LdContextNotAvailable(f"{url} is not reachable in this test")

    try:
        active = ContextResolver(fetch=unreachable).resolve(context)
    except (BadRequestData, LdContextNotAvailable):
        return
    for term in context:
        active.compact_iri(active.expand_term(term))
