"""Compile an :class:`EntitySelection` to SQL over the context tables (SQLite and PostgreSQL).

Each q term becomes ``id IN (SELECT entity_id FROM context_attribute WHERE name = ...
AND <instance test>)``: some instance satisfies it. The instance test uses the typed,
indexed columns where the answer is the same (see ``memory.py``, the in-memory twin,
for the exact semantics), and walks ``value_json`` otherwise: SQLite's ``->``/
``json_type``/``json_extract``/``json_each``, PostgreSQL's ``jsonb``. Regular
expressions run in Python on SQLite (a ``regexp`` function registered on the
connection) and as ``~`` on PostgreSQL.

Whole values the typed columns do not hold (lists, a JsonProperty's ``json``, a
VocabProperty's terms) have both ``value_number`` and ``value_text`` NULL. For a bare
path the test on them is added only when the attribute may have such rows: index
seeks per name tell (``_selection_facts``), so a numeric or text attribute keeps
exactly its index-range SQL.

Geo-queries on ``location`` run in PostGIS on PostgreSQL. On SQLite, and for any other
GeoProperty, SQL narrows the candidates by bounding box and the exact test runs in
Python (shapely); limit, offset and count then apply after the exact test.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Float,
    Text,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import column
from sqlalchemy.types import UserDefinedType

from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.context.query.ast import (
    INSTANCE_MEMBERS,
    AllOf,
    AllTypes,
    AnyOf,
    AnyType,
    AttributePath,
    Comparison,
    Existence,
    Pattern,
    Query,
    TypeExpression,
    TypeName,
    Value,
    ValueList,
    ValueRange,
)
from smartcity.kernel.context.query.geo import LOCATION, GeoQuery, geo_matches, geometry_from_value
from smartcity.kernel.context.query.memory import (
    JSON,
    OBJECT_LIST,
    VALUE_MEMBERS,
    VOCAB,
    operand_values,
    parse_instant,
    regex_search,
    uses_columns,
    vocabulary_literal,
)
from smartcity.kernel.context.query.selection import EntitySelection, EntitySelector
from smartcity.kernel.context.tables import (
    VALUE_CLASS_NONE,
    VALUE_CLASS_NUMBER,
    context_attribute,
    context_entity,
    context_entity_type,
)
from smartcity.kernel.storage.types import GeometryType

entity = context_entity
attribute = context_attribute
entity_type = context_entity_type

SQLITE_DATETIME_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]*"
PG_DATETIME_AWARE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$"
PG_DATETIME_NAIVE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$"
SQLITE_INSTANT_FORMAT = "%Y-%m-%dT%H:%M:%f"
WIDTH_MARGIN = 1e-9
# Value members compared as plain JSON (value, with its @value first, and the rest but
# the two that compare otherwise: vocab terms and objectList objects).
PLAIN_MEMBERS = tuple(member for member in VALUE_MEMBERS if member not in (VOCAB, OBJECT_LIST))
# Members a bare path compares beyond the typed columns when they hold a list.
LISTED_MEMBERS = ("value", "object", JSON, "valueList")

Test = Callable[[ColumnElement[Any]], ColumnElement[bool]]


class _Geography(UserDefinedType[Any]):
    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "geography"


def _comparator(left: Any, operator: str, right: Any) -> ColumnElement[bool]:
    operations: dict[str, Callable[[Any, Any], Any]] = {
        "==": lambda a, b: a == b,
        "!=": lambda a, b: a == b,  # negated by the caller
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
    }
    result: ColumnElement[bool] = operations[operator](left, right)
    return result


def _never_null(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 when the condition holds, else 0 (also when it is NULL), so NOT is safe."""
    return case((condition, 1), else_=0)


class _Compiler:
    """Builds WHERE conditions on ``context_entity`` for one tenant and dialect."""

    def __init__(
        self,
        dialect: str,
        tenant: str,
        primary_types: Sequence[str] = (),
        whole_value_names: frozenset[str] = frozenset(),
    ) -> None:
        self.postgres = dialect == "postgresql"
        self.tenant = tenant
        # Attributes whose bare-path terms also test whole values (lists, json, vocab).
        self.whole_value_names = whole_value_names
        # When every entity of the wanted types has one of them as its first type, the
        # type test is ``context_entity.type`` and each attribute subquery can narrow by
        # ``context_attribute.entity_type`` (the first type), so the indexes
        # (tenant, entity_type, name, value_*) answer q terms directly.
        self.primary_types = tuple(primary_types)

    # -- entity-level parts -------------------------------------------------------------

    def selection(self, selection: EntitySelection) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [entity.c.tenant == self.tenant]
        if self.primary_types:
            # A q test narrows by the attribute's copy of the first type, which implies
            # the entity's: repeating it on context_entity only costs a row visit each.
            if selection.q is None:
                conditions.append(entity.c.type.in_(self.primary_types))
        elif selection.types is not None:
            conditions.append(self.types(selection.types))
        if selection.ids:
            conditions.append(entity.c.id.in_(selection.ids))
        if selection.id_pattern is not None:
            conditions.append(self.regex(entity.c.id, selection.id_pattern))
        if selection.attrs:
            conditions.append(
                entity.c.id.in_(
                    select(attribute.c.entity_id).where(
                        attribute.c.tenant == self.tenant, attribute.c.name.in_(selection.attrs)
                    )
                )
            )
        if selection.selectors:
            conditions.append(or_(*(self.selector(item) for item in selection.selectors)))
        if selection.q is not None:
            conditions.append(self.query(selection.q))
        return conditions

    def selector(self, selector: EntitySelector) -> ColumnElement[bool]:
        parts: list[ColumnElement[bool]] = []
        if selector.types is not None:
            parts.append(self.types(selector.types))
        if selector.id is not None:
            parts.append(entity.c.id == selector.id)
        if selector.id_pattern is not None:
            parts.append(self.regex(entity.c.id, selector.id_pattern))
        return and_(true(), *parts)

    def types(self, expression: TypeExpression) -> ColumnElement[bool]:
        if isinstance(expression, TypeName):
            return self._having_types([expression.name])
        if isinstance(expression, AnyType) and all(
            isinstance(term, TypeName) for term in expression.terms
        ):
            return self._having_types([term.name for term in expression.terms])  # type: ignore[union-attr]
        parts = [self.types(term) for term in expression.terms]
        return and_(*parts) if isinstance(expression, AllTypes) else or_(*parts)

    def _having_types(self, names: Sequence[str]) -> ColumnElement[bool]:
        return entity.c.id.in_(
            select(entity_type.c.entity_id).where(
                entity_type.c.tenant == self.tenant, entity_type.c.type.in_(names)
            )
        )

    def regex(self, value: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
        operator = "~" if self.postgres else "REGEXP"
        return value.op(operator, is_comparison=True)(literal(pattern, Text))

    # -- q --------------------------------------------------------------------------------

    def query(self, query: Query) -> ColumnElement[bool]:
        if isinstance(query, AllOf):
            return and_(*(self.query(term) for term in query.terms))
        if isinstance(query, AnyOf):
            return or_(*(self.query(term) for term in query.terms))
        narrowing = [attribute.c.entity_type.in_(self.primary_types)] if self.primary_types else []
        test = self.instance_test(query)
        return entity.c.id.in_(
            select(attribute.c.entity_id).where(
                attribute.c.tenant == self.tenant,
                *narrowing,
                attribute.c.name == query.attribute.name,
                test,
            )
        )

    def instance_test(self, term: Comparison | Existence | Pattern) -> ColumnElement[bool]:
        columns = uses_columns(term)
        target = None if columns else self.target(term.attribute)
        present: ColumnElement[bool] = true() if target is None else target.is_not(None)
        if isinstance(term, Existence):
            return present
        if target is not None:
            positive = self.path_positive(term)
        elif isinstance(term, Pattern):
            positive = self.regex(attribute.c.value_text, term.regex)
        else:
            positive = self.holds(term, self.column_compare)
        if columns and term.attribute.name in self.whole_value_names:
            positive = or_(positive, self.whole_value_positive(term))
        negated = term.negated if isinstance(term, Pattern) else term.operator == "!="
        if not negated:
            return positive
        return and_(present, _never_null(positive) == 0)

    def holds(
        self, term: Comparison, compare: Callable[[Value, str], ColumnElement[bool]]
    ) -> ColumnElement[bool]:
        """The comparison over one target, ``compare(literal, operator)`` (``!=`` as ``==``)."""
        operand = term.operand
        if isinstance(operand, ValueRange):
            return and_(compare(operand.low, ">="), compare(operand.high, "<="))
        if isinstance(operand, ValueList):
            return or_(*(compare(value, "==") for value in operand.values))
        return compare(operand, term.operator)

    # -- whole values: lists, json, vocabulary terms ------------------------------------------

    def tester(self, term: Comparison | Pattern, vocabulary: bool = False) -> Test:
        """The positive test of a term on one JSON target (a VocabProperty's terms compare
        with the literal expanded as a term)."""
        if isinstance(term, Pattern):
            regex = term.regex
            return lambda target: and_(
                self.is_string(target), self.regex(self.text_of(target), regex)
            )

        def compare_on(target: ColumnElement[Any]) -> ColumnElement[bool]:
            def compare(value: Value, operator: str) -> ColumnElement[bool]:
                if vocabulary:
                    term_value = vocabulary_literal(value)
                    if term_value is None:
                        return false()
                    value = term_value
                return self.json_compare(target, value, operator)

            return self.holds(term, compare)

        return compare_on

    def elements(self, array: ColumnElement[Any], test: Test) -> ColumnElement[bool]:
        """Some element of a JSON array passes ``test`` (NULL or not an array: none)."""
        if self.postgres:
            guarded = case(
                (func.jsonb_typeof(array) == "array", array),
                else_=literal_column("'[]'::jsonb"),
            )
            items = (
                func.jsonb_array_elements(guarded)
                .table_valued(column("value", JSONB))
                .render_derived()
            )
            return exists(select(literal(1)).select_from(items).where(test(items.c.value)))
        guarded = case((func.json_type(array) == "array", array), else_=literal("[]", Text))
        items = func.json_each(guarded).table_valued(column("fullkey", Text))
        element = guarded.op("->", return_type=Text)(items.c.fullkey)
        return exists(select(literal(1)).select_from(items).where(test(element)))

    def whole(
        self, steps: list[str], term: Comparison | Pattern, *, scalars: bool
    ) -> ColumnElement[bool]:
        """The term on the value member at ``steps``: its elements when it is a list, a
        VocabProperty's terms and a ListRelationship's objects; with ``scalars`` also a
        plain single value (else only a JsonProperty's)."""
        plain, vocabulary = self.tester(term), self.tester(term, vocabulary=True)
        if scalars:
            single = self._coalesce(
                [[*steps, "value", "@value"], *([*steps, member] for member in PLAIN_MEMBERS)]
            )
            listed = single
        else:
            single = self._at(None, [*steps, JSON])
            listed = self._coalesce([[*steps, member] for member in LISTED_MEMBERS])
        objects = self._at(None, [*steps, OBJECT_LIST])
        tests = [
            plain(single),
            self.elements(listed, plain),
            self.elements(objects, lambda item: plain(self._at(item, ["object"]))),
        ]
        if isinstance(term, Pattern) or any(
            vocabulary_literal(value) is not None for value in operand_values(term.operand)
        ):
            terms = self._at(None, [*steps, VOCAB])
            tests += [vocabulary(terms), self.elements(terms, vocabulary)]
        return or_(*tests)

    def path_positive(self, term: Comparison | Pattern) -> ColumnElement[bool]:
        """The positive test of a term answered from ``value_json``."""
        path = term.attribute
        subs = list(path.sub_attributes)
        if path.keys or (subs and subs[-1] in INSTANCE_MEMBERS):
            target, test = self.target(path), self.tester(term)
            return or_(test(target), self.elements(target, test))
        return self.whole(subs, term, scalars=True)

    def whole_value_positive(self, term: Comparison | Pattern) -> ColumnElement[bool]:
        """A bare path's test on what the typed columns do not hold (both NULL there)."""
        return and_(
            attribute.c.value_number.is_(None),
            attribute.c.value_text.is_(None),
            self.whole([], term, scalars=False),
        )

    def column_compare(self, value: Value, operator: str) -> ColumnElement[bool]:
        if value.kind == "number":
            compared = _comparator(attribute.c.value_number, operator, literal(value.value, Float))
            if self.postgres:
                # No PostgreSQL index holds numbers (live updates stay HOT): the class
                # index reads the attribute's number rows, in entity id order.
                return and_(attribute.c.value_class == VALUE_CLASS_NUMBER, compared)
            return compared
        if value.kind == "boolean":
            return attribute.c.value_bool == literal(bool(value.value), Boolean)
        column: ColumnElement[Any] = attribute.c.value_text
        if self.postgres and operator not in ("==", "!="):
            column = column.collate("C")
        return _comparator(column, operator, literal(str(value.value), Text))

    # -- JSON paths -------------------------------------------------------------------------

    def target(self, path: AttributePath) -> ColumnElement[Any]:
        """The JSON (text on SQLite, jsonb on PostgreSQL) a path names; NULL when absent."""
        subs = list(path.sub_attributes)
        if subs and subs[-1] in INSTANCE_MEMBERS:
            candidates = [subs]
        else:
            members = [["value", "@value"], *([member] for member in VALUE_MEMBERS)]
            candidates = [subs + member for member in members]
        found = self._coalesce(candidates)
        return self._at(found, list(path.keys)) if path.keys else found

    def _coalesce(self, candidates: list[list[str]]) -> ColumnElement[Any]:
        reads = [self._at(None, steps) for steps in candidates]
        return reads[0] if len(reads) == 1 else func.coalesce(*reads)

    def _at(self, base: ColumnElement[Any] | None, steps: list[str]) -> ColumnElement[Any]:
        if self.postgres:
            document = cast(attribute.c.value_json, JSONB) if base is None else base
            return func.jsonb_extract_path(
                document, *(literal(step, Text) for step in steps), type_=JSONB
            )
        document = attribute.c.value_json if base is None else base
        path = "$" + "".join(f'."{step}"' for step in steps)
        return document.op("->", return_type=Text)(literal(path, Text))

    def json_type(self, target: ColumnElement[Any]) -> ColumnElement[str]:
        if self.postgres:
            return func.jsonb_typeof(target, type_=Text)
        return func.json_type(target, type_=Text)

    def is_string(self, target: ColumnElement[Any]) -> ColumnElement[bool]:
        return self.json_type(target) == ("string" if self.postgres else "text")

    def text_of(self, target: ColumnElement[Any]) -> ColumnElement[Any]:
        if self.postgres:
            return target.op("#>>", return_type=Text)(literal_column("'{}'::text[]"))
        return func.json_extract(target, "$", type_=Text)

    def json_compare(
        self, target: ColumnElement[Any], value: Value, operator: str
    ) -> ColumnElement[bool]:
        kind = value.kind
        if kind == "boolean":
            if self.postgres:
                return and_(
                    self.json_type(target) == "boolean",
                    self.text_of(target) == str(value.value).lower(),
                )
            return self.json_type(target) == ("true" if value.value else "false")
        if kind == "number":
            if self.postgres:
                number = case(
                    (self.json_type(target) == "number", cast(self.text_of(target), Float)),
                    else_=None,
                )
                return _comparator(number, operator, literal(value.value, Float))
            is_number = self.json_type(target).in_(("integer", "real"))
            stored = func.json_extract(target, "$", type_=Float)
            return and_(is_number, _comparator(stored, operator, literal(value.value, Float)))
        text = self.text_of(target)
        if kind == "datetime":
            return self._instant_compare(target, text, value, operator)
        if self.postgres:
            text = text.collate("C")
        return and_(
            self.is_string(target), _comparator(text, operator, literal(str(value.value), Text))
        )

    def _instant_compare(
        self, target: ColumnElement[Any], text: ColumnElement[Any], value: Value, operator: str
    ) -> ColumnElement[bool]:
        instant = parse_instant(value.value)
        if instant is None:
            return false()
        if self.postgres:
            is_text = self.is_string(target)
            stored = case(
                (
                    and_(is_text, text.regexp_match(PG_DATETIME_AWARE)),
                    cast(text, TIMESTAMP(timezone=True)),
                ),
                (
                    and_(is_text, text.regexp_match(PG_DATETIME_NAIVE)),
                    func.timezone("UTC", cast(text, TIMESTAMP())),
                ),
                else_=None,
            )
            return _comparator(stored, operator, literal(instant, TIMESTAMP(timezone=True)))
        reference = (
            instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{instant.microsecond // 1000:03d}"
        )
        normalised = func.strftime(SQLITE_INSTANT_FORMAT, text)
        return and_(
            self.is_string(target),
            text.op("GLOB", is_comparison=True)(SQLITE_DATETIME_GLOB),
            _comparator(normalised, operator, literal(reference, Text)),
        )

    # -- geo ----------------------------------------------------------------------------------

    def box(self, query: GeoQuery, widest: float | None) -> ColumnElement[bool] | None:
        """Locations whose bounding box meets the query's search box.

        ``widest`` (the tenant's widest location box) bounds ``location_west`` from
        below as well, so the index range is a strip of the search box, not everything
        west of its east side.
        """
        box = query.search_box()
        if box is None:
            return None
        west, south, east, north = box
        conditions = [
            entity.c.location_west <= east,
            entity.c.location_east >= west,
            entity.c.location_south <= north,
            entity.c.location_north >= south,
        ]
        if widest is not None:
            # A margin far above float rounding of the stored width.
            conditions.append(entity.c.location_west >= west - widest - WIDTH_MARGIN)
        return and_(*conditions)

    def postgis(self, query: GeoQuery) -> ColumnElement[bool]:
        reference = literal(query.geometry, GeometryType)
        location = entity.c.location
        if query.georel == "near":
            distance = query.max_distance if query.max_distance is not None else query.min_distance
            within = func.ST_DWithin(
                cast(location, _Geography),
                cast(reference, _Geography),
                distance,
                False,
                type_=Boolean,
            )
            return (
                within
                if query.max_distance is not None
                else and_(location.is_not(None), not_(within))
            )
        functions = {
            "within": func.ST_Within,
            "contains": func.ST_Contains,
            "intersects": func.ST_Intersects,
            "equals": func.ST_Equals,
            "disjoint": func.ST_Disjoint,
            "overlaps": func.ST_Overlaps,
        }
        result: ColumnElement[bool] = functions[query.georel](location, reference, type_=Boolean)
        return result


def _sqlite_regexp(pattern: str, value: object) -> bool:
    return regex_search(pattern, value)


def _uses_regex(selection: EntitySelection) -> bool:
    return (
        selection.id_pattern is not None
        or any(selector.id_pattern for selector in selection.selectors)
        or (selection.q is not None and "~=" in _text(selection.q))
    )


def _text(query: Query) -> str:
    return query.to_text()


def _prepare(conn: Connection, selection: EntitySelection) -> None:
    if conn.dialect.name == "sqlite" and _uses_regex(selection):
        raw = conn.connection.driver_connection
        if isinstance(raw, sqlite3.Connection):
            raw.create_function("regexp", 2, _sqlite_regexp, deterministic=True)


def _run(conn: Connection, selection: EntitySelection, work: Callable[[], Any]) -> Any:
    """Run ``work``; a pattern PostgreSQL cannot compile becomes BadRequestData."""
    if conn.dialect.name != "postgresql" or not _uses_regex(selection):
        return work()
    try:
        with conn.begin_nested():
            return work()
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == "2201B":
            raise BadRequestData(f"invalid regular expression: {exc.orig}") from exc
        raise


def select_entity_ids(
    conn: Connection,
    selection: EntitySelection,
    *,
    limit: int,
    offset: int = 0,
    count: bool = False,
) -> tuple[list[str], int | None]:
    """Ids of the selected entities, ordered by id: ``limit`` of them after ``offset``.

    Returns ``(ids, total)`` where ``total`` is the number of all selected entities when
    ``count`` is true, else None. ``limit=0`` with ``count`` only counts.
    """
    if limit < 0 or offset < 0:
        raise BadRequestData("limit and offset must not be negative")
    _prepare(conn, selection)
    primary_types, whole_value_names = _selection_facts(conn, selection)
    compiler = _Compiler(conn.dialect.name, selection.tenant, primary_types, whole_value_names)
    conditions = compiler.selection(selection)
    geo = selection.geo
    if geo is not None and geo.geoproperty == LOCATION:
        box = compiler.box(geo, _widest_location(conn, selection.tenant))
        conditions.append(entity.c.location.is_not(None) if box is None else box)
        if compiler.postgres:
            conditions.append(compiler.postgis(geo))
            geo = None
    if geo is None:
        found: tuple[list[str], int | None] = _run(
            conn, selection, lambda: _in_sql(conn, conditions, limit, offset, count)
        )
        return found
    matched: list[str] = _run(conn, selection, lambda: _exact_geo(conn, conditions, geo))
    total = len(matched) if count else None
    return matched[offset : offset + limit], total


def _widest_location(conn: Connection, tenant: str) -> float | None:
    """The widest location bounding box of the tenant (degrees of longitude), or None
    when no entity has a location; one probe of ix_context_entity_tenant_location_width."""
    width = entity.c.location_east - entity.c.location_west
    found = conn.execute(select(func.max(width)).where(entity.c.tenant == tenant)).scalar()
    return None if found is None else float(found)


def _plain_type_list(expression: TypeExpression | None) -> list[str]:
    if isinstance(expression, TypeName):
        return [expression.name]
    if isinstance(expression, AnyType) and all(isinstance(t, TypeName) for t in expression.terms):
        return [term.name for term in expression.terms]  # type: ignore[union-attr]
    return []


def _bare_terms(query: Query) -> list[Comparison | Pattern]:
    if isinstance(query, AllOf | AnyOf):
        return [term for part in query.terms for term in _bare_terms(part)]
    if isinstance(query, Existence) or not uses_columns(query):
        return []
    return [query]


# The tenant's first types, one index seek each (a loose index scan: neither SQLite
# without statistics nor PostgreSQL skips through an index by itself).
STORED_TYPES = """WITH RECURSIVE stored_type(type) AS (
  SELECT min(type) FROM context_entity WHERE tenant = :tenant
  UNION ALL
  SELECT (SELECT min(later.type) FROM context_entity later
          WHERE later.tenant = :tenant AND later.type > stored_type.type)
  FROM stored_type WHERE stored_type.type IS NOT NULL
) """


def _selection_facts(
    conn: Connection, selection: EntitySelection
) -> tuple[list[str], frozenset[str]]:
    """What the compiler needs to know of the stored data (one statement, or two).

    - The primary types: the wanted types, if each entity having one has one of them
      first (two index counts).
    - The whole-value names: attributes of bare-path q terms that may hold whole values
      the typed columns do not (a list, a JsonProperty, a VocabProperty: both typed
      columns NULL). Index seeks answer, per name and first type: if no instance has
      ``value_number`` NULL, none has both; else one seek in the index of exactly the
      instances with both NULL (``ix_context_attribute_untyped``; on PostgreSQL both
      are seeks by ``value_class`` in ``ix_context_attribute_class``). Without the primary
      types the first types are the tenant's own, found by a loose index scan
      (``STORED_TYPES``).

    Plain text: building and caching the equivalent Core statements costs far more
    than the seeks and counts themselves (measured on SQLite).
    """
    bare = sorted({term.attribute.name for term in _bare_terms(selection.q)}) if selection.q else []
    names = _plain_type_list(selection.types)
    parameters: dict[str, Any] = {"tenant": selection.tenant}
    if names:
        parameters.update({f"type_{index}": name for index, name in enumerate(names)})
        types = ", ".join(f":type_{index}" for index in range(len(names)))
        counted = "count(*)" if len(names) == 1 else "count(DISTINCT entity_id)"
        counts = [
            f"(SELECT count(*) FROM context_entity WHERE tenant = :tenant AND type IN ({types}))",
            f"(SELECT {counted} FROM context_entity_type"
            f" WHERE tenant = :tenant AND type IN ({types}))",
        ]
        having = (
            "EXISTS (SELECT 1 FROM {source} WHERE tenant = :tenant"
            f" AND entity_type IN ({types}) AND name = :name AND {{condition}})"
        )
        first, stored, *found = _run_facts(conn, "", counts, bare, having, parameters)
        if first == stored:
            return names, _maybe_whole(bare, found)
    if not bare:
        return [], frozenset()
    having = (
        "EXISTS (SELECT 1 FROM stored_type WHERE EXISTS (SELECT 1 FROM {source}"
        " WHERE tenant = :tenant AND entity_type = stored_type.type AND name = :name"
        " AND {condition}))"
    )
    return [], _maybe_whole(bare, _run_facts(conn, STORED_TYPES, [], bare, having, parameters))


def _maybe_whole(bare: list[str], found: Sequence[Any]) -> frozenset[str]:
    return frozenset(name for name, maybe in zip(bare, found, strict=True) if maybe)


# The two seeks per bare name of ``_selection_facts``, as (table source, condition):
# an instance without a number copy, and one with neither copy. On SQLite the second
# reads the small partial index of exactly those rows (without statistics SQLite would
# seek the text index and read every number row of an attribute holding numbers and
# texts: it is told). No PostgreSQL index names ``value_number`` (live updates stay
# HOT): ``ix_context_attribute_class`` answers both with one seek each.
_WHOLE_VALUE_SEEKS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "sqlite": (
        ("context_attribute", "value_number IS NULL"),
        (
            "context_attribute INDEXED BY ix_context_attribute_untyped",
            "value_number IS NULL AND value_text IS NULL",
        ),
    ),
    "postgresql": (
        ("context_attribute", f"value_class < {VALUE_CLASS_NUMBER}"),
        ("context_attribute", f"value_class = {VALUE_CLASS_NONE}"),
    ),
}


def _run_facts(
    conn: Connection,
    prefix: str,
    parts: list[str],
    bare: list[str],
    having: str,
    parameters: dict[str, Any],
) -> Sequence[Any]:
    """``SELECT parts..., (having(no number) AND having(neither copy)) per bare name``."""
    parts = list(parts)
    seeks = _WHOLE_VALUE_SEEKS[conn.dialect.name]
    for index, name in enumerate(bare):
        parameters[f"name_{index}"] = name
        named = having.replace(":name", f":name_{index}")
        number, both = (named.format(source=source, condition=c) for source, c in seeks)
        parts.append(f"({number} AND {both})")
    statement = text(prefix + "SELECT " + ", ".join(parts))
    return tuple(conn.execute(statement, parameters).one())


def _in_sql(
    conn: Connection, conditions: list[ColumnElement[bool]], limit: int, offset: int, count: bool
) -> tuple[list[str], int | None]:
    ids: list[str] = []
    if limit > 0:
        statement = (
            select(entity.c.id).where(*conditions).order_by(entity.c.id).limit(limit).offset(offset)
        )
        ids = list(conn.execute(statement).scalars())
    total = None
    if count:
        total = int(
            conn.execute(select(func.count()).select_from(entity).where(*conditions)).scalar_one()
        )
    return ids, total


def _exact_geo(conn: Connection, conditions: list[ColumnElement[bool]], geo: GeoQuery) -> list[str]:
    if geo.geoproperty == LOCATION:
        # Sorted here, not in SQL: ORDER BY id would make SQLite walk the primary key
        # instead of the bounding-box index.
        rows = conn.execute(select(entity.c.id, entity.c.location).where(*conditions))
        return sorted(entity_id for entity_id, location in rows if geo_matches(location, geo))
    statement = (
        select(entity.c.id, attribute.c.value_json)
        .join(
            attribute,
            and_(attribute.c.tenant == entity.c.tenant, attribute.c.entity_id == entity.c.id),
        )
        .where(*conditions, attribute.c.name == geo.geoproperty)
        .order_by(entity.c.id)
    )
    matched: list[str] = []
    for entity_id, document in conn.execute(statement):
        if matched and matched[-1] == entity_id:
            continue
        if geo_matches(_stored_geometry(document), geo):
            matched.append(entity_id)
    return matched


def _stored_geometry(document: str) -> Any:
    try:
        stored = json.loads(document)
    except ValueError:
        return None
    return geometry_from_value(stored.get("value")) if isinstance(stored, dict) else None
