"""Rows of temporal history written straight into ``context_instance`` for the tests.

The library's write path stores one row per attribute value; these helpers write the
same rows directly, so the temporal read side is tested on its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from smartcity.kernel.context.series import fill_series
from smartcity.kernel.context.tables import context_instance
from smartcity.kernel.storage import Store

VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
START = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
_sequence = count(1)


def iri(term: str) -> str:
    """The default-context expansion of a term."""
    return VOCAB + term


def at(hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime:
    """An instant relative to START."""
    return START + timedelta(hours=hours, minutes=minutes, seconds=seconds)


def row(
    entity_id: str,
    name: str,
    value: Any,
    observed_at: datetime | None,
    *,
    entity_type: str = "AirQualityObserved",
    tenant: str = "",
    dataset_id: str = "",
    kind: str = "Property",
    recorded_at: datetime | None = None,
    deleted: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One history row as the library's write path stores it (names expanded)."""
    member = {"Relationship": "object", "LanguageProperty": "languageMap"}.get(kind, "value")
    attribute: dict[str, Any] = {"type": kind, member: value}
    if observed_at is not None:
        attribute["observedAt"] = observed_at.isoformat().replace("+00:00", "Z")
    if dataset_id:
        attribute["datasetId"] = dataset_id
    attribute.update(extra or {})
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return {
        "tenant": tenant,
        "entity_id": entity_id,
        "entity_type": iri(entity_type),
        "name": iri(name),
        "dataset_id": dataset_id,
        "instance_id": f"urn:ngsi-ld:attribute:instance:{next(_sequence)}",
        "kind": kind,
        "value_number": float(value) if is_number else None,
        "value_text": value if isinstance(value, str) else None,
        "value_bool": value if isinstance(value, bool) else None,
        "value_json": json.dumps(attribute),
        "observed_at": observed_at,
        "unit_code": None,
        "recorded_at": recorded_at or observed_at or START,
        "deleted": deleted,
    }


def insert(store: Store, rows: Iterable[Mapping[str, Any]]) -> None:
    """Write history rows in one transaction."""
    with store.begin() as conn:
        written = [dict(row) for row in rows]
        fill_series(conn, written)
        store.bulk_insert(conn, context_instance, written)
