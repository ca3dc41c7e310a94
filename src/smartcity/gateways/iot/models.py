"""The device registry's records and how a provisioning document becomes one.

The provisioning document follows FIWARE's IoT Agent (``/iot/devices``)::

    {"device_id": "aq-1", "apikey": "k3y", "entity_name": "urn:ngsi-ld:AirQualityObserved:aq-1",
     "entity_type": "AirQualityObserved", "timezone": "Asia/Shanghai",
     "attributes": [{"object_id": "t", "name": "temperature", "type": "Property",
                     "unitCode": "CEL"}],
     "static_attributes": [{"name": "refDistrict", "type": "Relationship",
                            "object": "urn:ngsi-ld:AdministrativeArea:440103"}]}
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smartcity.gateways.iot.vocabulary import compact_name, expand_name
from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.context.geometry import check_geojson

MEASURE_KINDS = frozenset({"Property", "GeoProperty"})
STATIC_KINDS = frozenset({"Property", "GeoProperty", "Relationship"})
# A device id and an API key travel in URLs and MQTT topic levels.
TOKEN = re.compile(r"^[A-Za-z0-9_.:\-]{1,256}$")
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
UNIT_CODE = re.compile(r"^[A-Za-z0-9]{1,16}$")
# How many unmapped measure names a device remembers the expansion of.
UNMAPPED_REMEMBERED = 64


@dataclass(frozen=True)
class AttributeMapping:
    """How one measure (``object_id``) becomes an attribute (expanded ``name``)."""

    object_id: str
    name: str
    kind: str = "Property"
    unit_code: str | None = None


@dataclass(frozen=True)
class StaticAttribute:
    """An attribute the device's entity always carries (location, refDistrict …)."""

    name: str
    kind: str
    value: Any


@dataclass(frozen=True)
class Device:
    """One provisioned device."""

    tenant: str
    device_id: str
    api_key_digest: str
    entity_id: str
    entity_type: str
    attributes: tuple[AttributeMapping, ...]
    static_attributes: tuple[StaticAttribute, ...]
    timezone: str = "UTC"

    @cached_property
    def _mappings(self) -> dict[str, AttributeMapping]:
        return {mapping.object_id: mapping for mapping in self.attributes}

    def mapping_of(self, object_id: str) -> AttributeMapping:
        """The mapping of a measure; unmapped measures pass through under their own name."""
        mappings = self._mappings
        mapping = mappings.get(object_id)
        if mapping is None:
            mapping = AttributeMapping(object_id=object_id, name=expand_name(object_id))
            # Remembered: a device sends the same unmapped measures in every message.
            if len(mappings) < UNMAPPED_REMEMBERED + len(self.attributes):
                mappings[object_id] = mapping
        return mapping

    def document(self) -> dict[str, Any]:
        """The device as the provisioning API shows it (names compacted, no API key)."""
        return {
            "device_id": self.device_id,
            "entity_name": self.entity_id,
            "entity_type": compact_name(self.entity_type),
            "timezone": self.timezone,
            "attributes": [
                {
                    "object_id": m.object_id,
                    "name": compact_name(m.name),
                    "type": m.kind,
                    **({"unitCode": m.unit_code} if m.unit_code else {}),
                }
                for m in self.attributes
            ],
            "static_attributes": [
                {
                    "name": compact_name(s.name),
                    "type": s.kind,
                    ("object" if s.kind == "Relationship" else "value"): s.value,
                }
                for s in self.static_attributes
            ],
        }


def digest_api_key(api_key: str) -> str:
    """The stored form of an API key (hex SHA-256)."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def device_from_document(tenant: str, document: Any) -> Device:
    """Validate a provisioning document; :class:`BadRequestData` names what is wrong."""
    if not isinstance(document, Mapping):
        raise BadRequestData("a device must be a JSON object")
    device_id = _token(document, "device_id")
    api_key = _token(document, "apikey")
    entity_type = _text(document, "entity_type", default="Device")
    entity_id = _text(
        document, "entity_name", default=f"urn:ngsi-ld:{compact_name(entity_type)}:{device_id}"
    )
    if not URI.match(entity_id):
        raise BadRequestData(f"entity_name {entity_id!r} is not a URI", device_id=device_id)
    timezone = _text(document, "timezone", default="UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequestData(f"unknown timezone {timezone!r}", device_id=device_id) from None
    attributes = tuple(_mapping(item) for item in _list(document, "attributes"))
    object_ids = [m.object_id for m in attributes]
    if len(set(object_ids)) != len(object_ids):
        raise BadRequestData("two attributes map the same object_id", device_id=device_id)
    statics = tuple(_static(item) for item in _list(document, "static_attributes"))
    return Device(
        tenant=tenant,
        device_id=device_id,
        api_key_digest=digest_api_key(api_key),
        entity_id=entity_id,
        entity_type=expand_name(entity_type),
        attributes=attributes,
        static_attributes=statics,
        timezone=timezone,
    )


def _token(document: Mapping[str, Any], key: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not TOKEN.match(value):
        raise BadRequestData(
            f"{key} must be 1-256 letters, digits or . _ : - (got {value!r:.60})", member=key
        )
    return value


def _text(document: Mapping[str, Any], key: str, *, default: str) -> str:
    value = document.get(key, default)
    if not isinstance(value, str) or not value or len(value) > 256:
        raise BadRequestData(f"{key} must be a non-empty string", member=key)
    return value


def _list(document: Mapping[str, Any], key: str) -> Sequence[Any]:
    value = document.get(key, [])
    if not isinstance(value, list):
        raise BadRequestData(f"{key} must be a list", member=key)
    return value


def _mapping(item: Any) -> AttributeMapping:
    if not isinstance(item, Mapping):
        raise BadRequestData("each attribute must be an object")
    name = _text(item, "name", default="")
    object_id = _text(item, "object_id", default=name)
    kind = item.get("type", "Property")
    if kind not in MEASURE_KINDS:
        raise BadRequestData(
            f"attribute {name!r}: type must be Property or GeoProperty, not {kind!r}"
        )
    unit_code = item.get("unitCode", item.get("unit_code"))
    if unit_code is not None and (not isinstance(unit_code, str) or not UNIT_CODE.match(unit_code)):
        raise BadRequestData(f"attribute {name!r}: unitCode must be a UN/CEFACT code")
    return AttributeMapping(object_id, expand_name(name), kind, unit_code)


def _static(item: Any) -> StaticAttribute:
    if not isinstance(item, Mapping):
        raise BadRequestData("each static attribute must be an object")
    name = _text(item, "name", default="")
    kind = item.get("type", "Property")
    if kind not in STATIC_KINDS:
        raise BadRequestData(
            f"static attribute {name!r}: type must be Property, GeoProperty or Relationship"
        )
    member = "object" if kind == "Relationship" else "value"
    if member not in item:
        raise BadRequestData(f"static attribute {name!r} has no {member}")
    value = item[member]
    if kind == "Relationship" and (not isinstance(value, str) or not URI.match(value)):
        raise BadRequestData(f"static attribute {name!r}: object must be a URI")
    if kind == "GeoProperty":
        check_geometry(value, what=f"static attribute {name!r}")
    return StaticAttribute(expand_name(name), kind, value)


def check_geometry(value: Any, *, what: str) -> None:
    """Refuse anything but a valid, non-empty GeoJSON geometry in WGS 84 bounds."""
    check_geojson(value, subject=what)
