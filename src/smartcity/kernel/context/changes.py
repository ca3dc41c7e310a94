"""Collects the row changes of one write transaction and applies them in bulk.

Every use case in :mod:`entities` computes what changes (in Python, from one read of the
entities involved) into a :class:`Changes`, then ``apply`` sends each kind of change as
ONE statement (executemany / COPY), whatever the number of entities: a batch of a
thousand entities costs the same handful of round trips as a single PATCH.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orjson import dumps
from sqlalchemy import Connection, Table, and_, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from smartcity.kernel.context.array_inserts import (
    ArrayRows,
    array_rows,
    insert_arrays,
    insert_history,
    update_arrays,
)
from smartcity.kernel.context.bulk import execute_many
from smartcity.kernel.context.entity_rows import (
    attribute_row,
    attributes_of,
    entity_row,
    instance_row,
    location_columns,
    stored_json,
    typed_values,
)
from smartcity.kernel.context.events import ChangeOperation, EntityChanged
from smartcity.kernel.context.model import (
    LOCATION,
    PROPERTY,
    RELATIONSHIP,
    SYSTEM_MEMBERS,
    Entity,
    Instance,
    format_instant,
    instance_key,
    parse_instant,
)
from smartcity.kernel.context.narrow_writes import write_narrow
from smartcity.kernel.context.pipeline import Pipeline
from smartcity.kernel.context.reads import chunks
from smartcity.kernel.context.series import key_of
from smartcity.kernel.context.tables import (
    context_attribute,
    context_entity,
    context_entity_type,
    context_instance,
    context_series,
)
from smartcity.kernel.storage import Store
from smartcity.kernel.storage.driver import execute_rows, traced

ATTRIBUTE_KEY = ("tenant", "entity_id", "name", "dataset_id")
ATTRIBUTE_UPDATED = (
    "entity_type",
    "kind",
    "value_number",
    "value_text",
    "value_bool",
    "value_json",
    "observed_at",
    "unit_code",
    "modified_at",
    # Set NULL (no row inserted names it): the series a SQLite batch kept on the row
    # may not be the upserted row's (its entity type is part of the series key).
    "series_id",
)
SERIES_KEY = ("tenant", "entity_id", "name", "dataset_id", "entity_type")
# The stored columns of a history row but its number and series id: the write path
# builds each row with these and its series' key (``SERIES_KEY``), which it finds the
# series id by (decision 0016).
INSTANCE_COLUMNS = tuple(
    column.name for column in context_instance.columns if column.name not in ("seq", "series_id")
)
ENTITY_UPDATED = (
    "type",
    "modified_at",
    "location",
    "location_west",
    "location_south",
    "location_east",
    "location_north",
    "location_cell",
)


def dialect_insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT construct (both support ON CONFLICT)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class Changes:
    """The rows one transaction writes to the context tables, and the events it causes."""

    def __init__(self, tenant: str, now: datetime) -> None:
        self.tenant = tenant
        self.now = now
        self.now_text = format_instant(now)
        self.new_entities: list[dict[str, Any]] = []
        self.changed_entities: list[dict[str, Any]] = []
        self.new_types: list[dict[str, Any]] = []
        self.cleared: list[str] = []
        self.deleted_entities: list[str] = []
        self.deleted_attributes: list[dict[str, Any]] = []
        self.attributes: list[dict[str, Any]] = []
        self.instances: list[dict[str, Any]] = []
        self.events: list[EntityChanged] = []
        # Existing entities whose row changes only in modified_at (one UPDATE ... IN)
        # and that no one wrote yet (``take_narrow``).
        self.touched_ids: list[str] = []
        # Set by the batch use cases: a single-entity write keeps its one upsert.
        self.narrow_updates = False
        # Batch use cases only: the stored instances a narrow UPDATE rewrites, one tuple
        # each (``NARROW_FIELDS``), and the history row of each taken from the same
        # tuple. No dict per row, no conversion pass per column; see ``write_narrow``.
        # ``apply`` writes those not handed over (``take_narrow``) already.
        self.narrow_rows: list[tuple[Any, ...]] = []
        # The rows handed over, kept for ``check_narrow``.
        self.narrow_taken: list[tuple[Any, ...]] = []
        # SQLite: the row id and series id of each loaded attribute row, by the identity
        # of the loaded instance (``load_batch``): the UPDATE finds each row by its id,
        # not by its long text key, and the history row names its series without a
        # lookup. Valid while the loaded entities live (this transaction).
        self.stored_rows: dict[int, tuple[int, int | None]] = {}
        # Whether some value of ``narrow_rows`` changes its kind or unitCode (else the
        # UPDATE leaves those columns as they are).
        self.narrow_kinds_change = False
        self.instants: dict[str, datetime] = {}
        # Series keys of history rows whose attribute instance was not stored before:
        # their series may not exist yet. An existing attribute row always has its
        # series (written with its first history row, or by migration 0021).
        self.new_series: set[tuple[str, str, str, str]] = set()

    # --- building -------------------------------------------------------------------

    def write_instances(
        self,
        entity: Entity,
        name: str,
        instances: Sequence[Instance],
        previous: Sequence[Instance] = (),
    ) -> list[Instance]:
        """Rows for ``instances`` of attribute ``name``; returns them with timestamps.

        An instance replacing one of ``previous`` (same datasetId) keeps its createdAt.
        """
        # The hot loop of every batch: rows are built inline (see ``attribute_row`` and
        # ``instance_row``, which they must match) and instants parsed once per batch.
        earlier = {instance_key(old): old for old in previous} if previous else {}
        # A batch writes the rows known to exist whose text and boolean copies stay the
        # same with a narrower UPDATE (``narrow_rows``), unless one instance comes twice.
        narrow = bool(earlier) and (
            len(instances) == 1 or len({instance_key(i) for i in instances}) == len(instances)
        )
        tenant = self.tenant
        entity_id = entity["id"]
        entity_type = entity["type"][0]
        now = self.now
        now_text = self.now_text
        batch = self.narrow_updates
        narrow_rows = self.narrow_rows
        stored_rows = self.stored_rows
        written: list[Instance] = []
        for instance in instances:
            dataset = instance_key(instance)
            old = earlier.get(dataset)
            created_text = (None if old is None else old.get("createdAt")) or now_text
            number, text, flag = typed_values(instance)
            observed = instance.get("observedAt")
            kind = instance["type"]
            value_json = stored_json(instance)
            observed_at = None if observed is None else self.instant(observed, "observedAt")
            unit_code = instance.get("unitCode")
            same_copies = False
            if old is None:
                self.new_series.add((entity_id, name, dataset, entity_type))
            elif narrow:
                _number, old_text, old_flag = typed_values(old)
                same_copies = old_text == text and old_flag is flag
            if same_copies and batch:
                # A stored value replaced in place by a batch: one tuple, both rows.
                self.narrow_kinds_change = True
                narrow_rows.append(
                    (
                        entity_id,
                        name,
                        dataset,
                        entity_type,
                        kind,
                        number,
                        text,
                        flag,
                        value_json,
                        observed_at,
                        unit_code,
                        *stored_rows.get(id(old), NOT_READ),
                        None,
                    )
                )
                stamped = dict(instance)
                stamped["createdAt"] = created_text
                stamped["modifiedAt"] = now_text
                written.append(stamped)
                continue
            self.attributes.append(
                {
                    "tenant": tenant,
                    "entity_id": entity_id,
                    "name": name,
                    "dataset_id": dataset,
                    "entity_type": entity_type,
                    "kind": kind,
                    "value_number": number,
                    "value_text": text,
                    "value_bool": flag,
                    "value_json": value_json,
                    "observed_at": observed_at,
                    "unit_code": unit_code,
                    "created_at": now
                    if created_text == now_text
                    else self.instant(created_text, "createdAt"),
                    "modified_at": now,
                }
            )
            self.instances.append(
                {
                    "tenant": tenant,
                    "entity_id": entity_id,
                    "entity_type": entity_type,
                    "name": name,
                    "dataset_id": dataset,
                    "kind": kind,
                    "value_number": number,
                    "value_text": text,
                    "value_bool": flag,
                    "value_json": value_json,
                    "observed_at": observed_at,
                    "unit_code": unit_code,
                    "recorded_at": now,
                    "deleted": False,
                }
            )
            stamped = dict(instance)
            stamped["createdAt"] = created_text
            stamped["modifiedAt"] = now_text
            written.append(stamped)
        return written

    def replace_one(
        self, entity_id: str, entity_type: str, name: str, instance: Instance, old: Instance
    ) -> Instance | None:
        """``instance`` replacing the stored ``old`` in place, or None if it cannot.

        A batch's common case, in short (``write_instances`` in general): the same
        datasetId and the same text and boolean copies make one ``narrow_rows`` tuple
        (see ``apply``). Returns the instance with its timestamps; None leaves the
        instance to ``write_instances``.
        """
        dataset = instance.get("datasetId")
        if not isinstance(dataset, str):
            dataset = ""
        stored_dataset = old.get("datasetId")
        if dataset != (stored_dataset if isinstance(stored_dataset, str) else ""):
            return None
        kind = instance["type"]
        value = instance.get("value")
        if kind == PROPERTY and (type(value) is float or type(value) is int):
            # A number (the readings of a batch): no text or boolean copy, so the
            # stored value must have none either.
            number: float | None = float(value)
            text: str | None = None
            flag: bool | None = None
            old_value = old.get("value")
            old_kind = old["type"]
            if (old_kind == PROPERTY and isinstance(old_value, (str, bool))) or (
                old_kind == RELATIONSHIP and isinstance(old.get("object"), str)
            ):
                return None
        else:
            number, text, flag = typed_values(instance)
            _number, old_text, old_flag = typed_values(old)
            if old_text != text or old_flag is not flag:
                return None
        observed = instance.get("observedAt")
        observed_at = None
        if observed is not None:
            observed_at = self.instants.get(observed) or self.instant(observed, "observedAt")
        unit_code = instance.get("unitCode")
        if kind != old["type"] or unit_code != old.get("unitCode"):
            self.narrow_kinds_change = True
        stored = self.stored_rows.get(id(old), NOT_READ)
        self.narrow_rows.append(
            (
                entity_id,
                name,
                dataset,
                entity_type,
                kind,
                number,
                text,
                flag,
                dumps(instance).decode()
                if SYSTEM_MEMBERS.isdisjoint(instance)
                else stored_json(instance),
                observed_at,
                unit_code,
                stored[0],
                stored[1],
                None,
            )
        )
        now_text = self.now_text
        return {**instance, "createdAt": old.get("createdAt") or now_text, "modifiedAt": now_text}

    def instant(self, text: str, what: str) -> datetime:
        """An instant of an instance (observedAt, a stored createdAt), parsed once per batch."""
        found = self.instants.get(text)
        if found is None:
            found = self.instants[text] = parse_instant(text, what=what)
        return found

    def record_removed(self, entity: Entity, name: str, instances: Sequence[Instance]) -> None:
        """History rows saying these instances were deleted."""
        entity_type = entity["type"][0]
        for instance in instances:
            row = attribute_row(
                self.tenant, entity["id"], entity_type, name, instance, self.now, self.now
            )
            self.instances.append(instance_row(row, self.now, deleted=True))

    def create(self, entity: Entity) -> Entity:
        """A new entity with all its attributes."""
        stored: Entity = {
            "id": entity["id"],
            "type": list(entity["type"]),
            "createdAt": self.now_text,
            "modifiedAt": self.now_text,
        }
        self.new_entities.append(entity_row(self.tenant, entity, self.now, self.now))
        self.add_types(entity["id"], entity["type"])
        for name, instances in attributes_of(entity).items():
            stored[name] = self.write_instances(stored, name, instances)
        self.event(stored, "create", tuple(attributes_of(entity)))
        return stored

    def replace(self, existing: Entity, entity: Entity) -> Entity:
        """``existing`` becomes ``entity`` (same id and createdAt, new types/attributes)."""
        stored: Entity = {
            "id": existing["id"],
            "type": list(entity["type"]),
            "createdAt": existing["createdAt"],
            "modifiedAt": self.now_text,
        }
        self.cleared.append(existing["id"])
        self.add_types(existing["id"], entity["type"])
        new_attributes = attributes_of(entity)
        for name, instances in attributes_of(existing).items():
            if name not in new_attributes:
                self.record_removed(existing, name, instances)
        for name, instances in new_attributes.items():
            stored[name] = self.write_instances(stored, name, instances)
        self.touch(stored)
        touched = set(new_attributes) | set(attributes_of(existing))
        self.event(stored, "replace", tuple(sorted(touched)))
        return stored

    def merge(
        self,
        existing: Entity,
        attributes: dict[str, list[Instance]],
        *,
        overwrite: bool = True,
        only_existing: bool = False,
        types: Sequence[str] = (),
    ) -> tuple[Entity, list[str], list[tuple[str, str]]]:
        """Add or overwrite attribute instances of ``existing``.

        Returns the entity after the change, the names written and the (name, reason)
        pairs skipped because of ``overwrite``/``only_existing``.
        """
        stored = dict(existing)
        stored["type"] = list(existing["type"])
        new_types = [t for t in types if t not in stored["type"]]
        if new_types:
            stored["type"].extend(new_types)
            self.add_types(existing["id"], new_types)
        written: list[str] = []
        skipped: list[tuple[str, str]] = []
        plain = overwrite and not only_existing
        # A batch's common case (one instance replacing the stored one) in short.
        in_place = plain and self.narrow_updates
        entity_id = stored["id"]
        entity_type = stored["type"][0]
        now_text = self.now_text
        instants = self.instants
        stored_rows = self.stored_rows
        add_narrow = self.narrow_rows.append
        for name, instances in attributes.items():
            previous: list[Instance] = stored.get(name) or []
            if in_place and len(instances) == 1 and len(previous) == 1:
                instance = instances[0]
                old = previous[0]
                value = instance.get("value")
                old_value = old.get("value")
                if (
                    (type(value) is float or type(value) is int)
                    and instance["type"] == PROPERTY
                    and old["type"] == PROPERTY
                    and "datasetId" not in instance
                    and "datasetId" not in old
                    and "createdAt" not in instance
                    and "modifiedAt" not in instance
                    and not isinstance(old_value, (str, bool))
                ):
                    # The readings of a batch, inline (``replace_one`` in short, one call
                    # less per value): a number replacing a stored value that has no text
                    # or boolean copy, in the default instance.
                    observed = instance.get("observedAt")
                    observed_at = instants.get(observed)  # type: ignore[arg-type]
                    if observed_at is None and observed is not None:
                        observed_at = self.instant(observed, "observedAt")
                    unit_code = instance.get("unitCode")
                    if unit_code != old.get("unitCode"):
                        self.narrow_kinds_change = True
                    rowid, series_id = stored_rows.get(id(old), NOT_READ)
                    add_narrow(
                        (
                            entity_id,
                            name,
                            "",
                            entity_type,
                            PROPERTY,
                            float(value),
                            None,
                            None,
                            dumps(instance).decode(),
                            observed_at,
                            unit_code,
                            rowid,
                            series_id,
                            # A number: the stored row's ``value_number`` is it.
                            old_value,
                        )
                    )
                    current = dict(instance)
                    current["createdAt"] = old.get("createdAt") or now_text
                    current["modifiedAt"] = now_text
                    stored[name] = [current]
                    written.append(name)
                    continue
                stamped = self.replace_one(entity_id, entity_type, name, instance, old)
                if stamped is not None:
                    stored[name] = [stamped]
                    written.append(name)
                    continue
            if plain:
                chosen = instances
            else:
                present = {instance_key(old) for old in previous}
                chosen = []
                for instance in instances:
                    exists = instance_key(instance) in present
                    if exists and not overwrite:
                        skipped.append((name, "the attribute exists and overwriting was not asked"))
                    elif not exists and only_existing:
                        skipped.append((name, "the entity has no such attribute (instance)"))
                    else:
                        chosen.append(instance)
            if not chosen:
                continue
            fresh = self.write_instances(stored, name, chosen, previous)
            if previous:
                replaced = {instance_key(instance) for instance in fresh}
                stored[name] = [i for i in previous if instance_key(i) not in replaced] + fresh
            else:
                stored[name] = fresh
            written.append(name)
        if written or new_types:
            # The primary type never changes here, the location only if it is written.
            if LOCATION in written:
                self.touch(stored)
            else:
                stored["modifiedAt"] = self.now_text
                self.touched_ids.append(stored["id"])
            self.event(stored, "update", tuple(written))
        return stored, written, skipped

    def remove_attribute(self, existing: Entity, name: str, dataset_ids: Sequence[str]) -> Entity:
        """Delete some instances (by datasetId, '' = default) of one attribute."""
        stored = dict(existing)
        previous: list[Instance] = list(existing.get(name, ()))
        removed = [i for i in previous if instance_key(i) in dataset_ids]
        kept = [i for i in previous if instance_key(i) not in dataset_ids]
        if kept:
            stored[name] = kept
        else:
            stored.pop(name, None)
        for instance in removed:
            self.deleted_attributes.append(
                {
                    "b_tenant": self.tenant,
                    "b_entity_id": existing["id"],
                    "b_name": name,
                    "b_dataset_id": instance_key(instance),
                }
            )
        self.record_removed(existing, name, removed)
        self.touch(stored)
        self.event(stored, "update", (name,))
        return stored

    def remove_entity(self, existing: Entity) -> None:
        """Delete an entity; its attributes and types go with it (ON DELETE CASCADE)."""
        self.deleted_entities.append(existing["id"])
        for name, instances in attributes_of(existing).items():
            self.record_removed(existing, name, instances)
        self.event(existing, "delete", tuple(attributes_of(existing)))

    def add_types(self, entity_id: str, types: Sequence[str]) -> None:
        """Type rows for an entity."""
        self.new_types.extend(
            {"tenant": self.tenant, "entity_id": entity_id, "type": t} for t in types
        )

    def touch(self, entity: Entity) -> None:
        """The entity row of a changed entity: modifiedAt, primary type, location."""
        entity["modifiedAt"] = self.now_text
        row = {
            "b_tenant": self.tenant,
            "b_id": entity["id"],
            "type": entity["type"][0],
            "modified_at": self.now,
        }
        row.update(location_columns(entity))
        self.changed_entities.append(row)

    def event(self, entity: Entity, operation: ChangeOperation, names: tuple[str, ...]) -> None:
        """The EntityChanged published once the transaction commits."""
        self.events.append(
            EntityChanged(
                tenant=self.tenant,
                entity_id=entity["id"],
                types=tuple(entity["type"]),
                operation=operation,
                attributes=names,
                entity=entity,
                at=self.now,
            )
        )

    # --- applying -------------------------------------------------------------------

    def apply(self, conn: Connection, store: Store) -> None:
        """Send every collected change, one statement per kind."""
        tenant = self.tenant
        # Only constant statements run per row: building SQLAlchemy constructs costs more
        # than the SQLite statements themselves on the PATCH hot path.
        for part in chunks(self.deleted_entities):
            conn.execute(
                delete(context_entity).where(
                    context_entity.c.tenant == tenant, context_entity.c.id.in_(part)
                )
            )
        for part in chunks(self.cleared):
            for table in (context_attribute, context_entity_type):
                conn.execute(
                    delete(table).where(table.c.tenant == tenant, table.c.entity_id.in_(part))
                )
        statements = statements_for(conn)
        if self.deleted_attributes:
            conn.execute(statements.delete_attribute, self.deleted_attributes)
        postgres = conn.dialect.name == "postgresql"
        # PostgreSQL: many new rows go as one statement over arrays per table, not one
        # statement per row; a single-entity write's few rows keep their tuned path.
        arrays = postgres and not (self.few_rows() and len(self.new_entities) <= FEW_ROWS)
        if self.new_entities:
            if arrays:
                insert_arrays(conn, context_entity, self.new_entities, "id")
            else:
                store.bulk_insert(conn, context_entity, self.new_entities)
        if self.narrow_rows or self.narrow_taken:
            self.check_narrow()
        upserted = self.attributes
        if (
            postgres
            and self.few_rows()
            and not self.narrow_rows
            # Someone traces statements (instrumentation, tests): let them see each one.
            and not traced(conn)
        ):
            self.apply_pipelined(conn, statements)
            return
        # A single-entity write on SQLite sends its few rows straight to the driver:
        # SQLAlchemy's execution costs several times SQLite's own work for one row.
        few = conn.dialect.name == "sqlite" and len(self.attributes) <= FEW_ROWS
        many = execute_rows if few else execute_many
        changed = self.changed_entities
        if arrays and len({row["b_id"] for row in changed}) == len(changed):
            update_arrays(
                conn, context_entity, [entity_columns(row) for row in changed], ENTITY_KEY
            )
        else:
            many(conn, statements.update_entity, changed)
        if few and len(self.touched_ids) <= FEW_ROWS:
            touch = [
                {"b_modified_at": self.now, "b_tenant": tenant, "b_id": entity_id}
                for entity_id in self.touched_ids
            ]
            execute_rows(conn, statements.touch_entity, touch)
        else:
            for part in chunks(self.touched_ids):
                conn.execute(
                    statements.touch_entities,
                    {"b_tenant": tenant, "b_ids": list(part), "b_modified_at": self.now},
                )
        if arrays:
            insert_arrays(conn, context_entity_type, self.new_types, "entity_id", NOTHING)
        else:
            many(conn, statements.insert_types, self.new_types)
        written: ArrayRows | None = None
        if arrays and len({attribute_key(row) for row in upserted}) == len(upserted):
            if upserted:
                columns = [context_attribute.c[name] for name in upserted[0]]
                written = array_rows(conn, columns, upserted, "entity_id")
            insert_arrays(conn, context_attribute, upserted, "", UPSERT_ATTRIBUTE, written)
        else:
            # A row named twice: one upsert statement cannot write it twice.
            many(conn, statements.upsert_attributes, upserted)
        if self.instances:
            # A batch of new values records each attribute row as it is written: the
            # history statement reuses the attribute rows' arrays.
            recorded = written is not None and self.recorded_as_written(upserted)
            self.insert_instances(conn, statements, written if recorded else None)
        rows = self.narrow_rows
        if rows and write_narrow(conn, tenant, self.now, rows, self.narrow_kinds_change) != len(
            rows
        ):
            # A row read by this transaction is gone (on PostgreSQL another transaction
            # deleted it since): the work runs again on fresh data, as for a lost insert.
            raise IntegrityError("UPDATE context_attribute", None, RowsGone())

    def take_narrow(self) -> tuple[list[tuple[Any, ...]], list[str]]:
        """The values replaced in place and the entities touched since the last call,
        handed over to a caller who writes them (PostgreSQL's batch stream,
        ``entities.stored_entities``): ``apply`` writes only what is left."""
        rows, touched = self.narrow_rows, self.touched_ids
        self.narrow_rows, self.touched_ids = [], []
        self.narrow_taken += rows
        return rows, touched

    def recorded_as_written(self, upserted: list[dict[str, Any]]) -> bool:
        """Whether the history rows are the attribute rows ``upserted``, one for one.

        ``write_instances`` appends both rows of an instance together; only removals
        (``record_removed``) add history rows alone.
        """
        return len(self.instances) == len(upserted) and not any(
            row["deleted"] for row in self.instances
        )

    def insert_instances(
        self, conn: Connection, statements: Statements, written: ArrayRows | None = None
    ) -> None:
        """The history rows, each with the id of its series (decision 0014); ``written``:
        the arrays of the attribute rows they record (``insert_history``)."""
        rows = self.instances
        sqlite = conn.dialect.name == "sqlite"
        if sqlite or len(rows) <= FEW_ROWS:
            # Each row's INSERT finds its series id itself (one index probe of the small
            # series table, no Python per row), after the series of attribute instances
            # new to this write are created. On PostgreSQL only for a single-entity
            # write: COPY costs two round trips (COPY, then data and its end) where an
            # INSERT costs one, and on a single-entity write the trips are the cost.
            many = execute_rows if sqlite and len(rows) <= FEW_ROWS else execute_many
            if self.new_series:
                many(conn, statements.insert_series, self.series_rows(sorted(self.new_series)))
            many(conn, statements.insert_instances_by_key, rows)
            return
        # Every series of the rows is made sure of, as ``series.series_ids`` does (the
        # new ones are created; in a batch of new entities that is all of them), in one
        # statement; then one statement joins the rows to their series' ids.
        keys = sorted({key_of(row) for row in rows})
        insert_arrays(conn, context_series, self.series_rows(keys), "entity_id", NOTHING)
        if insert_history(conn, rows, written) != len(rows):  # pragma: no cover - series stay
            raise RuntimeError("a history row's series is missing")

    def check_narrow(self) -> None:
        """The values replaced in place are each written once, by nothing else here.

        The batch use cases touch each entity once (duplicates merged first), so the
        values replaced in place (handed over or not) can neither repeat nor belong to a
        cleared or deleted entity, a deleted instance or another attribute row of this
        transaction: the narrow UPDATE would otherwise undo their change, or they its.
        """
        if not (
            self.attributes or self.cleared or self.deleted_attributes or self.deleted_entities
        ):
            return
        narrow = self.narrow_taken + self.narrow_rows
        keys = {(row[0], row[1], row[2]) for row in narrow}
        others = [(r["entity_id"], r["name"], r["dataset_id"]) for r in self.attributes]
        others += [
            (d["b_entity_id"], d["b_name"], d["b_dataset_id"]) for d in self.deleted_attributes
        ]
        cleared = set(self.cleared) | set(self.deleted_entities)
        if (
            len(keys) != len(narrow)
            or not keys.isdisjoint(others)
            or any(key[0] in cleared for key in keys)
        ):
            raise RuntimeError("a value replaced in place is also written otherwise")

    def series_rows(self, keys: Sequence[tuple[str, str, str, str]]) -> list[dict[str, Any]]:
        """``context_series`` rows of these keys."""
        return [
            {
                "tenant": self.tenant,
                "entity_id": entity_id,
                "name": name,
                "dataset_id": dataset_id,
                "entity_type": entity_type,
            }
            for entity_id, name, dataset_id, entity_type in keys
        ]

    def few_rows(self) -> bool:
        """Whether this is a single-entity write's handful of rows."""
        return (
            len(self.attributes) <= FEW_ROWS
            and len(self.instances) <= FEW_ROWS
            and len(self.touched_ids) <= FEW_ROWS
            and len(self.changed_entities) <= FEW_ROWS
            and len(self.new_types) <= FEW_ROWS
        )

    def apply_pipelined(self, conn: Connection, statements: Statements) -> None:
        """The rest of ``apply`` for a few rows on PostgreSQL: one round trip, not one each.

        The same statements in the same order as ``apply`` (the deletions and new
        entities before them already ran), sent by psycopg's pipeline mode.
        """
        pipeline = Pipeline(conn)
        pipeline.add(statements.update_entity, self.changed_entities)
        pipeline.add(
            statements.touch_entity,
            [
                {"b_modified_at": self.now, "b_tenant": self.tenant, "b_id": entity_id}
                for entity_id in self.touched_ids
            ],
        )
        pipeline.add(statements.insert_types, self.new_types)
        pipeline.add(statements.upsert_attributes, self.attributes)
        if self.new_series:
            pipeline.add(statements.insert_series, self.series_rows(sorted(self.new_series)))
        # Each history row finds its series id itself (decision 0014).
        pipeline.add(statements.insert_instances_by_key, self.instances)
        pipeline.send()


# The row id and series id of an attribute row not read by ``load_batch``.
NOT_READ: tuple[None, None] = (None, None)


class RowsGone(Exception):
    """Attribute rows this transaction read were deleted before it updated them."""


ENTITY_KEY = ("tenant", "id")


def entity_columns(row: dict[str, Any]) -> dict[str, Any]:
    """A row of ``update_entity`` (its key bound as ``b_tenant``, ``b_id``) by column name."""
    columns = {"tenant": row["b_tenant"], "id": row["b_id"]}
    columns.update((name, row[name]) for name in ENTITY_UPDATED)
    return columns


def attribute_key(row: dict[str, Any]) -> tuple[str, str, str]:
    """An attribute row's key within its tenant (entity id, name, datasetId)."""
    return (row["entity_id"], row["name"], row["dataset_id"])


# Up to this many attribute rows, a write on SQLite goes straight to the driver.
FEW_ROWS = 8

# The conflict clauses of the array inserts (PostgreSQL): as the statements below.
NOTHING = "ON CONFLICT DO NOTHING"
UPSERT_ATTRIBUTE = f"ON CONFLICT ({', '.join(ATTRIBUTE_KEY)}) DO UPDATE SET " + ", ".join(
    f"{column} = excluded.{column}" for column in ATTRIBUTE_UPDATED
)


@dataclass(frozen=True)
class Statements:
    """The write statements of one dialect, built once."""

    delete_attribute: Any
    update_entity: Any
    touch_entity: Any
    touch_entities: Any
    insert_types: Any
    upsert_attributes: Any
    insert_instances: Any
    insert_instances_by_key: Any
    insert_series: Any


_statements: dict[str, Statements] = {}


def statements_for(conn: Connection) -> Statements:
    """The (cached) statements for the connection's dialect."""
    dialect = conn.dialect.name
    cached = _statements.get(dialect)
    if cached is not None:
        return cached
    insert_attributes = dialect_insert(conn, context_attribute)
    built = Statements(
        delete_attribute=delete(context_attribute).where(
            and_(
                context_attribute.c.tenant == bindparam("b_tenant"),
                context_attribute.c.entity_id == bindparam("b_entity_id"),
                context_attribute.c.name == bindparam("b_name"),
                context_attribute.c.dataset_id == bindparam("b_dataset_id"),
            )
        ),
        update_entity=update(context_entity)
        .where(
            context_entity.c.tenant == bindparam("b_tenant"),
            context_entity.c.id == bindparam("b_id"),
        )
        .values({column: bindparam(column) for column in ENTITY_UPDATED}),
        touch_entity=update(context_entity)
        .where(
            context_entity.c.tenant == bindparam("b_tenant"),
            context_entity.c.id == bindparam("b_id"),
        )
        .values(modified_at=bindparam("b_modified_at")),
        touch_entities=update(context_entity)
        .where(
            context_entity.c.tenant == bindparam("b_tenant"),
            context_entity.c.id.in_(bindparam("b_ids", expanding=True)),
        )
        .values(modified_at=bindparam("b_modified_at")),
        insert_types=dialect_insert(conn, context_entity_type).on_conflict_do_nothing(),
        upsert_attributes=insert_attributes.on_conflict_do_update(
            index_elements=list(ATTRIBUTE_KEY),
            set_={c: insert_attributes.excluded[c] for c in ATTRIBUTE_UPDATED},
        ),
        insert_instances=insert(context_instance),
        insert_instances_by_key=insert(context_instance).values(
            {
                "series_id": select(context_series.c.id)
                .where(*(context_series.c[key] == bindparam(key) for key in SERIES_KEY))
                .scalar_subquery(),
                **{column: bindparam(column) for column in INSTANCE_COLUMNS},
            }
        ),
        insert_series=dialect_insert(conn, context_series).on_conflict_do_nothing(),
    )
    _statements[dialect] = built
    return built
