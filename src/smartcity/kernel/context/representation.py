"""Render normalized, expanded entities in the representation a client asked for.

Three formats (ETSI GS CIM 009, 4.5): **normalized** (every attribute an object with its
``type``), **keyValues** (``options=keyValues`` or ``format=simplified``: each attribute
reduced to its value) and **concise** (``options=concise``: the least that still reads
back to the same normalized entity). Names are compacted through the request's @context;
``sys_attrs`` adds ``createdAt``/``modifiedAt``; ``attrs`` projects onto some attributes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from smartcity.kernel.context.model import (
    GEO_PROPERTY,
    INSTANCE_MEMBERS,
    PROPERTY,
    SYSTEM_MEMBERS,
    VALUE_MEMBER,
    Entity,
    LdContext,
    RepresentationFormat,
)
from smartcity.kernel.context.normalize import is_geometry

SCALARS = (str, int, float, bool)


class Renderer:
    """Renders entities for one request; compacted names are cached across entities."""

    def __init__(
        self,
        context: LdContext,
        *,
        format: RepresentationFormat = "normalized",
        sys_attrs: bool = False,
        attrs: Collection[str] | None = None,
    ) -> None:
        self.context = context
        self.format = format
        self.sys_attrs = sys_attrs
        self.attrs = frozenset(attrs) if attrs is not None else None
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
        types = [self.compact(iri) for iri in entity["type"]]
        rendered: dict[str, Any] = {
            "id": entity["id"],
            "type": types[0] if len(types) == 1 else types,
        }
        if self.sys_attrs:
            for member in ("createdAt", "modifiedAt"):
                if member in entity:
                    rendered[member] = entity[member]
        for name, instances in entity.items():
            if name in ("id", "type") or name in SYSTEM_MEMBERS:
                continue
            if self.attrs is not None and name not in self.attrs:
                continue
            rendered[self.compact(name)] = self.attribute(instances)
        return rendered

    def attribute(self, instances: list[dict[str, Any]]) -> Any:
        """All instances of one attribute (a single one unwrapped from its list)."""
        if self.format == "keyValues":
            values = [instance[VALUE_MEMBER[instance["type"]]] for instance in instances]
            return values[0] if len(values) == 1 else values
        several = len(instances) > 1
        if self.format == "concise":
            rendered = [self.concise(instance, force_object=several) for instance in instances]
        else:
            rendered = [self.normalized(instance) for instance in instances]
        return rendered if several else rendered[0]

    def normalized(self, instance: Mapping[str, Any]) -> dict[str, Any]:
        """One instance with every member and sub-attribute."""
        rendered: dict[str, Any] = {}
        for key, value in instance.items():
            if key in INSTANCE_MEMBERS:
                if key in SYSTEM_MEMBERS and not self.sys_attrs:
                    continue
                rendered[key] = value
            else:
                rendered[self.compact(key)] = self.normalized(value)
        return rendered

    def concise(self, instance: Mapping[str, Any], *, force_object: bool = False) -> Any:
        """One instance in concise form: ``type`` dropped wherever it can be inferred."""
        kind = instance["type"]
        member = VALUE_MEMBER[kind]
        value = instance[member]
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
) -> dict[str, Any]:
    """``entity`` (normalized, expanded) as a client sees it through ``context``."""
    return Renderer(context, format=format, sys_attrs=sys_attrs, attrs=attrs).entity(entity)
