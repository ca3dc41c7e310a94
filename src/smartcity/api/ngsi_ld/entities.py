"""NGSI-LD entities endpoints: ``/entities`` and ``/entities/{entityId}[/attrs[/{attrId}]]``.

Thin: each route checks the request, normalizes the body through the request's
@context, calls the information library (``platform.context``) and renders the answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from smartcity.api.dependencies import get_platform, platform_of
from smartcity.api.ngsi_ld.common import (
    NgsiRequest,
    entity_id_of,
    has_option,
    reply,
    representation_of,
    with_body,
    without_body,
)
from smartcity.kernel.context.errors import BadRequestData, ResourceNotFound
from smartcity.kernel.context.library import ContextLibrary, UpdateResult
from smartcity.kernel.context.model import check_entity_id, instance_key
from smartcity.kernel.context.normalize import Normalizer, normalize_fragment
from smartcity.kernel.context.query.selection import build_selection
from smartcity.kernel.context.representation import Renderer, parse_language_ranges
from smartcity.kernel.platform import Platform

router = APIRouter(tags=["NGSI-LD entities"])

COUNT_HEADER = "NGSILD-Results-Count"
WithBody = Annotated[NgsiRequest, Depends(with_body)]
WithoutBody = Annotated[NgsiRequest, Depends(without_body)]


PlatformDependency = Annotated[Platform, Depends(get_platform)]


def library_of(platform: Platform) -> ContextLibrary:
    """The information library of the running platform."""
    return platform.context


def expand_list(ngsi: NgsiRequest, names: str | None, what: str) -> list[str] | None:
    """A comma-separated list of names, expanded; None when not given."""
    if names is None:
        return None
    normalizer = Normalizer(ngsi.context)
    return [normalizer.expand_name(name.strip(), what=what) for name in names.split(",")]


def expand_members(ngsi: NgsiRequest, names: str | None, what: str) -> list[str] | None:
    """``pick``/``omit``: attribute names expanded; ``id`` and ``type`` kept as they are."""
    if names is None:
        return None
    normalizer = Normalizer(ngsi.context)
    members: list[str] = []
    for raw in names.split(","):
        name = raw.strip()
        members.append(name if name in ("id", "type") else normalizer.expand_name(name, what=what))
    return members


def renderer_for(
    ngsi: NgsiRequest,
    options: str | None,
    format_param: str | None,
    attrs: str | None,
    *,
    pick: str | None = None,
    omit: str | None = None,
    lang: str | None = None,
) -> Renderer:
    """How this request wants entities rendered."""
    form, sys_attrs = representation_of(options, format_param)
    if pick is not None and omit is not None:
        raise BadRequestData("pick and omit cannot be used together")
    return Renderer(
        ngsi.context,
        format=form,
        sys_attrs=sys_attrs,
        attrs=expand_list(ngsi, attrs, "attribute in attrs"),
        pick=expand_members(ngsi, pick, "member in pick"),
        omit=expand_members(ngsi, omit, "member in omit"),
        lang=None if lang is None else parse_language_ranges(lang),
    )


def update_reply(ngsi: NgsiRequest, result: UpdateResult) -> Response:
    """204 when every attribute was written, 207 listing what was not."""
    if not result.not_updated:
        return Response(status_code=204)
    renderer = Renderer(ngsi.context)
    body = {
        "updated": [renderer.compact(name) for name in result.updated],
        "notUpdated": [
            {"attributeName": renderer.compact(name), "reason": reason}
            for name, reason in result.not_updated
        ],
    }
    return reply(ngsi, body, status=207)


# The two PATCH routes come first: a route is found by trying each in turn, and these
# are the hot write path (sensors updating a value). No other route of this router
# takes PATCH, so their place changes no match. Requests to them are normally answered
# by :mod:`smartcity.api.ngsi_ld.fast_patch` ahead of FastAPI's routing, with the same
# two functions below; the routes stay for the OpenAPI document and any request the
# fast path leaves alone.


async def patch_attribute_reply(request: Request, entity_id: str, attribute: str) -> Response:
    """The answer to ``PATCH .../entities/{entity_id}/attrs/{attribute}``.

    The body is parsed here rather than through Depends: dependency resolution costs
    more than the parsing itself on this path. Checks run on the loop (no I/O); the
    write joins the store's group commit and is awaited, so a database waiting on a
    lock never stalls the loop and no threadpool thread waits for it.
    """
    ngsi = await with_body(request)
    await patch_attribute_of(ngsi, platform_of(request), entity_id, attribute)
    return Response(status_code=204)


async def patch_attribute_of(
    ngsi: NgsiRequest, platform: Platform, entity_id: str, attribute: str
) -> None:
    """The work of ``PATCH .../attrs/{attribute}`` once the request is read (204 after)."""
    entity_id = entity_id_of(entity_id)
    name = Normalizer(ngsi.context).expand_name(attribute)  # checks the name first
    fragment = normalize_fragment(ngsi.body, ngsi.context, label=attribute)
    await library_of(platform).patch_attribute_async(ngsi.tenant, entity_id, name, fragment)


async def update_attributes_reply(request: Request, entity_id: str) -> Response:
    """The answer to ``PATCH .../entities/{entity_id}/attrs`` (204, or 207 with skips)."""
    ngsi = await with_body(request)
    return update_reply(ngsi, await update_attributes_of(ngsi, platform_of(request), entity_id))


async def update_attributes_of(
    ngsi: NgsiRequest, platform: Platform, entity_id: str
) -> UpdateResult:
    """The work of ``PATCH .../entities/{entity_id}/attrs`` once the request is read."""
    entity_id = entity_id_of(entity_id)
    attributes = Normalizer(ngsi.context).attributes(ngsi.body)
    library = library_of(platform)
    return await library.update_attributes_async(ngsi.tenant, entity_id, attributes, "update")


@router.patch("/entities/{entity_id:path}/attrs/{attribute}", status_code=204)
async def patch_attribute(entity_id: str, attribute: str, request: Request) -> Response:
    """Partially update one attribute (the instance the body's datasetId names)."""
    return await patch_attribute_reply(request, entity_id, attribute)


@router.patch("/entities/{entity_id:path}/attrs", status_code=204)
async def update_attributes(entity_id: str, request: Request) -> Response:
    """Update existing attributes; 207 listing those the entity does not have."""
    return await update_attributes_reply(request, entity_id)


@router.post("/entities", status_code=201)
def create_entity(ngsi: WithBody, platform: PlatformDependency) -> Response:
    """Create an entity (normalized or concise); 409 AlreadyExists if the id is taken."""
    entity = Normalizer(ngsi.context).entity(ngsi.body)
    library_of(platform).create_entity(ngsi.tenant, entity)
    return Response(status_code=201, headers={"Location": f"/ngsi-ld/v1/entities/{entity['id']}"})


@router.get("/entities")
def query_entities(
    ngsi: WithoutBody,
    platform: PlatformDependency,
    type: str | None = None,
    id: str | None = None,
    id_pattern: Annotated[str | None, Query(alias="idPattern")] = None,
    attrs: str | None = None,
    q: str | None = None,
    georel: str | None = None,
    geometry: str | None = None,
    coordinates: str | None = None,
    geoproperty: str | None = None,
    limit: Annotated[int, Query()] = 20,
    offset: Annotated[int, Query()] = 0,
    count: bool = False,
    options: str | None = None,
    format: str | None = None,
    pick: str | None = None,
    omit: str | None = None,
    lang: str | None = None,
) -> Response:
    """Query entities by type, id, idPattern, attrs, q and geoQ, a page at a time.

    ``pick``/``omit`` shape each entity (they select no entities); ``lang`` renders
    LanguageProperties as Properties in the language asked for.
    """
    renderer = renderer_for(ngsi, options, format, attrs, pick=pick, omit=omit, lang=lang)
    selection = build_selection(
        ngsi.tenant,
        type_param=type,
        id_param=id,
        id_pattern=id_pattern,
        attrs_param=attrs,
        q_text=q,
        georel=georel,
        geometry=geometry,
        coordinates=coordinates,
        geoproperty=geoproperty,
        expand=ngsi.context.expand_term,
    )
    if not selection.restricted:
        raise BadRequestData("give at least one of type, id, idPattern, attrs, q or geoQ")
    page = library_of(platform).query_entities(selection, limit=limit, offset=offset, count=count)
    headers = {COUNT_HEADER: str(page.total)} if page.total is not None else None
    return reply(ngsi, [renderer.entity(e) for e in page.entities], headers=headers)


# Before the entity route: ``{entity_id:path}`` would take ".../attrs/x" as an id too.
@router.get("/entities/{entity_id:path}/attrs/{attribute}")
def retrieve_attribute(
    entity_id: str,
    attribute: str,
    ngsi: WithoutBody,
    platform: PlatformDependency,
    options: str | None = None,
    format: str | None = None,
    lang: str | None = None,
    dataset_id: Annotated[str | None, Query(alias="datasetId")] = None,
) -> Response:
    """One attribute of an entity (Retrieve Attribute); 404 if either is absent.

    All its instances (a list when it has several datasetIds), or with ``datasetId``
    that one instance (``@none`` names the default one), in the representation asked for.
    """
    entity_id = entity_id_of(entity_id)
    name = Normalizer(ngsi.context).expand_name(attribute)
    if dataset_id is not None and dataset_id != "@none":
        check_entity_id(dataset_id, what="datasetId")
    renderer = renderer_for(ngsi, options, format, None, lang=lang)
    entity = library_of(platform).retrieve_entity(ngsi.tenant, entity_id)
    if dataset_id is not None:
        wanted = "" if dataset_id == "@none" else dataset_id
        instances = [i for i in entity.get(name) or () if instance_key(i) == wanted]
        entity = {"id": entity_id, "type": entity["type"], name: instances}
    return reply(ngsi, renderer.attribute_of(entity, name))


@router.get("/entities/{entity_id:path}")
def retrieve_entity(
    entity_id: str,
    ngsi: WithoutBody,
    platform: PlatformDependency,
    type: str | None = None,
    attrs: str | None = None,
    options: str | None = None,
    format: str | None = None,
    pick: str | None = None,
    omit: str | None = None,
    lang: str | None = None,
) -> Response:
    """One entity in the representation asked for; 404 ResourceNotFound if absent."""
    entity_id = entity_id_of(entity_id)
    renderer = renderer_for(ngsi, options, format, attrs, pick=pick, omit=omit, lang=lang)
    entity = library_of(platform).retrieve_entity(ngsi.tenant, entity_id)
    wanted = expand_list(ngsi, type, "entity type")
    if wanted is not None and not set(wanted) & set(entity["type"]):
        raise ResourceNotFound(f"entity {entity_id} has none of the types {type}")
    return reply(ngsi, renderer.entity(entity))


@router.put("/entities/{entity_id:path}", status_code=204)
def replace_entity(entity_id: str, ngsi: WithBody, platform: PlatformDependency) -> Response:
    """Replace an entity's types and attributes."""
    entity_id = entity_id_of(entity_id)
    body = ngsi.body
    if not isinstance(body, dict):
        raise BadRequestData("an entity must be a JSON object")
    if "id" in body and body["id"] != entity_id:
        raise BadRequestData("the body's id differs from the entity id of the path")
    entity = Normalizer(ngsi.context).entity({**body, "id": entity_id})
    library_of(platform).replace_entity(ngsi.tenant, entity)
    return Response(status_code=204)


@router.delete("/entities/{entity_id:path}/attrs/{attribute}", status_code=204)
def delete_attribute(
    entity_id: str,
    attribute: str,
    ngsi: WithoutBody,
    platform: PlatformDependency,
    dataset_id: Annotated[str | None, Query(alias="datasetId")] = None,
    delete_all: Annotated[bool, Query(alias="deleteAll")] = False,
) -> Response:
    """Delete an attribute (default instance, one datasetId, or all instances)."""
    entity_id = entity_id_of(entity_id)
    name = Normalizer(ngsi.context).expand_name(attribute)
    if dataset_id is not None:
        check_entity_id(dataset_id, what="datasetId")
    library_of(platform).delete_attribute(
        ngsi.tenant, entity_id, name, dataset_id=dataset_id, delete_all=delete_all
    )
    return Response(status_code=204)


@router.delete("/entities/{entity_id:path}", status_code=204)
def delete_entity(entity_id: str, ngsi: WithoutBody, platform: PlatformDependency) -> Response:
    """Delete an entity."""
    library_of(platform).delete_entity(ngsi.tenant, entity_id_of(entity_id))
    return Response(status_code=204)


@router.post("/entities/{entity_id:path}/attrs", status_code=204)
def append_attributes(
    entity_id: str,
    ngsi: WithBody,
    platform: PlatformDependency,
    options: str | None = None,
) -> Response:
    """Append attributes (overwriting unless ``options=noOverwrite``); 207 if some skipped."""
    entity_id = entity_id_of(entity_id)
    attributes = Normalizer(ngsi.context).attributes(ngsi.body)
    mode = "append_no_overwrite" if has_option(options, "noOverwrite") else "append"
    result = library_of(platform).update_attributes(ngsi.tenant, entity_id, attributes, mode)
    return update_reply(ngsi, result)
