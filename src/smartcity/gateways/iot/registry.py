"""Reading and writing the device registry table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Row, delete, func, select
from sqlalchemy.exc import IntegrityError

from smartcity.gateways.iot.models import AttributeMapping, Device, StaticAttribute
from smartcity.gateways.iot.tables import iot_device
from smartcity.kernel.context.errors import AlreadyExists, ResourceNotFound
from smartcity.kernel.storage import Store


def insert_device(store: Store, device: Device, created_at: datetime) -> None:
    """Add a device; :class:`AlreadyExists` if its id (in the tenant) or key+id is taken."""
    row = {
        "tenant": device.tenant,
        "device_id": device.device_id,
        "api_key_digest": device.api_key_digest,
        "entity_id": device.entity_id,
        "entity_type": device.entity_type,
        "attributes_json": orjson.dumps(
            [[m.object_id, m.name, m.kind, m.unit_code] for m in device.attributes]
        ).decode(),
        "static_attributes_json": orjson.dumps(
            [[s.name, s.kind, s.value] for s in device.static_attributes]
        ).decode(),
        "timezone": device.timezone,
        "created_at": created_at,
    }
    try:
        with store.begin() as conn:
            conn.execute(iot_device.insert(), [row])
    except IntegrityError:
        raise AlreadyExists(
            f"device {device.device_id!r} is already provisioned", device_id=device.device_id
        ) from None


def list_devices(store: Store, tenant: str, *, limit: int, offset: int) -> list[Device]:
    """The tenant's devices by id."""
    query = (
        select(iot_device)
        .where(iot_device.c.tenant == tenant)
        .order_by(iot_device.c.device_id)
        .limit(limit)
        .offset(offset)
    )
    with store.connect() as conn:
        return [_device(row) for row in conn.execute(query)]


def get_device(store: Store, tenant: str, device_id: str) -> Device:
    """One device of the tenant; :class:`ResourceNotFound` if absent."""
    query = select(iot_device).where(
        iot_device.c.tenant == tenant, iot_device.c.device_id == device_id
    )
    with store.connect() as conn:
        row = conn.execute(query).one_or_none()
    if row is None:
        raise ResourceNotFound(f"no device {device_id!r} in this tenant", device_id=device_id)
    return _device(row)


def find_device(store: Store, api_key_digest: str, device_id: str) -> Device | None:
    """The device an ingestion request names by API key and device id, if any."""
    query = select(iot_device).where(
        iot_device.c.api_key_digest == api_key_digest, iot_device.c.device_id == device_id
    )
    with store.connect() as conn:
        row = conn.execute(query).one_or_none()
    return None if row is None else _device(row)


def devices_of_key(store: Store, api_key_digest: str, *, limit: int) -> list[Device]:
    """Up to ``limit`` devices provisioned under one API key (any tenant), in one query."""
    query = select(iot_device).where(iot_device.c.api_key_digest == api_key_digest).limit(limit)
    with store.connect() as conn:
        return [_device(row) for row in conn.execute(query)]


def registry_fingerprint(store: Store) -> tuple[int, Any]:
    """How many devices there are and when the newest was created.

    Devices are only ever inserted or deleted (never edited in place), so any change to
    the registry changes this pair; one aggregate tells a cache whether it is stale.
    """
    query = select(func.count(), func.max(iot_device.c.created_at)).select_from(iot_device)
    with store.connect() as conn:
        count, newest = conn.execute(query).one()
    return int(count), newest


def delete_device(store: Store, tenant: str, device_id: str) -> None:
    """Remove a device; :class:`ResourceNotFound` if absent (its entity stays)."""
    with store.begin() as conn:
        result = conn.execute(
            delete(iot_device).where(
                iot_device.c.tenant == tenant, iot_device.c.device_id == device_id
            )
        )
    if result.rowcount == 0:
        raise ResourceNotFound(f"no device {device_id!r} in this tenant", device_id=device_id)


def _device(row: Row[Any]) -> Device:
    return Device(
        tenant=row.tenant,
        device_id=row.device_id,
        api_key_digest=row.api_key_digest,
        entity_id=row.entity_id,
        entity_type=row.entity_type,
        attributes=tuple(
            AttributeMapping(object_id, name, kind, unit_code)
            for object_id, name, kind, unit_code in orjson.loads(row.attributes_json)
        ),
        static_attributes=tuple(
            StaticAttribute(name, kind, value)
            for name, kind, value in orjson.loads(row.static_attributes_json)
        ),
        timezone=row.timezone,
    )
