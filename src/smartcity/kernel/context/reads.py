"""Reading entities back from the context tables.

An entity is rebuilt from its ``context_entity`` row, its types and its attribute rows
(``value_json`` is the normalized expanded instance) in ONE statement, so that the write
path can read-modify-write an entity with a single round trip. ``select_entity_ids``
checks a page's bounds and leaves the selection itself to the query layer's SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Text, and_, bindparam, exists, func, select, type_coerce

from smartcity.kernel.context.errors import NonexistentTenant
from smartcity.kernel.context.model import Entity, format_instant
from smartcity.kernel.context.paging import check_page
from smartcity.kernel.context.query.selection import EntitySelection
from smartcity.kernel.context.query.sql import select_entity_ids as compiled_selection
from smartcity.kernel.context.tables import (
    context_attribute,
    context_entity,
    context_entity_type,
)

# Keeps IN lists below every backend's parameter limit.
CHUNK = 500
MAX_LIMIT = 1000

_types = (
    select(func.aggregate_strings(context_entity_type.c.type, " "))
    .where(
        context_entity_type.c.tenant == context_entity.c.tenant,
        context_entity_type.c.entity_id == context_entity.c.id,
    )
    .scalar_subquery()
)


def entity_columns(raw_instants: bool) -> tuple[Any, ...]:
    """The columns an entity is rebuilt from; instants as stored text if ``raw_instants``."""

    def instant(column: Any, label: str) -> Any:
        return (type_coerce(column, Text) if raw_instants else column).label(label)

    return (
        context_entity.c.id,
        context_entity.c.type,
        instant(context_entity.c.created_at, "created_at"),
        instant(context_entity.c.modified_at, "modified_at"),
        _types.label("types"),
        context_attribute.c.name,
        context_attribute.c.value_json,
        instant(context_attribute.c.created_at, "attribute_created_at"),
        instant(context_attribute.c.modified_at, "attribute_modified_at"),
    )


_joined = context_entity.outerjoin(
    context_attribute,
    and_(
        context_attribute.c.tenant == context_entity.c.tenant,
        context_attribute.c.entity_id == context_entity.c.id,
    ),
)


def load_statement(raw_instants: bool) -> Any:
    """Built once per form: constructing it costs more than running it for one entity."""
    return (
        select(*entity_columns(raw_instants))
        .select_from(_joined)
        .where(
            context_entity.c.tenant == bindparam("tenant"),
            context_entity.c.id.in_(bindparam("ids", expanding=True)),
        )
        .order_by(context_entity.c.id, context_attribute.c.name, context_attribute.c.dataset_id)
    )


# SQLite keeps instants as UTC text ("2026-11-21 09:00:00.000000"); reading that text
# and reshaping it skips parsing to datetime and formatting back, twice per attribute.
LOAD_SQLITE = load_statement(raw_instants=True)
LOAD_OTHER = load_statement(raw_instants=False)


def sqlite_instant_text(stored: str) -> str:
    """SQLite's stored UTC text as the API's instant text (see ``format_instant``)."""
    day, clock = stored[:10], stored[11:]
    whole, _dot, fraction = clock.partition(".")
    fraction = (fraction + "000000")[:6]
    if fraction.endswith("000"):
        return f"{day}T{whole}.{fraction[:3]}Z"
    return f"{day}T{whole}.{fraction}Z"


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterable[Sequence[str]]:
    """``items`` in slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def load_entities(conn: Connection, tenant: str, entity_ids: Sequence[str]) -> dict[str, Entity]:
    """The stored entities among ``entity_ids`` (with system attributes), by id."""
    found: dict[str, Entity] = {}
    sqlite = conn.dialect.name == "sqlite"
    statement = LOAD_SQLITE if sqlite else LOAD_OTHER
    convert: Callable[[Any], str] = sqlite_instant_text if sqlite else format_instant
    texts: dict[Any, str] = {}

    def text(value: Any) -> str:
        # Rows of one entity (and of one batch) share their timestamps.
        known = texts.get(value)
        if known is None:
            known = texts[value] = convert(value)
        return known

    for part in chunks(list(dict.fromkeys(entity_ids))):
        for row in conn.execute(statement, {"tenant": tenant, "ids": list(part)}):
            entity = found.get(row.id)
            if entity is None:
                entity = found[row.id] = {
                    "id": row.id,
                    "type": ordered_types(row.type, row.types),
                    "createdAt": text(row.created_at),
                    "modifiedAt": text(row.modified_at),
                }
            if row.name is not None:
                instance = orjson.loads(row.value_json)
                instance["createdAt"] = text(row.attribute_created_at)
                instance["modifiedAt"] = text(row.attribute_modified_at)
                entity.setdefault(row.name, []).append(instance)
    return found


def one_statement(raw_instants: bool) -> Any:
    """``load_statement`` for one id: no expanding IN list to render per call."""
    return (
        select(*entity_columns(raw_instants))
        .select_from(_joined)
        .where(
            # Placeholder values let the SQLite text be compiled once, ahead of use.
            context_entity.c.tenant == bindparam("tenant", ""),
            context_entity.c.id == bindparam("id", ""),
        )
        .order_by(context_attribute.c.name, context_attribute.c.dataset_id)
    )


LOAD_ONE_OTHER = one_statement(raw_instants=False)
_load_one_sqlite: list[tuple[str, tuple[str, ...], dict[str, Any]]] = []


def load_one_sqlite(conn: Connection) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """The SQLite text of the one-entity load, its parameter order and constants.

    Compiled once. Its columns are all text (instants read raw), so the driver's rows
    need none of SQLAlchemy's result processing; the statement still goes through the
    connection (and its events).
    """
    if not _load_one_sqlite:
        compiled = one_statement(raw_instants=True).compile(
            dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
        )
        _load_one_sqlite.append(
            (
                str(compiled),
                tuple(compiled.positiontup or ()),
                {name: bind.value for name, bind in compiled.binds.items()},
            )
        )
    return _load_one_sqlite[0]


def load_entity(conn: Connection, tenant: str, entity_id: str) -> Entity | None:
    """The stored entity ``entity_id`` (with system attributes), or None: one statement."""
    convert: Callable[[Any], str]
    if conn.dialect.name == "sqlite":
        sql, order, constants = load_one_sqlite(conn)
        values = {**constants, "tenant": tenant, "id": entity_id}
        rows: Sequence[Any] = conn.exec_driver_sql(sql, tuple(values[k] for k in order)).all()
        convert = sqlite_instant_text
    else:
        rows = conn.execute(LOAD_ONE_OTHER, {"tenant": tenant, "id": entity_id}).all()
        convert = format_instant
    if not rows:
        return None
    # Columns as in ``entity_columns``: id, type, created_at, modified_at, types, name,
    # value_json, attribute_created_at, attribute_modified_at.
    first = rows[0]
    entity: Entity = {
        "id": first[0],
        "type": ordered_types(first[1], first[4]),
        "createdAt": convert(first[2]),
        "modifiedAt": convert(first[3]),
    }
    texts: dict[Any, str] = {}
    for row in rows:
        if row[5] is None:
            continue
        instance = orjson.loads(row[6])
        created, modified = row[7], row[8]
        created_text = texts.get(created)
        if created_text is None:
            created_text = texts[created] = convert(created)
        modified_text = texts.get(modified)
        if modified_text is None:
            modified_text = texts[modified] = convert(modified)
        instance["createdAt"] = created_text
        instance["modifiedAt"] = modified_text
        entity.setdefault(row[5], []).append(instance)
    return entity


def ordered_types(primary: str, joined: str | None) -> list[str]:
    """The primary type first, then the others in a stable order."""
    others = sorted(set((joined or "").split()) - {primary})
    return [primary, *others]


def tenant_exists(conn: Connection, tenant: str) -> bool:
    """Whether the tenant holds any entity ('' , the default tenant, always exists).

    A tenant comes into being with its first entity, so "has an entity" is the test;
    it is asked only after a lookup came back empty, so it costs the hot path nothing.
    """
    if tenant == "":
        return True
    statement = select(exists().where(context_entity.c.tenant == tenant))
    return bool(conn.execute(statement).scalar())


def check_tenant_exists(conn: Connection, tenant: str) -> None:
    """Raise NonexistentTenant unless ``tenant`` exists."""
    if not tenant_exists(conn, tenant):
        raise NonexistentTenant(f"tenant {tenant!r} does not exist")


def select_entity_ids(
    conn: Connection,
    selection: EntitySelection,
    *,
    limit: int = 20,
    offset: int = 0,
    count: bool = False,
) -> tuple[list[str], int | None]:
    """The ids of one page of the entities ``selection`` matches, and the total if asked.

    Checks the page bounds, then hands the selection to the query layer, which compiles
    types, ids, idPattern, attrs, q and geoQ to SQL for the backend.
    """
    check_page(limit, offset, max_limit=MAX_LIMIT)
    return compiled_selection(conn, selection, limit=limit, offset=offset, count=count)
