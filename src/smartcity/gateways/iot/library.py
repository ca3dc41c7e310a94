"""What the IoT agent needs of the city information library, and where to find it.

The agent writes through ``ContextLibrary.upsert_entities(tenant, entities, mode)``
(``smartcity.kernel.context.library``, reachable as ``platform.context``). It names only
this protocol, so tests and benchmarks can hand it any object with that method.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from smartcity.kernel.platform import Platform

UpsertMode = Literal["replace", "update"]


@runtime_checkable
class ContextWriter(Protocol):
    """The one library method the agent calls."""

    def upsert_entities(
        self, tenant: str, entities: Sequence[dict[str, Any]], /, mode: UpsertMode
    ) -> Any:
        """Create missing entities and merge the given attributes into existing ones."""
        ...


def context_library(platform: Platform) -> ContextWriter:
    """The platform's information library (``platform.context``)."""
    library: ContextWriter = platform.context
    return library


def batch_errors(result: Any) -> list[Any]:
    """The per-entity errors of an upsert's result (its ``errors``, if it reports any)."""
    errors = getattr(result, "errors", None)
    if errors is None and isinstance(result, dict):
        errors = result.get("errors")
    return list(errors or [])
