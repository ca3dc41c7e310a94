"""The /jsonldContexts endpoints: hosting, listing, serving and deleting @contexts."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from smartcity.kernel.context.jsonld import CORE_CONTEXT_URL, shared_resolver
from smartcity.kernel.context.jsonld_hosted import HostedContexts
from smartcity.kernel.platform import Platform

PATH = "/ngsi-ld/v1/jsonldContexts"
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
TRAFFIC = {"@context": {"tf": "https://traffic.city.example/ns#", "speed": "tf:speed"}}


@pytest.fixture
def remote_context(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The URL of a context document served by a local HTTP server.

    The shared resolver gets more time than its 1 s default: these tests are about the
    cache, and a loaded machine may take longer for a first fetch (the timeout has
    tests of its own).
    """
    monkeypatch.setattr(shared_resolver(), "_timeout_s", 30.0)
    body = json.dumps({"@context": {"count": "https://traffic.city.example/ns#count"}}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/ld+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/traffic-counters.jsonld"
    server.shutdown()
    server.server_close()


def host(client: TestClient, document: Any = TRAFFIC) -> str:
    response = client.post(PATH, json=document)
    assert response.status_code == 201, response.text
    location: str = response.headers["Location"]
    return location


def test_a_hosted_context_is_served_back(client: TestClient) -> None:
    url = host(client)
    assert url.startswith("http://testserver/ngsi-ld/v1/jsonldContexts/urn:ngsi-ld:jsonldContext:")
    local_id = url.rsplit("/", 1)[1]
    response = client.get(f"{PATH}/{local_id}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    assert response.json() == TRAFFIC
    info = client.get(f"{PATH}/{local_id}", params={"details": "true"}).json()
    assert info["url"] == url
    assert info["localId"] == local_id
    assert info["kind"] == "Hosted"
    assert info["createdAt"].endswith("Z")


def test_a_hosted_context_resolves_without_the_network(client: TestClient) -> None:
    url = host(client)
    context = shared_resolver().resolve(url)
    assert context.expand_term("speed") == "https://traffic.city.example/ns#speed"


def test_listing_shows_hosted_and_cached_contexts(client: TestClient) -> None:
    url = host(client)
    urls = client.get(PATH).json()
    assert url in urls
    assert CORE_CONTEXT_URL in urls
    hosted = client.get(PATH, params={"kind": "Hosted", "details": "true"}).json()
    assert [info["url"] for info in hosted if info["url"] == url] == [url]
    assert all(info["kind"] == "Hosted" for info in hosted)
    cached = client.get(PATH, params={"kind": "Cached"}).json()
    assert url not in cached
    assert CORE_CONTEXT_URL in cached


def test_a_cached_remote_context_can_be_listed_served_and_dropped(
    client: TestClient, remote_context: str
) -> None:
    shared_resolver().resolve(remote_context)
    shared_resolver().resolve(remote_context)
    infos = client.get(PATH, params={"kind": "Cached", "details": "true"}).json()
    (info,) = [item for item in infos if item["url"] == remote_context]
    assert info["numberOfHits"] >= 1
    served = client.get(f"{PATH}/{quote(remote_context, safe='')}")
    assert served.status_code == 200
    assert served.json() == {"@context": {"count": "https://traffic.city.example/ns#count"}}
    reloaded = client.delete(f"{PATH}/{quote(remote_context, safe='')}", params={"reload": "true"})
    assert reloaded.status_code == 204
    assert remote_context in client.get(PATH, params={"kind": "Cached"}).json()
    assert client.delete(f"{PATH}/{quote(remote_context, safe='')}").status_code == 204
    assert remote_context not in client.get(PATH, params={"kind": "Cached"}).json()


def test_the_core_context_is_served_and_cannot_be_deleted(client: TestClient) -> None:
    served = client.get(f"{PATH}/{quote(CORE_CONTEXT_URL, safe='')}")
    assert served.status_code == 200
    assert served.json()["@context"]["location"] == "ngsi-ld:location"
    refused = client.delete(f"{PATH}/{quote(CORE_CONTEXT_URL, safe='')}")
    assert refused.status_code == 400
    assert refused.json()["type"] == ERRORS + "BadRequestData"


def test_a_deleted_context_is_gone(client: TestClient) -> None:
    local_id = host(client).rsplit("/", 1)[1]
    assert client.delete(f"{PATH}/{local_id}").status_code == 204
    missing = client.get(f"{PATH}/{local_id}")
    assert missing.status_code == 404
    assert missing.json()["type"] == ERRORS + "ResourceNotFound"
    assert client.delete(f"{PATH}/{local_id}").status_code == 404


@pytest.mark.parametrize(
    "document",
    [
        {"@context": {"speed": 42}},
        {"@context": "https://traffic.city.example/context.jsonld"},
        {"speed": "https://traffic.city.example/ns#speed"},
        [TRAFFIC],
    ],
)
def test_invalid_contexts_are_refused(client: TestClient, document: Any) -> None:
    response = client.post(PATH, json=document)
    assert response.status_code == 400
    assert response.json()["type"] == ERRORS + "BadRequestData"


@pytest.mark.parametrize("params", [{"kind": "Borrowed"}, {"details": "yes"}])
def test_bad_query_parameters_are_refused(client: TestClient, params: dict[str, str]) -> None:
    response = client.get(PATH, params=params)
    assert response.status_code == 400
    assert response.json()["type"] == ERRORS + "BadRequestData"


def test_reload_applies_only_to_cached_contexts(client: TestClient) -> None:
    local_id = host(client).rsplit("/", 1)[1]
    response = client.delete(f"{PATH}/{local_id}", params={"reload": "true"})
    assert response.status_code == 400


def link_to(url: str) -> dict[str, str]:
    return {"Link": f'<{url}>; rel="http://www.w3.org/ns/json-ld#context"'}


def test_entities_use_a_hosted_context_by_its_url(client: TestClient) -> None:
    url = host(client)
    entity = {
        "id": "urn:ngsi-ld:TrafficFlowObserved:h6-1",
        "type": "TrafficFlowObserved",
        "speed": {"type": "Property", "value": 42},
    }
    assert client.post("/ngsi-ld/v1/entities", json=entity, headers=link_to(url)).status_code == 201
    named = client.get(f"/ngsi-ld/v1/entities/{entity['id']}", headers=link_to(url))
    assert named.json()["speed"]["value"] == 42
    assert named.headers["Link"].startswith(f"<{url}>")
    # Without the context the attribute comes back under its full IRI.
    plain = client.get(f"/ngsi-ld/v1/entities/{entity['id']}").json()
    assert plain["https://traffic.city.example/ns#speed"]["value"] == 42


def test_an_unreachable_context_answers_ld_context_not_available(client: TestClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/gone.jsonld"
    response = client.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:1", headers=link_to(closed))
    assert response.status_code == 503
    assert response.json()["type"] == ERRORS + "LdContextNotAvailable"


def test_implicitly_created_contexts_are_listed_by_kind(
    client: TestClient, platform: Platform
) -> None:
    implicit = HostedContexts(platform.store, platform.clock).ensure_implicit(
        [{"speed": "https://traffic.city.example/ns#speed"}], validate=shared_resolver().resolve
    )
    listed = client.get(PATH, params={"kind": "ImplicitlyCreated", "details": "true"}).json()
    assert [info["localId"] for info in listed] == [implicit.id]
    assert listed[0]["kind"] == "ImplicitlyCreated"
    assert client.get(f"{PATH}/{implicit.id}").json() == implicit.document
