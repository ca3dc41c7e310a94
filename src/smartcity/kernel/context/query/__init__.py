"""Query language of the information library: ``q``, type expressions, geo-queries.

- :func:`build_selection` turns request parameters into an :class:`EntitySelection`.
- :func:`select_entity_ids` answers it in SQL (SQLite or PostgreSQL + PostGIS).
- :func:`matches` answers it for one entity in memory, with the same semantics.
"""

from smartcity.kernel.context.query.ast import AttributePath, Query, TypeExpression
from smartcity.kernel.context.query.geo import LOCATION, GeoQuery, build_geo_query
from smartcity.kernel.context.query.grammar import parse_q, parse_type_expression
from smartcity.kernel.context.query.memory import matches
from smartcity.kernel.context.query.selection import (
    EntitySelection,
    EntitySelector,
    build_selection,
    build_selector,
)
from smartcity.kernel.context.query.sql import select_entity_ids

__all__ = [
    "LOCATION",
    "AttributePath",
    "EntitySelection",
    "EntitySelector",
    "GeoQuery",
    "Query",
    "TypeExpression",
    "build_geo_query",
    "build_selection",
    "build_selector",
    "matches",
    "parse_q",
    "parse_type_expression",
    "select_entity_ids",
]
