"""Write side of the temporal API (ETSI GS CIM 009 clause 5.6.11 onwards).

A temporal entity posted to ``/temporal/entities`` is **history**: each attribute
instance becomes one ``context_instance`` row, exactly as the library's write path
records a live update (same row shape: a series id and the values; the instanceId is
derived from the row's number, decision 0016). The current entity
(``context_entity``/``context_attribute``) is left alone on purpose: the temporal API
often back-fills old measurements, and letting the last one posted become "current"
would overwrite a newer live value with an older one. The current state stays owned by
the entity API, whose every write also lands in the history.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select, update

from smartcity.kernel.clock import Clock
from smartcity.kernel.context.entity_rows import attribute_row, instance_row, seq_of
from smartcity.kernel.context.errors import BadRequestData, ResourceNotFound
from smartcity.kernel.context.jsonld import LdContext
from smartcity.kernel.context.model import ENTITY_MEMBERS, Instance, check_entity_id
from smartcity.kernel.context.normalize import Normalizer, normalize_fragment
from smartcity.kernel.context.series import fill_series, in_series
from smartcity.kernel.context.tables import context_instance, context_series
from smartcity.kernel.storage import Store

ci = context_instance
cs = context_series


def temporal_attributes(document: object, normalizer: Normalizer) -> dict[str, list[Instance]]:
    """Every instance of every attribute of a temporal fragment (expanded names).

    Unlike an entity, a temporal attribute may repeat a datasetId: it lists the values
    one attribute instance had over time.
    """
    if not isinstance(document, Mapping):
        raise BadRequestData("a temporal entity must be a JSON object")
    attributes: dict[str, list[Instance]] = {}
    for key, raw in document.items():
        if key in ENTITY_MEMBERS:
            continue
        name = normalizer.expand_name(key)
        items = raw if isinstance(raw, list) else [raw]
        if not items:
            raise BadRequestData(f"attribute {key!r} lists no instances")
        attributes.setdefault(name, []).extend(
            normalizer.instance(item, label=str(key), depth=0) for item in items
        )
    return attributes


class TemporalWriter:
    """Adds, changes and deletes attribute instances of the history."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def _has_history(self, conn: Connection, tenant: str, entity_id: str) -> bool:
        found = conn.execute(
            select(ci.c.seq).where(in_series(tenant, entity_id=entity_id)).limit(1)
        ).first()
        return found is not None

    def _insert(
        self,
        conn: Connection,
        tenant: str,
        entity_id: str,
        entity_type: str,
        attributes: Mapping[str, list[Instance]],
    ) -> None:
        now = self._clock.now()
        rows: list[dict[str, Any]] = []
        for name, instances in attributes.items():
            for instance in instances:
                rows.append(
                    instance_row(
                        attribute_row(tenant, entity_id, entity_type, name, instance, now, now),
                        now,
                    )
                )
        if rows:
            fill_series(conn, rows)
            conn.execute(insert(ci), rows)

    def create_or_add(self, tenant: str, document: object, context: LdContext) -> bool:
        """Store a temporal entity's instances; True when the entity had no history."""
        if not isinstance(document, Mapping):
            raise BadRequestData("a temporal entity must be a JSON object")
        normalizer = Normalizer(context)
        if "id" not in document or "type" not in document:
            raise BadRequestData("a temporal entity needs 'id' and 'type'")
        entity_id = check_entity_id(document["id"])
        entity_type = normalizer.types(document["type"])[0]
        attributes = temporal_attributes(document, normalizer)
        with self._store.begin() as conn:
            created = not self._has_history(conn, tenant, entity_id)
            self._insert(conn, tenant, entity_id, entity_type, attributes)
        return created

    def add_attributes(
        self, tenant: str, entity_id: str, document: object, context: LdContext
    ) -> None:
        """Add instances to an entity's history (ResourceNotFound if it has none)."""
        attributes = temporal_attributes(document, Normalizer(context))
        with self._store.begin() as conn:
            known = conn.execute(
                select(cs.c.entity_type)
                .where(
                    cs.c.tenant == tenant,
                    cs.c.entity_id == entity_id,
                    select(ci.c.seq).where(ci.c.series_id == cs.c.id).exists(),
                )
                .limit(1)
            ).first()
            if known is None:
                raise ResourceNotFound(f"entity {entity_id} has no temporal history")
            self._insert(conn, tenant, entity_id, known.entity_type, attributes)

    def delete_entity(self, tenant: str, entity_id: str) -> None:
        """Delete an entity's whole history."""
        with self._store.begin() as conn:
            result = conn.execute(delete(ci).where(in_series(tenant, entity_id=entity_id)))
        if not result.rowcount:
            raise ResourceNotFound(f"entity {entity_id} has no temporal history")

    def delete_attribute(
        self,
        tenant: str,
        entity_id: str,
        name: str,
        *,
        dataset_id: str | None = None,
        delete_all: bool = False,
    ) -> None:
        """Delete an attribute's history: the default instance, one datasetId, or all."""
        dataset = None if delete_all else dataset_id or ""
        in_history = in_series(tenant, entity_id=entity_id, name=name, dataset_id=dataset)
        with self._store.begin() as conn:
            result = conn.execute(delete(ci).where(in_history))
        if not result.rowcount:
            raise ResourceNotFound(f"entity {entity_id} has no history of attribute {name}")

    def modify_instance(
        self,
        tenant: str,
        entity_id: str,
        name: str,
        instance_id: str,
        fragment: object,
        context: LdContext,
    ) -> None:
        """Change one stored instance (its value, observedAt, sub-attributes)."""
        changes = normalize_fragment(fragment, context, label=name)
        seq = seq_of(instance_id)
        # The row by its number, and only if it belongs to this tenant, entity and
        # attribute (its series).
        where = (ci.c.seq == seq, in_series(tenant, entity_id=entity_id, name=name))
        with self._store.begin() as conn:
            stored = None
            if seq is not None:
                stored = conn.execute(select(ci.c.value_json).where(*where)).first()
            if stored is None:
                raise ResourceNotFound(
                    f"entity {entity_id} has no instance {instance_id} of {name}"
                )
            previous: Instance = orjson.loads(stored.value_json)
            if changes.get("type", previous["type"]) != previous["type"]:
                raise BadRequestData(f"an instance of {name} cannot change its type")
            now = self._clock.now()
            row = attribute_row(tenant, entity_id, "", name, {**previous, **changes}, now, now)
            conn.execute(
                update(ci)
                .where(*where)
                .values(
                    value_number=row["value_number"],
                    value_text=row["value_text"],
                    value_bool=row["value_bool"],
                    value_json=row["value_json"],
                    observed_at=row["observed_at"],
                    unit_code=row["unit_code"],
                    recorded_at=now,
                )
            )
