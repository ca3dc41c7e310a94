"""JSON-LD @context handling for the NGSI-LD API: the one module other code imports.

- :func:`core_context` — the NGSI-LD core context, shipped in the package.
- :func:`shared_resolver` — the process-wide :class:`ContextResolver`.
- :class:`ContextResolver` — ``resolve(value) -> LdContext`` for a request's ``@context``
  (None, URL, object or list), fetching remote contexts with a cache, a URL→file map
  (``SMARTCITY_CONTEXT_MAP``) and a one-second deadline (LdContextNotAvailable).
- :class:`LdContext` — ``expand_term`` / ``compact_iri`` / ``term_definition``.
- :func:`request_context_value`, :func:`parse_link_header`, :func:`context_link_header`
  — where a request's context comes from and how a response names its own.

The core context always comes last (ETSI GS CIM 009): its terms cannot be redefined by
a user context, and names no context defines expand to
``https://uri.etsi.org/ngsi-ld/default-context/<name>``.
"""

from __future__ import annotations

from smartcity.kernel.context.jsonld_context import LdContext, TermDefinition, is_absolute_iri
from smartcity.kernel.context.jsonld_core import (
    CORE_CONTEXT_URL,
    DEFAULT_CONTEXT_VOCAB,
    NGSI_LD_PREFIX,
    core_context,
    core_context_document,
    is_core_context_url,
)
from smartcity.kernel.context.jsonld_fetch import Fetch, fetch_over_http
from smartcity.kernel.context.jsonld_link import (
    JSON_LD_MEDIA_TYPE,
    JSONLD_CONTEXT_REL,
    NO_BODY,
    NO_CONTEXT_MEMBER,
    context_link_header,
    is_json_ld,
    parse_link_header,
    request_context_value,
)
from smartcity.kernel.context.jsonld_resolver import (
    CONTEXT_MAP_VARIABLE,
    ContextResolver,
    load_url_map,
    shared_resolver,
)

__all__ = [
    "CONTEXT_MAP_VARIABLE",
    "CORE_CONTEXT_URL",
    "DEFAULT_CONTEXT_VOCAB",
    "JSONLD_CONTEXT_REL",
    "JSON_LD_MEDIA_TYPE",
    "NGSI_LD_PREFIX",
    "NO_BODY",
    "NO_CONTEXT_MEMBER",
    "ContextResolver",
    "Fetch",
    "LdContext",
    "TermDefinition",
    "context_link_header",
    "core_context",
    "core_context_document",
    "fetch_over_http",
    "is_absolute_iri",
    "is_core_context_url",
    "is_json_ld",
    "load_url_map",
    "parse_link_header",
    "request_context_value",
    "shared_resolver",
]
