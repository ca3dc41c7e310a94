"""The in-memory evaluator: does one entity meet a selection? (used by subscriptions)

It gives the same answers as the SQL compiler (``sql.py``), term for term:

- A term holds when *some* instance (datasetId) of the attribute satisfies it.
- A bare path (no sub-attribute, no key) and a literal that is not a date-time compare
  the instance's typed value, the one stored in ``value_number``/``value_text``/
  ``value_bool``: a Property's ``value`` or a Relationship's ``object``.
- Otherwise the path walks the normalized attribute: ``a.b.c`` are sub-attributes (or a
  final instance member such as ``observedAt``), then the value member (``value``, its
  ``@value`` if it has one, ``object``, ``languageMap``, ...), then ``[key]``s inside
  it. An attribute's own ``createdAt``/``modifiedAt`` are not stored in its JSON and so
  are never found.
- Numbers compare with numbers, text/URIs/dates/times with text (code-point order),
  booleans with booleans, date-times as instants; a value of another type never matches.
- A value that is a list (a ListProperty's ``valueList``, a JSON array in a Property's
  ``value``, a JsonProperty's ``json`` or at a ``[key]``, a Relationship's list of
  objects) matches when *any* element does; a ListRelationship's ``objectList``
  compares the objects' ids. A bare path compares these whole values too (beside the
  typed columns), and a JsonProperty's ``json`` when it is a single JSON value.
- A VocabProperty's terms (stored expanded) compare with the literal expanded as a
  term (``Value.term``); only text and URI literals name terms. Patterns see the IRIs.
- ``!=`` and ``!~=`` hold when the attribute is there and the positive test fails
  (for a list: no element matches).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from smartcity.kernel.context.query.ast import (
    INSTANCE_MEMBERS,
    AllOf,
    AllTypes,
    AnyOf,
    AnyType,
    AttributePath,
    Comparison,
    Existence,
    Operand,
    Pattern,
    Query,
    TypeExpression,
    TypeName,
    Value,
    ValueList,
    ValueRange,
)
from smartcity.kernel.context.query.geo import GeoQuery, geo_matches, geometry_from_value
from smartcity.kernel.context.query.grammar import DATETIME, VOCABULARY_KINDS
from smartcity.kernel.context.query.selection import EntitySelection, EntitySelector

MISSING: Any = object()
# Where an attribute keeps its value, by attribute type; the first present one counts.
VALUE_MEMBERS = ("value", "object", "languageMap", "vocab", "json", "valueList", "objectList")
VOCAB = "vocab"
OBJECT_LIST = "objectList"
JSON = "json"
# (value, is_vocabulary_term): one thing a comparison reads from an instance.
Target = tuple[Any, bool]
# The write path keeps an attribute's own timestamps in columns, not in its stored JSON.
UNSTORED_MEMBERS = frozenset({"createdAt", "modifiedAt"})
COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.eq,  # negated by the caller
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


@lru_cache(maxsize=512)
def compiled_regex(pattern: str) -> re.Pattern[str]:
    """A compiled pattern (cached; patterns were checked when the query was parsed)."""
    return re.compile(pattern)


def regex_search(pattern: str, text: object) -> bool:
    """Whether ``pattern`` matches somewhere in ``text``; never raises."""
    if not isinstance(text, str):
        return False
    try:
        return compiled_regex(pattern).search(text) is not None
    except re.error:
        return False


def parse_instant(text: object) -> datetime | None:
    """A date-time text as an aware instant (naive means UTC), or None."""
    if not isinstance(text, str) or not DATETIME.fullmatch(text):
        return None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        return None
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant


def typed_value(instance: Mapping[str, Any]) -> Any:
    """The value the typed columns hold for an instance (MISSING when none).

    As the write path fills them: a Property's ``value``, a Relationship's ``object``.
    """
    kind = instance.get("type")
    if kind == "Property":
        return instance.get("value", MISSING)
    if kind == "Relationship":
        return instance.get("object", MISSING)
    return MISSING


def path_value(instance: Mapping[str, Any], path: AttributePath) -> Any:
    """The value a path names inside one instance (MISSING when absent)."""
    return _path_member(instance, path)[1]


def _path_member(instance: Mapping[str, Any], path: AttributePath) -> tuple[str | None, Any]:
    """The value a path names, and the value member it is (None: inside one, or none)."""
    node: Any = instance
    if path.sub_attributes and path.sub_attributes[0] in UNSTORED_MEMBERS:
        return None, MISSING
    for name in path.sub_attributes:
        if not isinstance(node, dict) or name not in node:
            return None, MISSING
        node = node[name]
    member: str | None = None
    if path.sub_attributes and path.sub_attributes[-1] in INSTANCE_MEMBERS:
        value = node
    else:
        member, value = _value_member(node)
    for key in path.keys:
        member = None
        if not isinstance(value, dict) or key not in value:
            return None, MISSING
        value = value[key]
    return member, value


def _value_member(node: Any) -> tuple[str | None, Any]:
    if not isinstance(node, dict):
        return None, MISSING
    inner = node.get("value")
    if isinstance(inner, dict) and "@value" in inner:
        return "value", inner["@value"]
    for member in VALUE_MEMBERS:
        if member in node:
            return member, node[member]
    return None, MISSING


def _spread(member: str | None, value: Any) -> list[Target]:
    """What comparisons read from a value: itself and, for a list, each element."""
    if value is MISSING:
        return []
    if member == VOCAB:
        return [(term, True) for term in (value if isinstance(value, list) else [value])]
    if member == OBJECT_LIST:
        return [
            (item.get("object", MISSING) if isinstance(item, dict) else MISSING, False)
            for item in (value if isinstance(value, list) else [])
        ]
    elements = value if isinstance(value, list) else []
    return [(value, False), *((item, False) for item in elements)]


def path_targets(instance: Mapping[str, Any], path: AttributePath) -> list[Target]:
    """What a term on a path (not answered from the typed columns) compares."""
    return _spread(*_path_member(instance, path))


def column_targets(instance: Mapping[str, Any]) -> list[Target]:
    """What a term on a bare path compares: the typed value (``value_number``/
    ``value_text``/``value_bool``), then the whole value member when it is a list, a
    JsonProperty's ``json`` or a VocabProperty's terms (no ``@value`` unwrapping)."""
    targets: list[Target] = [(typed_value(instance), False)]
    for member in VALUE_MEMBERS:
        if member not in instance:
            continue
        value = instance[member]
        if member in (VOCAB, OBJECT_LIST, JSON):
            targets.extend(_spread(member, value))
        elif isinstance(value, list):
            targets.extend((item, False) for item in value)
        break
    return targets


def vocabulary_literal(literal: Value) -> Value | None:
    """The literal a VocabProperty's (expanded) terms compare with, if it names a term."""
    if literal.kind not in VOCABULARY_KINDS or literal.term is None:
        return None
    return Value("text", literal.term)


def uses_columns(term: Comparison | Existence | Pattern) -> bool:
    """Whether a term is answered from the typed columns (see the module docstring)."""
    path = term.attribute
    if path.sub_attributes or path.keys:
        return False
    if isinstance(term, Comparison):
        return all(value.kind != "datetime" for value in operand_values(term.operand))
    return True


def operand_values(operand: Operand) -> tuple[Value, ...]:
    """Every literal of an operand."""
    if isinstance(operand, ValueRange):
        return (operand.low, operand.high)
    if isinstance(operand, ValueList):
        return operand.values
    return (operand,)


def _compare(target: Any, comparator: Callable[[Any, Any], bool], literal: Value) -> bool:
    kind = literal.kind
    if target is MISSING:
        return False
    if kind == "number":
        if isinstance(target, bool) or not isinstance(target, int | float):
            return False
        return comparator(target, literal.value)
    if kind == "boolean":
        return isinstance(target, bool) and comparator(target, literal.value)
    if kind == "datetime":
        instant, reference = parse_instant(target), parse_instant(literal.value)
        return instant is not None and reference is not None and comparator(instant, reference)
    return isinstance(target, str) and comparator(target, literal.value)


def _compare_target(
    target: Any, vocabulary: bool, comparator: Callable[[Any, Any], bool], literal: Value
) -> bool:
    if vocabulary:
        term = vocabulary_literal(literal)
        return term is not None and _compare(target, comparator, term)
    return _compare(target, comparator, literal)


def _holds(term: Comparison, target: Any, vocabulary: bool) -> bool:
    """Whether one target satisfies the comparison (``!=`` tested as ``==``)."""
    operand = term.operand
    if isinstance(operand, ValueRange):
        return _compare_target(target, vocabulary, operator.ge, operand.low) and _compare_target(
            target, vocabulary, operator.le, operand.high
        )
    if isinstance(operand, ValueList):
        return any(
            _compare_target(target, vocabulary, operator.eq, value) for value in operand.values
        )
    return _compare_target(target, vocabulary, COMPARATORS[term.operator], operand)


def _instance_matches(instance: Mapping[str, Any], term: Comparison | Existence | Pattern) -> bool:
    columns = uses_columns(term)
    if isinstance(term, Existence):
        return columns or path_value(instance, term.attribute) is not MISSING
    targets = column_targets(instance) if columns else path_targets(instance, term.attribute)
    if isinstance(term, Pattern):
        positive = any(regex_search(term.regex, target) for target, _ in targets)
        negated = term.negated
    else:
        positive = any(_holds(term, target, vocabulary) for target, vocabulary in targets)
        negated = term.operator == "!="
    if not negated:
        return positive
    present = columns or path_value(instance, term.attribute) is not MISSING
    return present and not positive


def instances(entity: Mapping[str, Any], name: str) -> Iterator[Mapping[str, Any]]:
    """The instances of one attribute of an expanded entity (a dict or a list of them)."""
    attribute = entity.get(name)
    if isinstance(attribute, dict):
        yield attribute
    elif isinstance(attribute, list):
        yield from (instance for instance in attribute if isinstance(instance, dict))


def query_matches(entity: Mapping[str, Any], query: Query) -> bool:
    """Whether an expanded entity satisfies a (expanded) q query."""
    if isinstance(query, AllOf):
        return all(query_matches(entity, term) for term in query.terms)
    if isinstance(query, AnyOf):
        return any(query_matches(entity, term) for term in query.terms)
    return any(
        _instance_matches(instance, query) for instance in instances(entity, query.attribute.name)
    )


def entity_types(entity: Mapping[str, Any]) -> frozenset[str]:
    """The (expanded) types of an entity."""
    types = entity.get("type", ())
    return frozenset([types] if isinstance(types, str) else types)


def types_match(types: frozenset[str], expression: TypeExpression) -> bool:
    """Whether a set of types satisfies a type expression."""
    if isinstance(expression, TypeName):
        return expression.name in types
    if isinstance(expression, AllTypes):
        return all(types_match(types, term) for term in expression.terms)
    if isinstance(expression, AnyType):
        return any(types_match(types, term) for term in expression.terms)
    return False


def geo_query_matches(entity: Mapping[str, Any], query: GeoQuery) -> bool:
    """Whether some instance of the entity's GeoProperty satisfies the geo-query."""
    return any(
        geo_matches(geometry_from_value(instance.get("value")), query)
        for instance in instances(entity, query.geoproperty)
    )


def _selector_matches(entity: Mapping[str, Any], selector: EntitySelector) -> bool:
    if selector.types is not None and not types_match(entity_types(entity), selector.types):
        return False
    if selector.id is not None and entity.get("id") != selector.id:
        return False
    return selector.id_pattern is None or regex_search(selector.id_pattern, entity.get("id"))


def matches(entity: Mapping[str, Any], selection: EntitySelection) -> bool:
    """Whether an expanded normalized entity (as in EntityChanged) meets the selection.

    The tenant is not checked: the caller hands only entities of the selection's tenant.
    """
    if selection.types is not None and not types_match(entity_types(entity), selection.types):
        return False
    if selection.ids and entity.get("id") not in selection.ids:
        return False
    if selection.id_pattern is not None and not regex_search(
        selection.id_pattern, entity.get("id")
    ):
        return False
    if selection.attrs and not any(name in entity for name in selection.attrs):
        return False
    if selection.selectors and not any(
        _selector_matches(entity, selector) for selector in selection.selectors
    ):
        return False
    if selection.q is not None and not query_matches(entity, selection.q):
        return False
    return selection.geo is None or geo_query_matches(entity, selection.geo)
