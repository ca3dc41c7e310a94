"""Tables of the IoT agent: the device registry.

Migration: ``kernel/storage/migrations/versions/0007_iot.py`` (keep the two in step).

A device belongs to a tenant and is addressed on ingestion by its API key and device id.
The API key is stored only as its SHA-256 digest: it travels in clear in every
measurement (query string, MQTT topic), so it is a group identifier rather than a
password, but a leaked database dump must still not let anyone post as the devices.
An unsalted digest keeps the per-message lookup a single indexed equality.
"""

from sqlalchemy import Column, Index, String, Table, Text

from smartcity.kernel.storage.schema import metadata
from smartcity.kernel.storage.types import UtcDateTime

iot_device = Table(
    "iot_device",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("device_id", String(256), primary_key=True),
    Column("api_key_digest", String(64), nullable=False),
    Column("entity_id", String(256), nullable=False),
    # Expanded (IRI) entity type.
    Column("entity_type", String(512), nullable=False),
    # JSON: [{"object_id", "name" (IRI), "type", "unit_code"}]
    Column("attributes_json", Text, nullable=False),
    # JSON: [{"name" (IRI), "type", "value" | "object"}]
    Column("static_attributes_json", Text, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # One device per (key, id) across tenants: ingestion names no tenant.
    Index("ix_iot_device_key", "api_key_digest", "device_id", unique=True),
)
