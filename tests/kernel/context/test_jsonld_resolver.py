"""Resolving @context values: remote contexts over HTTP, the URL map, caches, deadlines."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from smartcity.kernel.context.errors import BadRequestData, LdContextNotAvailable
from smartcity.kernel.context.jsonld import (
    CONTEXT_MAP_VARIABLE,
    CORE_CONTEXT_URL,
    DEFAULT_CONTEXT_VOCAB,
    ContextResolver,
    core_context,
)
from smartcity.kernel.context.jsonld_fetch import is_public_address
from smartcity.kernel.context.jsonld_resolver import ALLOW_PRIVATE_VARIABLE
from smartcity.kernel.errors import ConfigurationError

# The deadline is one second; a silent server would otherwise hold the request for ever.
# The bound tells the two apart with room for a loaded machine (2.5 s failed once at
# load 5, session 7): the test is of the deadline, not of the machine's speed.
DEADLINE_BOUND_S = 5.0
NGSI_LD = "https://uri.etsi.org/ngsi-ld/"


@dataclass
class ContextServer:
    """A local HTTP server serving context documents and counting requests."""

    base_url: str
    documents: dict[str, bytes] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)

    def serve(self, path: str, document: Any) -> str:
        self.documents[path] = (
            document if isinstance(document, bytes) else json.dumps(document).encode()
        )
        return self.base_url + path


@pytest.fixture
def context_server() -> Iterator[ContextServer]:
    state = ContextServer(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits[self.path] = state.hits.get(self.path, 0) + 1
            body = state.documents.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/ld+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A URL whose server accepts connections and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/context.jsonld"
    listener.close()


@pytest.fixture
def closed_url() -> str:
    """A URL on a port nothing listens on."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}/context.jsonld"


SPEED_CONTEXT = {"@context": {"speed": "https://example.org/traffic#speed"}}


def test_a_remote_context_is_fetched_once_then_cached(context_server: ContextServer) -> None:
    url = context_server.serve("/traffic.jsonld", SPEED_CONTEXT)
    resolver = ContextResolver(allow_private_addresses=True)
    first = resolver.resolve(url)
    second = resolver.resolve(url)
    assert first.expand_term("speed") == "https://example.org/traffic#speed"
    assert second.expand_term("speed") == "https://example.org/traffic#speed"
    assert context_server.hits == {"/traffic.jsonld": 1}
    # A list naming the same URL reuses the cached document too.
    resolver.resolve([url, {"count": "https://example.org/traffic#count"}])
    assert context_server.hits == {"/traffic.jsonld": 1}
    resolver.close()


def test_the_cache_expires(context_server: ContextServer) -> None:
    url = context_server.serve("/traffic.jsonld", SPEED_CONTEXT)
    now = [100.0]
    resolver = ContextResolver(allow_private_addresses=True, ttl_s=60.0, monotonic=lambda: now[0])
    resolver.resolve(url)
    now[0] += 61.0
    resolver.resolve(url)
    assert context_server.hits == {"/traffic.jsonld": 2}
    resolver.close()


def test_nested_remote_contexts_are_followed(context_server: ContextServer) -> None:
    inner = context_server.serve("/inner.jsonld", {"@context": {"ex": "https://example.org/ns#"}})
    outer = context_server.serve(
        "/outer.jsonld", {"@context": [inner, {"speed": "ex:speed"}, CORE_CONTEXT_URL]}
    )
    resolver = ContextResolver(allow_private_addresses=True)
    assert resolver.resolve(outer).expand_term("speed") == "https://example.org/ns#speed"
    assert "/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld" not in context_server.hits
    resolver.close()


def test_import_merges_a_remote_context(context_server: ContextServer) -> None:
    base = context_server.serve("/base.jsonld", {"@context": {"speed": "https://a.example/speed"}})
    resolver = ContextResolver(allow_private_addresses=True)
    context = resolver.resolve({"@import": base, "count": "https://a.example/count"})
    assert context.expand_term("speed") == "https://a.example/speed"
    assert context.expand_term("count") == "https://a.example/count"
    resolver.close()


def test_a_context_that_includes_itself_is_refused(context_server: ContextServer) -> None:
    url = context_server.base_url + "/loop.jsonld"
    context_server.serve("/loop.jsonld", {"@context": [url]})
    resolver = ContextResolver(allow_private_addresses=True)
    with pytest.raises(BadRequestData, match="includes itself"):
        resolver.resolve(url)
    resolver.close()


def test_the_core_context_is_never_fetched() -> None:
    def refuse(url: str, timeout_s: float, max_bytes: int) -> bytes:
        raise AssertionError(url)

    resolver = ContextResolver(fetch=refuse)
    assert resolver.resolve(None) is core_context()
    assert resolver.resolve(CORE_CONTEXT_URL) is core_context()
    assert (
        resolver.resolve("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld")
        is core_context()
    )
    assert resolver.resolve([CORE_CONTEXT_URL]).expand_term("location") == NGSI_LD + "location"


def test_the_url_map_answers_from_local_files(tmp_path: Path) -> None:
    (tmp_path / "traffic.jsonld").write_text(json.dumps(SPEED_CONTEXT))
    map_file = tmp_path / "contexts.json"
    map_file.write_text(
        json.dumps({"https://contexts.city.example/traffic.jsonld": "traffic.jsonld"})
    )

    def refuse(url: str, timeout_s: float, max_bytes: int) -> bytes:
        raise AssertionError(f"fetched {url} despite the URL map")

    resolver = ContextResolver.from_env({CONTEXT_MAP_VARIABLE: str(map_file)}, fetch=refuse)
    context = resolver.resolve("https://contexts.city.example/traffic.jsonld")
    assert context.expand_term("speed") == "https://example.org/traffic#speed"


def test_a_broken_url_map_is_a_configuration_error(tmp_path: Path) -> None:
    map_file = tmp_path / "contexts.json"
    map_file.write_text("[1, 2]")
    with pytest.raises(ConfigurationError, match=CONTEXT_MAP_VARIABLE):
        ContextResolver.from_env({CONTEXT_MAP_VARIABLE: str(map_file)})


def test_a_mapped_file_that_is_missing_is_not_available(tmp_path: Path) -> None:
    resolver = ContextResolver(url_map={"https://c.example/x.jsonld": tmp_path / "missing.jsonld"})
    with pytest.raises(LdContextNotAvailable):
        resolver.resolve("https://c.example/x.jsonld")


def test_a_server_that_never_answers_gives_ld_context_not_available_in_time(
    silent_url: str,
) -> None:
    resolver = ContextResolver(timeout_s=1.0, allow_private_addresses=True)
    started = time.monotonic()
    with pytest.raises(LdContextNotAvailable, match="within 1 s"):
        resolver.resolve(silent_url)
    assert time.monotonic() - started < DEADLINE_BOUND_S
    resolver.close()


def test_a_closed_port_gives_ld_context_not_available_in_time(closed_url: str) -> None:
    resolver = ContextResolver(timeout_s=1.0, allow_private_addresses=True)
    started = time.monotonic()
    with pytest.raises(LdContextNotAvailable):
        resolver.resolve([{"speed": "https://e.org/speed"}, closed_url])
    assert time.monotonic() - started < DEADLINE_BOUND_S
    resolver.close()


def test_failures_are_remembered_briefly(closed_url: str) -> None:
    calls: list[str] = []

    def failing(url: str, timeout_s: float, max_bytes: int) -> bytes:
        calls.append(url)
        raise LdContextNotAvailable("down")

    now = [0.0]
    resolver = ContextResolver(fetch=failing, failure_ttl_s=10.0, monotonic=lambda: now[0])
    for _ in range(3):
        with pytest.raises(LdContextNotAvailable):
            resolver.resolve(closed_url)
    assert len(calls) == 1
    now[0] += 11.0
    with pytest.raises(LdContextNotAvailable):
        resolver.resolve(closed_url)
    assert len(calls) == 2
    resolver.close()


def test_a_missing_remote_document_is_not_available(context_server: ContextServer) -> None:
    resolver = ContextResolver(allow_private_addresses=True)
    with pytest.raises(LdContextNotAvailable, match="HTTP 404"):
        resolver.resolve(context_server.base_url + "/nothing.jsonld")
    resolver.close()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not a JSON document"),
        (b'{"speed": "https://e.org/speed"}', "no top-level @context"),
        (b'{"@context": {"speed": 5}}', "must be a string, an object or null"),
    ],
)
def test_invalid_remote_documents_are_bad_request_data(
    context_server: ContextServer, body: bytes, reason: str
) -> None:
    url = context_server.serve("/bad.jsonld", body)
    resolver = ContextResolver(allow_private_addresses=True)
    with pytest.raises(BadRequestData, match=reason):
        resolver.resolve(url)
    resolver.close()


def test_oversized_documents_are_refused(context_server: ContextServer) -> None:
    big = {"@context": {f"term{index}": f"https://e.org/{index}" for index in range(2000)}}
    url = context_server.serve("/big.jsonld", big)
    resolver = ContextResolver(max_bytes=4096, allow_private_addresses=True)
    with pytest.raises(BadRequestData, match="larger than 4096 bytes"):
        resolver.resolve(url)
    resolver.close()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/context.jsonld"])
def test_only_http_urls_are_fetched(url: str) -> None:
    with pytest.raises(BadRequestData, match="not an http"):
        ContextResolver(allow_private_addresses=True).resolve(url)


def test_concurrent_requests_share_one_fetch() -> None:
    calls: list[str] = []
    release = threading.Event()

    def slow(url: str, timeout_s: float, max_bytes: int) -> bytes:
        calls.append(url)
        release.wait(5)
        return json.dumps(SPEED_CONTEXT).encode()

    resolver = ContextResolver(fetch=slow, timeout_s=5.0)
    results: list[str] = []

    def ask() -> None:
        results.append(resolver.resolve("https://c.example/traffic.jsonld").expand_term("speed"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.1)
    release.set()
    for thread in threads:
        thread.join(5)
    assert results == ["https://example.org/traffic#speed"] * 8
    assert calls == ["https://c.example/traffic.jsonld"]
    resolver.close()


def test_a_late_answer_serves_later_requests() -> None:
    release = threading.Event()

    def late(url: str, timeout_s: float, max_bytes: int) -> bytes:
        release.wait(5)
        return json.dumps(SPEED_CONTEXT).encode()

    resolver = ContextResolver(fetch=late, timeout_s=0.2)
    with pytest.raises(LdContextNotAvailable):
        resolver.resolve("https://c.example/traffic.jsonld")
    release.set()
    deadline = time.monotonic() + 5
    while True:
        try:
            context = resolver.resolve("https://c.example/traffic.jsonld")
            break
        except LdContextNotAvailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    assert context.expand_term("speed") == "https://example.org/traffic#speed"
    assert context.expand_term("other") == DEFAULT_CONTEXT_VOCAB + "other"
    resolver.close()


def test_resolved_contexts_remember_their_source() -> None:
    value = [{"speed": "https://e.org/speed"}, CORE_CONTEXT_URL]
    assert ContextResolver(allow_private_addresses=True).resolve(value).source == value


def test_fetches_under_way_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("smartcity.kernel.context.jsonld_resolver.MAX_FETCHES_UNDER_WAY", 2)
    release = threading.Event()

    def hanging(url: str, timeout_s: float, max_bytes: int) -> bytes:
        release.wait(5)
        raise LdContextNotAvailable("gave up")

    resolver = ContextResolver(fetch=hanging, timeout_s=0.05)
    for index in range(2):
        with pytest.raises(LdContextNotAvailable, match="did not arrive"):
            resolver.resolve(f"https://c.example/{index}.jsonld")
    with pytest.raises(LdContextNotAvailable, match="too many fetches"):
        resolver.resolve("https://c.example/third.jsonld")
    release.set()
    resolver.close()


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "10.1.2.3", "192.168.0.10", "169.254.169.254", "[::1]", "0.0.0.0"],
)
def test_by_default_contexts_on_private_networks_are_not_fetched(host: str) -> None:
    """A client must not make the broker read loopback, intranet or cloud-metadata URLs."""
    resolver = ContextResolver()
    with pytest.raises(BadRequestData, match="not a public address"):
        resolver.resolve(f"http://{host}:9/context.jsonld")
    resolver.close()


def test_the_private_address_guard_is_checked_before_connecting(
    context_server: ContextServer,
) -> None:
    url = context_server.serve("/traffic.jsonld", SPEED_CONTEXT)
    resolver = ContextResolver()
    with pytest.raises(BadRequestData, match="not a public address"):
        resolver.resolve(url)
    assert context_server.hits == {}
    resolver.close()


def test_intranet_deployments_allow_private_hosts_from_the_environment(
    context_server: ContextServer,
) -> None:
    url = context_server.serve("/traffic.jsonld", SPEED_CONTEXT)
    resolver = ContextResolver.from_env({ALLOW_PRIVATE_VARIABLE: "1"})
    assert resolver.resolve(url).expand_term("speed") == "https://example.org/traffic#speed"
    resolver.close()


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("::ffff:127.0.0.1", False),
        ("fe80::1%eth0", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
    ],
)
def test_public_address_classification(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_cached_answers_only_what_needs_no_work(context_server: ContextServer) -> None:
    # What the loop may take without a thread hop: the core context, a fresh entry.
    url = context_server.serve("/traffic.jsonld", SPEED_CONTEXT)
    now = [100.0]
    resolver = ContextResolver(allow_private_addresses=True, ttl_s=60.0, monotonic=lambda: now[0])
    assert resolver.cached(None) is core_context()
    assert resolver.cached(url) is None
    assert context_server.hits == {}
    resolved = resolver.resolve(url)
    assert resolver.cached(url) is resolved
    now[0] += 61.0
    assert resolver.cached(url) is None
    resolver.close()
