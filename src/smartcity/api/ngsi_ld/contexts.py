"""NGSI-LD @context management: ``/jsonldContexts`` (ETSI GS CIM 009 v1.8, clause 5.13).

- ``POST /jsonldContexts`` hosts a client's context (kind ``Hosted``); 201 with its URL
  in ``Location``. Entities can then name it by that URL, which the broker answers from
  its database, never over the network. Inline contexts of other requests can be given
  a URL the same way (kind ``ImplicitlyCreated``, ``HostedContexts.ensure_implicit``).
- ``GET /jsonldContexts`` lists hosted contexts and the ones held in the cache
  (``Cached``, the core context among them); ``details=true`` gives ContextInfo
  objects, ``kind`` filters.
- ``GET /jsonldContexts/{contextId}`` returns a context (by local id or URL) as
  ``application/ld+json``, or its ContextInfo with ``details=true``.
- ``DELETE /jsonldContexts/{contextId}`` deletes a hosted context or drops a cached one
  (``reload=true`` fetches it again at once); the core context cannot be deleted.

Contexts are broker-wide: the tenant header plays no part here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from smartcity.api.dependencies import get_platform
from smartcity.api.ngsi_ld.common import read_json
from smartcity.api.responses import JsonResponse, dump_json
from smartcity.kernel.context.errors import BadRequestData, ResourceNotFound
from smartcity.kernel.context.jsonld import (
    CORE_CONTEXT_URL,
    JSON_LD_MEDIA_TYPE,
    ContextResolver,
    core_context_document,
    is_core_context_url,
    shared_resolver,
)
from smartcity.kernel.context.jsonld_hosted import (
    HOSTED,
    IMPLICITLY_CREATED,
    HostedContext,
    HostedContexts,
    hosted_url,
)
from smartcity.kernel.platform import Platform

router = APIRouter(tags=["NGSI-LD @contexts"])

CACHED = "Cached"
KINDS = frozenset({HOSTED, CACHED, IMPLICITLY_CREATED})


def get_hosted(platform: Annotated[Platform, Depends(get_platform)]) -> HostedContexts:
    """The platform's hosted contexts, also made known to the shared resolver."""
    hosted = HostedContexts(platform.store, platform.clock)
    shared_resolver().use_local_documents(hosted.lookup)
    return hosted


Hosted = Annotated[HostedContexts, Depends(get_hosted)]
DetailsParameter = Annotated[str | None, Query(alias="details")]


@router.post("/jsonldContexts", status_code=201)
async def add_context(request: Request, hosted: Hosted) -> Response:
    """Host the posted ``{"@context": ...}``; 201 with its URL in ``Location``."""
    document = await read_json(request)
    resolver = shared_resolver()
    created = await run_in_threadpool(hosted.create, document, validate=resolver.resolve)
    # An absolute Location: it is the URL clients then put in their @context.
    location = hosted_url(str(request.base_url), created.id)
    return Response(status_code=201, headers={"Location": location})


@router.get("/jsonldContexts")
async def list_contexts(
    request: Request,
    hosted: Hosted,
    details: DetailsParameter = None,
    kind: Annotated[str | None, Query()] = None,
) -> Response:
    """The URLs (or, with ``details=true``, the ContextInfo) of the known contexts."""
    with_details = flag(details, "details")
    if kind is not None and kind not in KINDS:
        raise BadRequestData(f"kind must be one of {sorted(KINDS)}, got {kind!r}")
    base_url = str(request.base_url)
    infos: list[dict[str, Any]] = []
    if kind in (None, HOSTED, IMPLICITLY_CREATED):
        stored = await run_in_threadpool(hosted.list, kind)
        infos.extend(hosted_info(base_url, context) for context in stored)
    if kind in (None, CACHED):
        infos.extend(cached_infos(shared_resolver()))
    if with_details:
        return JsonResponse(infos)
    return JsonResponse([info["url"] for info in infos])


@router.get("/jsonldContexts/{context_id:path}")
async def serve_context(
    context_id: str,
    request: Request,
    hosted: Hosted,
    details: DetailsParameter = None,
) -> Response:
    """A context by local id or URL: the document, or its ContextInfo."""
    with_details = flag(details, "details")
    resolver = shared_resolver()
    found = await run_in_threadpool(hosted.find, context_id)
    if found is not None:
        if with_details:
            return JsonResponse(hosted_info(str(request.base_url), found))
        return ld_json(found.document)
    info = next((item for item in cached_infos(resolver) if item["url"] == context_id), None)
    if info is None:
        raise ResourceNotFound(f"no @context {context_id!r} is hosted or cached", id=context_id)
    if with_details:
        return JsonResponse(info)
    if is_core_context_url(context_id):
        return ld_json(core_context_document())
    return ld_json({"@context": resolver.document(context_id)})


@router.delete("/jsonldContexts/{context_id:path}", status_code=204)
async def delete_context(
    context_id: str,
    hosted: Hosted,
    reload: Annotated[str | None, Query()] = None,
) -> Response:
    """Delete a hosted context, or drop (and with ``reload=true`` refetch) a cached one."""
    again = flag(reload, "reload")
    if is_core_context_url(context_id):
        raise BadRequestData("the NGSI-LD core @context cannot be deleted")
    resolver = shared_resolver()
    found = await run_in_threadpool(hosted.find, context_id)
    if found is not None:
        if again:
            raise BadRequestData("reload applies to cached contexts, not hosted ones")
        await run_in_threadpool(hosted.delete, context_id)
        # Contexts built from it are cached under their request values, not its URL.
        resolver.clear()
        return Response(status_code=204)
    if not resolver.forget(context_id):
        raise ResourceNotFound(f"no @context {context_id!r} is hosted or cached", id=context_id)
    if again:
        await run_in_threadpool(resolver.document, context_id)
    return Response(status_code=204)


def flag(value: str | None, name: str) -> bool:
    """A ``true``/``false`` query parameter (absent is false)."""
    if value is None or value == "false":
        return False
    if value == "true":
        return True
    raise BadRequestData(f"{name} must be true or false, got {value!r}")


def hosted_info(base_url: str, context: HostedContext) -> dict[str, Any]:
    """The ContextInfo of a hosted context."""
    return {
        "url": hosted_url(base_url, context.id),
        "localId": context.id,
        "kind": context.kind,
        "createdAt": timestamp(context.created_at),
    }


def cached_infos(resolver: ContextResolver) -> list[dict[str, Any]]:
    """ContextInfo of the core context and of every remote context in the cache."""
    infos: list[dict[str, Any]] = [{"url": CORE_CONTEXT_URL, "kind": CACHED}]
    for cached in resolver.cached_contexts():
        infos.append(
            {
                "url": cached.url,
                "kind": CACHED,
                "createdAt": timestamp(cached.created_at),
                "lastUsage": timestamp(cached.last_usage),
                "numberOfHits": cached.hits,
            }
        )
    return infos


def timestamp(moment: datetime) -> str:
    """An NGSI-LD DateTime (UTC, ``Z``)."""
    return moment.isoformat().replace("+00:00", "Z")


def ld_json(document: Any) -> Response:
    """A JSON-LD document response."""
    return Response(dump_json(document), media_type=JSON_LD_MEDIA_TYPE)
