"""The IoT agent: provisioning devices and turning their measures into library updates.

HTTP routes, the MQTT consumer and the sensor simulator all ingest through one
:class:`IotAgent`, so a measure means the same whichever way it arrived.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from smartcity.gateways.iot import registry
from smartcity.gateways.iot.library import ContextWriter, batch_errors, context_library
from smartcity.gateways.iot.measures import (
    TIME_INSTANT,
    device_time,
    entity_fragment,
    parse_time_instant,
    static_fragment,
    typed_text,
)
from smartcity.gateways.iot.models import Device, device_from_document, digest_api_key
from smartcity.gateways.iot.ultralight import parse_ultralight
from smartcity.kernel.clock import Clock
from smartcity.kernel.context.errors import BadRequestData, ResourceNotFound
from smartcity.kernel.context.paging import check_page
from smartcity.kernel.errors import DomainError
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store

log = logging.getLogger(__name__)

# Devices are looked up on every measure, so they are cached in the process. Every
# CACHE_SECONDS one aggregate over the registry (its fingerprint) tells whether any device
# was added or deleted, through this worker or another; if so the cache starts afresh.
# A device deleted elsewhere thus stops being accepted within seconds, at the cost of one
# small query per interval instead of one per device.
CACHE_SECONDS = 5.0
# Unknown (key, device) pairs are cached too; past this many entries the cache is cleared
# so that a stream of made-up topics cannot grow it without bound.
CACHE_ENTRIES = 100_000
# On a cache miss the agent loads every device of the API key at once (up to this many):
# a fleet sharing a key that starts sending, or the first messages after the cache
# started afresh, cost one query instead of one per device (1,000 devices: ~1,000
# queries in the event loop, seconds under load). A key with more devices is looked up
# device by device.
DEVICES_PER_KEY = 10_000
# Entities per library call (one transaction). The MQTT consumer's batches grow while the
# previous one is written; the library's cost per measure is the same from a few hundred
# entities up, and a bounded transaction keeps other writers (SQLite's group commit
# queues them behind it) from waiting for a whole backlog.
ENTITIES_PER_WRITE = 2_000


@dataclass(frozen=True)
class Update:
    """One device's measures ready to write: the tenant and the expanded entity fragment."""

    tenant: str
    entity: dict[str, Any]

    @property
    def measurements(self) -> int:
        """How many attribute values it carries."""
        return len(self.entity) - 2


class IotAgent:
    """Device registry and ingestion over a store, an information library and a clock."""

    def __init__(self, store: Store, library: ContextWriter, clock: Clock) -> None:
        self.store = store
        self.library = library
        self.clock = clock
        # Keyed by the API key as sent: the digest is computed only on a miss.
        self._cache: dict[tuple[str, str], Device | None] = {}
        # API keys (as sent) whose devices were loaded: True if all of them are cached,
        # so a pair of that key missing from the cache names no device.
        self._keys: dict[str, bool] = {}
        self._checked_at = -float("inf")
        self._fingerprint: tuple[int, Any] | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_platform(cls, platform: Platform) -> IotAgent:
        """The agent over a platform's store, information library and clock."""
        return cls(platform.store, context_library(platform), platform.clock)

    # Provisioning ---------------------------------------------------------------------

    def provision(self, tenant: str, documents: Sequence[Any]) -> list[Device]:
        """Register devices and create their entities with the static attributes.

        Every document is validated before any is stored, so a bad one stores none.
        """
        devices = [device_from_document(tenant, document) for document in documents]
        ids = [device.device_id for device in devices]
        if len(set(ids)) != len(ids):
            raise BadRequestData("the request names one device_id twice")
        stored: list[Device] = []
        try:
            for device in devices:
                registry.insert_device(self.store, device, self.clock.now())
                stored.append(device)
                self._forget(device)
            self._write_entities(tenant, [static_fragment(device) for device in devices])
        except DomainError:
            # All or nothing: a device whose entity the library refused is not kept.
            for device in stored:
                registry.delete_device(self.store, tenant, device.device_id)
            raise
        return devices

    def list_devices(self, tenant: str, *, limit: int = 100, offset: int = 0) -> list[Device]:
        """The tenant's devices by id."""
        check_page(limit, offset)
        return registry.list_devices(self.store, tenant, limit=limit, offset=offset)

    def get_device(self, tenant: str, device_id: str) -> Device:
        """One of the tenant's devices; :class:`ResourceNotFound` if absent."""
        return registry.get_device(self.store, tenant, device_id)

    def delete_device(self, tenant: str, device_id: str) -> None:
        """Deprovision a device (its entity and history stay in the library)."""
        device = registry.get_device(self.store, tenant, device_id)
        registry.delete_device(self.store, tenant, device_id)
        self._forget(device)

    # Ingestion ------------------------------------------------------------------------

    def device_for(self, api_key: str, device_id: str) -> Device:
        """The device an ingestion names; :class:`ResourceNotFound` with the reason if none."""
        key = (api_key, device_id)
        if time.monotonic() - self._checked_at >= CACHE_SECONDS:
            self._revalidate()
        try:
            device = self._cache[key]
        except KeyError:
            device = self._load(api_key, device_id)
        if device is None:
            raise ResourceNotFound(
                f"no device {device_id!r} is provisioned under this API key", device_id=device_id
            )
        return device

    def json_updates(self, api_key: str, device_id: str, body: bytes | str) -> list[Update]:
        """Updates from a JSON object of measures (``TimeInstant`` = when observed)."""
        device = self.device_for(api_key, device_id)
        try:
            measures = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadRequestData(f"the body is not valid JSON: {exc}") from None
        if not isinstance(measures, dict):
            raise BadRequestData("the body must be a JSON object of measures")
        return [self._update(device, measures)]

    def ultralight_updates(self, api_key: str, device_id: str, text: str) -> list[Update]:
        """Updates from an UltraLight 2.0 payload, one per measure group."""
        device = self.device_for(api_key, device_id)
        updates = []
        for group in parse_ultralight(text):
            measures: dict[str, Any] = {k: typed_text(v) for k, v in group.measures.items()}
            observed = group.observed_at
            if observed is not None:
                measures[TIME_INSTANT] = device_time(device, observed).isoformat()
            updates.append(self._update(device, measures))
        return updates

    def measure_updates(
        self, api_key: str, device_id: str, measures: Mapping[str, Any]
    ) -> list[Update]:
        """Updates from measures already decoded (the simulator's in-process path)."""
        return [self._update(self.device_for(api_key, device_id), measures)]

    def write(self, updates: Iterable[Update]) -> int:
        """Write updates through the library, one call per tenant and round; returns measures.

        An entity appears at most once per call, so two readings of one sensor in a batch
        stay two instants of its history instead of colliding inside one statement. A call
        carries at most :data:`ENTITIES_PER_WRITE` entities.
        """
        rounds: dict[str, list[list[dict[str, Any]]]] = {}
        seen: dict[tuple[str, str], int] = {}
        written = 0
        for update in updates:
            key = (update.tenant, update.entity["id"])
            index = seen.get(key, 0)
            seen[key] = index + 1
            tenant_rounds = rounds.setdefault(update.tenant, [])
            while len(tenant_rounds) <= index:
                tenant_rounds.append([])
            tenant_rounds[index].append(update.entity)
            written += update.measurements
        for tenant, tenant_rounds in rounds.items():
            for entities in tenant_rounds:
                for start in range(0, len(entities), ENTITIES_PER_WRITE):
                    self._write_entities(tenant, entities[start : start + ENTITIES_PER_WRITE])
        return written

    def ingest_json(self, api_key: str, device_id: str, body: bytes | str) -> int:
        """Validate and write a JSON measure payload; returns how many measures."""
        return self.write(self.json_updates(api_key, device_id, body))

    def ingest_ultralight(self, api_key: str, device_id: str, text: str) -> int:
        """Validate and write an UltraLight 2.0 payload; returns how many measures."""
        return self.write(self.ultralight_updates(api_key, device_id, text))

    def ingest_measures(self, api_key: str, device_id: str, measures: Mapping[str, Any]) -> int:
        """Write decoded measures; returns how many."""
        return self.write(self.measure_updates(api_key, device_id, measures))

    # Internals ------------------------------------------------------------------------

    def _update(self, device: Device, measures: Mapping[str, Any]) -> Update:
        values = dict(measures)
        stamp = values.pop(TIME_INSTANT, None)
        observed = self.clock.now() if stamp is None else parse_time_instant(device, stamp)
        if not values:
            raise BadRequestData("the payload carries no measures")
        return Update(device.tenant, entity_fragment(device, values, observed))

    def _write_entities(self, tenant: str, entities: list[dict[str, Any]]) -> None:
        if not entities:
            return
        errors = batch_errors(self.library.upsert_entities(tenant, entities, mode="update"))
        if errors:
            raise BadRequestData(
                f"the information library refused {len(errors)} update(s): {errors[0]}"
            )

    def _load(self, api_key: str, device_id: str) -> Device | None:
        """Look a device up on a cache miss; the first miss of a key loads all its devices."""
        key = (api_key, device_id)
        complete = self._keys.get(api_key)
        if complete is None:
            digest = digest_api_key(api_key)
            devices = registry.devices_of_key(self.store, digest, limit=DEVICES_PER_KEY)
            complete = len(devices) < DEVICES_PER_KEY
            with self._lock:
                if len(self._cache) + len(devices) >= CACHE_ENTRIES:
                    self._cache, self._keys = {}, {}
                for found in devices:
                    self._cache[(api_key, found.device_id)] = found
                self._keys[api_key] = complete
                if key in self._cache:
                    return self._cache[key]
        device = (
            None
            if complete
            else registry.find_device(self.store, digest_api_key(api_key), device_id)
        )
        with self._lock:
            if len(self._cache) >= CACHE_ENTRIES:
                self._cache, self._keys = {}, {}
            self._cache[key] = device
        return device

    def _forget(self, device: Device) -> None:
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if k[1] != device.device_id}
            # Its key's other devices stay cached, but the key no longer lists them all.
            self._keys = {}

    def _revalidate(self) -> None:
        """Start the device cache afresh if the registry changed since the last check."""
        fingerprint = registry.registry_fingerprint(self.store)
        with self._lock:
            if fingerprint != self._fingerprint:
                self._cache, self._keys = {}, {}
                self._fingerprint = fingerprint
            self._checked_at = time.monotonic()
