"""Turn an incoming NGSI-LD document (compacted terms) into the normalized, expanded form.

Accepts what clients send on creation and update: the **normalized** representation
(every attribute an object with ``type``), the **concise** one (``{"value": ..}`` is a
Property, ``{"object": ..}`` a Relationship, ``{"languageMap": ..}`` a LanguageProperty,
``{"json": ..}`` a JsonProperty, ``{"vocab": ..}`` a VocabProperty, ``{"valueList": ..}``
a ListProperty, ``{"objectList": ..}`` a ListRelationship, a bare GeoJSON geometry a
GeoProperty) and plain values (keyValues: a Property).

A VocabProperty's terms are expanded like names (they are ``@vocab`` in the core
context) and stored as IRIs; a ListRelationship's ``objectList`` is stored as
``[{"object": URI}, ...]`` whether the client sent that or a plain list of URIs.
Validation is strict and every problem is a :class:`BadRequestData` whose reason names
the attribute and what is wrong with it; nothing else is ever raised.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.context.geometry import check_geojson
from smartcity.kernel.context.model import (
    ATTRIBUTE_KINDS,
    ENTITY_MEMBERS,
    GEO_ATTRIBUTES,
    GEO_PROPERTY,
    GEOMETRY_TYPES,
    JSON_PROPERTY,
    LANGUAGE_PROPERTY,
    LIST_PROPERTY,
    LIST_RELATIONSHIP,
    MAX_NAME_LENGTH,
    MAX_UNIT_CODE_LENGTH,
    PROPERTY,
    RELATIONSHIP,
    SYSTEM_MEMBERS,
    VALUE_MEMBER,
    VOCAB_PROPERTY,
    Entity,
    Instance,
    LdContext,
    check_entity_id,
    check_name,
    format_instant,
    parse_instant,
)

MAX_DEPTH = 8
MAX_VALUE_DEPTH = 64
UNIT_CODE = re.compile(rf"[A-Za-z0-9_.\-]{{1,{MAX_UNIT_CODE_LENGTH}}}\Z")
LANGUAGE_TAG = re.compile(r"(?:[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|@none)\Z")
# Members that, without a ``type``, make an object an attribute in concise form.
CONCISE_MARKERS = ("value", "object", "languageMap", "json", "vocab", "valueList", "objectList")
# The kind each concise marker other than ``value`` stands for.
MARKED_KINDS = {
    "object": RELATIONSHIP,
    "languageMap": LANGUAGE_PROPERTY,
    "json": JSON_PROPERTY,
    "vocab": VOCAB_PROPERTY,
    "valueList": LIST_PROPERTY,
    "objectList": LIST_RELATIONSHIP,
}
# The name Orion-LD and Scorpio use for a VocabProperty;
# accepted on input so their clients work unchanged, always stored as VocabProperty.
VOCABULARY_PROPERTY = "VocabularyProperty"
IGNORED_MEMBERS = frozenset({"createdAt", "modifiedAt", "instanceId"})
# Members each kind may carry besides sub-attributes.
ALLOWED_MEMBERS: dict[str, frozenset[str]] = {
    PROPERTY: frozenset({"type", "value", "datasetId", "observedAt", "unitCode"}),
    GEO_PROPERTY: frozenset({"type", "value", "datasetId", "observedAt"}),
    RELATIONSHIP: frozenset({"type", "object", "datasetId", "observedAt", "objectType"}),
    LANGUAGE_PROPERTY: frozenset({"type", "languageMap", "datasetId", "observedAt"}),
    JSON_PROPERTY: frozenset({"type", "json", "datasetId", "observedAt"}),
    VOCAB_PROPERTY: frozenset({"type", "vocab", "datasetId", "observedAt"}),
    LIST_PROPERTY: frozenset({"type", "valueList", "datasetId", "observedAt", "unitCode"}),
    LIST_RELATIONSHIP: frozenset({"type", "objectList", "datasetId", "observedAt", "objectType"}),
}
CORE_MEMBERS = frozenset().union(*ALLOWED_MEMBERS.values())


class Normalizer:
    """Normalizes documents against one @context, caching term expansion.

    One normalizer per request: a batch of a thousand entities repeats the same few
    names, and each is checked and expanded once.
    """

    def __init__(self, context: LdContext) -> None:
        self.context = context
        self._names: dict[str, str] = {}

    def expand_name(self, term: object, *, what: str = "attribute name") -> str:
        """The IRI of an attribute or type name, after checking it is a valid name."""
        if isinstance(term, str):
            cached = self._names.get(term)
            if cached is not None:
                return cached
        name = check_name(term, what=what)
        if name.startswith("@"):
            raise BadRequestData(f"{what} {name!r} is a JSON-LD keyword, not a name")
        iri = self.context.expand_term(name)
        if len(iri) > MAX_NAME_LENGTH:
            raise BadRequestData(f"{what} {name!r} expands to more than {MAX_NAME_LENGTH} chars")
        self._names[name] = iri
        return iri

    def entity(self, document: object) -> Entity:
        """A whole entity: ``id`` and ``type`` required, every attribute checked."""
        if not isinstance(document, Mapping):
            raise BadRequestData("an entity must be a JSON object")
        if "id" not in document:
            raise BadRequestData("the entity has no 'id'")
        entity_id = check_entity_id(document["id"])
        if "type" not in document:
            raise BadRequestData(f"entity {entity_id} has no 'type'")
        entity: Entity = {"id": entity_id, "type": self.types(document["type"])}
        entity.update(self.attributes(document))
        return entity

    def types(self, raw: object) -> list[str]:
        """The expanded types of an entity (a name or a non-empty list of names)."""
        names = raw if isinstance(raw, list) else [raw]
        if not names:
            raise BadRequestData("entity type must not be an empty list")
        expanded: list[str] = []
        for name in names:
            iri = self.expand_name(name, what="entity type")
            if iri not in expanded:
                expanded.append(iri)
        return expanded

    def attributes(self, document: object) -> dict[str, list[Instance]]:
        """The attributes of an entity or entity fragment (``id``/``type`` are skipped)."""
        if not isinstance(document, Mapping):
            raise BadRequestData("attributes must be given as a JSON object")
        result: dict[str, list[Instance]] = {}
        for key, raw in document.items():
            if key in ENTITY_MEMBERS:
                continue
            name = self.expand_name(key)
            if name in result:
                raise BadRequestData(f"attribute {key!r} is given twice (same IRI {name})")
            result[name] = self.attribute(name, raw, label=str(key))
        return result

    def attribute(self, name: str, raw: object, *, label: str) -> list[Instance]:
        """Every instance of one attribute (several only when each has a datasetId)."""
        if isinstance(raw, list) and raw and all(looks_like_instance(item) for item in raw):
            instances = [self.instance(item, label=label, depth=0) for item in raw]
            seen: set[str | None] = set()
            for instance in instances:
                dataset = instance.get("datasetId")
                if dataset in seen:
                    shown = dataset or "default"
                    raise BadRequestData(f"attribute {label!r} repeats the {shown} instance")
                seen.add(dataset)
        else:
            instances = [self.instance(raw, label=label, depth=0)]
        if name in GEO_ATTRIBUTES:
            for instance in instances:
                if instance["type"] != GEO_PROPERTY:
                    raise BadRequestData(f"attribute {label!r} must be a GeoProperty")
        return instances

    def instance(self, raw: object, *, label: str, depth: int, partial: bool = False) -> Instance:
        """One attribute instance in any accepted form, as a normalized dict.

        With ``partial`` (a PATCH fragment) the value member may be missing.
        """
        if depth > MAX_DEPTH:
            raise BadRequestData(f"attribute {label!r} nests deeper than {MAX_DEPTH} levels")
        if not isinstance(raw, Mapping):
            return {"type": PROPERTY, "value": check_value(raw, label)}
        kind = infer_kind(raw, label)
        if kind is None:
            # A structured value given in keyValues form.
            return {"type": PROPERTY, "value": check_value(dict(raw), label)}
        if kind == GEO_PROPERTY and text_in(raw.get("type"), GEOMETRY_TYPES):
            return {"type": GEO_PROPERTY, "value": check_geometry(raw, label)}
        instance: Instance = {"type": kind}
        member = VALUE_MEMBER[kind]
        if member in raw:
            if kind == VOCAB_PROPERTY:
                instance[member] = self.vocab(raw[member], label)
            else:
                instance[member] = check_member_value(kind, raw[member], label)
        elif not partial:
            raise BadRequestData(f"attribute {label!r} is a {kind} without '{member}'")
        allowed = ALLOWED_MEMBERS[kind]
        for key, value in raw.items():
            if key == "type" or key == member or key in IGNORED_MEMBERS:
                continue
            if key in allowed:
                instance[key] = check_core_member(key, value, label)
            elif key in CORE_MEMBERS or key in SYSTEM_MEMBERS:
                raise BadRequestData(f"attribute {label!r}: a {kind} has no '{key}'")
            else:
                sub_name = self.expand_name(key, what=f"sub-attribute of {label!r}")
                sub_label = f"{label}.{key}"
                instance[sub_name] = self.instance(value, label=sub_label, depth=depth + 1)
        return instance

    def vocab(self, value: object, label: str) -> str | list[str]:
        """A VocabProperty's term or non-empty list of terms, expanded to IRIs."""
        what = f"vocab of {label!r}"
        if isinstance(value, list):
            if not value:
                raise BadRequestData(f"{what} must not be an empty list")
            return [self.expand_name(term, what=what) for term in value]
        return self.expand_name(value, what=what)


def normalize_fragment(raw: object, context: LdContext, *, label: str) -> Instance:
    """A partial attribute instance (PATCH of one attribute): no member is required.

    Without a ``type`` (or a member implying one) the fragment keeps the stored type.
    """
    if type(raw) is dict and len(raw) == 1:
        # A sensor's new reading, ``{"value": 21.5}``: the checks ``instance`` makes of
        # a number, without a normalizer.
        value = raw.get("value")
        if (type(value) is float and math.isfinite(value)) or (
            type(value) is int and abs(value) < 2**63
        ):
            return {"type": PROPERTY, "value": value}
    normalizer = Normalizer(context)
    if not isinstance(raw, Mapping):
        raise BadRequestData(f"the fragment of attribute {label!r} must be a JSON object")
    if infer_kind(raw, label) is not None:
        return normalizer.instance(raw, label=label, depth=0, partial=True)
    instance = normalizer.instance({**raw, "type": PROPERTY}, label=label, depth=0, partial=True)
    del instance["type"]
    return instance


def text_in(value: object, names: frozenset[str]) -> bool:
    """Whether ``value`` is one of ``names`` (safe for unhashable JSON values)."""
    return isinstance(value, str) and value in names


def looks_like_instance(item: object) -> bool:
    """Whether a list element is an attribute instance rather than part of a value."""
    if not isinstance(item, Mapping):
        return False
    declared = item.get("type")
    if text_in(declared, ATTRIBUTE_KINDS) or declared == VOCABULARY_PROPERTY:
        return True
    return any(key in item for key in CONCISE_MARKERS)


def is_geometry(value: object) -> bool:
    """Whether ``value`` claims to be a GeoJSON geometry (checked by ``check_geometry``)."""
    return isinstance(value, Mapping) and text_in(value.get("type"), GEOMETRY_TYPES)


def infer_kind(raw: Mapping[str, Any], label: str) -> str | None:
    """The attribute kind an object stands for; None for a plain structured value."""
    declared = raw.get("type")
    if declared is None:
        if "value" in raw:
            return GEO_PROPERTY if is_geometry(raw["value"]) else PROPERTY
        for marker, kind in MARKED_KINDS.items():
            if marker in raw:
                return kind
        return None
    if text_in(declared, ATTRIBUTE_KINDS):
        return str(declared)
    if declared == VOCABULARY_PROPERTY:
        return VOCAB_PROPERTY
    if text_in(declared, GEOMETRY_TYPES):
        return GEO_PROPERTY
    raise BadRequestData(f"attribute {label!r} has an unknown type {declared!r}")


def check_value(value: object, label: str) -> object:
    """A Property value: any JSON value but null.

    Text holding NUL and integers beyond 64 bits are refused: neither survives the
    typed copies the database keeps for filtering (PostgreSQL text cannot hold NUL).
    """
    if value is None:
        raise BadRequestData(f"attribute {label!r} has a null value")
    if isinstance(value, float) and not math.isfinite(value):
        raise BadRequestData(f"attribute {label!r} has a non-finite number")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        raise BadRequestData(f"attribute {label!r} has an integer beyond 64 bits")
    if isinstance(value, str):
        if "\x00" in value:
            raise BadRequestData(f"attribute {label!r} has text with a NUL character")
    elif isinstance(value, list | Mapping):
        check_structure(value, label, 0)
    return value


def check_structure(value: object, label: str, depth: int) -> None:
    """A structured value: nested at most MAX_VALUE_DEPTH deep, no NUL in any text.

    PostgreSQL's jsonb refuses NUL, and JSON encoders stop at a nesting depth.
    """
    if depth > MAX_VALUE_DEPTH:
        raise BadRequestData(f"the value of {label!r} nests deeper than {MAX_VALUE_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            raise BadRequestData(f"attribute {label!r} has text with a NUL character")
    elif isinstance(value, list):
        for item in value:
            check_structure(item, label, depth + 1)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_structure(key, label, depth + 1)
            check_structure(item, label, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise BadRequestData(f"attribute {label!r} has a non-finite number")


def check_member_value(kind: str, value: object, label: str) -> object:
    """The value member of a kind: value, object or languageMap."""
    if kind == PROPERTY:
        return check_value(value, label)
    if kind == GEO_PROPERTY:
        return check_geometry(value, label)
    if kind == RELATIONSHIP:
        return check_object(value, label)
    if kind == JSON_PROPERTY:
        return check_json(value, label)
    if kind == LIST_PROPERTY:
        return check_value_list(value, label)
    if kind == LIST_RELATIONSHIP:
        return check_object_list(value, label)
    return check_language_map(value, label)


def check_json(value: object, label: str) -> object:
    """A JsonProperty's ``json``: any JSON but a top-level null, kept as given."""
    if value is None:
        raise BadRequestData(f"JsonProperty {label!r} has a null json")
    check_structure(value, label, 0)
    return value


def check_value_list(value: object, label: str) -> list[Any]:
    """A ListProperty's ``valueList``: a JSON array of values (none of them null)."""
    if not isinstance(value, list):
        raise BadRequestData(f"valueList of {label!r} must be a JSON array")
    return [check_value(item, label) for item in value]


def check_object_list(value: object, label: str) -> list[dict[str, str]]:
    """A ListRelationship's ``objectList`` as ``[{"object": URI}, ...]``.

    Each element is a URI or an object ``{"object": URI}`` (the normalized form).
    """
    if not isinstance(value, list):
        raise BadRequestData(f"objectList of {label!r} must be a JSON array")
    what = f"object in the objectList of {label!r}"
    objects: list[dict[str, str]] = []
    for item in value:
        if isinstance(item, Mapping):
            if set(item) != {"object"}:
                raise BadRequestData(f"each {what} must be a URI or {{'object': URI}}")
            item = item["object"]
        objects.append({"object": check_entity_id(item, what=what)})
    return objects


def check_object(value: object, label: str) -> object:
    """A Relationship's object: one URI or a non-empty list of URIs."""
    if isinstance(value, list):
        if not value:
            raise BadRequestData(f"relationship {label!r} has an empty object list")
        return [check_entity_id(item, what=f"object of {label!r}") for item in value]
    return check_entity_id(value, what=f"object of {label!r}")


def check_language_map(value: object, label: str) -> dict[str, Any]:
    """A LanguageProperty's map of language tags to strings (or lists of strings)."""
    if not isinstance(value, Mapping) or not value:
        raise BadRequestData(f"languageMap of {label!r} must be a non-empty JSON object")
    for tag, text in value.items():
        if not isinstance(tag, str) or LANGUAGE_TAG.match(tag) is None:
            raise BadRequestData(f"languageMap of {label!r} has an invalid language tag {tag!r}")
        strings = text if isinstance(text, list) else [text]
        if not strings or not all(isinstance(item, str) and "\x00" not in item for item in strings):
            raise BadRequestData(f"languageMap of {label!r}: {tag!r} must map to text")
    return dict(value)


def check_core_member(key: str, value: object, label: str) -> object:
    """datasetId, observedAt, unitCode and objectType of an instance."""
    if key == "datasetId":
        return check_entity_id(value, what=f"datasetId of {label!r}")
    if key == "observedAt":
        return format_instant(parse_instant(value, what=f"observedAt of {label!r}"))
    if key == "unitCode":
        if not isinstance(value, str) or UNIT_CODE.match(value) is None:
            raise BadRequestData(f"unitCode of {label!r} must be a short code like 'CEL'")
        return value
    # objectType: a type name or a list of them; kept as given.
    if not isinstance(value, str | list):
        raise BadRequestData(f"objectType of {label!r} must be a type name or list")
    return value


def check_geometry(value: object, label: str) -> dict[str, Any]:
    """A GeoJSON geometry with valid WGS 84 coordinates, as ``{type, coordinates}``."""
    return check_geojson(value, subject=f"GeoProperty {label!r}")


def normalize_entity(document: object, context: LdContext) -> Entity:
    """One entity from a request body, in normalized expanded form."""
    return Normalizer(context).entity(document)


def normalize_attributes(document: object, context: LdContext) -> dict[str, list[Instance]]:
    """The attributes of an entity fragment (``POST``/``PATCH .../attrs``)."""
    return Normalizer(context).attributes(document)
