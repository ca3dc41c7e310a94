"""Hosted @contexts in the store: created, found by URL, implicitly created once."""

from __future__ import annotations

import pytest

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.context.errors import BadRequestData, ResourceNotFound
from smartcity.kernel.context.jsonld import ContextResolver
from smartcity.kernel.context.jsonld_hosted import HostedContexts, hosted_url
from smartcity.kernel.storage import Store

TRAFFIC = {"tf": "https://traffic.city.example/ns#", "speed": "tf:speed"}


def test_hosted_contexts_are_found_by_their_url(store: Store, clock: FixedClock) -> None:
    hosted = HostedContexts(store, clock)
    resolver = ContextResolver(local_documents=hosted.lookup)
    created = hosted.create({"@context": TRAFFIC}, validate=resolver.resolve)
    assert created.created_at == clock.now()
    url = hosted_url("https://broker.city.example/", created.id)
    assert hosted.lookup(url) == TRAFFIC
    assert resolver.resolve(url).expand_term("speed") == "https://traffic.city.example/ns#speed"
    assert hosted.lookup("https://broker.city.example/ngsi-ld/v1/jsonldContexts/urn:x") is None
    assert hosted.lookup("https://elsewhere.example/context.jsonld") is None


def test_an_inline_context_gets_one_implicit_url(store: Store, clock: FixedClock) -> None:
    hosted = HostedContexts(store, clock)
    resolver = ContextResolver()
    first = hosted.ensure_implicit([TRAFFIC], validate=resolver.resolve)
    again = hosted.ensure_implicit([dict(reversed(TRAFFIC.items()))], validate=resolver.resolve)
    assert first.id == again.id
    assert first.kind == "ImplicitlyCreated"
    assert [context.id for context in hosted.list("ImplicitlyCreated")] == [first.id]
    assert hosted.list("Hosted") == []


def test_invalid_or_missing_contexts(store: Store, clock: FixedClock) -> None:
    hosted = HostedContexts(store, clock)
    resolver = ContextResolver()
    with pytest.raises(BadRequestData):
        hosted.create({"@context": {"speed": 1}}, validate=resolver.resolve)
    with pytest.raises(BadRequestData):
        hosted.ensure_implicit({"speed": 1}, validate=resolver.resolve)
    with pytest.raises(ResourceNotFound):
        hosted.get("urn:ngsi-ld:jsonldContext:none")
    with pytest.raises(ResourceNotFound):
        hosted.delete("urn:ngsi-ld:jsonldContext:none")
