"""Entities written straight into the context tables, as the write path lays them out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from smartcity.kernel.context.entity_rows import attribute_row, attributes_of, entity_row
from smartcity.kernel.context.tables import context_attribute, context_entity, context_entity_type
from smartcity.kernel.storage import Store

VOCABULARY = "https://uri.etsi.org/ngsi-ld/default-context/"
CORE = "https://uri.etsi.org/ngsi-ld/"
WRITTEN_AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def expand(term: str) -> str:
    """Expansion as the core context does it for terms it does not define."""
    if ":" in term:
        return term
    if term == "location":
        return CORE + "location"
    return VOCABULARY + term


def entity(entity_id: str, types: str | list[str], **attributes: Any) -> dict[str, Any]:
    """An expanded normalized entity; attribute values are instance dicts or lists of them."""
    document: dict[str, Any] = {
        "id": entity_id,
        "type": [expand(name) for name in ([types] if isinstance(types, str) else types)],
    }
    for name, value in attributes.items():
        document[expand(name)] = value if isinstance(value, list) else [value]
    return document


def prop(value: Any, **members: Any) -> dict[str, Any]:
    """A Property instance."""
    return {"type": "Property", "value": value, **members}


def rel(target: str, **members: Any) -> dict[str, Any]:
    """A Relationship instance."""
    return {"type": "Relationship", "object": target, **members}


def point(longitude: float, latitude: float) -> dict[str, Any]:
    """A GeoProperty instance holding a point."""
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [longitude, latitude]}}


def insert_entities(store: Store, entities: Iterable[Mapping[str, Any]], tenant: str = "") -> None:
    """Write entities into context_entity, context_entity_type and context_attribute."""
    entity_rows: list[dict[str, Any]] = []
    type_rows: list[dict[str, Any]] = []
    attribute_rows: list[dict[str, Any]] = []
    for document in entities:
        entity_rows.append(entity_row(tenant, document, WRITTEN_AT, WRITTEN_AT))  # type: ignore[arg-type]
        for name in document["type"]:
            type_rows.append({"tenant": tenant, "entity_id": document["id"], "type": name})
        for name, instances in attributes_of(document).items():
            for instance in instances:
                attribute_rows.append(
                    attribute_row(
                        tenant,
                        document["id"],
                        document["type"][0],
                        name,
                        instance,
                        WRITTEN_AT,
                        WRITTEN_AT,
                    )
                )
    with store.begin() as conn:
        for table, rows in (
            (context_entity, entity_rows),
            (context_entity_type, type_rows),
            (context_attribute, attribute_rows),
        ):
            store.bulk_insert(conn, table, rows)


@pytest.fixture
def insert(store: Store) -> Callable[..., None]:
    """``insert(entities, tenant="")`` into the test store."""

    def write(entities: Iterable[Mapping[str, Any]], tenant: str = "") -> None:
        insert_entities(store, entities, tenant)

    return write
