"""What a query selects: :class:`EntitySelection`, built from request parameters."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.context.query.ast import Query, TypeExpression
from smartcity.kernel.context.query.geo import GeoQuery, build_geo_query
from smartcity.kernel.context.query.grammar import (
    check_regex,
    expand_query,
    expand_types,
    parse_q,
    parse_type_expression,
)

URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")


def _identity(term: str) -> str:
    return term


@dataclass(frozen=True)
class EntitySelector:
    """One ``{type, id, idPattern}`` of a POST query's or subscription's ``entities``."""

    types: TypeExpression | None = None
    id: str | None = None
    id_pattern: str | None = None


@dataclass(frozen=True)
class EntitySelection:
    """Which entities a query wants; every name is an expanded IRI.

    An entity is selected when it is in ``tenant`` and meets every given part: its types
    satisfy ``types``; its id is one of ``ids``; its id matches ``id_pattern`` (a
    search, Python ``re`` / PostgreSQL ``~`` syntax); it has at least one of ``attrs``;
    ``q`` and ``geo`` hold; and, when ``selectors`` is not empty, it matches at least one
    of them.
    """

    tenant: str
    types: TypeExpression | None = None
    ids: tuple[str, ...] = ()
    id_pattern: str | None = None
    attrs: tuple[str, ...] = ()
    q: Query | None = None
    geo: GeoQuery | None = None
    selectors: tuple[EntitySelector, ...] = field(default=())

    @property
    def restricted(self) -> bool:
        """Whether anything narrows the selection (NGSI-LD refuses unrestricted queries)."""
        return any(
            (self.types, self.ids, self.id_pattern, self.attrs, self.q, self.geo, self.selectors)
        )


def _names(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    parts = value.split(",") if isinstance(value, str) else list(value)
    names = tuple(part.strip() for part in parts)
    if any(not name for name in names):
        raise BadRequestData(f"empty name in list {value!r}")
    return names


def check_entity_id(entity_id: str) -> str:
    """Refuse an entity id that is not a URI (BadRequestData)."""
    if not URI.fullmatch(entity_id):
        raise BadRequestData(f"entity id {entity_id!r} is not a URI", token=entity_id)
    return entity_id


def build_selector(
    *,
    type_param: str | None = None,
    id_param: str | None = None,
    id_pattern: str | None = None,
    expand: Callable[[str], str] = _identity,
) -> EntitySelector:
    """One entity selector (``type`` may be a type expression)."""
    if id_pattern is not None:
        check_regex(id_pattern)
    return EntitySelector(
        types=None
        if type_param is None
        else expand_types(parse_type_expression(type_param), expand),
        id=None if id_param is None else check_entity_id(id_param),
        id_pattern=id_pattern,
    )


def build_selection(
    tenant: str,
    *,
    type_param: str | None = None,
    id_param: str | Sequence[str] | None = None,
    id_pattern: str | None = None,
    attrs_param: str | Sequence[str] | None = None,
    q_text: str | None = None,
    georel: str | None = None,
    geometry: str | None = None,
    coordinates: str | Sequence[Any] | None = None,
    geoproperty: str | None = None,
    selectors: Sequence[EntitySelector] = (),
    expand: Callable[[str], str] = _identity,
) -> EntitySelection:
    """The selection of a GET /entities or POST /entityOperations/query request.

    Parameters are as the request gives them (compact names, comma lists, ``q`` text,
    coordinates as JSON text or arrays); ``expand`` turns a term into its IRI with the
    request's @context. Invalid input raises BadRequestData naming what is wrong.
    """
    if id_pattern is not None:
        check_regex(id_pattern)
    return EntitySelection(
        tenant=tenant,
        types=None
        if type_param is None
        else expand_types(parse_type_expression(type_param), expand),
        ids=tuple(check_entity_id(entity_id) for entity_id in _names(id_param)),
        id_pattern=id_pattern,
        attrs=tuple(expand(name) for name in _names(attrs_param)),
        q=None if q_text is None else expand_query(parse_q(q_text), expand),
        geo=build_geo_query(
            georel=georel,
            geometry=geometry,
            coordinates=coordinates,
            geoproperty=geoproperty,
            expand=expand,
        ),
        selectors=tuple(selectors),
    )
