"""NGSI-LD discovery: ``/types``, ``/types/{type}``, ``/attributes``, ``/attributes/{attrId}``.

Names are compacted with the request's @context; everything is per tenant; an unknown
type or attribute is 404 ResourceNotFound, an unknown tenant 404 NonexistentTenant.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from smartcity.api.dependencies import get_store
from smartcity.api.ngsi_ld.common import NgsiRequest, reply, without_body
from smartcity.kernel.context.errors import ResourceNotFound
from smartcity.kernel.context.query.discovery import (
    AttributeDetails,
    describe_attribute,
    describe_attributes,
    describe_type,
    list_attributes,
    list_types,
    summarise_types,
)
from smartcity.kernel.context.reads import check_tenant_exists
from smartcity.kernel.storage import Store

router = APIRouter(tags=["NGSI-LD discovery"])

WithoutBody = Annotated[NgsiRequest, Depends(without_body)]
StoreDependency = Annotated[Store, Depends(get_store)]


def _attribute(ngsi: NgsiRequest, details: AttributeDetails) -> dict[str, Any]:
    compact = ngsi.context.compact_iri
    return {
        "id": details.name,
        "type": "Attribute",
        "attributeName": compact(details.name),
        "attributeCount": details.instance_count,
        "attributeTypes": list(details.kinds),
        "typeNames": sorted(compact(name) for name in details.type_names),
    }


@router.get("/types")
def get_types(ngsi: WithoutBody, store: StoreDependency, details: bool = False) -> Response:
    """Every entity type: an EntityTypeList, or with ``details=true`` EntityType objects."""
    compact = ngsi.context.compact_iri
    with store.connect() as conn:
        if details:
            body: Any = [
                {
                    "id": summary.name,
                    "type": "EntityType",
                    "typeName": compact(summary.name),
                    "attributeNames": sorted(compact(name) for name in summary.attribute_names),
                }
                for summary in summarise_types(conn, ngsi.tenant)
            ]
            body.sort(key=lambda item: item["typeName"])
        else:
            names = list_types(conn, ngsi.tenant)
            if not names:
                check_tenant_exists(conn, ngsi.tenant)
            body = {
                "id": f"urn:ngsi-ld:EntityTypeList:{uuid.uuid4()}",
                "type": "EntityTypeList",
                "typeList": sorted(compact(name) for name in names),
            }
    return reply(ngsi, body)


@router.get("/types/{type_name:path}")
def get_type(type_name: str, ngsi: WithoutBody, store: StoreDependency) -> Response:
    """One entity type: EntityTypeInfo with its entity count and attribute details."""
    compact = ngsi.context.compact_iri
    expanded = ngsi.context.expand_term(type_name)
    with store.connect() as conn:
        found = describe_type(conn, ngsi.tenant, expanded)
        if found is None:
            check_tenant_exists(conn, ngsi.tenant)
    if found is None:
        raise ResourceNotFound(f"no entity has type {type_name!r}", type=type_name)
    body = {
        "id": found.name,
        "type": "EntityTypeInfo",
        "typeName": compact(found.name),
        "entityCount": found.entity_count,
        "attributeDetails": [
            {
                "id": name,
                "type": "Attribute",
                "attributeName": compact(name),
                "attributeTypes": list(kinds),
            }
            for name, kinds in sorted(found.attributes, key=lambda item: compact(item[0]))
        ],
    }
    return reply(ngsi, body)


@router.get("/attributes")
def get_attributes(ngsi: WithoutBody, store: StoreDependency, details: bool = False) -> Response:
    """Every attribute: an AttributeList, or with ``details=true`` Attribute objects."""
    compact = ngsi.context.compact_iri
    with store.connect() as conn:
        if details:
            found = describe_attributes(conn, ngsi.tenant)
            body: Any = sorted(
                (_attribute(ngsi, item) for item in found), key=lambda item: item["attributeName"]
            )
        else:
            body = {
                "id": f"urn:ngsi-ld:AttributeList:{uuid.uuid4()}",
                "type": "AttributeList",
                "attributeList": sorted(
                    compact(name) for name in list_attributes(conn, ngsi.tenant)
                ),
            }
    return reply(ngsi, body)


@router.get("/attributes/{attribute_name:path}")
def get_attribute(attribute_name: str, ngsi: WithoutBody, store: StoreDependency) -> Response:
    """One attribute: how many instances, their kinds, and the types that have it."""
    expanded = ngsi.context.expand_term(attribute_name)
    with store.connect() as conn:
        found = describe_attribute(conn, ngsi.tenant, expanded)
        if found is None:
            check_tenant_exists(conn, ngsi.tenant)
    if found is None:
        raise ResourceNotFound(
            f"no entity has attribute {attribute_name!r}", attribute=attribute_name
        )
    return reply(ngsi, _attribute(ngsi, found))
