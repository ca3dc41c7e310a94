"""Events of the information library, published after the change commits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal

from smartcity.kernel.bus import Event

ChangeOperation = Literal["create", "update", "replace", "delete"]


@dataclass(frozen=True)
class EntityChanged(Event):
    """An entity was created, changed or deleted.

    ``entity`` is the entity after the change (before it, for ``delete``) in the
    normalized, *expanded* form with system attributes: ``{"id", "type": [...],
    "createdAt", "modifiedAt", "<attribute IRI>": [instance, ...]}`` where each instance
    is a normalized attribute dict (``type``, ``value``/``object``/..., ``datasetId``,
    ``observedAt``, sub-attributes by IRI, ``createdAt``/``modifiedAt``).
    ``attributes`` names (expanded) the attributes this change touched.
    """

    topic: ClassVar[str] = "context.entity_changed"

    tenant: str
    entity_id: str
    types: tuple[str, ...]
    operation: ChangeOperation
    attributes: tuple[str, ...]
    entity: Mapping[str, Any]
    at: datetime
