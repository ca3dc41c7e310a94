"""NGSI-LD batch operations: ``/entityOperations/create|upsert|update|delete|query``.

Each entity of a batch succeeds or fails on its own: invalid entities are reported with
their problem and the valid ones are written together, in one transaction and a handful
of bulk statements. Replies when all succeeded: 201 with the ids of the entities created
(create, upsert), else 204; when any failed, 207 with a BatchOperationResult
``{success, errors}``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from smartcity.api.dependencies import get_platform
from smartcity.api.ngsi_ld.common import NgsiRequest, has_option, reply, with_body
from smartcity.api.ngsi_ld.entities import renderer_for
from smartcity.kernel.context.entities import BatchError, BatchResult, UpsertMode
from smartcity.kernel.context.errors import BadRequestData, NgsiLdError
from smartcity.kernel.context.model import Entity, check_entity_id
from smartcity.kernel.context.normalize import Normalizer
from smartcity.kernel.context.query.selection import build_selection, build_selector
from smartcity.kernel.platform import Platform

router = APIRouter(prefix="/entityOperations", tags=["NGSI-LD batch operations"])

WithBody = Annotated[NgsiRequest, Depends(with_body)]
PlatformDependency = Annotated[Platform, Depends(get_platform)]
MAX_BATCH = 10_000


def problem(error: NgsiLdError) -> dict[str, Any]:
    """The ProblemDetails of one failed entity."""
    return {
        "type": error.type_uri,
        "title": error.title,
        "status": error.status,
        "detail": error.reason,
    }


def batch_list(body: Any) -> list[Any]:
    """The body of a batch: a non-empty JSON array of bounded size."""
    if not isinstance(body, list) or not body:
        raise BadRequestData("a batch must be a non-empty JSON array")
    if len(body) > MAX_BATCH:
        raise BadRequestData(f"a batch holds at most {MAX_BATCH} entries")
    return body


def normalize_batch(ngsi: NgsiRequest) -> tuple[list[Entity], list[BatchError]]:
    """The valid entities of a batch, and an error for each invalid one."""
    valid: list[Entity] = []
    errors: list[BatchError] = []
    normalizers: dict[int, Normalizer] = {}
    for document in batch_list(ngsi.body):
        context = ngsi.context_for(document)
        normalizer = normalizers.setdefault(id(context), Normalizer(context))
        try:
            valid.append(normalizer.entity(document))
        except BadRequestData as error:
            raw_id = document.get("id") if isinstance(document, dict) else None
            errors.append(BatchError(raw_id if isinstance(raw_id, str) else "", error))
    return valid, errors


def batch_reply(
    ngsi: NgsiRequest, result: BatchResult, earlier: Sequence[BatchError], *, created_reply: bool
) -> Response:
    """201 with the created ids, 204, or 207 with every outcome when any failed."""
    errors = [*earlier, *result.errors]
    if errors:
        body = {
            "success": result.success,
            "errors": [{"entityId": e.entity_id, "error": problem(e.error)} for e in errors],
        }
        return reply(ngsi, body, status=207)
    if created_reply and result.created:
        return reply(ngsi, result.created, status=201)
    return Response(status_code=204)


def run_batch(
    ngsi: NgsiRequest, write: Callable[[list[Entity]], BatchResult], *, created_reply: bool
) -> Response:
    """Normalize, write the valid entities, answer for all."""
    valid, errors = normalize_batch(ngsi)
    result = write(valid) if valid else BatchResult()
    return batch_reply(ngsi, result, errors, created_reply=created_reply)


@router.post("/create")
def create_entities(ngsi: WithBody, platform: PlatformDependency) -> Response:
    """Create entities; those whose id is taken are AlreadyExists errors."""
    library = platform.context
    return run_batch(
        ngsi, lambda batch: library.create_entities(ngsi.tenant, batch), created_reply=True
    )


@router.post("/upsert")
def upsert_entities(
    ngsi: WithBody, platform: PlatformDependency, options: str | None = None
) -> Response:
    """Create new entities, replace (default, ``options=replace``) or update existing ones."""
    mode: UpsertMode = "update" if has_option(options, "update") else "replace"
    library = platform.context
    return run_batch(
        ngsi, lambda batch: library.upsert_entities(ngsi.tenant, batch, mode), created_reply=True
    )


@router.post("/update")
def update_entities(
    ngsi: WithBody, platform: PlatformDependency, options: str | None = None
) -> Response:
    """Append attributes to existing entities (``options=noOverwrite`` keeps existing ones)."""
    overwrite = not has_option(options, "noOverwrite")
    library = platform.context
    return run_batch(
        ngsi,
        lambda batch: library.update_entities(ngsi.tenant, batch, overwrite=overwrite),
        created_reply=False,
    )


@router.post("/delete")
def delete_entities(ngsi: WithBody, platform: PlatformDependency) -> Response:
    """Delete entities by id; missing ones are ResourceNotFound errors."""
    ids: list[str] = []
    errors: list[BatchError] = []
    for item in batch_list(ngsi.body):
        try:
            ids.append(check_entity_id(item))
        except BadRequestData as error:
            errors.append(BatchError(item if isinstance(item, str) else "", error))
    result = platform.context.delete_entities(ngsi.tenant, ids) if ids else BatchResult()
    return batch_reply(ngsi, result, errors, created_reply=False)


@router.post("/query")
def query_entities(
    ngsi: WithBody,
    platform: PlatformDependency,
    limit: Annotated[int, Query()] = 20,
    offset: Annotated[int, Query()] = 0,
    count: bool = False,
    options: str | None = None,
    format: str | None = None,
    pick: str | None = None,
    omit: str | None = None,
    lang: str | None = None,
) -> Response:
    """Query entities with a Query body: entities, attrs, q, geoQ, lang.

    ``pick``/``omit`` shape each entity as on ``GET /entities``; ``lang`` comes from the
    Query body (its ``lang`` member) or from the URL, the body winning.
    """
    body = ngsi.body
    if not isinstance(body, dict) or body.get("type") != "Query":
        raise BadRequestData("the body must be a Query object with type 'Query'")
    expand = ngsi.context.expand_term
    selectors = []
    for selector in body.get("entities") or []:
        if not isinstance(selector, dict):
            raise BadRequestData("each member of 'entities' must be an object")
        raw_type = selector.get("type")
        selectors.append(
            build_selector(
                type_param=raw_type if isinstance(raw_type, str) or raw_type is None else None,
                id_param=selector.get("id"),
                id_pattern=selector.get("idPattern"),
                expand=expand,
            )
        )
    attrs = body.get("attrs")
    if attrs is not None and not (
        isinstance(attrs, list) and all(isinstance(a, str) for a in attrs)
    ):
        raise BadRequestData("attrs must be a list of attribute names")
    attrs_text = ",".join(attrs) if attrs else None
    geo = body.get("geoQ")
    if geo is not None and not isinstance(geo, dict):
        raise BadRequestData("geoQ must be an object")
    geo = geo or {}
    q_text = body.get("q")
    if q_text is not None and not isinstance(q_text, str):
        raise BadRequestData("q must be a string")
    selection = build_selection(
        ngsi.tenant,
        attrs_param=attrs_text,
        q_text=q_text,
        georel=geo.get("georel"),
        geometry=geo.get("geometry"),
        coordinates=geo.get("coordinates"),
        geoproperty=geo.get("geoproperty"),
        selectors=selectors,
        expand=expand,
    )
    if not selection.restricted:
        raise BadRequestData("a Query needs at least one of entities, attrs, q or geoQ")
    body_lang = body.get("lang")
    if body_lang is not None and not isinstance(body_lang, str):
        raise BadRequestData("lang must be a string")
    renderer = renderer_for(
        ngsi, options, format, attrs_text, pick=pick, omit=omit, lang=body_lang or lang
    )
    page = platform.context.query_entities(selection, limit=limit, offset=offset, count=count)
    headers = {"NGSILD-Results-Count": str(page.total)} if page.total is not None else None
    return reply(ngsi, [renderer.entity(e) for e in page.entities], headers=headers)
