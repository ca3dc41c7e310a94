"""Discovery reads (NGSI-LD /types and /attributes): what types and attributes exist.

Everything is per tenant and uses expanded names; the API compacts them. Counts come
from the live tables: ``context_entity_type`` (every type of every entity) and
``context_attribute`` (one row per attribute instance).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, select

from smartcity.kernel.context.tables import context_attribute, context_entity_type

attribute = context_attribute
entity_type = context_entity_type
_joined = entity_type.join(
    attribute,
    and_(
        attribute.c.tenant == entity_type.c.tenant, attribute.c.entity_id == entity_type.c.entity_id
    ),
)


@dataclass(frozen=True)
class TypeSummary:
    """A type and the attributes its entities have."""

    name: str
    attribute_names: tuple[str, ...]


@dataclass(frozen=True)
class TypeDetails:
    """A type, how many entities have it, and each attribute with its kinds."""

    name: str
    entity_count: int
    attributes: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class AttributeDetails:
    """An attribute: how many instances exist, their kinds, and the types that have it."""

    name: str
    instance_count: int
    kinds: tuple[str, ...]
    type_names: tuple[str, ...]


def list_types(conn: Connection, tenant: str) -> list[str]:
    """Every entity type of the tenant, sorted."""
    statement = (
        select(entity_type.c.type)
        .where(entity_type.c.tenant == tenant)
        .distinct()
        .order_by(entity_type.c.type)
    )
    return list(conn.execute(statement).scalars())


def summarise_types(conn: Connection, tenant: str) -> list[TypeSummary]:
    """Every entity type with the attribute names its entities have."""
    names: dict[str, list[str]] = {name: [] for name in list_types(conn, tenant)}
    statement = (
        select(entity_type.c.type, attribute.c.name)
        .select_from(_joined)
        .where(entity_type.c.tenant == tenant)
        .distinct()
        .order_by(entity_type.c.type, attribute.c.name)
    )
    for type_name, attribute_name in conn.execute(statement):
        names[type_name].append(attribute_name)
    return [TypeSummary(name, tuple(attributes)) for name, attributes in names.items()]


def describe_type(conn: Connection, tenant: str, type_name: str) -> TypeDetails | None:
    """One type in detail, None if no entity of the tenant has it."""
    counted = select(func.count()).where(
        entity_type.c.tenant == tenant, entity_type.c.type == type_name
    )
    entity_count = int(conn.execute(counted).scalar_one())
    if entity_count == 0:
        return None
    statement = (
        select(attribute.c.name, attribute.c.kind)
        .select_from(_joined)
        .where(entity_type.c.tenant == tenant, entity_type.c.type == type_name)
        .distinct()
        .order_by(attribute.c.name, attribute.c.kind)
    )
    kinds: dict[str, list[str]] = defaultdict(list)
    for name, kind in conn.execute(statement):
        kinds[name].append(kind)
    return TypeDetails(
        type_name, entity_count, tuple((name, tuple(k)) for name, k in kinds.items())
    )


def list_attributes(conn: Connection, tenant: str) -> list[str]:
    """Every attribute name of the tenant, sorted."""
    statement = (
        select(attribute.c.name)
        .where(attribute.c.tenant == tenant)
        .distinct()
        .order_by(attribute.c.name)
    )
    return list(conn.execute(statement).scalars())


def describe_attributes(
    conn: Connection, tenant: str, name: str | None = None
) -> list[AttributeDetails]:
    """Every attribute (or just ``name``) in detail, sorted by name."""
    where = [attribute.c.tenant == tenant] + (
        [attribute.c.name == name] if name is not None else []
    )
    counts: dict[str, int] = {}
    kinds: dict[str, list[str]] = defaultdict(list)
    counted = (
        select(attribute.c.name, attribute.c.kind, func.count())
        .where(*where)
        .group_by(attribute.c.name, attribute.c.kind)
        .order_by(attribute.c.name, attribute.c.kind)
    )
    for attribute_name, kind, number in conn.execute(counted):
        counts[attribute_name] = counts.get(attribute_name, 0) + int(number)
        kinds[attribute_name].append(kind)
    types: dict[str, list[str]] = defaultdict(list)
    typed = (
        select(attribute.c.name, entity_type.c.type)
        .select_from(_joined)
        .where(*where)
        .distinct()
        .order_by(attribute.c.name, entity_type.c.type)
    )
    for attribute_name, type_name in conn.execute(typed):
        types[attribute_name].append(type_name)
    return [
        AttributeDetails(
            attribute_name,
            counts[attribute_name],
            tuple(kinds[attribute_name]),
            tuple(types[attribute_name]),
        )
        for attribute_name in counts
    ]


def describe_attribute(conn: Connection, tenant: str, name: str) -> AttributeDetails | None:
    """One attribute in detail, None if the tenant has no instance of it."""
    found = describe_attributes(conn, tenant, name)
    return found[0] if found else None
