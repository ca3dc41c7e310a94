"""What every NGSI-LD route needs: tenant, @context, media types, JSON bodies, replies.

- ``NGSILD-Tenant`` names the tenant ('' without the header); a malformed name is
  BadRequestData.
- Request bodies must be ``application/json`` (context in a ``Link`` header, no
  ``@context`` member) or ``application/ld+json`` (``@context`` in the body); anything
  else is 415. Malformed JSON is BadRequestData.
- Replies are ``application/json`` with a ``Link`` header naming the context, or
  ``application/ld+json`` with ``@context`` in the body when the client's ``Accept``
  prefers it.

Body parsing and context resolution run as async dependencies on the event loop; the
routes themselves are plain functions FastAPI runs in its threadpool, so a slow
database never stalls other requests. The hot write routes (PATCH of attributes) are
``async`` instead: they call ``with_body`` themselves and send only the library call to
the threadpool, one thread hop per request instead of one per sync dependency too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from smartcity.api.responses import JsonResponse, dump_json
from smartcity.kernel.context.errors import BadRequestData, NgsiLdError
from smartcity.kernel.context.jsonld import (
    CORE_CONTEXT_URL,
    JSON_LD_MEDIA_TYPE,
    NO_BODY,
    NO_CONTEXT_MEMBER,
    LdContext,
    context_link_header,
    core_context,
    request_context_value,
    shared_resolver,
)
from smartcity.kernel.context.model import RepresentationFormat, check_entity_id, check_tenant

TENANT_HEADER = "NGSILD-Tenant"
TENANT_HEADER_KEY = TENANT_HEADER.lower()  # as ASGI names headers
JSON_MEDIA_TYPE = "application/json"
BODY_MEDIA_TYPES = frozenset({JSON_MEDIA_TYPE, JSON_LD_MEDIA_TYPE, "application/merge-patch+json"})


class UnsupportedMediaType(NgsiLdError):
    """The request body is neither JSON nor JSON-LD."""

    status = 415
    code = "UnsupportedMediaType"
    title = "Unsupported media type"


class NotAcceptable(NgsiLdError):
    """The client accepts no representation the broker offers."""

    status = 406
    code = "NotAcceptable"
    title = "Not acceptable"


def media_type(header: str | None) -> str:
    """The bare media type of a Content-Type value, lower-cased."""
    return (header or "").split(";", 1)[0].strip().lower()


# A request header's value by its lower-case name (the first if repeated), or None.
HeaderLookup = Callable[[str], str | None]


def first_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """An ASGI scope's headers by name, each the first of its name (as Starlette reads)."""
    found: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1")
        if key not in found:
            found[key] = value.decode("latin-1")
    return found


def tenant_of(request: Request) -> str:
    """The request's tenant ('' is the default tenant)."""
    return check_tenant(request.headers.get(TENANT_HEADER))


def entity_id_of(value: str) -> str:
    """An entity id from a path, BadRequestData unless it is a URI."""
    return check_entity_id(value)


def wants_json_ld(request: Request) -> bool:
    """Whether the reply should be JSON-LD (Accept names it before plain JSON)."""
    return accept_wants_json_ld(request.headers.get("accept"))


def accept_wants_json_ld(accept: str | None) -> bool:
    """Whether an ``Accept`` header names JSON-LD before plain JSON (406 if neither)."""
    if not accept:
        return False
    offered = [media_type(part) for part in accept.split(",")]
    for offer in offered:
        if offer == JSON_LD_MEDIA_TYPE:
            return True
        if offer in (JSON_MEDIA_TYPE, "*/*", "application/*", "application/geo+json"):
            return False
    raise NotAcceptable(f"cannot answer in any of {accept!r}: use application/json or ld+json")


# Not frozen: a frozen dataclass sets each field through ``object.__setattr__``, ~1 µs
# more per request on the hot PATCH path; nothing changes a request once read.
@dataclass(slots=True)
class NgsiRequest:
    """A request's tenant, body, @context (value and resolved) and reply preference."""

    tenant: str
    body: Any
    context_value: Any
    context: LdContext
    json_ld: bool
    json_ld_body: bool = False

    def context_for(self, document: Any) -> LdContext:
        """The context of one entity of a JSON-LD batch (each may carry its own)."""
        if self.json_ld_body and isinstance(document, Mapping) and "@context" in document:
            return resolve(document["@context"])
        return self.context


def resolve(value: Any) -> LdContext:
    """The resolved context of an ``@context`` value (cached by the shared resolver)."""
    return shared_resolver().resolve(value)


async def resolve_off_loop(value: Any) -> LdContext:
    """Resolve a context; user contexts not processed yet in the threadpool (fetching).

    The core context and the contexts processed earlier come from the resolver's cache
    on the loop: a client naming its context in a ``Link`` header on every request
    costs no thread hop once that context is known.
    """
    if value is None:
        return core_context()
    known = shared_resolver().cached(value)
    if known is not None:
        return known
    return await run_in_threadpool(resolve, value)


async def read_json(request: Request) -> Any:
    """The request body as JSON; 415 unless JSON or JSON-LD, 400 if malformed."""
    return await read_json_body(request.headers.get("content-type"), request.body)


async def read_json_body(content_type: str | None, body: Callable[[], Awaitable[bytes]]) -> Any:
    """A body read by ``body()`` as JSON; 415 unless JSON or JSON-LD, 400 if malformed."""
    return await read_typed_body(media_type(content_type), body)


async def read_typed_body(kind: str, body: Callable[[], Awaitable[bytes]]) -> Any:
    """``read_json_body`` of a bare media type (``media_type``) found already."""
    if kind not in BODY_MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"the body must be application/json or application/ld+json, not {kind or 'untyped'}"
        )
    raw = await body()
    if not raw:
        raise BadRequestData("the request has no body")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise BadRequestData(f"the body is not valid JSON: {error}") from None


async def with_body(request: Request) -> NgsiRequest:
    """Dependency: a request with a JSON body."""
    return await request_with_body(request.headers.get, request.body)


async def request_with_body(
    header: HeaderLookup, body_of: Callable[[], Awaitable[bytes]]
) -> NgsiRequest:
    """``with_body`` from a header lookup and a body reader (the PATCH fast path's own).

    Checks in this order: tenant, ``Accept``, ``Content-Type``, then the body is read.
    """
    tenant = check_tenant(header(TENANT_HEADER_KEY))
    json_ld = accept_wants_json_ld(header("accept"))
    content_type = header("content-type")
    kind = media_type(content_type)
    body = await read_typed_body(kind, body_of)
    json_ld_body = kind == JSON_LD_MEDIA_TYPE
    if isinstance(body, dict):
        body_context = body.get("@context", NO_CONTEXT_MEMBER)
    elif isinstance(body, list) and body and isinstance(body[0], dict):
        # A batch: in JSON-LD every entity carries an @context; the first names the reply's.
        body_context = body[0].get("@context", NO_CONTEXT_MEMBER)
        if not json_ld_body:
            for item in body:
                if isinstance(item, dict) and "@context" in item:
                    body_context = item["@context"]
                    break
    else:
        body_context = NO_CONTEXT_MEMBER
    value = request_context_value(
        content_type=content_type, link_header=header("link"), body_context=body_context
    )
    return NgsiRequest(tenant, body, value, await resolve_off_loop(value), json_ld, json_ld_body)


async def without_body(request: Request) -> NgsiRequest:
    """Dependency: a request without a body (GET, DELETE)."""
    tenant = tenant_of(request)
    json_ld = wants_json_ld(request)
    value = request_context_value(
        content_type=None, link_header=request.headers.get("link"), body_context=NO_BODY
    )
    return NgsiRequest(tenant, None, value, await resolve_off_loop(value), json_ld)


def reply_context(ngsi: NgsiRequest) -> Any:
    """The @context a reply names: the client's own, or the core context."""
    return CORE_CONTEXT_URL if ngsi.context_value is None else ngsi.context_value


def reply(
    ngsi: NgsiRequest, content: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON or JSON-LD reply carrying the request's context the way its type requires."""
    extra = dict(headers or {})
    if ngsi.json_ld:
        context = reply_context(ngsi)
        if isinstance(content, dict):
            content = {**content, "@context": context}
        elif isinstance(content, list):
            content = [
                {**item, "@context": context} if isinstance(item, dict) else item
                for item in content
            ]
        return Response(dump_json(content), status, extra, media_type=JSON_LD_MEDIA_TYPE)
    context = reply_context(ngsi)
    url = context if isinstance(context, str) else CORE_CONTEXT_URL
    extra["Link"] = context_link_header(url)
    return JsonResponse(content, status, extra)


def representation_of(
    options: str | None, format_param: str | None
) -> tuple[RepresentationFormat, bool]:
    """The format (``options``/``format``) and whether system attributes are wanted."""
    chosen = set(filter(None, (options or "").split(",")))
    unknown = chosen - {
        "keyValues",
        "concise",
        "normalized",
        "sysAttrs",
        "noOverwrite",
        "replace",
        "update",
    }
    if unknown:
        raise BadRequestData(f"unknown options {sorted(unknown)}")
    form: RepresentationFormat = "normalized"
    if format_param is not None:
        if format_param not in ("normalized", "keyValues", "simplified", "concise"):
            raise BadRequestData(f"unknown format {format_param!r}")
        form = "keyValues" if format_param in ("keyValues", "simplified") else format_param  # type: ignore[assignment]
    elif "keyValues" in chosen:
        form = "keyValues"
    elif "concise" in chosen:
        form = "concise"
    return form, "sysAttrs" in chosen


def has_option(options: str | None, name: str) -> bool:
    """Whether the comma-separated ``options`` include ``name``."""
    return name in (options or "").split(",")
