"""Expanding and compacting names with a subscription's @context.

This is the one place subscriptions turn short names (``temperature``) into IRIs and
back, through the library's JSON-LD processor (``kernel/context/jsonld``): remote
contexts are fetched and cached there, the core context always applies last, and names
no context defines fall into the default vocabulary.
"""

from __future__ import annotations

from typing import Any

from smartcity.kernel.context.jsonld import (
    CORE_CONTEXT_URL,
    LdContext,
    shared_resolver,
)

__all__ = ["CORE_CONTEXT_URL", "Terms", "context_urls", "terms_for"]


class Terms:
    """The names of one resolved @context."""

    def __init__(self, context: LdContext) -> None:
        self._context = context

    @property
    def context(self) -> LdContext:
        """The resolved context itself."""
        return self._context

    def expand(self, name: str) -> str:
        """The IRI of ``name`` (an IRI is returned unchanged)."""
        return self._context.expand_term(name)

    def compact(self, iri: str) -> str:
        """The shortest name of ``iri`` in this context (the IRI itself if it has none)."""
        return self._context.compact_iri(iri)


def terms_for(context: Any) -> Terms:
    """The terms of a subscription's @context (a URL, an object or a list of them).

    Resolved by the process-wide resolver the API shares, so a context fetched for a
    request is cached for notifications too. Raises LdContextNotAvailable when a remote
    context cannot be fetched in time and BadRequestData when it is not valid JSON-LD.
    """
    return Terms(shared_resolver().resolve(context))


def context_urls(context: Any) -> list[str]:
    """The URLs among a @context's items (for the notification's Link header)."""
    items = context if isinstance(context, list) else [context]
    return [item for item in items if isinstance(item, str)]
