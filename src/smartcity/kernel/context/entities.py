"""The write path of the information library: one function per use case.

Each function owns its transaction: it reads the entities involved once, computes the
changes (:class:`~smartcity.kernel.context.changes.Changes`), applies them in bulk,
commits, and only then publishes one :class:`EntityChanged` per entity changed. Every
attribute write also records a ``context_instance`` row (the temporal history) in the
same transaction. Entities come in and go out in the normalized, expanded form
(:mod:`smartcity.kernel.context.model`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from smartcity.kernel.bus import Bus
from smartcity.kernel.clock import Clock
from smartcity.kernel.context.changes import Changes
from smartcity.kernel.context.errors import (
    AlreadyExists,
    BadRequestData,
    NgsiLdError,
    ResourceNotFound,
)
from smartcity.kernel.context.model import (
    VALUE_MEMBER,
    Entity,
    Instance,
    instance_key,
)
from smartcity.kernel.context.reads import check_tenant_exists, load_entities
from smartcity.kernel.storage import Store

UpdateMode = Literal["append", "append_no_overwrite", "update"]
UpsertMode = Literal["replace", "update"]
T = TypeVar("T")


@dataclass(frozen=True)
class Services:
    """What the write path runs on."""

    store: Store
    bus: Bus
    clock: Clock


@dataclass(frozen=True)
class UpdateResult:
    """Attributes written and those skipped (name, reason), names expanded."""

    updated: tuple[str, ...]
    not_updated: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class BatchError:
    """Why one entity of a batch failed."""

    entity_id: str
    error: NgsiLdError


@dataclass
class BatchResult:
    """Per-entity outcome of a batch: ids that succeeded, errors, and which were new."""

    success: list[str] = field(default_factory=list)
    errors: list[BatchError] = field(default_factory=list)
    created: list[str] = field(default_factory=list)


def run(services: Services, tenant: str, work: Callable[[Connection, Changes], T]) -> T:
    """Run ``work`` in one write transaction, apply its changes, publish after commit.

    On PostgreSQL two transactions may both find an id free and both insert it; the
    loser's unique violation means its read is stale, so the work runs once more on
    fresh data (and then reports AlreadyExists, or updates, as it should).
    """
    retried = False
    while True:
        changes = Changes(tenant, services.clock.now())
        try:
            with services.store.begin() as conn:
                result = work(conn, changes)
                changes.apply(conn, services.store)
        except IntegrityError:
            if retried:
                raise
            retried = True
            continue
        for event in changes.events:
            services.bus.publish(event)
        return result


def missing(conn: Connection, tenant: str, entity_id: str) -> ResourceNotFound:
    """ResourceNotFound for an entity (NonexistentTenant if the tenant is unknown)."""
    check_tenant_exists(conn, tenant)
    return ResourceNotFound(f"entity {entity_id} does not exist", id=entity_id)


def load_one(conn: Connection, tenant: str, entity_id: str) -> Entity:
    """The stored entity, or ResourceNotFound."""
    entity = load_entities(conn, tenant, [entity_id]).get(entity_id)
    if entity is None:
        raise missing(conn, tenant, entity_id)
    return entity


def create_entity(services: Services, tenant: str, entity: Entity) -> Entity:
    """Create an entity; AlreadyExists if its id is taken in the tenant."""

    def work(conn: Connection, changes: Changes) -> Entity:
        if load_entities(conn, tenant, [entity["id"]]):
            raise AlreadyExists(f"entity {entity['id']} already exists", id=entity["id"])
        return changes.create(entity)

    return run(services, tenant, work)


def replace_entity(services: Services, tenant: str, entity: Entity) -> Entity:
    """Replace every attribute and the types of an existing entity."""

    def work(conn: Connection, changes: Changes) -> Entity:
        return changes.replace(load_one(conn, tenant, entity["id"]), entity)

    return run(services, tenant, work)


def delete_entity(services: Services, tenant: str, entity_id: str) -> None:
    """Delete an entity and all its attributes."""

    def work(conn: Connection, changes: Changes) -> None:
        changes.remove_entity(load_one(conn, tenant, entity_id))

    run(services, tenant, work)


def update_attributes(
    services: Services,
    tenant: str,
    entity_id: str,
    attributes: dict[str, list[Instance]],
    mode: UpdateMode,
) -> UpdateResult:
    """Append (``append``, ``append_no_overwrite``) or update existing (``update``) attributes."""

    def work(conn: Connection, changes: Changes) -> UpdateResult:
        existing = load_one(conn, tenant, entity_id)
        _stored, written, skipped = changes.merge(
            existing,
            attributes,
            overwrite=mode != "append_no_overwrite",
            only_existing=mode == "update",
        )
        return UpdateResult(tuple(written), tuple(skipped))

    return run(services, tenant, work)


def patch_attribute(
    services: Services, tenant: str, entity_id: str, name: str, fragment: Instance
) -> None:
    """Partially update one attribute instance: the fragment's members replace its own.

    The instance is the default one unless the fragment names a ``datasetId``.
    """

    def work(conn: Connection, changes: Changes) -> None:
        existing = load_one(conn, tenant, entity_id)
        dataset = instance_key(fragment)
        current = next((i for i in existing.get(name, ()) if instance_key(i) == dataset), None)
        if current is None:
            raise ResourceNotFound(
                f"entity {entity_id} has no attribute {name}"
                + (f" with datasetId {dataset}" if dataset else ""),
                id=entity_id,
            )
        merged = {k: v for k, v in current.items() if k not in ("createdAt", "modifiedAt")}
        merged.update(fragment)
        member = VALUE_MEMBER[merged["type"]]
        if member not in merged:
            raise BadRequestData(f"attribute {name}: a {merged['type']} needs '{member}'")
        changes.merge(existing, {name: [merged]})

    run(services, tenant, work)


def delete_attribute(
    services: Services,
    tenant: str,
    entity_id: str,
    name: str,
    *,
    dataset_id: str | None = None,
    delete_all: bool = False,
) -> None:
    """Delete the default instance of an attribute, one datasetId, or all instances."""

    def work(conn: Connection, changes: Changes) -> None:
        existing = load_one(conn, tenant, entity_id)
        present = [instance_key(i) for i in existing.get(name, ())]
        chosen = present if delete_all else [i for i in present if i == (dataset_id or "")]
        if not chosen:
            raise ResourceNotFound(
                f"entity {entity_id} has no attribute {name}"
                + (f" with datasetId {dataset_id}" if dataset_id else ""),
                id=entity_id,
            )
        changes.remove_attribute(existing, name, chosen)

    run(services, tenant, work)


def merge_duplicates(entities: Sequence[Entity], mode: UpsertMode) -> list[Entity]:
    """One entity per id: for ``replace`` the last wins, for ``update`` they merge."""
    merged: dict[str, Entity] = {}
    for entity in entities:
        earlier = merged.get(entity["id"])
        if earlier is None or mode == "replace":
            merged[entity["id"]] = entity
            continue
        combined = dict(earlier)
        combined.update({k: v for k, v in entity.items() if k not in ("id", "type")})
        combined["type"] = earlier["type"] + [t for t in entity["type"] if t not in earlier["type"]]
        merged[entity["id"]] = combined
    return list(merged.values())


def create_entities(services: Services, tenant: str, entities: Sequence[Entity]) -> BatchResult:
    """Batch create: every entity whose id is free is created; the others are errors."""

    def work(conn: Connection, changes: Changes) -> BatchResult:
        result = BatchResult()
        existing = load_entities(conn, tenant, [e["id"] for e in entities])
        seen: set[str] = set()
        for entity in entities:
            entity_id = entity["id"]
            if entity_id in existing or entity_id in seen:
                error = AlreadyExists(f"entity {entity_id} already exists", id=entity_id)
                result.errors.append(BatchError(entity_id, error))
                continue
            seen.add(entity_id)
            changes.create(entity)
            result.success.append(entity_id)
            result.created.append(entity_id)
        return result

    return run(services, tenant, work)


def upsert_entities(
    services: Services, tenant: str, entities: Sequence[Entity], mode: UpsertMode
) -> BatchResult:
    """Batch upsert: new entities are created, existing ones replaced or updated."""

    def work(conn: Connection, changes: Changes) -> BatchResult:
        result = BatchResult()
        unique = merge_duplicates(entities, mode)
        existing = load_entities(conn, tenant, [e["id"] for e in unique])
        for entity in unique:
            current = existing.get(entity["id"])
            if current is None:
                changes.create(entity)
                result.created.append(entity["id"])
            elif mode == "replace":
                changes.replace(current, entity)
            else:
                attributes = {k: v for k, v in entity.items() if k not in ("id", "type")}
                changes.merge(current, attributes, types=entity["type"])
            result.success.append(entity["id"])
        return result

    return run(services, tenant, work)


def update_entities(
    services: Services, tenant: str, entities: Sequence[Entity], *, overwrite: bool = True
) -> BatchResult:
    """Batch update: attributes appended to existing entities; missing ones are errors."""

    def work(conn: Connection, changes: Changes) -> BatchResult:
        result = BatchResult()
        unique = merge_duplicates(entities, "update")
        existing = load_entities(conn, tenant, [e["id"] for e in unique])
        for entity in unique:
            current = existing.get(entity["id"])
            if current is None:
                error = ResourceNotFound(f"entity {entity['id']} does not exist", id=entity["id"])
                result.errors.append(BatchError(entity["id"], error))
                continue
            attributes = {k: v for k, v in entity.items() if k not in ("id", "type")}
            changes.merge(current, attributes, overwrite=overwrite)
            result.success.append(entity["id"])
        return result

    return run(services, tenant, work)


def delete_entities(services: Services, tenant: str, entity_ids: Sequence[str]) -> BatchResult:
    """Batch delete: existing entities are deleted; missing ones are errors."""

    def work(conn: Connection, changes: Changes) -> BatchResult:
        result = BatchResult()
        existing = load_entities(conn, tenant, entity_ids)
        done: set[str] = set()
        for entity_id in entity_ids:
            if entity_id in done:
                result.success.append(entity_id)
                continue
            current = existing.get(entity_id)
            if current is None:
                error = ResourceNotFound(f"entity {entity_id} does not exist", id=entity_id)
                result.errors.append(BatchError(entity_id, error))
                continue
            changes.remove_entity(current)
            done.add(entity_id)
            result.success.append(entity_id)
        return result

    return run(services, tenant, work)
