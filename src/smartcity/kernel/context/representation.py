"""Render normalized, expanded entities in the representation a client asked for.

Three formats (ETSI GS CIM 009, 4.5): **normalized** (every attribute an object with its
``type``), **keyValues** (``options=keyValues`` or ``format=simplified``: each attribute
reduced to its value) and **concise** (``options=concise``: the least that still reads
back to the same normalized entity). Names are compacted through the request's @context,
and so are a VocabProperty's terms; ``sys_attrs`` adds ``createdAt``/``modifiedAt``.

Projection: ``attrs`` and ``pick`` keep only the members they name (``pick`` may name
``id`` and ``type`` too), ``omit`` drops the members it names (v1.8).

Languages: with ``lang`` (ranges as in HTTP ``Accept-Language``: ``zh,en;q=0.8,*``)
every LanguageProperty is rendered as a Property whose ``value`` is its text in the best
matching language and whose ``lang`` says which language that is (clause 4.15). Without
a match the ``@none`` text is taken, else the first language the map holds: a client
always gets a value, and ``lang`` tells it what it got.

In keyValues, the kinds whose value could be mistaken for a Property's keep their value
member (clause 4.5.4): ``{"languageMap": ..}``, ``{"json": ..}``, ``{"vocab": ..}``,
``{"valueList": ..}``, ``{"objectList": ..}``, so that a keyValues document posted back
creates the same kinds.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from smartcity.kernel.context.errors import BadRequestData, ResourceNotFound
from smartcity.kernel.context.model import (
    GEO_PROPERTY,
    INSTANCE_MEMBERS,
    JSON_PROPERTY,
    LANGUAGE_PROPERTY,
    LIST_PROPERTY,
    LIST_RELATIONSHIP,
    PROPERTY,
    SYSTEM_MEMBERS,
    VALUE_MEMBER,
    VOCAB_PROPERTY,
    Entity,
    LdContext,
    RepresentationFormat,
)
from smartcity.kernel.context.normalize import LANGUAGE_TAG, is_geometry

SCALARS = (str, int, float, bool)
# Kinds whose keyValues form keeps the value member (see the module docstring).
WRAPPED_IN_KEY_VALUES = frozenset(
    {LANGUAGE_PROPERTY, JSON_PROPERTY, VOCAB_PROPERTY, LIST_PROPERTY, LIST_RELATIONSHIP}
)
# Kinds whose keyValues form is the bare ``value``.
PLAIN_VALUED = frozenset({PROPERTY, GEO_PROPERTY})
ANY_LANGUAGE = "*"
NO_LANGUAGE = "@none"
MAX_LANGUAGE_RANGES = 32
QUALITY = re.compile(r"q=(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\Z")


def parse_language_ranges(text: str) -> tuple[str, ...]:
    """The language ranges of a ``lang`` parameter, most preferred first, lower-cased.

    ``zh-CN,en;q=0.8,*;q=0.1`` gives ``("zh-cn", "en", "*")``; ranges with ``q=0`` are
    left out. BadRequestData for anything that is not such a list.
    """
    ranked: list[tuple[float, int, str]] = []
    parts = text.split(",")
    if len(parts) > MAX_LANGUAGE_RANGES:
        raise BadRequestData(f"lang names more than {MAX_LANGUAGE_RANGES} language ranges")
    for position, part in enumerate(parts):
        tag, _semicolon, weight = (piece.strip() for piece in part.partition(";"))
        if tag != ANY_LANGUAGE and (LANGUAGE_TAG.match(tag) is None or tag == NO_LANGUAGE):
            raise BadRequestData(f"lang: {tag!r} is not a language tag")
        quality = 1.0
        if weight:
            if QUALITY.match(weight) is None:
                raise BadRequestData(f"lang: {weight!r} is not a quality like q=0.8")
            quality = float(weight[2:])
        if quality > 0:
            ranked.append((-quality, position, tag.lower()))
    return tuple(tag for _quality, _position, tag in sorted(ranked))


def choose_language(language_map: Mapping[str, Any], ranges: Sequence[str]) -> str:
    """The tag of ``language_map`` that best meets ``ranges`` (basic filtering, RFC 4647).

    A range matches a tag equal to it or starting with it and ``-`` (``en`` matches
    ``en-GB``); ``*`` matches any tag. Without a match: ``@none`` if present, else the
    map's first tag.
    """
    tags = [tag for tag in language_map if tag != NO_LANGUAGE]
    for wanted in ranges:
        if wanted == ANY_LANGUAGE:
            if tags:
                return tags[0]
            continue
        for tag in tags:
            lowered = tag.lower()
            if lowered == wanted or lowered.startswith(wanted + "-"):
                return tag
    if NO_LANGUAGE in language_map:
        return NO_LANGUAGE
    return next(iter(language_map))


def localized(instance: Mapping[str, Any], ranges: Sequence[str]) -> Mapping[str, Any]:
    """A LanguageProperty as the Property of the chosen language; sub-attributes too."""
    result: dict[str, Any] = {}
    changed = False
    for key, value in instance.items():
        if key not in INSTANCE_MEMBERS and isinstance(value, Mapping):
            converted = localized(value, ranges)
            changed = changed or converted is not value
            result[key] = converted
        else:
            result[key] = value
    if instance.get("type") == LANGUAGE_PROPERTY:
        language_map = result.pop("languageMap")
        tag = choose_language(language_map, ranges)
        result["type"] = PROPERTY
        result["value"] = language_map[tag]
        result["lang"] = tag
        return result
    return result if changed else instance


class Renderer:
    """Renders entities for one request; compacted names are cached across entities."""

    def __init__(
        self,
        context: LdContext,
        *,
        format: RepresentationFormat = "normalized",
        sys_attrs: bool = False,
        attrs: Collection[str] | None = None,
        pick: Collection[str] | None = None,
        omit: Collection[str] | None = None,
        lang: Sequence[str] | None = None,
    ) -> None:
        self.context = context
        self.format = format
        self.sys_attrs = sys_attrs
        self.attrs = frozenset(attrs) if attrs is not None else None
        self.pick = frozenset(pick) if pick is not None else None
        self.omit = frozenset(omit) if omit is not None else frozenset()
        self.lang = tuple(lang) if lang is not None else None
        self.projecting = self.pick is not None or bool(self.omit)
        self._terms: dict[str, str] = {}

    def compact(self, iri: str) -> str:
        """The request's term for an IRI."""
        term = self._terms.get(iri)
        if term is None:
            term = self.context.compact_iri(iri)
            self._terms[iri] = term
        return term

    def entity(self, entity: Mapping[str, Any]) -> dict[str, Any]:
        """One entity in the chosen format."""
        rendered: dict[str, Any] = {}
        if self.shows("id"):
            rendered["id"] = entity["id"]
        if self.shows("type"):
            types = [self.compact(iri) for iri in entity["type"]]
            rendered["type"] = types[0] if len(types) == 1 else types
        if self.sys_attrs:
            for member in ("createdAt", "modifiedAt"):
                if member in entity:
                    rendered[member] = entity[member]
        for name, instances in entity.items():
            if name in ("id", "type") or name in SYSTEM_MEMBERS:
                continue
            if self.attrs is not None and name not in self.attrs:
                continue
            if self.projecting and not self.shows(name):
                continue
            rendered[self.compact(name)] = self.attribute(instances)
        return rendered

    def shows(self, member: str) -> bool:
        """Whether ``pick``/``omit`` let a member (``id``, ``type``, an attribute IRI) through."""
        if member in self.omit:
            return False
        return self.pick is None or member in self.pick

    def attribute_of(self, entity: Mapping[str, Any], name: str) -> Any:
        """One attribute of an entity (Retrieve Attribute); ResourceNotFound if absent."""
        instances = entity.get(name)
        if not instances or name in ("id", "type") or name in SYSTEM_MEMBERS:
            raise ResourceNotFound(
                f"entity {entity['id']} has no attribute {self.compact(name)}", id=entity["id"]
            )
        return self.attribute(instances)

    def attribute(self, instances: Sequence[Mapping[str, Any]]) -> Any:
        """All instances of one attribute (a single one unwrapped from its list)."""
        if self.lang is not None:
            instances = [localized(instance, self.lang) for instance in instances]
        if self.format == "keyValues":
            values = [
                # The common kinds inline: this runs for every attribute of every entity.
                instance["value"] if instance["type"] in PLAIN_VALUED else self.key_value(instance)
                for instance in instances
            ]
            return values[0] if len(values) == 1 else values
        several = len(instances) > 1
        if self.format == "concise":
            rendered = [self.concise(instance, force_object=several) for instance in instances]
        else:
            rendered = [self.normalized(instance) for instance in instances]
        return rendered if several else rendered[0]

    def key_value(self, instance: Mapping[str, Any]) -> Any:
        """One instance in keyValues form."""
        kind = instance["type"]
        member = VALUE_MEMBER[kind]
        value = self.value_of(kind, instance[member])
        return {member: value} if kind in WRAPPED_IN_KEY_VALUES else value

    def value_of(self, kind: str, value: Any) -> Any:
        """A value member as the client sees it: a VocabProperty's IRIs compacted."""
        if kind != VOCAB_PROPERTY:
            return value
        if isinstance(value, list):
            return [self.compact(iri) for iri in value]
        return self.compact(value)

    def normalized(self, instance: Mapping[str, Any]) -> dict[str, Any]:
        """One instance with every member and sub-attribute."""
        rendered: dict[str, Any] = {}
        for key, value in instance.items():
            if key in INSTANCE_MEMBERS:
                if key in SYSTEM_MEMBERS and not self.sys_attrs:
                    continue
                rendered[key] = self.value_of(instance["type"], value) if key == "vocab" else value
            else:
                rendered[self.compact(key)] = self.normalized(value)
        return rendered

    def concise(self, instance: Mapping[str, Any], *, force_object: bool = False) -> Any:
        """One instance in concise form: ``type`` dropped wherever it can be inferred."""
        kind = instance["type"]
        member = VALUE_MEMBER[kind]
        value = self.value_of(kind, instance[member])
        rest: dict[str, Any] = {}
        for key, item in instance.items():
            if key in ("type", member):
                continue
            if key in INSTANCE_MEMBERS:
                if key in SYSTEM_MEMBERS and not self.sys_attrs:
                    continue
                rest[key] = item
            else:
                rest[self.compact(key)] = self.concise(item)
        if not rest and not force_object:
            if kind == PROPERTY and isinstance(value, SCALARS):
                return value
            if kind == GEO_PROPERTY:
                return value
        rendered: dict[str, Any] = {member: value}
        # A Property holding a geometry would read back as a GeoProperty without it.
        if kind == PROPERTY and is_geometry(value):
            rendered["type"] = PROPERTY
        rendered.update(rest)
        return rendered


def render_entity(
    entity: Entity,
    context: LdContext,
    *,
    format: RepresentationFormat = "normalized",
    sys_attrs: bool = False,
    attrs: Collection[str] | None = None,
    pick: Collection[str] | None = None,
    omit: Collection[str] | None = None,
    lang: Sequence[str] | None = None,
) -> dict[str, Any]:
    """``entity`` (normalized, expanded) as a client sees it through ``context``."""
    renderer = Renderer(
        context, format=format, sys_attrs=sys_attrs, attrs=attrs, pick=pick, omit=omit, lang=lang
    )
    return renderer.entity(entity)
