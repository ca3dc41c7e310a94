"""The three temporal representations of an entity (ETSI GS CIM 009 clause 4.5.7+).

- normalized: each attribute is the list of its instances, each the stored normalized
  attribute plus ``instanceId`` (and ``createdAt``/``modifiedAt`` with sysAttrs);
- simplified (``options=temporalValues``): per attribute instance (datasetId)
  ``{"type": "Property", "values": [[value, time], ...]}`` (``objects`` for a
  Relationship, ``languageMaps`` for a LanguageProperty, ...);
- aggregated (``options=aggregatedValues``): per attribute instance
  ``{"type": "Property", "avg": [[value, startAt, endAt], ...], ...}``.

The three build documents with expanded names; :func:`compacted` then names types,
attributes and sub-attributes with the request's @context.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from smartcity.kernel.context.jsonld import LdContext
from smartcity.kernel.context.representation import localized
from smartcity.kernel.context.temporal import AttributeInstance, Period, TemporalEntity
from smartcity.kernel.context.temporal_params import AggregationMethod, TimeProperty

# The member holding an attribute's value, and its plural in the simplified form.
VALUE_MEMBERS: dict[str, tuple[str, str]] = {
    "Relationship": ("object", "objects"),
    "LanguageProperty": ("languageMap", "languageMaps"),
    "VocabProperty": ("vocab", "vocabs"),
    "ListProperty": ("valueList", "valueLists"),
    "ListRelationship": ("objectList", "objectLists"),
    "JsonProperty": ("json", "jsons"),
}
DEFAULT_VALUE_MEMBER = ("value", "values")
SYSTEM_MEMBERS = ("createdAt", "modifiedAt")


def format_time(instant: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``: ``2026-11-21T09:00:00Z`` (fraction only if any)."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _grouped(entity: TemporalEntity) -> dict[str, dict[str, list[AttributeInstance]]]:
    groups: dict[str, dict[str, list[AttributeInstance]]] = {}
    for instance in entity.instances:
        groups.setdefault(instance.name, {}).setdefault(instance.dataset_id, []).append(instance)
    return groups


def _one_or_many(items: list[dict[str, Any]]) -> dict[str, Any] | list[dict[str, Any]]:
    return items[0] if len(items) == 1 else items


def normalized(entity: TemporalEntity, *, sys_attrs: bool = False) -> dict[str, Any]:
    """The normalized temporal representation (expanded names)."""
    document: dict[str, Any] = {"id": entity.id, "type": entity.type}
    for instance in entity.instances:
        attribute = {k: v for k, v in instance.attribute.items() if k not in SYSTEM_MEMBERS}
        attribute.setdefault("type", instance.kind)
        if instance.observed_at is not None:
            attribute["observedAt"] = format_time(instance.observed_at)
        if instance.dataset_id:
            attribute["datasetId"] = instance.dataset_id
        attribute["instanceId"] = instance.instance_id
        if sys_attrs:
            attribute["createdAt"] = format_time(instance.recorded_at)
            attribute["modifiedAt"] = format_time(instance.recorded_at)
        document.setdefault(instance.name, []).append(attribute)
    return document


def localized_entity(entity: TemporalEntity, ranges: Sequence[str]) -> TemporalEntity:
    """``entity`` with each LanguageProperty value as the Property of the language chosen
    from ``ranges`` (the ``lang`` parameter), as :func:`localized` does on retrieval."""
    instances = []
    for instance in entity.instances:
        attribute = {"type": instance.kind, **instance.attribute}
        shown = localized(attribute, ranges)
        if shown is attribute:
            instances.append(instance)
            continue
        instances.append(replace(instance, attribute=dict(shown), kind=str(shown["type"])))
    return replace(entity, instances=instances)


def _instant(instance: AttributeInstance, timeproperty: TimeProperty) -> datetime:
    if timeproperty == "observedAt" and instance.observed_at is not None:
        return instance.observed_at
    return instance.recorded_at


def simplified(
    entity: TemporalEntity, *, timeproperty: TimeProperty = "observedAt"
) -> dict[str, Any]:
    """The simplified temporal representation (``options=temporalValues``)."""
    document: dict[str, Any] = {"id": entity.id, "type": entity.type}
    for name, datasets in _grouped(entity).items():
        items: list[dict[str, Any]] = []
        for dataset_id, history in datasets.items():
            kind = history[-1].kind
            single, plural = VALUE_MEMBERS.get(kind, DEFAULT_VALUE_MEMBER)
            item: dict[str, Any] = {"type": kind}
            if dataset_id:
                item["datasetId"] = dataset_id
            item[plural] = [
                [instance.attribute.get(single), format_time(_instant(instance, timeproperty))]
                for instance in history
            ]
            items.append(item)
        document[name] = _one_or_many(items)
    return document


def aggregated(entity: TemporalEntity, methods: Iterable[AggregationMethod]) -> dict[str, Any]:
    """The aggregated temporal representation (``options=aggregatedValues``).

    Periods without data are absent; a method with no value in a period (a numeric
    aggregate over text values) leaves that period out of the method's list.
    """
    wanted = tuple(methods)
    groups: dict[str, dict[str, list[Period]]] = {}
    for period in entity.periods:
        groups.setdefault(period.name, {}).setdefault(period.dataset_id, []).append(period)
    document: dict[str, Any] = {"id": entity.id, "type": entity.type}
    for name, datasets in groups.items():
        items: list[dict[str, Any]] = []
        for dataset_id, periods in datasets.items():
            item: dict[str, Any] = {"type": periods[-1].kind}
            if dataset_id:
                item["datasetId"] = dataset_id
            for method in wanted:
                item[method] = [
                    [period.values[method], format_time(period.start), format_time(period.end)]
                    for period in periods
                    if method in period.values
                ]
            items.append(item)
        document[name] = _one_or_many(items)
    return document


# Members of attributes and their temporal forms that are NGSI-LD keywords: never
# compacted, and their values are data, not names.
CORE_MEMBERS = frozenset(
    {"id", "type", "datasetId", "instanceId", "observedAt", "unitCode", "lang", "@context"}
    | set(SYSTEM_MEMBERS)
    | {member for pair in (*VALUE_MEMBERS.values(), DEFAULT_VALUE_MEMBER) for member in pair}
    | {"totalCount", "distinctCount", "sum", "avg", "min", "max", "stddev", "sumsq"}
)


def _compact_vocab(value: Any, context: LdContext) -> Any:
    """A VocabProperty's value (an IRI or a list of them) compacted, as on retrieval."""
    if isinstance(value, list):
        return [context.compact_iri(iri) if isinstance(iri, str) else iri for iri in value]
    return context.compact_iri(value) if isinstance(value, str) else value


def _compact_members(item: Any, context: LdContext) -> Any:
    if isinstance(item, list):
        return [_compact_members(element, context) for element in item]
    if not isinstance(item, dict):
        return item
    vocabulary = item.get("type") == "VocabProperty"
    compacted: dict[str, Any] = {}
    for key, value in item.items():
        if vocabulary and key == "vocab":
            compacted[key] = _compact_vocab(value, context)
        elif vocabulary and key == "vocabs" and isinstance(value, list):
            compacted[key] = [
                [_compact_vocab(pair[0], context), *pair[1:]] if isinstance(pair, list) else pair
                for pair in value
            ]
        elif key in CORE_MEMBERS:
            compacted[key] = value
        else:  # a sub-attribute, itself an attribute
            compacted[context.compact_iri(key)] = _compact_members(value, context)
    return compacted


def compacted(document: dict[str, Any], context: LdContext) -> dict[str, Any]:
    """A temporal entity with its type, attribute and sub-attribute names compacted."""
    result: dict[str, Any] = {"id": document["id"], "type": context.compact_iri(document["type"])}
    for key, value in document.items():
        if key not in ("id", "type"):
            result[context.compact_iri(key)] = _compact_members(value, context)
    return result
