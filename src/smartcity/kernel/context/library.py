"""The city information library: what the rest of the platform calls.

``ContextLibrary(store, bus, clock)`` (also ``platform.context``) stores NGSI-LD entities
per tenant ('' is the default tenant). Every method takes and returns entities in the
normalized, **expanded** form described in :mod:`smartcity.kernel.context.model`
(``{"id", "type": [IRI, ...], "<attribute IRI>": [instance, ...]}``); turning client
documents into that form is :mod:`normalize`'s job and rendering them back is
:mod:`representation`'s. Errors are the NGSI-LD error types of
:mod:`smartcity.kernel.context.errors` (BadRequestData, ResourceNotFound,
AlreadyExists, NonexistentTenant, ...).

Every write runs in one transaction, records each attribute value it writes in the
temporal history (``context_instance``), and publishes one
:class:`~smartcity.kernel.context.events.EntityChanged` per entity after it commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from smartcity.kernel.bus import Bus
from smartcity.kernel.clock import Clock
from smartcity.kernel.context import entities
from smartcity.kernel.context.entities import (
    BatchResult,
    Services,
    UpdateMode,
    UpdateResult,
    UpsertMode,
)
from smartcity.kernel.context.errors import ResourceNotFound
from smartcity.kernel.context.model import Entity, Instance
from smartcity.kernel.context.query.selection import EntitySelection
from smartcity.kernel.context.reads import (
    check_tenant_exists,
    load_entities,
    load_entity,
    select_entity_ids,
)
from smartcity.kernel.storage import Store

__all__ = ["BatchResult", "ContextLibrary", "QueryPage", "UpdateResult"]


class QueryPage:
    """One page of a query: the entities in id order and, when asked, the total count."""

    __slots__ = ("entities", "total")

    def __init__(self, entities: list[Entity], total: int | None) -> None:
        self.entities = entities
        self.total = total


class ContextLibrary:
    """Create, read, update, delete and query context entities of every tenant."""

    def __init__(self, store: Store, bus: Bus, clock: Clock) -> None:
        self.store = store
        self.services = Services(store=store, bus=bus, clock=clock)

    # --- single entities -------------------------------------------------------------

    def create_entity(self, tenant: str, entity: Entity) -> Entity:
        """Create ``entity``; AlreadyExists if its id is taken. Returns it as stored."""
        return entities.create_entity(self.services, tenant, entity)

    def retrieve_entity(self, tenant: str, entity_id: str) -> Entity:
        """The entity with system attributes; ResourceNotFound / NonexistentTenant."""
        with self.store.connect() as conn:
            found = load_entity(conn, tenant, entity_id)
            if found is None:
                check_tenant_exists(conn, tenant)
                raise ResourceNotFound(f"entity {entity_id} does not exist", id=entity_id)
        return found

    def replace_entity(self, tenant: str, entity: Entity) -> Entity:
        """Replace the types and every attribute of an existing entity."""
        return entities.replace_entity(self.services, tenant, entity)

    def delete_entity(self, tenant: str, entity_id: str) -> None:
        """Delete an entity with all its attributes."""
        entities.delete_entity(self.services, tenant, entity_id)

    def update_attributes(
        self,
        tenant: str,
        entity_id: str,
        attributes: dict[str, list[Instance]],
        mode: UpdateMode | str,
    ) -> UpdateResult:
        """Write attributes of an entity.

        ``mode``: ``append`` adds or overwrites, ``append_no_overwrite`` skips existing
        instances, ``update`` writes only existing ones, ``patch`` merges one partial
        instance per attribute into the stored one. Skipped attributes are listed in
        ``UpdateResult.not_updated``.
        """
        if mode == "patch":
            for name, fragments in attributes.items():
                for fragment in fragments:
                    entities.patch_attribute(self.services, tenant, entity_id, name, fragment)
            return UpdateResult(tuple(attributes), ())
        if mode not in ("append", "append_no_overwrite", "update"):
            raise ValueError(f"unknown update mode {mode!r}")
        return entities.update_attributes(self.services, tenant, entity_id, attributes, mode)  # type: ignore[arg-type]

    def patch_attribute(self, tenant: str, entity_id: str, name: str, fragment: Instance) -> None:
        """Partially update one attribute instance (``fragment`` from ``normalize_fragment``)."""
        entities.patch_attribute(self.services, tenant, entity_id, name, fragment)

    async def patch_attribute_async(
        self, tenant: str, entity_id: str, name: str, fragment: Instance
    ) -> None:
        """``patch_attribute`` for callers on an event loop: awaits the commit.

        The write joins the store's group commit; no thread waits for it.
        """
        work = entities.patch_attribute_work(tenant, entity_id, name, fragment)
        await entities.run_async(self.services, tenant, work)

    async def update_attributes_async(
        self, tenant: str, entity_id: str, attributes: dict[str, list[Instance]], mode: UpdateMode
    ) -> UpdateResult:
        """``update_attributes`` (``append``/``append_no_overwrite``/``update``), awaited."""
        work = entities.update_attributes_work(tenant, entity_id, attributes, mode)
        return await entities.run_async(self.services, tenant, work)

    def delete_attribute(
        self,
        tenant: str,
        entity_id: str,
        name: str,
        *,
        dataset_id: str | None = None,
        delete_all: bool = False,
    ) -> None:
        """Delete the default instance, the ``dataset_id`` instance or all instances."""
        entities.delete_attribute(
            self.services, tenant, entity_id, name, dataset_id=dataset_id, delete_all=delete_all
        )

    # --- batches ----------------------------------------------------------------------

    def create_entities(self, tenant: str, batch: Sequence[Entity]) -> BatchResult:
        """Create every entity whose id is free; the rest are AlreadyExists errors."""
        return entities.create_entities(self.services, tenant, batch)

    def upsert_entities(
        self, tenant: str, batch: Sequence[Entity], mode: UpsertMode
    ) -> BatchResult:
        """Create new entities and ``replace`` or ``update`` existing ones."""
        return entities.upsert_entities(self.services, tenant, batch, mode)

    def update_entities(
        self, tenant: str, batch: Sequence[Entity], *, overwrite: bool = True
    ) -> BatchResult:
        """Append attributes to existing entities; missing ones are ResourceNotFound."""
        return entities.update_entities(self.services, tenant, batch, overwrite=overwrite)

    def delete_entities(self, tenant: str, entity_ids: Sequence[str]) -> BatchResult:
        """Delete existing entities; missing ones are ResourceNotFound."""
        return entities.delete_entities(self.services, tenant, entity_ids)

    # --- queries ----------------------------------------------------------------------

    def query_entities(
        self,
        selection: EntitySelection,
        *,
        limit: int = 20,
        offset: int = 0,
        count: bool = False,
    ) -> QueryPage:
        """The entities ``selection`` matches, a page at a time in id order.

        NonexistentTenant when the page is empty and the tenant has never had data.
        """
        with self.store.connect() as conn:
            ids, total = select_entity_ids(conn, selection, limit=limit, offset=offset, count=count)
            found = load_entities(conn, selection.tenant, ids) if ids else {}
            if not ids:
                check_tenant_exists(conn, selection.tenant)
        return QueryPage([found[i] for i in ids if i in found], total)
