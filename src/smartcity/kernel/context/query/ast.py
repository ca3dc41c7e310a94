"""The syntax tree of NGSI-LD queries (``q``, ETSI GS CIM 009 clause 4.9) and type expressions.

Every node is a frozen dataclass, so a parsed query can be cached, compared and hashed.
``to_text`` prints a tree back in the grammar; parsing the printed text gives the same tree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

Operator = Literal["==", "!=", ">", ">=", "<", "<="]
ValueKind = Literal["number", "text", "boolean", "datetime", "date", "time", "uri"]

# Members of an attribute instance that a path may name after a dot; they are the
# instance's own members (not sub-attributes), so they are never expanded as terms.
INSTANCE_MEMBERS = frozenset({"observedAt", "unitCode", "datasetId", "createdAt", "modifiedAt"})
ORDERED_KINDS = frozenset({"number", "text", "datetime", "date", "time"})


@dataclass(frozen=True)
class AttributePath:
    """``name.sub.sub[key][key]``: an attribute, then sub-attributes, then keys in its value."""

    name: str
    sub_attributes: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()

    def to_text(self) -> str:
        """The path in the q grammar."""
        text = ".".join((self.name, *self.sub_attributes))
        return text + "".join(f"[{key}]" for key in self.keys)


@dataclass(frozen=True)
class Value:
    """A literal: numbers are ``int``/``float``, booleans ``bool``, everything else text.

    Dates, times and date-times keep the text as written; comparisons normalise them.
    ``term`` is a text or URI literal expanded as a vocabulary term with the request's
    @context (set by ``expand_query``): a VocabProperty stores its terms expanded, so it
    is compared with this, every other value with ``value`` as written.
    """

    kind: ValueKind
    value: int | float | str | bool
    term: str | None = None

    def to_text(self) -> str:
        """The literal in the q grammar."""
        if self.kind == "text":
            return json.dumps(self.value, ensure_ascii=False)
        if self.kind == "boolean":
            return "true" if self.value else "false"
        if self.kind == "number":
            return repr(self.value)
        return str(self.value)


@dataclass(frozen=True)
class ValueRange:
    """``low..high``, both ends included."""

    low: Value
    high: Value

    def to_text(self) -> str:
        """The range in the q grammar."""
        return f"{self.low.to_text()}..{self.high.to_text()}"


@dataclass(frozen=True)
class ValueList:
    """``v1,v2,...``: equal to any of them."""

    values: tuple[Value, ...]

    def to_text(self) -> str:
        """The list in the q grammar."""
        return ",".join(value.to_text() for value in self.values)


Operand = Value | ValueRange | ValueList


@dataclass(frozen=True)
class Comparison:
    """``attribute <operator> operand``; ``!=`` with a list or range means "not in"."""

    attribute: AttributePath
    operator: Operator
    operand: Operand

    def to_text(self) -> str:
        """The term in the q grammar."""
        return f"{self.attribute.to_text()}{self.operator}{self.operand.to_text()}"


@dataclass(frozen=True)
class Existence:
    """A bare attribute: the entity has it (at that path)."""

    attribute: AttributePath

    def to_text(self) -> str:
        """The term in the q grammar."""
        return self.attribute.to_text()


@dataclass(frozen=True)
class Pattern:
    """``attribute~=regex`` (or ``!~=`` when ``negated``): a text value matching a regex."""

    attribute: AttributePath
    regex: str
    negated: bool = False

    def to_text(self) -> str:
        """The term in the q grammar (the pattern always quoted, so it prints unambiguously)."""
        operator = "!~=" if self.negated else "~="
        return f"{self.attribute.to_text()}{operator}{json.dumps(self.regex, ensure_ascii=False)}"


@dataclass(frozen=True)
class AllOf:
    """``a;b;...``: every term holds."""

    terms: tuple[Query, ...]

    def to_text(self) -> str:
        """The conjunction in the q grammar."""
        return ";".join(_grouped(term) for term in self.terms)


@dataclass(frozen=True)
class AnyOf:
    """``a|b|...``: at least one term holds."""

    terms: tuple[Query, ...]

    def to_text(self) -> str:
        """The disjunction in the q grammar."""
        return "|".join(_grouped(term) for term in self.terms)


Term = Comparison | Existence | Pattern
Query = Term | AllOf | AnyOf


def _grouped(node: Query) -> str:
    if isinstance(node, AllOf | AnyOf):
        return f"({node.to_text()})"
    return node.to_text()


@dataclass(frozen=True)
class TypeName:
    """One entity type (an expanded IRI once the selection is built)."""

    name: str

    def to_text(self) -> str:
        """The type in the type-expression grammar."""
        return self.name


@dataclass(frozen=True)
class AllTypes:
    """``A;B``: the entity has every one of these types."""

    terms: tuple[TypeExpression, ...]

    def to_text(self) -> str:
        """The conjunction in the type-expression grammar."""
        return ";".join(_grouped_type(term) for term in self.terms)


@dataclass(frozen=True)
class AnyType:
    """``A,B`` or ``A|B``: the entity has at least one of these types."""

    terms: tuple[TypeExpression, ...]

    def to_text(self) -> str:
        """The disjunction in the type-expression grammar."""
        return "|".join(_grouped_type(term) for term in self.terms)


TypeExpression = TypeName | AllTypes | AnyType


def _grouped_type(node: TypeExpression) -> str:
    if isinstance(node, AllTypes | AnyType):
        return f"({node.to_text()})"
    return node.to_text()
