"""The shipped NGSI-LD core context: present offline, complete, and what it means."""

from __future__ import annotations

from importlib import resources

import pytest

from smartcity.kernel.context.jsonld import (
    CORE_CONTEXT_URL,
    DEFAULT_CONTEXT_VOCAB,
    core_context,
    core_context_document,
    is_core_context_url,
)

NGSI_LD = "https://uri.etsi.org/ngsi-ld/"
GEOJSON = "https://purl.org/geojson/vocab#"


def test_the_core_context_and_its_licence_ship_inside_the_package() -> None:
    folder = resources.files("smartcity.kernel.context").joinpath("contexts")
    assert folder.joinpath("ngsi-ld-core-context-v1.8.jsonld").is_file()
    licence = folder.joinpath("LICENSE-ETSI.txt").read_text(encoding="utf-8")
    assert "Redistribution and use in source and binary forms" in licence
    assert "ETSI" in licence


def test_the_core_document_is_the_protected_v1_8_context() -> None:
    context = core_context_document()["@context"]
    assert context["@protected"] is True
    assert context["@vocab"] == DEFAULT_CONTEXT_VOCAB
    assert CORE_CONTEXT_URL.endswith("ngsi-ld-core-context-v1.8.jsonld")


@pytest.mark.parametrize(
    ("term", "iri"),
    [
        ("Property", NGSI_LD + "Property"),
        ("Relationship", NGSI_LD + "Relationship"),
        ("GeoProperty", NGSI_LD + "GeoProperty"),
        ("LanguageProperty", NGSI_LD + "LanguageProperty"),
        ("JsonProperty", NGSI_LD + "JsonProperty"),
        ("VocabProperty", NGSI_LD + "VocabProperty"),
        ("ListProperty", NGSI_LD + "ListProperty"),
        ("ListRelationship", NGSI_LD + "ListRelationship"),
        ("value", NGSI_LD + "hasValue"),
        ("object", NGSI_LD + "hasObject"),
        ("languageMap", NGSI_LD + "hasLanguageMap"),
        ("json", NGSI_LD + "hasJSON"),
        ("vocab", NGSI_LD + "hasVocab"),
        ("valueList", NGSI_LD + "hasValueList"),
        ("objectList", NGSI_LD + "hasObjectList"),
        ("observedAt", NGSI_LD + "observedAt"),
        ("createdAt", NGSI_LD + "createdAt"),
        ("modifiedAt", NGSI_LD + "modifiedAt"),
        ("deletedAt", NGSI_LD + "deletedAt"),
        ("datasetId", NGSI_LD + "datasetId"),
        ("instanceId", NGSI_LD + "instanceId"),
        ("unitCode", NGSI_LD + "unitCode"),
        ("location", NGSI_LD + "location"),
        ("observationSpace", NGSI_LD + "observationSpace"),
        ("operationSpace", NGSI_LD + "operationSpace"),
        ("Point", GEOJSON + "Point"),
        ("MultiPolygon", GEOJSON + "MultiPolygon"),
        ("coordinates", GEOJSON + "coordinates"),
        ("geometry", GEOJSON + "geometry"),
        ("Subscription", NGSI_LD + "Subscription"),
        ("Notification", NGSI_LD + "Notification"),
        ("watchedAttributes", NGSI_LD + "watchedAttributes"),
        ("timeInterval", NGSI_LD + "timeInterval"),
        ("id", "@id"),
        ("type", "@type"),
    ],
)
def test_core_terms_expand_to_their_etsi_iris(term: str, iri: str) -> None:
    assert core_context().expand_term(term) == iri
    assert core_context().compact_iri(iri) == term


def test_core_type_coercions_are_exposed() -> None:
    context = core_context()
    object_definition = context.term_definition("object")
    assert object_definition is not None
    assert object_definition.type_mapping == "@id"
    vocab_definition = context.term_definition("vocab")
    assert vocab_definition is not None
    assert vocab_definition.type_mapping == "@vocab"
    observed = context.term_definition("observedAt")
    assert observed is not None
    assert observed.type_mapping == NGSI_LD + "DateTime"
    assert observed.protected
    language_map = context.term_definition("languageMap")
    assert language_map is not None
    assert language_map.container == ("@language",)
    assert context.term_definition("temperature") is None


def test_undefined_names_go_to_the_default_context() -> None:
    assert core_context().expand_term("temperature") == DEFAULT_CONTEXT_VOCAB + "temperature"
    assert core_context().compact_iri(DEFAULT_CONTEXT_VOCAB + "temperature") == "temperature"


@pytest.mark.parametrize(
    "url",
    [
        CORE_CONTEXT_URL,
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.3.jsonld",
        "http://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld",
    ],
)
def test_every_published_core_url_is_recognised(url: str) -> None:
    assert is_core_context_url(url)


def test_other_urls_are_not_the_core_context() -> None:
    assert not is_core_context_url("https://example.org/ngsi-ld-core-context.jsonld")
    assert not is_core_context_url(CORE_CONTEXT_URL + "?x=1")
