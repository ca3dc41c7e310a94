"""Rows of the context tables for normalized, expanded entities and their instances.

Pure functions: an entity or attribute instance in, the dicts the write path inserts out.
Typed copies of each value (``value_number``/``value_text``/``value_bool``) are what the
indexed ``q`` filters read; ``value_json`` is the instance itself and is what is returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import h3
import orjson
import shapely.geometry

from smartcity.kernel.context.model import (
    LOCATION,
    PROPERTY,
    RELATIONSHIP,
    SYSTEM_MEMBERS,
    Entity,
    Instance,
    instance_key,
    parse_instant,
)

H3_RESOLUTION = 7
INSTANCE_PREFIX = "urn:ngsi-ld:attribute:instance:"


def instance_id_of(seq: int) -> str:
    """The instanceId of the history row ``seq``: system-generated, so derived from the
    row's number instead of stored on every row (decision 0016)."""
    return f"{INSTANCE_PREFIX}{seq}"


def seq_of(instance_id: str) -> int | None:
    """The history row an instanceId names; None if it names none (never stored)."""
    number = instance_id.removeprefix(INSTANCE_PREFIX)
    if number == instance_id or not number.isascii() or not number.isdecimal():
        return None
    # Beyond a 64-bit row number it names no row (and would not bind).
    return int(number) if len(number) <= 18 else None


def stored_json(instance: Mapping[str, Any]) -> str:
    """The instance as stored: without system timestamps (they have their own columns)."""
    if SYSTEM_MEMBERS.isdisjoint(instance):
        return orjson.dumps(instance).decode()
    return orjson.dumps({k: v for k, v in instance.items() if k not in SYSTEM_MEMBERS}).decode()


def typed_values(instance: Mapping[str, Any]) -> tuple[float | None, str | None, bool | None]:
    """(number, text, bool) copies of an instance's value for indexed filtering."""
    kind = instance["type"]
    if kind == PROPERTY:
        value = instance["value"]
        if isinstance(value, bool):
            return None, None, value
        if isinstance(value, int | float):
            return float(value), None, None
        if isinstance(value, str):
            return None, value, None
        return None, None, None
    if kind == RELATIONSHIP:
        target = instance["object"]
        return None, (target if isinstance(target, str) else None), None
    return None, None, None


def attribute_row(
    tenant: str,
    entity_id: str,
    entity_type: str,
    name: str,
    instance: Mapping[str, Any],
    created_at: datetime,
    modified_at: datetime,
) -> dict[str, Any]:
    """The ``context_attribute`` row of one instance."""
    number, text, flag = typed_values(instance)
    observed = instance.get("observedAt")
    return {
        "tenant": tenant,
        "entity_id": entity_id,
        "name": name,
        "dataset_id": instance_key(instance),
        "entity_type": entity_type,
        "kind": instance["type"],
        "value_number": number,
        "value_text": text,
        "value_bool": flag,
        "value_json": stored_json(instance),
        "observed_at": None if observed is None else parse_instant(observed, what="observedAt"),
        "unit_code": instance.get("unitCode"),
        "created_at": created_at,
        "modified_at": modified_at,
    }


def instance_row(
    attribute: Mapping[str, Any], recorded_at: datetime, *, deleted: bool = False
) -> dict[str, Any]:
    """The ``context_instance`` (history) row for an attribute row just written, with
    the key of its series (``SERIES_KEY``): the write path finds the series by it, and
    stores only the series id (decision 0016)."""
    return {
        "tenant": attribute["tenant"],
        "entity_id": attribute["entity_id"],
        "entity_type": attribute["entity_type"],
        "name": attribute["name"],
        "dataset_id": attribute["dataset_id"],
        "kind": attribute["kind"],
        "value_number": attribute["value_number"],
        "value_text": attribute["value_text"],
        "value_bool": attribute["value_bool"],
        "value_json": attribute["value_json"],
        "observed_at": attribute["observed_at"],
        "unit_code": attribute["unit_code"],
        "recorded_at": recorded_at,
        "deleted": deleted,
    }


def location_columns(entity: Mapping[str, Any]) -> dict[str, Any]:
    """The entity row's location, bounding box and H3 cell (all None without location)."""
    instances = entity.get(LOCATION) or []
    chosen: Instance | None = None
    for instance in instances:
        if chosen is None or instance_key(instance) == "":
            chosen = instance
    if chosen is None:
        return {
            "location": None,
            "location_west": None,
            "location_south": None,
            "location_east": None,
            "location_north": None,
            "location_cell": None,
        }
    geometry = shapely.geometry.shape(chosen["value"])
    west, south, east, north = geometry.bounds
    point = geometry.representative_point()
    cell = h3.str_to_int(h3.latlng_to_cell(point.y, point.x, H3_RESOLUTION))
    return {
        "location": geometry,
        "location_west": west,
        "location_south": south,
        "location_east": east,
        "location_north": north,
        "location_cell": cell,
    }


def entity_row(
    tenant: str, entity: Entity, created_at: datetime, modified_at: datetime
) -> dict[str, Any]:
    """The ``context_entity`` row of an entity."""
    return {
        "tenant": tenant,
        "id": entity["id"],
        "type": entity["type"][0],
        "created_at": created_at,
        "modified_at": modified_at,
        **location_columns(entity),
    }


def attributes_of(entity: Mapping[str, Any]) -> dict[str, list[Instance]]:
    """The attributes of an entity dict (everything but id, type and system members)."""
    return {
        name: instances
        for name, instances in entity.items()
        if name not in ("id", "type") and name not in SYSTEM_MEMBERS
    }
