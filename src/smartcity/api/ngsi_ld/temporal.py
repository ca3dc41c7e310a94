"""NGSI-LD temporal endpoints (ETSI GS CIM 009 clauses 6.18 and 6.19): read side.

``GET /temporal/entities`` queries the history, ``GET /temporal/entities/{id}``
retrieves one entity's. ``options=temporalValues`` gives the simplified representation,
``options=aggregatedValues`` with ``aggrMethods`` (and ``aggrPeriodDuration``) the
aggregated one, computed in the database. POST/PATCH/DELETE store, change and delete history
(attribute instances) without touching the current entity (see ``temporal_write``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from smartcity.api.dependencies import get_platform, get_store
from smartcity.api.ngsi_ld.common import (
    NgsiRequest,
    entity_id_of,
    reply,
    with_body,
    without_body,
)
from smartcity.kernel.context.errors import BadRequestData, OperationNotSupported
from smartcity.kernel.context.jsonld import LdContext
from smartcity.kernel.context.query.ast import AnyType, TypeExpression, TypeName
from smartcity.kernel.context.query.selection import build_selection
from smartcity.kernel.context.representation import parse_language_ranges
from smartcity.kernel.context.temporal import TemporalEntity, TemporalHistory
from smartcity.kernel.context.temporal_params import (
    DEFAULT_LIMIT,
    Aggregation,
    TemporalQuery,
    parse_aggregation,
    parse_positive_int,
    parse_time_window,
)
from smartcity.kernel.context.temporal_representation import (
    aggregated,
    compacted,
    localized_entity,
    normalized,
    simplified,
)
from smartcity.kernel.context.temporal_write import TemporalWriter
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store

router = APIRouter(tags=["NGSI-LD temporal"])
StoreDependency = Annotated[Store, Depends(get_store)]
NgsiDependency = Annotated[NgsiRequest, Depends(without_body)]
NgsiBodyDependency = Annotated[NgsiRequest, Depends(with_body)]
PlatformDependency = Annotated[Platform, Depends(get_platform)]
COUNT_HEADER = "NGSILD-Results-Count"

OPTIONS = frozenset({"temporalValues", "aggregatedValues", "sysAttrs", "normalized"})


def _type_names(expression: TypeExpression | None) -> tuple[str, ...]:
    if expression is None:
        return ()
    if isinstance(expression, TypeName):
        return (expression.name,)
    if isinstance(expression, AnyType):
        return tuple(name for term in expression.terms for name in _type_names(term))
    raise OperationNotSupported(
        "type conjunctions (A;B) are not supported on temporal queries yet; use A,B"
    )


def _options(params: Any) -> frozenset[str]:
    options = frozenset(
        part.strip() for part in (params.get("options") or "").split(",") if part.strip()
    )
    unknown = options - OPTIONS
    if unknown:
        raise BadRequestData("unknown options: " + ", ".join(sorted(unknown)))
    if {"temporalValues", "aggregatedValues"} <= options:
        raise BadRequestData("options temporalValues and aggregatedValues exclude each other")
    return options


def _query(params: Any, context: LdContext, tenant: str, *, listing: bool) -> TemporalQuery:
    selection = build_selection(
        tenant,
        type_param=params.get("type") if listing else None,
        id_param=params.get("id") if listing else None,
        id_pattern=params.get("idPattern") if listing else None,
        attrs_param=params.get("attrs"),
        q_text=params.get("q"),
        expand=context.expand_term,
    )
    if selection.q is not None:
        raise OperationNotSupported("q is not supported on temporal queries yet")
    limit = parse_positive_int(params.get("limit"), "limit", minimum=0)
    return TemporalQuery(
        window=parse_time_window(
            params.get("timerel"),
            params.get("timeAt"),
            params.get("endTimeAt"),
            params.get("timeproperty"),
        ),
        types=_type_names(selection.types),
        ids=selection.ids,
        id_pattern=selection.id_pattern,
        attrs=selection.attrs,
        last_n=parse_positive_int(params.get("lastN"), "lastN"),
        limit=DEFAULT_LIMIT if limit is None else limit,
        offset=parse_positive_int(params.get("offset"), "offset", minimum=0) or 0,
    )


def _aggregation(params: Any, options: frozenset[str]) -> Aggregation | None:
    if "aggregatedValues" not in options:
        if params.get("aggrMethods") is not None:
            raise BadRequestData("aggrMethods needs options=aggregatedValues")
        return None
    return parse_aggregation(params.get("aggrMethods"), params.get("aggrPeriodDuration"))


def _lang(params: Any) -> tuple[str, ...] | None:
    """The ``lang`` ranges: LanguageProperties are shown as Properties in that language."""
    text = params.get("lang")
    return None if text is None else parse_language_ranges(text)


def _render(
    entity: TemporalEntity,
    query: TemporalQuery,
    options: frozenset[str],
    aggregation: Aggregation | None,
    context: LdContext,
    lang: Sequence[str] | None = None,
) -> dict[str, Any]:
    if lang is not None and aggregation is None:
        entity = localized_entity(entity, lang)
    if aggregation is not None:
        document = aggregated(entity, aggregation.methods)
    elif "temporalValues" in options:
        document = simplified(entity, timeproperty=query.window.timeproperty)
    else:
        document = normalized(entity, sys_attrs="sysAttrs" in options)
    return compacted(document, context)


@router.get("/temporal/entities")
def query_temporal_entities(
    request: Request, ngsi: NgsiDependency, store: StoreDependency
) -> Response:
    """Query the temporal evolution of entities."""
    params = request.query_params
    options = _options(params)
    query = _query(params, ngsi.context, ngsi.tenant, listing=True)
    aggregation = _aggregation(params, options)
    count = (params.get("count") or "false").lower() == "true"
    page = TemporalHistory(store).query(ngsi.tenant, query, aggregation=aggregation, count=count)
    lang = _lang(params)
    body = [_render(e, query, options, aggregation, ngsi.context, lang) for e in page.entities]
    headers = {COUNT_HEADER: str(page.count)} if page.count is not None else {}
    return reply(ngsi, body, headers=headers)


@router.get("/temporal/entities/{entity_id:path}")
def retrieve_temporal_entity(
    entity_id: str, request: Request, ngsi: NgsiDependency, store: StoreDependency
) -> Response:
    """Retrieve the temporal evolution of one entity."""
    params = request.query_params
    options = _options(params)
    query = _query(params, ngsi.context, ngsi.tenant, listing=False)
    aggregation = _aggregation(params, options)
    entity = TemporalHistory(store).retrieve(
        ngsi.tenant, entity_id_of(entity_id), query, aggregation=aggregation
    )
    return reply(ngsi, _render(entity, query, options, aggregation, ngsi.context, _lang(params)))


def _writer(platform: Platform) -> TemporalWriter:
    return TemporalWriter(platform.store, platform.clock)


@router.post("/temporal/entities", status_code=201)
def create_or_update_temporal_entity(
    ngsi: NgsiBodyDependency, platform: PlatformDependency
) -> Response:
    """Store a temporal entity's instances: 201 for a new history, 204 to add to one."""
    created = _writer(platform).create_or_add(ngsi.tenant, ngsi.body, ngsi.context)
    if not created:
        return Response(status_code=204)
    location = f"/ngsi-ld/v1/temporal/entities/{ngsi.body['id']}"
    return Response(status_code=201, headers={"Location": location})


@router.post("/temporal/entities/{entity_id}/attrs", status_code=204)
def add_temporal_attributes(
    entity_id: str, ngsi: NgsiBodyDependency, platform: PlatformDependency
) -> Response:
    """Add attribute instances to an entity's history."""
    _writer(platform).add_attributes(ngsi.tenant, entity_id_of(entity_id), ngsi.body, ngsi.context)
    return Response(status_code=204)


@router.patch("/temporal/entities/{entity_id}/attrs/{attr}/{instance_id}", status_code=204)
def modify_temporal_instance(
    entity_id: str,
    attr: str,
    instance_id: str,
    ngsi: NgsiBodyDependency,
    platform: PlatformDependency,
) -> Response:
    """Change one attribute instance of the history."""
    _writer(platform).modify_instance(
        ngsi.tenant,
        entity_id_of(entity_id),
        ngsi.context.expand_term(attr),
        instance_id,
        ngsi.body,
        ngsi.context,
    )
    return Response(status_code=204)


@router.delete("/temporal/entities/{entity_id}/attrs/{attr}", status_code=204)
def delete_temporal_attribute(
    entity_id: str,
    attr: str,
    request: Request,
    ngsi: NgsiDependency,
    platform: PlatformDependency,
) -> Response:
    """Delete an attribute's history (``datasetId``, or every instance with ``deleteAll``)."""
    params = request.query_params
    _writer(platform).delete_attribute(
        ngsi.tenant,
        entity_id_of(entity_id),
        ngsi.context.expand_term(attr),
        dataset_id=params.get("datasetId"),
        delete_all=(params.get("deleteAll") or "false").lower() == "true",
    )
    return Response(status_code=204)


@router.delete("/temporal/entities/{entity_id:path}", status_code=204)
def delete_temporal_entity(
    entity_id: str, ngsi: NgsiDependency, platform: PlatformDependency
) -> Response:
    """Delete an entity's whole history."""
    _writer(platform).delete_entity(ngsi.tenant, entity_id_of(entity_id))
    return Response(status_code=204)
