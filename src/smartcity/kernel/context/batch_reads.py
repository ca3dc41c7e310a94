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
from smartcity.kernel.storage.arrays import adapt_arrays, binary_array
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
# The id a batch kept on the row (``series_id``, migration 0027) saves the probe; a row
# without one gets its probe's id negated: found, not kept yet (``write_narrow`` keeps
# it). COALESCE evaluates the probe only for such a row.
_SQLITE_ATTRIBUTES = """
SELECT a.entity_id, a.name, a.value_json, a.created_at, a.modified_at, a.rowid,
  COALESCE(a.series_id, -(SELECT s.id FROM context_series AS s
   WHERE s.tenant = a.tenant AND s.entity_id = a.entity_id AND s.name = a.name
     AND s.dataset_id = a.dataset_id AND s.entity_type = a.entity_type))
FROM context_attribute AS a
WHERE a.tenant = ? AND a.entity_id IN (SELECT value FROM json_each(?))
ORDER BY a.entity_id, a.name, a.dataset_id
"""

# Three statements per part (psycopg's pipeline sends them together): the entities,
# their attribute rows, their types. The entity columns come once per entity, not on
# each of its attribute rows (10,000 rows × 3 columns fewer to format and decode: the
# client's decoding ~−30%, the server's read ~−20%).
_POSTGRES_ENTITIES = """
SELECT e.id, e.type, e.created_at, e.modified_at FROM unnest(%(ids)s::text[]) AS k(id)
JOIN context_entity AS e ON e.tenant = %(tenant)s AND e.id = k.id
"""

# The attribute rows of each entity by a probe of the primary key: a ``LATERAL``
# subquery the planner may not flatten (``OFFSET 0``), in the key's order (so no other
# index of the tenant serves it as well). As a plain join, with statistics taken while
# the table was empty, it read the tenant's attribute rows once and scanned them again
# for every entity (1,000 × 10,000 rows: 2.2 s for one batch). The probes hand out each
# entity's rows together and in key order, with no sort of the whole batch; the client
# does not count on the entities' order.
_POSTGRES_ATTRIBUTES = """
SELECT k.id, a.name, a.value_json, a.created_at, a.modified_at
FROM unnest(%(ids)s::text[]) AS k(id)
CROSS JOIN LATERAL (
  SELECT r.name, r.dataset_id, r.value_json, r.created_at, r.modified_at
  FROM context_attribute AS r WHERE r.tenant = %(tenant)s AND r.entity_id = k.id
  ORDER BY r.name, r.dataset_id OFFSET 0
) AS a
"""

_POSTGRES_TYPES = """
SELECT t.entity_id, t.type FROM unnest(%(ids)s::text[]) AS k(id)
JOIN context_entity_type AS t ON t.tenant = %(tenant)s AND t.entity_id = k.id
"""
_POSTGRES_READS = (_POSTGRES_ENTITIES, _POSTGRES_ATTRIBUTES, _POSTGRES_TYPES)


def load_batch(
    conn: Connection,
    tenant: str,
    entity_ids: Sequence[str],
    stored_rows: dict[int, tuple[int, int | None]] | None = None,
) -> dict[str, Entity]:
    """The stored entities among ``entity_ids``, by id.

    On SQLite, ``stored_rows`` (if given) receives the row id and the series id of
    each loaded attribute instance, keyed by the identity (``id``) of its instance
    dict: a batch's narrow UPDATE finds the row by them (``Changes.stored_rows``). A
    negative series id is one the row does not keep yet (``_SQLITE_ATTRIBUTES``).
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
            _load_postgres(conn, tenant, part, found, text, texts)
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
    texts: dict[Any, str],
) -> None:
    """The entities of one chunk on PostgreSQL, into ``found``."""
    parameters = {"tenant": tenant, "ids": list(part)}
    entity_rows, attribute_rows, type_rows = (
        fetch_all(conn, sql, parameters) for sql in _POSTGRES_READS
    )
    _add_postgres(entity_rows, attribute_rows, type_rows, found, text, texts)


def _add_postgres(
    entity_rows: Sequence[tuple[Any, ...]],
    attribute_rows: Sequence[tuple[Any, ...]],
    type_rows: Sequence[tuple[Any, ...]],
    found: dict[str, Entity],
    text: Callable[[Any], str],
    texts: dict[Any, str],
) -> None:
    """The entities of a part's rows (entities, attributes, types), into ``found``.

    ``text(instant)`` is an instant's text, remembered in ``texts`` (looked up first,
    without a call: twice per attribute).
    """
    known = texts.get
    types: dict[str, list[str]] = {}
    for entity_id, type_ in type_rows:
        types.setdefault(entity_id, []).append(type_)
    for entity_id, primary, created, modified in entity_rows:
        found[entity_id] = {
            "id": entity_id,
            "type": ordered_types(primary, " ".join(types.get(entity_id, ()))),
            "createdAt": text(created),
            "modifiedAt": text(modified),
        }
    # The rows of one entity come together, in key order (``_POSTGRES_ATTRIBUTES``).
    last = None
    entity: Entity = {}
    for entity_id, name, value_json, a_created, a_modified in attribute_rows:
        if entity_id != last:
            last = entity_id
            entity = found[entity_id]
        created = known(a_created) or text(a_created)
        add_instance(entity, name, value_json, created, known(a_modified) or text(a_modified))


def stream_postgres(
    conn: Connection,
    tenant: str,
    parts: Sequence[Sequence[str]],
    between: Callable[[], None],
) -> Iterator[dict[str, Entity]]:
    """PostgreSQL in pipeline mode (the caller's): the stored entities of each part.

    Like :func:`load_batch` otherwise (same entities, same instances). Every part's
    read is queued at once; a fetch in pipeline mode waits for every statement queued
    before it, so the first fetch waits for the reads alone and the later ones find
    their rows there. After the caller has taken part k (merged it), ``between()``
    queues its writes and returns: the server writes part k while the caller decodes
    and merges part k + 1. The parts are disjoint, so no read waits for a write.
    """
    driver = driver_of(conn)
    adapt_arrays(driver)
    texts: dict[Any, str] = {}

    def text(value: Any) -> str:
        known = texts.get(value)
        if known is None:
            known = texts[value] = format_instant(_as_datetime(value))
        return known

    def queued(part: Sequence[str]) -> list[Any]:
        # The ids once, as a binary array the three statements share (psycopg's list
        # dumper runs Python per element and per statement).
        parameters = {"tenant": tenant, "ids": binary_array("text", part)}
        cursors = []
        for sql in _POSTGRES_READS:
            cursor = driver.cursor()
            cursor.execute(sql, parameters)
            cursors.append(cursor)
        return cursors

    # Every part's read up front: the first fetch waits for them all, and the later
    # parts' rows are there when the caller asks (no wait between parts).
    reads = [queued(part) for part in parts]
    for cursors in reads:
        entity_rows, attribute_rows, type_rows = (cursor.fetchall() for cursor in cursors)
        for cursor in cursors:
            cursor.close()
        found: dict[str, Entity] = {}
        _add_postgres(entity_rows, attribute_rows, type_rows, found, text, texts)
        yield found
        between()


def _as_datetime(value: Any) -> datetime:
    if not isinstance(value, datetime):  # pragma: no cover - timestamptz always is
        raise TypeError(f"expected a timestamp, got {value!r}")
    return value
