"""The write path of the information library: one function per use case.

Each function owns its transaction: it reads the entities involved once, computes the
changes (:class:`~smartcity.kernel.context.changes.Changes`), applies them in bulk,
commits, and only then publishes one :class:`EntityChanged` per entity changed. Every
attribute write also records a ``context_instance`` row (the temporal history) in the
same transaction. Entities come in and go out in the normalized, expanded form
(:mod:`smartcity.kernel.context.model`).
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar, cast

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from smartcity.kernel.bus import Bus
from smartcity.kernel.clock import Clock
from smartcity.kernel.context.batch_reads import load_batch, stream_postgres
from smartcity.kernel.context.changes import Changes, RowsGone
from smartcity.kernel.context.entity_group import EntityWrite, together_for
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
from smartcity.kernel.context.narrow_writes import NarrowStream
from smartcity.kernel.context.normalize import ALLOWED_MEMBERS, CORE_MEMBERS
from smartcity.kernel.context.pipeline import translated
from smartcity.kernel.context.reads import check_tenant_exists, load_entity
from smartcity.kernel.storage import Store
from smartcity.kernel.storage.driver import driver_of, plan_each_run, traced

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

    The write goes through the store's group commit: concurrent writes of the process
    share one transaction (each in its own savepoint, so one failing leaves the others
    alone) and one commit; SQLite writers of the process queue there instead of
    sleeping in SQLite's busy handler. Events are published after the commit, in the
    order the writes ran.

    On PostgreSQL two transactions may both find an id free and both insert it; the
    loser's unique violation means its read is stale, so the work runs once more on
    fresh data (and then reports AlreadyExists, or updates, as it should).
    """
    step, publish = _steps(services, tenant, work, [])
    return services.store.write(step, after_commit=publish, retry_on=(IntegrityError,))


async def run_async(services: Services, tenant: str, work: Callable[[Connection, Changes], T]) -> T:
    """``run`` for a caller on an event loop: awaits the commit, holds no thread.

    The work of a write on one entity (:class:`EntityWork`) goes together with the
    other such writes queued meanwhile: one read, one set of statements, one commit
    for the group (:mod:`~smartcity.kernel.context.entity_group`), on both backends.
    """
    # The changes of the attempt that committed (a retried work runs again from scratch).
    applied: list[Changes] = []
    step, publish = _steps(services, tenant, work, applied)
    together = None
    if isinstance(work, EntityWork):
        item = EntityWrite(
            tenant, work.entity_id, work.change, services.clock.now, services.store, applied
        )
        together = together_for(item)
    return await services.store.write_async(
        step, after_commit=publish, retry_on=(IntegrityError,), together=together
    )


def _steps(
    services: Services,
    tenant: str,
    work: Callable[[Connection, Changes], T],
    applied: list[Changes],
) -> tuple[Callable[[Connection], T], Callable[[T], None]]:
    """The store write of ``work`` (changes applied) and its after-commit publication."""

    def step(conn: Connection) -> T:
        changes = Changes(tenant, services.clock.now())
        result = work(conn, changes)
        changes.apply(conn, services.store)
        applied[:] = [changes]
        return result

    def publish(_result: T) -> None:
        for event in applied[0].events:
            services.bus.publish(event)

    return step, publish


def missing(conn: Connection, tenant: str, entity_id: str) -> ResourceNotFound:
    """ResourceNotFound for an entity (NonexistentTenant if the tenant is unknown)."""
    check_tenant_exists(conn, tenant)
    return ResourceNotFound(f"entity {entity_id} does not exist", id=entity_id)


class DriverReads:
    """What ``load_entity`` uses of a SQLite connection, its statement sent straight to sqlite3.

    The one-entity load is one compiled statement; through SQLAlchemy's execution it
    costs about as much again as SQLite's own work, on every single-entity write.
    """

    def __init__(self, conn: Connection, driver: Any) -> None:
        self.dialect = conn.dialect
        self._driver = driver

    def exec_driver_sql(self, sql: str, parameters: Any) -> DriverRows:
        """Run ``sql`` and fetch every row."""
        return DriverRows(self._driver.execute(sql, parameters).fetchall())


@dataclass(frozen=True)
class DriverRows:
    """Fetched rows, answering ``.all()`` like a SQLAlchemy result."""

    rows: list[Any]

    def all(self) -> list[Any]:
        """Every row."""
        return self.rows


def reads_of(conn: Connection) -> Connection:
    """``conn``, or on SQLite (with nobody tracing statements) its driver-level reader."""
    if conn.dialect.name != "sqlite" or traced(conn):
        return conn
    return cast(Connection, DriverReads(conn, driver_of(conn)))


def load_one(conn: Connection, tenant: str, entity_id: str) -> Entity:
    """The stored entity, or ResourceNotFound."""
    entity = load_entity(reads_of(conn), tenant, entity_id)
    if entity is None:
        raise missing(conn, tenant, entity_id)
    return entity


class EntityWork(Generic[T]):
    """The work of a write on one stored entity: read it, then ``change`` it.

    Alone it reads the entity itself (``load_one``); queued with others of its kind it
    runs in a group that reads all their entities at once (``run_async``).
    """

    def __init__(self, tenant: str, entity_id: str, change: Callable[[Entity, Changes], T]) -> None:
        self.tenant = tenant
        self.entity_id = entity_id
        self.change = change

    def __call__(self, conn: Connection, changes: Changes) -> T:
        return self.change(load_one(conn, self.tenant, self.entity_id), changes)


def create_entity(services: Services, tenant: str, entity: Entity) -> Entity:
    """Create an entity; AlreadyExists if its id is taken in the tenant."""

    def work(conn: Connection, changes: Changes) -> Entity:
        if load_entity(conn, tenant, entity["id"]) is not None:
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
    return run(services, tenant, update_attributes_work(tenant, entity_id, attributes, mode))


def update_attributes_work(
    tenant: str, entity_id: str, attributes: dict[str, list[Instance]], mode: UpdateMode
) -> Callable[[Connection, Changes], UpdateResult]:
    """The work of :func:`update_attributes`, for ``run`` or ``run_async``."""

    def change(existing: Entity, changes: Changes) -> UpdateResult:
        _stored, written, skipped = changes.merge(
            existing,
            attributes,
            overwrite=mode != "append_no_overwrite",
            only_existing=mode == "update",
        )
        return UpdateResult(tuple(written), tuple(skipped))

    return EntityWork(tenant, entity_id, change)


def patch_attribute(
    services: Services, tenant: str, entity_id: str, name: str, fragment: Instance
) -> None:
    """Partially update one attribute instance: the fragment's members replace its own.

    The instance is the default one unless the fragment names a ``datasetId``.
    """
    run(services, tenant, patch_attribute_work(tenant, entity_id, name, fragment))


def patch_attribute_work(
    tenant: str, entity_id: str, name: str, fragment: Instance
) -> Callable[[Connection, Changes], None]:
    """The work of :func:`patch_attribute`, for ``run`` or ``run_async``."""

    def change(existing: Entity, changes: Changes) -> None:
        dataset = instance_key(fragment)
        current = next((i for i in existing.get(name, ()) if instance_key(i) == dataset), None)
        if current is None:
            raise ResourceNotFound(
                f"entity {entity_id} has no attribute {name}"
                + (f" with datasetId {dataset}" if dataset else ""),
                id=entity_id,
            )
        merged = {k: v for k, v in current.items() if k not in ("createdAt", "modifiedAt")}
        kind = fragment.get("type")
        if kind is not None and kind != current["type"]:
            # A new kind keeps the sub-attributes, not the old kind's own members (a
            # Relationship made a Property must not keep its "object").
            allowed = ALLOWED_MEMBERS.get(kind, frozenset())
            merged = {k: v for k, v in merged.items() if k not in CORE_MEMBERS or k in allowed}
        merged.update(fragment)
        member = VALUE_MEMBER[merged["type"]]
        if member not in merged:
            raise BadRequestData(f"attribute {name}: a {merged['type']} needs '{member}'")
        changes.merge(existing, {name: [merged]})

    return EntityWork(tenant, entity_id, change)


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


def written_members(entity: Entity) -> dict[str, list[Instance]]:
    """Every member of ``entity`` but its id and type, as a batch merges them (a copy made in C)."""
    attributes = dict(entity)
    attributes.pop("id", None)
    attributes.pop("type", None)
    return attributes


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


_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a batch runs (in any thread of the process).

    A batch allocates a few hundred thousand short-lived dicts and lists, each of them
    freed by reference counting; they trigger full collections that walk every object of
    the process and cost about a fifth of a batch. The collector resumes afterwards.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def run_batch(services: Services, tenant: str, work: Callable[[Connection, Changes], T]) -> T:
    """``run`` for a batch use case: thousands of rows in a few statements.

    No cyclic garbage collection meanwhile (:func:`gc_paused`), and the batch's
    statements are planned for their arrays however often they ran
    (:func:`~smartcity.kernel.storage.driver.plan_each_run`; nothing on SQLite).
    """

    def planned(conn: Connection, changes: Changes) -> T:
        plan_each_run(conn)
        return work(conn, changes)

    with gc_paused():
        return run(services, tenant, planned)


# Entities per part of a PostgreSQL batch (``stored_entities``). Each part's UPDATE
# hashes the tenant's attribute rows on a tenant the statistics do not know yet, and
# each part costs round trips and statements: measured in alternation with session 7's
# code (1,000 entities × 10 values, under load), the batch in one part cost 0.98 of its
# client CPU and 0.89 of its server's, in parts of 500 1.06 and 1.00, in parts of 200
# ~1.3 of the server's. Since session 9 every part's read is queued up front, so the
# server writes one part while the caller merges the next: on a quiet machine (lead,
# 1,000 × 10, alternating) parts of 1,000 / 500 / 334 / 250 ran at 0.98 / 1.07-1.11 /
# 1.12-1.14 / 1.13-1.19 of raw executemany's speed, at 160 / 180-205 / 185-210 /
# 220-240 ms of server CPU per 10,000. Three parts of a 1,000-entity batch: the overlap
# pays for the extra scans, and more parts cost more server CPU than they gain.
PART = 334


@contextlib.contextmanager
def stored_entities(
    conn: Connection, tenant: str, entities: Sequence[Entity], changes: Changes
) -> Iterator[Iterator[tuple[Entity, Entity | None]]]:
    """Each entity of a batch (ids unique) with its stored form, or None if it is new.

    SQLite (or someone tracing statements): one read of the whole batch
    (:func:`load_batch`) and the values replaced in place written by ``changes.apply``.
    PostgreSQL: in psycopg's pipeline mode, the read of every part queued at once
    (:func:`~smartcity.kernel.context.batch_reads.stream_postgres`), then each part's
    values replaced in place, their history and its entities' touches
    (:class:`~smartcity.kernel.context.narrow_writes.NarrowStream`) queued as soon as
    the caller has merged it: one wait for the reads, one at the end. A batch of more
    than ``PART`` entities goes in parts, the server writing one while the caller merges
    the next. Same transaction, same statements per row; ``changes.apply`` writes the
    rest.
    """
    ids = [entity["id"] for entity in entities]
    if conn.dialect.name != "postgresql" or traced(conn):
        existing = load_batch(conn, tenant, ids, changes.stored_rows)
        yield ((entity, existing.get(entity["id"])) for entity in entities)
        return
    stream = NarrowStream(conn, tenant, changes.now)

    def send() -> None:
        if changes.narrow_rows:
            # Only with values to write: a batch without leaves everything to ``apply``.
            stream.send(*changes.take_narrow())

    parts = [entities[start : start + PART] for start in range(0, len(entities), PART)]
    found = stream_postgres(
        conn, tenant, [ids[s : s + PART] for s in range(0, len(ids), PART)], send
    )

    def pairs() -> Iterator[tuple[Entity, Entity | None]]:
        for part, existing in zip(parts, found, strict=False):
            for entity in part:
                yield entity, existing.get(entity["id"])
        next(found, None)  # the last part's writes

    with translated(conn, "batch write"), driver_of(conn).pipeline():
        yield pairs()
    if stream.written() != stream.count:
        # A row read by this transaction is gone: the work runs again on fresh data.
        raise IntegrityError("UPDATE context_attribute", None, RowsGone())


def create_entities(services: Services, tenant: str, entities: Sequence[Entity]) -> BatchResult:
    """Batch create: every entity whose id is free is created; the others are errors."""

    def work(conn: Connection, changes: Changes) -> BatchResult:
        result = BatchResult()
        existing = load_batch(conn, tenant, [e["id"] for e in entities])
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

    return run_batch(services, tenant, work)


def upsert_entities(
    services: Services, tenant: str, entities: Sequence[Entity], mode: UpsertMode
) -> BatchResult:
    """Batch upsert: new entities are created, existing ones replaced or updated."""

    def work(conn: Connection, changes: Changes) -> BatchResult:
        changes.narrow_updates = True
        result = BatchResult()
        unique = merge_duplicates(entities, mode)
        with stored_entities(conn, tenant, unique, changes) as stored:
            for entity, current in stored:
                if current is None:
                    changes.create(entity)
                    result.created.append(entity["id"])
                elif mode == "replace":
                    changes.replace(current, entity)
                else:
                    changes.merge(current, written_members(entity), types=entity["type"])
                result.success.append(entity["id"])
        return result

    return run_batch(services, tenant, work)


def update_entities(
    services: Services, tenant: str, entities: Sequence[Entity], *, overwrite: bool = True
) -> BatchResult:
    """Batch update: attributes appended to existing entities; missing ones are errors."""

    def work(conn: Connection, changes: Changes) -> BatchResult:
        changes.narrow_updates = True
        result = BatchResult()
        unique = merge_duplicates(entities, "update")
        with stored_entities(conn, tenant, unique, changes) as stored:
            for entity, current in stored:
                if current is None:
                    error = ResourceNotFound(
                        f"entity {entity['id']} does not exist", id=entity["id"]
                    )
                    result.errors.append(BatchError(entity["id"], error))
                    continue
                changes.merge(current, written_members(entity), overwrite=overwrite)
                result.success.append(entity["id"])
        return result

    return run_batch(services, tenant, work)


def delete_entities(services: Services, tenant: str, entity_ids: Sequence[str]) -> BatchResult:
    """Batch delete: existing entities are deleted; missing ones are errors."""

    def work(conn: Connection, changes: Changes) -> BatchResult:
        result = BatchResult()
        existing = load_batch(conn, tenant, entity_ids)
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

    return run_batch(services, tenant, work)
