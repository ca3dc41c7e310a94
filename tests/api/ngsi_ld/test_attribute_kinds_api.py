"""NGSI-LD v1.8 over HTTP: the new attribute kinds, ``lang``, ``pick``/``omit`` and
Retrieve Attribute, on the backend under test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartcity.api import create_app
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store

BASE = "/ngsi-ld/v1"
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
JSON = {"Content-Type": "application/json"}
NGSI = "https://uri.etsi.org/ngsi-ld/"
DEFAULT = NGSI + "default-context/"
ID = "urn:ngsi-ld:Park:1"


@pytest.fixture
def client(store: Store, clock: FixedClock, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path)
    platform = Platform.open(settings, store=store, clock=clock, migrate=False)
    with TestClient(create_app(platform), raise_server_exceptions=False) as test_client:
        yield test_client


def park(**extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": ID,
        "type": "Park",
        "settings": {"type": "JsonProperty", "json": {"mode": "eco", "levels": [1, 2]}},
        "category": {"type": "VocabProperty", "vocab": ["urban", "green"]},
        "readings": {"type": "ListProperty", "valueList": [3, 4.5, "n/a"], "unitCode": "CEL"},
        "gates": {
            "type": "ListRelationship",
            "objectList": [{"object": "urn:ngsi-ld:Gate:1"}, "urn:ngsi-ld:Gate:2"],
        },
        "name": {
            "type": "LanguageProperty",
            "languageMap": {"zh-CN": "越秀公园", "en": "Yuexiu Park"},
        },
    }
    document.update(extra)
    return document


def create(client: TestClient, document: dict[str, Any]) -> Any:
    return client.post(f"{BASE}/entities", json=document, headers=JSON)


def get(client: TestClient, path: str, **params: str) -> Any:
    return client.get(f"{BASE}{path}", params=params)


def problem_type(response: Any) -> str:
    return str(response.json()["type"]).removeprefix(ERRORS)


def test_new_kinds_read_back_in_normalized_form(client: TestClient) -> None:
    assert create(client, park()).status_code == 201
    body = get(client, f"/entities/{ID}").json()
    assert body["settings"] == {"type": "JsonProperty", "json": {"mode": "eco", "levels": [1, 2]}}
    assert body["category"] == {"type": "VocabProperty", "vocab": ["urban", "green"]}
    assert body["readings"] == {
        "type": "ListProperty",
        "valueList": [3, 4.5, "n/a"],
        "unitCode": "CEL",
    }
    assert body["gates"] == {
        "type": "ListRelationship",
        "objectList": [{"object": "urn:ngsi-ld:Gate:1"}, {"object": "urn:ngsi-ld:Gate:2"}],
    }


def test_key_values_keep_the_value_member_and_post_back_as_the_same_kinds(
    client: TestClient,
) -> None:
    create(client, park())
    simple = get(client, f"/entities/{ID}", options="keyValues").json()
    assert simple["settings"] == {"json": {"mode": "eco", "levels": [1, 2]}}
    assert simple["category"] == {"vocab": ["urban", "green"]}
    assert simple["readings"] == {"valueList": [3, 4.5, "n/a"]}
    copy = {**simple, "id": "urn:ngsi-ld:Park:2"}
    assert create(client, copy).status_code == 201
    again = get(client, "/entities/urn:ngsi-ld:Park:2").json()
    assert again["settings"]["type"] == "JsonProperty"
    assert again["category"] == {"type": "VocabProperty", "vocab": ["urban", "green"]}
    assert again["gates"]["type"] == "ListRelationship"


def test_concise_form_reads_back_to_the_same_entity(client: TestClient) -> None:
    create(client, park())
    concise = get(client, f"/entities/{ID}", options="concise").json()
    assert concise["settings"] == {"json": {"mode": "eco", "levels": [1, 2]}}
    assert concise["readings"] == {"valueList": [3, 4.5, "n/a"], "unitCode": "CEL"}
    normalized = get(client, f"/entities/{ID}").json()
    assert create(client, {**concise, "id": "urn:ngsi-ld:Park:3"}).status_code == 201
    assert get(client, "/entities/urn:ngsi-ld:Park:3").json() == {
        **normalized,
        "id": "urn:ngsi-ld:Park:3",
    }


def test_vocab_terms_are_expanded_against_the_context(client: TestClient) -> None:
    context = {"@context": {"urban": "https://example.org/Urban"}}
    document = {**park(), **context}
    response = client.post(
        f"{BASE}/entities", json=document, headers={"Content-Type": "application/ld+json"}
    )
    assert response.status_code == 201
    # Read through the core context only, the user's term is shown as its IRI.
    body = get(client, f"/entities/{ID}").json()
    assert body["category"]["vocab"] == ["https://example.org/Urban", "green"]


def test_append_update_and_patch_the_new_kinds(client: TestClient) -> None:
    create(client, park())
    appended = client.post(
        f"{BASE}/entities/{ID}/attrs",
        json={"extra": {"json": [1, None, {"a": True}]}, "state": {"vocab": "open"}},
        headers=JSON,
    )
    assert appended.status_code == 204
    patched = client.patch(
        f"{BASE}/entities/{ID}/attrs/readings", json={"valueList": [7]}, headers=JSON
    )
    assert patched.status_code == 204
    updated = client.patch(
        f"{BASE}/entities/{ID}/attrs", json={"state": {"vocab": "closed"}}, headers=JSON
    )
    assert updated.status_code == 204
    body = get(client, f"/entities/{ID}", options="keyValues").json()
    assert body["extra"] == {"json": [1, None, {"a": True}]}
    assert body["readings"] == {"valueList": [7]}
    assert body["state"] == {"vocab": "closed"}


def test_batch_upsert_takes_the_new_kinds(client: TestClient) -> None:
    response = client.post(f"{BASE}/entityOperations/upsert", json=[park()], headers=JSON)
    assert response.status_code in (200, 201, 204)
    assert get(client, f"/entities/{ID}").json()["gates"]["type"] == "ListRelationship"


@pytest.mark.parametrize(
    "attribute",
    [
        {"type": "JsonProperty", "json": None},
        {"type": "JsonProperty", "value": 1},
        {"type": "VocabProperty", "vocab": []},
        {"type": "VocabProperty", "vocab": "with space"},
        {"type": "VocabProperty", "vocab": 5},
        {"type": "ListProperty", "valueList": "not a list"},
        {"type": "ListProperty", "valueList": [1, None]},
        {"type": "ListRelationship", "objectList": ["not a uri"]},
        {"type": "ListRelationship", "objectList": [{"object": "urn:a:b", "x": 1}]},
        {"type": "ListRelationship", "objectList": {"object": "urn:a:b"}},
        {"type": "ListRelationship"},
    ],
)
def test_malformed_new_kinds_are_bad_request_data(
    client: TestClient, attribute: dict[str, Any]
) -> None:
    response = create(client, {"id": ID, "type": "Park", "broken": attribute})
    assert response.status_code == 400
    assert problem_type(response) == "BadRequestData"


def park_ids(client: TestClient, q: str) -> list[str]:
    """Ids of the parks ``q`` selects (a 200 answer)."""
    response = get(client, "/entities", type="Park", q=q)
    assert response.status_code == 200, response.text
    return [entity["id"] for entity in response.json()]


def test_q_reaches_inside_json_and_lists(client: TestClient) -> None:
    create(client, park())
    create(
        client,
        park(
            id="urn:ngsi-ld:Park:9",
            settings={"json": {"mode": "off"}},
            readings={"valueList": [1]},
        ),
    )

    assert park_ids(client, 'settings[mode]=="eco"') == [ID]
    assert park_ids(client, "settings[mode]") == [ID, "urn:ngsi-ld:Park:9"]
    assert park_ids(client, 'readings.unitCode=="CEL"') == [ID]
    assert park_ids(client, 'name[en]=="Yuexiu Park"') == [ID, "urn:ngsi-ld:Park:9"]
    assert park_ids(client, "category;gates") == [ID, "urn:ngsi-ld:Park:9"]


def test_q_compares_whole_values_of_the_new_kinds(client: TestClient) -> None:
    create(client, park())
    create(
        client,
        park(
            id="urn:ngsi-ld:Park:9",
            category={"vocab": "rural"},
            readings={"valueList": [1]},
            gates={"objectList": ["urn:ngsi-ld:Gate:3"]},
            settings={"json": "off"},
        ),
    )

    assert park_ids(client, 'category=="urban"') == [ID]
    assert park_ids(client, 'category=="rural","green"') == [ID, "urn:ngsi-ld:Park:9"]
    assert park_ids(client, f'category=="{DEFAULT}rural"') == ["urn:ngsi-ld:Park:9"]
    assert park_ids(client, "readings>4") == [ID]
    assert park_ids(client, 'readings=="n/a"') == [ID]
    assert park_ids(client, "readings!=3") == ["urn:ngsi-ld:Park:9"]
    assert park_ids(client, "gates==urn:ngsi-ld:Gate:2") == [ID]
    assert park_ids(client, 'settings=="off"') == ["urn:ngsi-ld:Park:9"]


def test_temporal_history_holds_the_new_kinds(client: TestClient) -> None:
    create(client, park())
    response = get(client, f"/temporal/entities/{ID}", options="temporalValues")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["settings"]["type"] == "JsonProperty"
    assert body["settings"]["jsons"][0][0] == {"mode": "eco", "levels": [1, 2]}
    assert body["readings"]["valueLists"][0][0] == [3, 4.5, "n/a"]


def test_discovery_lists_the_new_kinds(client: TestClient) -> None:
    create(client, park())
    response = get(client, "/attributes", details="true")
    assert response.status_code == 200
    kinds = {item["attributeName"]: item.get("attributeTypes") for item in response.json()}
    assert kinds["settings"] == ["JsonProperty"]
    assert kinds["gates"] == ["ListRelationship"]


# --- lang -------------------------------------------------------------------------------


def test_lang_renders_a_language_property_as_a_property(client: TestClient) -> None:
    create(client, park())
    body = get(client, f"/entities/{ID}", lang="en").json()
    assert body["name"] == {"type": "Property", "value": "Yuexiu Park", "lang": "en"}
    assert get(client, f"/entities/{ID}", lang="zh").json()["name"]["value"] == "越秀公园"
    simple = get(client, f"/entities/{ID}", lang="fr,zh-CN;q=0.5", options="keyValues")
    assert simple.json()["name"] == "越秀公园"
    concise = get(client, f"/entities/{ID}", lang="en", options="concise").json()
    assert concise["name"] == {"value": "Yuexiu Park", "lang": "en"}


def test_lang_without_a_match_still_gives_a_value(client: TestClient) -> None:
    create(client, park())
    for lang in ("*", "fr"):
        name = get(client, f"/entities/{ID}", lang=lang).json()["name"]
        assert name["type"] == "Property"
        assert name["lang"] in ("zh-CN", "en")
        assert name["value"] in ("越秀公园", "Yuexiu Park")


def test_lang_applies_to_queries_and_bad_lang_is_bad_request(client: TestClient) -> None:
    create(client, park())
    found = get(client, "/entities", type="Park", lang="en", options="keyValues").json()
    assert found[0]["name"] == "Yuexiu Park"
    for bad in ("en;q=2", "no tag", "", "en;x=1"):
        response = get(client, "/entities", type="Park", lang=bad)
        assert response.status_code == 400, bad
        assert problem_type(response) == "BadRequestData"


def test_without_lang_the_language_map_is_returned(client: TestClient) -> None:
    create(client, park())
    assert get(client, f"/entities/{ID}").json()["name"]["type"] == "LanguageProperty"


# --- pick and omit ----------------------------------------------------------------------


def test_pick_keeps_only_the_members_named(client: TestClient) -> None:
    create(client, park())
    body = get(client, f"/entities/{ID}", pick="id,settings", options="keyValues").json()
    assert body == {"id": ID, "settings": {"json": {"mode": "eco", "levels": [1, 2]}}}
    body = get(client, "/entities", type="Park", pick="type,category").json()
    assert body == [
        {"type": "Park", "category": {"type": "VocabProperty", "vocab": ["urban", "green"]}}
    ]


def test_omit_drops_the_members_named(client: TestClient) -> None:
    create(client, park())
    body = get(client, f"/entities/{ID}", omit="type,settings,readings,gates,category").json()
    assert body == {"id": ID, "name": park()["name"]}


def test_pick_with_omit_is_refused_and_attrs_still_works(client: TestClient) -> None:
    create(client, park())
    response = get(client, f"/entities/{ID}", pick="id", omit="type")
    assert response.status_code == 400
    assert problem_type(response) == "BadRequestData"
    body = get(client, f"/entities/{ID}", attrs="settings").json()
    assert set(body) == {"id", "type", "settings"}


# --- Retrieve Attribute -----------------------------------------------------------------


def test_retrieve_attribute(client: TestClient) -> None:
    create(client, park())
    response = get(client, f"/entities/{ID}/attrs/readings")
    assert response.status_code == 200
    assert response.json() == {
        "type": "ListProperty",
        "valueList": [3, 4.5, "n/a"],
        "unitCode": "CEL",
    }
    assert get(client, f"/entities/{ID}/attrs/readings", options="keyValues").json() == {
        "valueList": [3, 4.5, "n/a"]
    }
    assert get(client, f"/entities/{ID}/attrs/name", lang="en").json()["value"] == "Yuexiu Park"
    assert "Link" in response.headers


def test_retrieve_attribute_of_several_instances_gives_a_list(client: TestClient) -> None:
    create(
        client,
        park(
            level=[
                {"type": "Property", "value": 1},
                {"type": "Property", "value": 2, "datasetId": "urn:ngsi-ld:Dataset:b"},
            ]
        ),
    )
    body = get(client, f"/entities/{ID}/attrs/level", options="keyValues").json()
    assert body == [1, 2]
    one = get(client, f"/entities/{ID}/attrs/level", datasetId="urn:ngsi-ld:Dataset:b").json()
    assert one == {"type": "Property", "value": 2, "datasetId": "urn:ngsi-ld:Dataset:b"}
    default = get(client, f"/entities/{ID}/attrs/level", datasetId="@none", options="keyValues")
    assert default.json() == 1
    missing = get(client, f"/entities/{ID}/attrs/level", datasetId="urn:ngsi-ld:Dataset:z")
    assert missing.status_code == 404
    assert get(client, f"/entities/{ID}/attrs/level", datasetId="no uri").status_code == 400


def test_retrieve_missing_attribute_or_entity_is_not_found(client: TestClient) -> None:
    create(client, park())
    for path in (f"/entities/{ID}/attrs/nothing", "/entities/urn:ngsi-ld:Park:404/attrs/name"):
        response = get(client, path)
        assert response.status_code == 404
        assert problem_type(response) == "ResourceNotFound"


@pytest.mark.parametrize(
    ("fragment", "kept", "gone"),
    [
        ({"type": "Relationship", "object": "urn:ngsi-ld:Gate:9"}, "object", "value"),
        ({"type": "VocabProperty", "vocab": "open"}, "vocab", "value"),
        ({"type": "JsonProperty", "json": {"a": 1}}, "json", "value"),
        ({"type": "ListProperty", "valueList": [1, 2]}, "valueList", "value"),
        ({"type": "LanguageProperty", "languageMap": {"en": "x"}}, "languageMap", "value"),
    ],
)
def test_patching_an_attribute_to_another_kind_drops_the_old_value_member(
    client: TestClient, fragment: dict[str, Any], kept: str, gone: str
) -> None:
    create(client, park(level={"type": "Property", "value": 3}))
    patched = client.patch(f"{BASE}/entities/{ID}/attrs/level", json=fragment, headers=JSON)
    assert patched.status_code == 204, patched.text
    level = get(client, f"/entities/{ID}").json()["level"]
    assert level["type"] == fragment["type"]
    assert kept in level
    assert gone not in level


def test_patching_a_relationship_back_to_a_property_drops_the_object(client: TestClient) -> None:
    create(
        client,
        park(owner={"type": "Relationship", "object": "urn:ngsi-ld:Org:1", "objectType": "Org"}),
    )
    patched = client.patch(
        f"{BASE}/entities/{ID}/attrs/owner",
        json={"type": "Property", "value": "city"},
        headers=JSON,
    )
    assert patched.status_code == 204, patched.text
    owner = get(client, f"/entities/{ID}").json()["owner"]
    assert owner == {"type": "Property", "value": "city"}


# --- lang, pick and omit on /entityOperations/query ---------------------------------------


def query_operation(client: TestClient, body: dict[str, Any], **params: str) -> Any:
    document = {"type": "Query", "entities": [{"type": "Park"}], **body}
    return client.post(f"{BASE}/entityOperations/query", json=document, params=params)


def test_query_operation_takes_lang_from_the_body_or_the_url(client: TestClient) -> None:
    create(client, park())
    from_body = query_operation(client, {"lang": "en"}, options="keyValues")
    assert from_body.status_code == 200, from_body.text
    assert from_body.json()[0]["name"] == "Yuexiu Park"
    from_url = query_operation(client, {}, lang="zh-CN", options="keyValues").json()
    assert from_url[0]["name"] == "越秀公园"
    bad = query_operation(client, {"lang": 5})
    assert bad.status_code == 400
    assert problem_type(bad) == "BadRequestData"


def test_query_operation_picks_and_omits_members(client: TestClient) -> None:
    create(client, park())
    picked = query_operation(client, {}, pick="id,settings", options="keyValues").json()
    assert picked == [{"id": ID, "settings": {"json": {"mode": "eco", "levels": [1, 2]}}}]
    omitted = query_operation(client, {}, omit="type,settings,readings,gates,category").json()
    assert omitted == [{"id": ID, "name": park()["name"]}]
    both = query_operation(client, {}, pick="id", omit="type")
    assert both.status_code == 400


# --- the new kinds in the temporal representation ------------------------------------------


def test_temporal_vocab_values_are_compacted_in_every_representation(client: TestClient) -> None:
    create(client, park())
    normalized = get(client, f"/temporal/entities/{ID}").json()
    assert normalized["category"][0]["vocab"] == ["urban", "green"]
    simplified = get(client, f"/temporal/entities/{ID}", options="temporalValues").json()
    assert simplified["category"]["vocabs"][0][0] == ["urban", "green"]


def test_temporal_lang_shows_language_properties_in_the_language_asked_for(
    client: TestClient,
) -> None:
    create(client, park())
    normalized = get(client, f"/temporal/entities/{ID}", lang="en").json()
    assert normalized["name"][0]["type"] == "Property"
    assert normalized["name"][0]["value"] == "Yuexiu Park"
    assert normalized["name"][0]["lang"] == "en"
    simplified = get(client, "/temporal/entities", type="Park", lang="zh", options="temporalValues")
    assert simplified.status_code == 200, simplified.text
    assert simplified.json()[0]["name"]["type"] == "Property"
    assert simplified.json()[0]["name"]["values"][0][0] == "越秀公园"
    without = get(client, f"/temporal/entities/{ID}").json()
    assert without["name"][0]["type"] == "LanguageProperty"
    bad = get(client, f"/temporal/entities/{ID}", lang="en;q=2")
    assert bad.status_code == 400
    assert problem_type(bad) == "BadRequestData"
