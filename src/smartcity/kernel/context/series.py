"""Series of the temporal history: one integer id per attribute instance and type.

A history row (``context_instance``) names its series (``context_series``: tenant,
entity id, attribute name, datasetId, entity type) by id only, and the history's index
is keyed by that id: an 8-byte key instead of the ~140 bytes of the four strings
(decision 0014), which the row no longer repeats either (decision 0016). Writers find or
create the series of their rows (:func:`series_ids`); readers select or join the series
and then the history rows by id (:func:`in_series`). Series are never deleted: a history
row may name one at any time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from smartcity.kernel.context.tables import context_instance, context_series

# (entity id, attribute name, datasetId, entity type) within one tenant.
SeriesKey = tuple[str, str, str, str]
# The columns of a series' key: what a history row as built carries and is stored by.
SERIES_COLUMNS = ("tenant", "entity_id", "name", "dataset_id", "entity_type")

# Entity ids per lookup statement (SQLite caps the bound parameters of a statement).
LOOKUP_CHUNK = 500

cs = context_series


def key_of(row: Mapping[str, Any]) -> SeriesKey:
    """The series key of a history row."""
    return (row["entity_id"], row["name"], row["dataset_id"], row["entity_type"])


def _stored(conn: Connection, tenant: str, wanted: set[SeriesKey]) -> dict[SeriesKey, int]:
    """The ids of the stored series among ``wanted``."""
    found: dict[SeriesKey, int] = {}
    entity_ids = sorted({key[0] for key in wanted})
    statement = select(cs.c.id, cs.c.entity_id, cs.c.name, cs.c.dataset_id, cs.c.entity_type)
    for start in range(0, len(entity_ids), LOOKUP_CHUNK):
        part = entity_ids[start : start + LOOKUP_CHUNK]
        rows = conn.execute(statement.where(cs.c.tenant == tenant, cs.c.entity_id.in_(part))).all()
        for series_id, *key in rows:
            found[(key[0], key[1], key[2], key[3])] = series_id
    return found


def series_ids(conn: Connection, tenant: str, keys: Iterable[SeriesKey]) -> dict[SeriesKey, int]:
    """The id of the series of each key, creating the series not stored yet."""
    wanted = set(keys)
    if not wanted:
        return {}
    found = _stored(conn, tenant, wanted)
    missing = wanted.difference(found)
    if missing:
        rows = [
            {
                "tenant": tenant,
                "entity_id": entity_id,
                "name": name,
                "dataset_id": dataset_id,
                "entity_type": entity_type,
            }
            for entity_id, name, dataset_id, entity_type in sorted(missing)
        ]
        conn.execute(_insert_missing(conn), rows)
        found.update(_stored(conn, tenant, missing))
    return found


def _insert_missing(conn: Connection) -> Any:
    """INSERT of series rows that leaves a series stored meanwhile alone."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(cs).on_conflict_do_nothing()
    return sqlite.insert(cs).on_conflict_do_nothing()


def fill_series(conn: Connection, rows: Sequence[MutableMapping[str, Any]]) -> None:
    """Make history rows built with their series' key (tenant and key columns) rows as
    stored: ``series_id`` set, the key columns (and any ``instance_id``) removed."""
    by_tenant: dict[str, list[MutableMapping[str, Any]]] = {}
    for row in rows:
        by_tenant.setdefault(row["tenant"], []).append(row)
    for tenant, own in by_tenant.items():
        ids = series_ids(conn, tenant, (key_of(row) for row in own))
        for row in own:
            row["series_id"] = ids[key_of(row)]
            for column in SERIES_COLUMNS:
                del row[column]
            row.pop("instance_id", None)


def in_series(
    tenant: str,
    *,
    entity_ids: Sequence[str] | None = None,
    entity_id: str | None = None,
    names: Sequence[str] | None = None,
    name: str | None = None,
    dataset_id: str | None = None,
    types: Sequence[str] | None = None,
    id_pattern: str | None = None,
) -> ColumnElement[bool]:
    """History rows of the series matching these conditions (an indexed lookup of the
    series, then the index ranges of their rows): the only way a row is found by its
    tenant, entity, attribute or datasetId."""
    conditions: list[ColumnElement[bool]] = [cs.c.tenant == tenant]
    if entity_ids is not None:
        conditions.append(cs.c.entity_id.in_(entity_ids))
    if entity_id is not None:
        conditions.append(cs.c.entity_id == entity_id)
    if names:
        conditions.append(cs.c.name.in_(names))
    if name is not None:
        conditions.append(cs.c.name == name)
    if dataset_id is not None:
        conditions.append(cs.c.dataset_id == dataset_id)
    if types:
        conditions.append(cs.c.entity_type.in_(types))
    if id_pattern is not None:
        conditions.append(cs.c.entity_id.regexp_match(id_pattern))
    return context_instance.c.series_id.in_(select(cs.c.id).where(*conditions))
