"""Reading the stored entities of a batch write, in one or two statements per chunk.

Like :func:`~smartcity.kernel.context.reads.load_entities` (same entities, same
instances), for batches of thousands of attributes:

- On SQLite a chunk is two fetches of plain sqlite3 tuples (row-by-row fetching cost
  more than the query): its entities with their types, then their attribute rows in
  primary-key order, each with its row id and series id (the batch's narrow writes use
  them); the ids go in as one JSON array.
- On PostgreSQL each id of the chunk drives its own primary-key probes (a join from
  ``unnest`` of the ids, the tenant a constant on every table), and the types come from
  a statement of their own. With statistics that do not know a fresh tenant yet, the
  planner turned the join on ``a.tenant = e.tenant`` (and the correlated types
  subquery) into a scan of the tenant's whole attribute table per entity: 1.5–3 s for
  500 entities instead of ~20 ms.

Skipping the JSON decoding of the instances an update replaces (a stand-in with their
createdAt and text/boolean copies) was tried and measured slower: ``orjson.loads`` of a
small instance costs less than building the key to look it up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

import orjson
from orjson import loads
from sqlalchemy import Connection

from smartcity.kernel.context.model import Entity, format_instant
from smartcity.kernel.context.reads import chunks, ordered_types, sqlite_instant_text
from smartcity.kernel.storage.driver import driver_of, fetch_all

# The entities of a chunk, then their attribute rows: the types subquery runs once per
# entity (not once per attribute row), and the attribute rows come in the order of
# their primary key (no sort).
_SQLITE_ENTITIES = """
SELECT e.id, e.type, e.created_at, e.modified_at,
  (SELECT group_concat(t.type, ' ') FROM context_entity_type AS t
   WHERE t.tenant = e.tenant AND t.entity_id = e.id)
FROM context_entity AS e
WHERE e.tenant = ? AND e.id IN (SELECT value FROM json_each(?))
ORDER BY e.id
"""

# The series of an attribute row is keyed by the row's own entity type: every write
# stores the entity's primary type on its attribute rows and its history's series
# (a replace rewrites them all), and migration 0021 made the series of existing rows
# from that column. No join to the entity row: a probe per attribute row less (-20%).
_SQLITE_ATTRIBUTES = """
SELECT a.entity_id, a.name, a.value_json, a.created_at, a.modified_at, a.rowid,
  (SELECT s.id FROM context_series AS s
   WHERE s.tenant = a.tenant AND s.entity_id = a.entity_id AND s.name = a.name
     AND s.dataset_id = a.dataset_id AND s.entity_type = a.entity_type)
FROM context_attribute AS a
WHERE a.tenant = ? AND a.entity_id IN (SELECT value FROM json_each(?))
ORDER BY a.entity_id, a.name, a.dataset_id
"""

# The attribute rows of each entity by a probe of the primary key: a ``LATERAL``
# subquery the planner may not flatten (``OFFSET 0``), in the key's order (so no other
# index of the tenant serves it as well). As a plain join, with statistics taken while
# the table was empty, it read the tenant's attribute rows once and scanned them again
# for every entity (1,000 × 10,000 rows: 2.2 s for one batch).
_POSTGRES = """
SELECT e.id, e.type, e.created_at, e.modified_at,
  a.name, a.value_json, a.created_at, a.modified_at
FROM unnest(%(ids)s::text[]) AS k(id)
JOIN context_entity AS e ON e.tenant = %(tenant)s AND e.id = k.id
LEFT OUTER JOIN LATERAL (
  SELECT r.name, r.dataset_id, r.value_json, r.created_at, r.modified_at
  FROM context_attribute AS r WHERE r.tenant = %(tenant)s AND r.entity_id = k.id
  ORDER BY r.name, r.dataset_id OFFSET 0
) AS a ON true
ORDER BY e.id, a.name, a.dataset_id
"""

_POSTGRES_TYPES = """
SELECT t.entity_id, t.type FROM unnest(%(ids)s::text[]) AS k(id)
JOIN context_entity_type AS t ON t.tenant = %(tenant)s AND t.entity_id = k.id
"""


def load_batch(
    conn: Connection,
    tenant: str,
    entity_ids: Sequence[str],
    stored_rows: dict[int, tuple[int, int | None]] | None = None,
) -> dict[str, Entity]:
    """The stored entities among ``entity_ids``, by id.

    On SQLite, ``stored_rows`` (if given) receives the row id and the series id of
    each loaded attribute instance, keyed by the identity (``id``) of its instance
    dict: a batch's narrow UPDATE finds the row by them (``Changes.stored_rows``).
    """
    sqlite = conn.dialect.name == "sqlite"
    found: dict[str, Entity] = {}
    texts: dict[Any, str] = {}

    def text(value: Any) -> str:
        # A batch shares a handful of instants: each is converted once.
        known = texts.get(value)
        if known is None:
            known = texts[value] = (
                sqlite_instant_text(value) if sqlite else format_instant(_as_datetime(value))
            )
        return known

    keep = stored_rows is not None
    row_ids: dict[int, tuple[int, int | None]] = {} if stored_rows is None else stored_rows
    for part in chunks(list(dict.fromkeys(entity_ids))):
        if not sqlite:
            _load_postgres(conn, tenant, part, found, text)
            continue
        parameters = (tenant, orjson.dumps(list(part)).decode())
        for entity_id, primary, created, modified, joined in fetch_all(
            conn, _SQLITE_ENTITIES, parameters
        ):
            found[entity_id] = {
                "id": entity_id,
                "type": [primary] if joined == primary else ordered_types(primary, joined),
                "createdAt": text(created),
                "modifiedAt": text(modified),
            }
        # The rows of one entity come together. ``add_instance`` inline: the loop runs
        # once per attribute of the batch.
        last = None
        entity: Entity = {}
        known = texts.get
        for entity_id, name, value_json, a_created, a_modified, rowid, series_id in fetch_all(
            conn, _SQLITE_ATTRIBUTES, parameters
        ):
            if entity_id != last:
                last = entity_id
                entity = found[entity_id]
            instance: dict[str, Any] = loads(value_json)
            instance["createdAt"] = known(a_created) or text(a_created)
            instance["modifiedAt"] = known(a_modified) or text(a_modified)
            instances = entity.get(name)
            if instances is None:
                entity[name] = [instance]
            else:
                instances.append(instance)
            if keep:
                row_ids[id(instance)] = (rowid, series_id)
    return found


def add_instance(
    entity: Entity, name: str, value_json: str, created: str, modified: str
) -> dict[str, Any]:
    """A stored attribute instance (its JSON and system times) appended to ``entity``."""
    instance: dict[str, Any] = orjson.loads(value_json)
    instance["createdAt"] = created
    instance["modifiedAt"] = modified
    instances = entity.get(name)
    if instances is None:
        entity[name] = [instance]
    else:
        instances.append(instance)
    return instance


def _load_postgres(
    conn: Connection,
    tenant: str,
    part: Sequence[str],
    found: dict[str, Entity],
    text: Callable[[Any], str],
) -> None:
    """The entities of one chunk on PostgreSQL, into ``found``."""
    parameters = {"tenant": tenant, "ids": list(part)}
    rows = fetch_all(conn, _POSTGRES, parameters)
    _add_postgres(rows, fetch_all(conn, _POSTGRES_TYPES, parameters), found, text)


def _add_postgres(
    rows: Sequence[tuple[Any, ...]],
    type_rows: Sequence[tuple[Any, ...]],
    found: dict[str, Entity],
    text: Callable[[Any], str],
) -> None:
    """The entities of a chunk's rows (entities and attributes, types), into ``found``."""
    types: dict[str, list[str]] = {}
    for entity_id, type_ in type_rows:
        types.setdefault(entity_id, []).append(type_)
    # The rows of one entity come together (ordered by id).
    last = None
    entity: Entity = {}
    for entity_id, primary, created, modified, name, value_json, a_created, a_modified in rows:
        if entity_id != last:
            last = entity_id
            entity = found[entity_id] = {
                "id": entity_id,
                "type": ordered_types(primary, " ".join(types.get(entity_id, ()))),
                "createdAt": text(created),
                "modifiedAt": text(modified),
            }
        if name is None:
            continue
        add_instance(entity, name, value_json, text(a_created), text(a_modified))


def stream_postgres(
    conn: Connection,
    tenant: str,
    parts: Sequence[Sequence[str]],
    between: Callable[[], None],
) -> Iterator[dict[str, Entity]]:
    """PostgreSQL in pipeline mode (the caller's): the stored entities of each part.

    Like :func:`load_batch` otherwise (same entities, same instances). A fetch in
    pipeline mode waits for every statement queued before it, so the order is: fetch
    part k's read, then ``between()`` (the caller queues the writes of part k - 1),
    then queue part k + 1's read, then hand out part k. The server writes part k - 1
    and reads part k + 1 while the caller merges part k; ``between()`` runs once more
    after the last part.
    """
    driver = driver_of(conn)
    texts: dict[Any, str] = {}

    def text(value: Any) -> str:
        known = texts.get(value)
        if known is None:
            known = texts[value] = format_instant(_as_datetime(value))
        return known

    def queued(part: Sequence[str]) -> tuple[Any, Any]:
        parameters = {"tenant": tenant, "ids": list(part)}
        rows, types = driver.cursor(), driver.cursor()
        rows.execute(_POSTGRES, parameters)
        types.execute(_POSTGRES_TYPES, parameters)
        return rows, types

    if not parts:
        return
    ahead = queued(parts[0])
    for number in range(len(parts)):
        rows, types = ahead
        fetched, type_rows = rows.fetchall(), types.fetchall()
        rows.close()
        types.close()
        if number:
            between()
        if number + 1 < len(parts):
            ahead = queued(parts[number + 1])
        found: dict[str, Entity] = {}
        _add_postgres(fetched, type_rows, found, text)
        yield found
    between()


def _as_datetime(value: Any) -> datetime:
    if not isinstance(value, datetime):  # pragma: no cover - timestamptz always is
        raise TypeError(f"expected a timestamp, got {value!r}")
    return value
