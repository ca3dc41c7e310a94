"""JSON responses rendered with orjson.

FastAPI deprecated its ``ORJSONResponse`` because typed routes are serialized by pydantic
directly; routes that return plain documents (GeoJSON, problem documents) still need a
fast renderer, and these are it.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


def _fallback(value: Any) -> Any:
    """Render what orjson does not know (Decimal, Path, sets) instead of failing."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def dump_json(content: Any) -> bytes:
    """Serialize ``content`` to compact UTF-8 JSON bytes."""
    return orjson.dumps(content, default=_fallback, option=orjson.OPT_NON_STR_KEYS)


class JsonResponse(Response):
    """``application/json`` rendered with orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialize the response body."""
        return dump_json(content)


class GeoJsonResponse(JsonResponse):
    """A GeoJSON document (RFC 7946 media type)."""

    media_type = "application/geo+json"


class ProblemResponse(JsonResponse):
    """An RFC 7807 problem document."""

    media_type = "application/problem+json"
