"""Single-entity writes decided as ONE group: one read, one set of statements, one commit.

The PATCHes queued while the store's writer ran the previous group come to
:func:`run_entity_writes` together (:class:`~smartcity.kernel.storage.group_commit.Together`).
It reads every entity they name in one statement, lets each write change its entity in
Python, in queue order (a later write of the same entity sees the earlier one's result,
so the last value wins and every write keeps its history row), and sends the rows of all
of them as one set of statements: on PostgreSQL usually ONE statement, which commits
alone when the group is its transaction's whole (``Together.alone``). A domain
error (unknown entity or attribute, a bad fragment) is decided before anything is
written and answers that write alone; the others commit.

A database error (a unique violation or a foreign key after a concurrent delete: a stale
read) is raised: the store then rolls the group back and runs each write alone, with its
own retry, so one bad write never takes the others down.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from sqlalchemy import Connection, Table

from smartcity.kernel.context.batch_reads import add_instance
from smartcity.kernel.context.changes import (
    ATTRIBUTE_KEY,
    ATTRIBUTE_UPDATED,
    SERIES_KEY,
    Changes,
    statements_for,
)
from smartcity.kernel.context.errors import NgsiLdError, ResourceNotFound
from smartcity.kernel.context.model import Entity
from smartcity.kernel.context.pipeline import Pipeline, translated
from smartcity.kernel.context.reads import (
    check_tenant_exists,
    ordered_types,
    sqlite_instant_text,
)
from smartcity.kernel.context.tables import context_attribute, context_instance, context_series
from smartcity.kernel.storage import Store
from smartcity.kernel.storage.driver import driver_of, execute_rows, fetch_all, traced
from smartcity.kernel.storage.group_commit import Together
from smartcity.kernel.storage.types import UtcDateTime

# Changes one stored entity (read by the group) into ``Changes``; returns the answer.
EntityChange = Callable[[Entity, Changes], Any]
EntityKey = tuple[str, str]


# Not frozen: built on the loop for every PATCH, where a frozen dataclass's
# ``object.__setattr__`` per field cost ~1 µs more; the group only reads it.
@dataclass(slots=True)
class EntityWrite:
    """One queued single-entity write, as the group runs it."""

    tenant: str
    entity_id: str
    change: EntityChange
    now: Callable[[], datetime]
    store: Store
    # The Changes of the attempt that committed, for the write's after-commit events.
    applied: list[Changes]


def together_for(write: EntityWrite) -> Together:
    """How ``write`` joins the group commit: with the others, committing alone."""
    return Together(run_entity_writes, write, alone=True)


def run_entity_writes(conn: Connection, items: Sequence[Any]) -> list[tuple[bool, Any]]:
    """Run ``items`` (:class:`EntityWrite`) as one group: per write (succeeded, value).

    On PostgreSQL the store may run a group that is its transaction's whole with each
    statement committing alone (``Together.alone``): it then costs two round trips, its
    read (a snapshot of what is committed) and its one write statement
    (``group_statement``), all or nothing. A group needing several write statements (a
    location change, new types or series, deletions) opens a transaction before them
    (``one_transaction``); the store commits it.
    """
    return decide_and_apply(conn, cast(Sequence[EntityWrite], items))


def one_transaction(conn: Connection) -> None:
    """Make the statements from here on one transaction, should ``conn`` commit each alone."""
    if conn.dialect.name != "postgresql":
        return
    driver = driver_of(conn)
    if driver.autocommit:
        driver.autocommit = False


def decide_and_apply(conn: Connection, writes: Sequence[EntityWrite]) -> list[tuple[bool, Any]]:
    """The group's read, each write's change in queue order, then the rows of all."""
    current = load_group(conn, [(write.tenant, write.entity_id) for write in writes])
    outcomes: list[tuple[bool, Any]] = []
    done: list[Changes] = []
    for write in writes:
        key = (write.tenant, write.entity_id)
        existing = current.get(key)
        if existing is None:
            outcomes.append((False, missing(conn, write.tenant, write.entity_id)))
            continue
        changes = Changes(write.tenant, write.now())
        try:
            value = write.change(existing, changes)
        except Exception as error:
            # Decided in Python before anything of it was sent: this write's answer only.
            outcomes.append((False, error))
            continue
        if changes.events:
            # The entity as this write left it, for the group's later writes of it.
            current[key] = cast(Entity, changes.events[-1].entity)
        write.applied[:] = [changes]
        done.append(changes)
        outcomes.append((True, value))
    if done:
        apply_group(conn, done, writes[0].store)
    return outcomes


def missing(conn: Connection, tenant: str, entity_id: str) -> NgsiLdError:
    """ResourceNotFound for an entity (NonexistentTenant if the tenant is unknown)."""
    try:
        check_tenant_exists(conn, tenant)
    except NgsiLdError as error:
        return error
    return ResourceNotFound(f"entity {entity_id} does not exist", id=entity_id)


# Each (tenant, id) drives primary-key probes; the types come once per entity. The
# ``= ANY`` conditions repeat the join's: without them a small table (a thousand
# entities) was scanned whole and hashed, 25% more of the server's CPU per PATCH than
# the primary-key probes they make it take. Instants
# come as UTC text, reshaped like SQLite's (``sqlite_instant_text``): cheaper than
# parsing a timestamptz to datetime and formatting it back, several times per entity.
_UTC_TEXT = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
_POSTGRES = f"""
SELECT k.tenant, e.id, e.type, {_UTC_TEXT.format("e.created_at")},
  {_UTC_TEXT.format("e.modified_at")}, t.types, a.name, a.value_json,
  {_UTC_TEXT.format("a.created_at")}, {_UTC_TEXT.format("a.modified_at")}
FROM unnest(%(tenants)s::text[], %(ids)s::text[]) AS k(tenant, id)
JOIN context_entity AS e ON e.tenant = k.tenant AND e.id = k.id
CROSS JOIN LATERAL (
  SELECT string_agg(y.type, ' ') AS types FROM context_entity_type AS y
  WHERE y.tenant = k.tenant AND y.entity_id = k.id
) AS t
LEFT OUTER JOIN context_attribute AS a ON a.tenant = k.tenant AND a.entity_id = k.id
WHERE e.tenant = ANY(%(tenants)s::text[]) AND e.id = ANY(%(ids)s::text[])
ORDER BY k.tenant, e.id, a.name, a.dataset_id
"""


# The group's entities with their types and attribute rows, one statement per tenant,
# in the row shape of ``_POSTGRES`` (SQLite stores instants as that text already). Not
# ``load_batch``'s read: a group needs neither the attribute rows' rowid nor their series
# id (a batch's narrow writes do), and the series subquery per attribute row was a third
# of the read's cost.
_SQLITE = """
SELECT e.tenant, e.id, e.type, e.created_at, e.modified_at,
  (SELECT group_concat(t.type, ' ') FROM context_entity_type AS t
   WHERE t.tenant = e.tenant AND t.entity_id = e.id),
  a.name, a.value_json, a.created_at, a.modified_at
FROM context_entity AS e
LEFT OUTER JOIN context_attribute AS a ON a.tenant = e.tenant AND a.entity_id = e.id
WHERE e.tenant = ? AND e.id IN (SELECT value FROM json_each(?))
ORDER BY e.id, a.name, a.dataset_id
"""


def load_group(conn: Connection, keys: Sequence[EntityKey]) -> dict[EntityKey, Entity]:
    """The stored entities among ``keys`` (tenant, id), as ``load_entity`` reads them."""
    unique = list(dict.fromkeys(keys))
    if conn.dialect.name != "postgresql":
        tenants: dict[str, list[str]] = {}
        for tenant, entity_id in unique:
            tenants.setdefault(tenant, []).append(entity_id)
        rows: list[Any] = []
        for tenant, ids in tenants.items():
            rows.extend(fetch_all(conn, _SQLITE, (tenant, orjson.dumps(ids).decode())))
        return entities_of(rows)
    parameters = {"tenants": [k[0] for k in unique], "ids": [k[1] for k in unique]}
    if traced(conn):
        return entities_of(fetch_all(conn, _POSTGRES, parameters))
    driver = driver_of(conn)
    # In a transaction, pipeline mode sends its BEGIN with the read: one round trip
    # where psycopg alone sends BEGIN and waits for it first. Outside one (statements
    # committing alone: ``Together.alone``) the read goes alone.
    mode = contextlib.nullcontext() if driver.autocommit else driver.pipeline()
    with translated(conn, _POSTGRES), mode, driver.cursor() as cursor:
        cursor.execute(_POSTGRES, parameters)
        rows = cursor.fetchall()
    return entities_of(rows)


def entities_of(rows: Sequence[Any]) -> dict[EntityKey, Entity]:
    """Entities from the rows of ``_POSTGRES`` or ``_SQLITE`` (one per attribute, ordered)."""
    found: dict[EntityKey, Entity] = {}
    texts: dict[str, str] = {}

    def text(value: str) -> str:
        # The rows of a group share many instants: each is reshaped once.
        known = texts.get(value)
        if known is None:
            known = texts[value] = sqlite_instant_text(value)
        return known

    for row in rows:
        tenant, entity_id, primary, created, modified, joined, name, value_json, a_c, a_m = row
        key = (tenant, entity_id)
        entity = found.get(key)
        if entity is None:
            entity = found[key] = {
                "id": entity_id,
                "type": ordered_types(primary, joined),
                "createdAt": text(created),
                "modifiedAt": text(modified),
            }
        if name is None:
            continue
        add_instance(entity, name, value_json, text(a_c), text(a_m))
    return found


def apply_group(conn: Connection, group: Sequence[Changes], store: Store) -> None:
    """Send the changes of every write of the group: each kind of row in one statement.

    The statements and their order are those of ``Changes.apply`` for a single-entity
    write, with the rows of all the writes in queue order (a later row of the same
    attribute wins). Changes beyond attribute updates (new or deleted entities and
    attributes) are applied one write after the other instead.
    """
    if any(
        # Values replaced in place (``narrow_rows``) are a batch's; should a group ever
        # hold some, ``Changes.apply`` writes them.
        c.new_entities or c.cleared or c.deleted_entities or c.deleted_attributes or c.narrow_rows
        for c in group
    ) or (
        # Someone traces statements (instrumentation, tests): let them see each one.
        conn.dialect.name == "postgresql" and traced(conn)
    ):
        one_transaction(conn)
        for changes in group:
            changes.apply(conn, store)
        return
    statements = statements_for(conn)
    changed: list[dict[str, Any]] = []
    touched: list[dict[str, Any]] = []
    types: list[dict[str, Any]] = []
    attributes: list[dict[str, Any]] = []
    series: list[dict[str, Any]] = []
    instances: list[dict[str, Any]] = []
    # The entity rows go before the touches: a touch must not undo the modifiedAt of a
    # later write's entity row (a location change), so it is left out.
    rewritten = {
        (changes.tenant, row["b_id"]): position
        for position, changes in enumerate(group)
        for row in changes.changed_entities
    }
    for position, changes in enumerate(group):
        changed.extend(changes.changed_entities)
        touched.extend(
            {"b_modified_at": changes.now, "b_tenant": changes.tenant, "b_id": entity_id}
            for entity_id in changes.touched_ids
            if rewritten.get((changes.tenant, entity_id), -1) < position
        )
        types.extend(changes.new_types)
        attributes.extend(changes.attributes)
        if changes.new_series:
            series.extend(changes.series_rows(sorted(changes.new_series)))
        instances.extend(changes.instances)
    ordered = (
        (statements.update_entity, changed),
        (statements.touch_entity, touched),
        (statements.insert_types, types),
        (statements.upsert_attributes, attributes),
        (statements.insert_series, series),
        # Each history row finds its series id itself (decision 0014).
        (statements.insert_instances_by_key, instances),
    )
    if conn.dialect.name == "postgresql":
        send_postgres(conn, ordered)
        return
    for statement, rows in ordered:
        execute_rows(conn, statement, rows)


def send_postgres(conn: Connection, ordered: Sequence[tuple[Any, list[dict[str, Any]]]]) -> None:
    """The group's statements; the hot three take every row at once.

    psycopg's own work per statement and per parameter (adapting, pipeline bookkeeping)
    cost more than the rest of a PATCH's Python: the entity touches, attribute upserts
    and history rows of the whole group therefore take their rows as one JSON document
    each (``json_to_recordset``; orjson writes it in microseconds, where psycopg
    adapting the same values as arrays cost ~20 µs per PATCH). When they are all the
    group writes (attribute updates only) they are ONE statement (``group_statement``);
    otherwise one statement each, and the rare kinds (a location change, new types or
    series) one statement per row, all in one pipeline.
    """
    statements = statements_for(conn)
    kinds = {statement: rows for statement, rows in ordered if rows}
    hot = (
        statements.touch_entity,
        statements.upsert_attributes,
        statements.insert_instances_by_key,
    )
    if kinds.keys() == set(hot):
        # The usual group (attribute updates only): one statement, one round trip.
        send_one(conn, *group_statement(conn, *(kinds[statement] for statement in hot)))
        return
    one_transaction(conn)
    pipeline = Pipeline(conn)
    for statement, rows in kinds.items():
        if statement is statements.touch_entity:
            pipeline.add_sql(*touch_rows(rows))
        elif statement is statements.upsert_attributes:
            pipeline.add_sql(*upsert_rows(conn, rows))
        elif statement is statements.insert_instances_by_key:
            pipeline.add_sql(*instance_rows(conn, rows))
        else:
            pipeline.add(statement, rows)
    pipeline.send()


def send_one(conn: Connection, sql: str, parameters: dict[str, Any]) -> None:
    """One driver-level statement (prepared once psycopg has run it a few times)."""
    with translated(conn, sql), driver_of(conn).cursor() as cursor:
        cursor.execute(sql, parameters)


# The group's three kinds of rows in one statement: data-modifying CTEs over the three
# JSON documents, run in this order (each waits for the previous one's rows, so rows
# are locked entity first, as the separate statements did). Not one statement per
# kind: each cost the server its own bind, executor start and snapshot.
_ONE_GROUP = """
WITH touched AS ({touch} RETURNING 1),
upserted AS ({upsert} RETURNING 1)
{instances}
"""


def group_statement(
    conn: Connection,
    touches: Sequence[dict[str, Any]],
    attributes: Sequence[dict[str, Any]],
    instances: Sequence[dict[str, Any]],
) -> tuple[str, dict[str, Any]]:
    """The touches, attribute upserts and history rows of a group as ONE statement."""
    touch_sql, parameters = touch_rows(touches)
    upsert_sql, upserted = upsert_rows(
        conn, attributes, name="attributes", after="(SELECT count(*) FROM touched) >= 0"
    )
    instance_sql, inserted = instance_rows(
        conn, instances, name="instances", after="(SELECT count(*) FROM upserted) >= 0"
    )
    key = ("group", touch_sql, upsert_sql, instance_sql)
    sql = _json_sql.get(key)
    if sql is None:
        sql = _json_sql[key] = _ONE_GROUP.format(
            touch=touch_sql.strip(), upsert=upsert_sql, instances=instance_sql
        )
    return sql, parameters | upserted | inserted


# The ``= ANY`` conditions make the rows found by primary key (see ``_POSTGRES``).
_TOUCH = """
UPDATE context_entity AS e SET modified_at = k.modified_at
FROM json_to_recordset(%(touches)s::json) AS k(tenant text, id text, modified_at timestamptz)
WHERE e.tenant = k.tenant AND e.id = k.id
  AND e.tenant = ANY(%(tenants)s::text[]) AND e.id = ANY(%(ids)s::text[])
"""


def touch_rows(rows: Sequence[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The touches of the group as one UPDATE; an entity touched twice keeps the last.

    In key order, as the batch writes lock rows scanning the primary key: two
    transactions locking the same rows in the same order cannot deadlock.
    """
    last = {(row["b_tenant"], row["b_id"]): row["b_modified_at"] for row in rows}
    keys = sorted(last)
    document = [
        {"tenant": tenant, "id": entity_id, "modified_at": utc(last[tenant, entity_id])}
        for tenant, entity_id in keys
    ]
    return _TOUCH, {
        "touches": orjson.dumps(document).decode(),
        "tenants": sorted({key[0] for key in keys}),
        "ids": [key[1] for key in keys],
    }


def utc(instant: datetime) -> datetime:
    """An instant as the UtcDateTime columns bind it (refusing a naive one)."""
    if instant.tzinfo is UTC:  # the clock's and parsed instants: nothing to convert
        return instant
    if instant.tzinfo is None:
        raise ValueError(f"naive datetime {instant.isoformat()} has no time zone; use UTC")
    return instant.astimezone(UTC)


# The JSON statements, built once per kind and column set.
_json_sql: dict[tuple[Any, ...], str] = {}


def record_columns(conn: Connection, table: Table, columns: Sequence[str]) -> str:
    """The column definition list of ``columns`` (``name type, ...``) for json_to_recordset."""
    return ", ".join(f"{c} {table.c[c].type.compile(dialect=conn.dialect)}" for c in columns)


def json_rows(rows: Sequence[dict[str, Any]], instants: Sequence[str]) -> str:
    """``rows`` as one JSON array, their instant columns in UTC."""
    if instants:
        rows = [utc_row(row, instants) for row in rows]
    return orjson.dumps(rows).decode()


def utc_row(row: dict[str, Any], instants: Sequence[str]) -> dict[str, Any]:
    """``row`` with its ``instants`` in UTC: itself when they are (a copy per row and a
    conversion per instant were ~5 µs of the writer's Python per PATCH on PostgreSQL)."""
    for column in instants:
        value = row[column]
        if value is not None and value.tzinfo is not UTC:
            return row | {c: utc(row[c]) for c in instants if row[c] is not None}
    return row


# The instant columns per table and column set: found once, not per group (each
# lookup goes through SQLAlchemy's column collection).
_instants: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}


def instant_columns(table: Table, columns: tuple[str, ...]) -> tuple[str, ...]:
    """The columns of ``columns`` holding instants (``UtcDateTime``)."""
    key = (table.name, columns)
    found = _instants.get(key)
    if found is None:
        found = _instants[key] = tuple(
            c for c in columns if isinstance(table.c[c].type, UtcDateTime)
        )
    return found


def upsert_rows(
    conn: Connection, rows: Sequence[dict[str, Any]], *, name: str = "rows", after: str = ""
) -> tuple[str, dict[str, Any]]:
    """The attribute upserts of the group as one statement (its rows: parameter ``name``;
    ``after``: a condition to evaluate first, see ``group_statement``).

    An attribute written twice in the group keeps its last row (its final state): one
    INSERT ... ON CONFLICT cannot update a row twice. In key order, like the touches.
    """
    last = {(r["tenant"], r["entity_id"], r["name"], r["dataset_id"]): r for r in rows}
    columns = tuple(rows[0])
    sql = _json_sql.get(("upsert", columns, name, after))
    if sql is None:
        names = ", ".join(columns)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in ATTRIBUTE_UPDATED)
        sql = (
            f"INSERT INTO context_attribute ({names}) SELECT {names}"
            f" FROM json_to_recordset(%({name})s::json)"
            f" AS k({record_columns(conn, context_attribute, columns)})"
            + (f" WHERE {after}" if after else "")
            + f" ON CONFLICT ({', '.join(ATTRIBUTE_KEY)}) DO UPDATE SET {updates}"
        )
        _json_sql["upsert", columns, name, after] = sql
    ordered = [last[key] for key in sorted(last)]
    return sql, {name: json_rows(ordered, instant_columns(context_attribute, columns))}


def instance_rows(
    conn: Connection, rows: Sequence[dict[str, Any]], *, name: str = "rows", after: str = ""
) -> tuple[str, dict[str, Any]]:
    """The group's history rows as one INSERT, in order, each finding its series id by
    its series' key (which the row itself no longer stores: decision 0016)."""
    columns = tuple(rows[0])
    values = tuple(c for c in columns if c not in SERIES_KEY)
    sql = _json_sql.get(("instances", columns, name, after))
    if sql is None:
        series = " AND ".join(f"s.{key} = k.{key}" for key in SERIES_KEY)
        keys = [c for c in columns if c in SERIES_KEY]
        definitions = ", ".join(
            (
                record_columns(conn, context_series, keys),
                record_columns(conn, context_instance, values),
            )
        )
        ordered = ", ".join(keys + list(values))
        sql = (
            f"INSERT INTO context_instance (series_id, {', '.join(values)})"
            f" SELECT (SELECT s.id FROM context_series AS s WHERE {series}),"
            f" {', '.join(f'k.{c}' for c in values)}"
            f" FROM ROWS FROM (json_to_recordset(%({name})s::json) AS ({definitions}))"
            f" WITH ORDINALITY AS k({ordered}, position)"
            + (f" WHERE {after}" if after else "")
            + " ORDER BY k.position"
        )
        _json_sql["instances", columns, name, after] = sql
    return sql, {name: json_rows(rows, instant_columns(context_instance, values))}
