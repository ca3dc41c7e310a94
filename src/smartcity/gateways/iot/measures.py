"""Turning a device's measures into an expanded NGSI-LD entity fragment."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from smartcity.gateways.iot.models import AttributeMapping, Device, check_geometry
from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.context.model import format_instant

TIME_INSTANT = "TimeInstant"


def instant_text(moment: datetime) -> str:
    """An instant as the library writes it (UTC, ``Z``, milliseconds)."""
    return format_instant(moment)


def device_time(device: Device, moment: datetime) -> datetime:
    """A device's timestamp made aware: a naive one is in the device's timezone."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=ZoneInfo(device.timezone))
    return moment


def parse_time_instant(device: Device, value: Any) -> datetime:
    """The ``TimeInstant`` a JSON payload carries; :class:`BadRequestData` if not ISO 8601."""
    if not isinstance(value, str):
        raise BadRequestData("TimeInstant must be an ISO 8601 string")
    try:
        return device_time(device, datetime.fromisoformat(value))
    except ValueError:
        raise BadRequestData(f"TimeInstant {value[:40]!r} is not ISO 8601") from None


def typed_text(text: str) -> Any:
    """An UltraLight value typed: numbers become numbers, anything else stays text."""
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    return (
        int(number)
        if number.is_integer() and "." not in text and "e" not in text.lower()
        else number
    )


def entity_fragment(
    device: Device, measures: Mapping[str, Any], observed_at: datetime
) -> dict[str, Any]:
    """The expanded entity holding ``measures`` as attributes observed at ``observed_at``."""
    observed = instant_text(observed_at)
    entity: dict[str, Any] = {"id": device.entity_id, "type": [device.entity_type]}
    for object_id, value in measures.items():
        mapping = device.mapping_of(object_id)
        entity[mapping.name] = [_instance(mapping, value, observed)]
    return entity


def static_fragment(device: Device) -> dict[str, Any]:
    """The expanded entity with the device's static attributes (written at provisioning)."""
    entity: dict[str, Any] = {"id": device.entity_id, "type": [device.entity_type]}
    for static in device.static_attributes:
        member = "object" if static.kind == "Relationship" else "value"
        entity[static.name] = [{"type": static.kind, member: static.value}]
    return entity


def _instance(mapping: AttributeMapping, value: Any, observed: str) -> dict[str, Any]:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        raise BadRequestData(f"measure {mapping.object_id!r} has no usable value")
    if mapping.kind == "GeoProperty":
        value = _geometry(mapping, value)
    instance: dict[str, Any] = {"type": mapping.kind, "value": value, "observedAt": observed}
    if mapping.unit_code:
        instance["unitCode"] = mapping.unit_code
    return instance


def _geometry(mapping: AttributeMapping, value: Any) -> dict[str, Any]:
    """A GeoJSON point from ``"lon,lat"`` text or ``[lon, lat]``; a geometry object as is."""
    if isinstance(value, Mapping):
        check_geometry(value, what=f"measure {mapping.object_id!r}")
        return dict(value)
    parts = value.split(",") if isinstance(value, str) else value
    try:
        longitude, latitude = (float(part) for part in parts)
    except (TypeError, ValueError):
        raise BadRequestData(
            f"measure {mapping.object_id!r} must be a 'longitude,latitude' point"
        ) from None
    if not (-180 <= longitude <= 180 and -90 <= latitude <= 90):
        raise BadRequestData(f"measure {mapping.object_id!r} lies outside WGS 84 bounds")
    return {"type": "Point", "coordinates": [longitude, latitude]}
