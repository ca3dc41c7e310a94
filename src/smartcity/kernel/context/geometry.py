"""GeoJSON geometry validation, the one place for it.

Entity GeoProperties, geo-query parameters and device readings all arrive as GeoJSON in
WGS 84; each is checked here, so they accept and refuse exactly the same geometries.
``subject`` names what is checked in the error reason (``coordinates``,
``GeoProperty 'location'``, ``measure 'gps'``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import shapely
import shapely.errors
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from smartcity.kernel.context.errors import BadRequestData

# How deep a geometry's coordinates nest before reaching a [lon, lat] position.
GEOMETRY_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


def _check_position(position: Any, where: str, subject: str) -> None:
    if position == []:
        raise BadRequestData(f"{subject}: {where} is empty; a position is [longitude, latitude]")
    if not isinstance(position, list) or len(position) not in (2, 3):
        raise BadRequestData(f"{subject}: {where} is not a [longitude, latitude] position")
    for number in position:
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise BadRequestData(f"{subject}: {where} holds a non-number {number!r}")
        if not math.isfinite(number):
            raise BadRequestData(f"{subject}: {where} holds a non-finite number")
    longitude, latitude = position[0], position[1]
    if not -180 <= longitude <= 180 or not -90 <= latitude <= 90:
        raise BadRequestData(
            f"{subject}: {where} = [{longitude}, {latitude}] is outside WGS 84 "
            "(longitude -180..180, latitude -90..90)"
        )


def _check_nesting(coordinates: Any, depth: int, where: str, subject: str) -> None:
    if depth == 0:
        _check_position(coordinates, where, subject)
        return
    if not isinstance(coordinates, list) or not coordinates:
        raise BadRequestData(f"{subject}: {where} must be a non-empty array")
    for index, part in enumerate(coordinates):
        _check_nesting(part, depth - 1, f"{where}[{index}]", subject)


def _check_rings(geometry_type: str, coordinates: list[Any], subject: str) -> None:
    polygons = [coordinates] if geometry_type == "Polygon" else coordinates
    if geometry_type in ("Polygon", "MultiPolygon"):
        for polygon in polygons:
            for ring in polygon:
                if len(ring) < 4 or ring[0] != ring[-1]:
                    raise BadRequestData(
                        f"{subject}: a polygon ring needs at least 4 positions and must "
                        "end where it starts"
                    )
    lines = [coordinates] if geometry_type == "LineString" else coordinates
    if geometry_type in ("LineString", "MultiLineString"):
        for line in lines:
            if len(line) < 2:
                raise BadRequestData(f"{subject}: a line needs at least 2 positions")


def geometry_from_parts(
    geometry_type: str, coordinates: Any, *, subject: str = "coordinates"
) -> BaseGeometry:
    """A validated shapely geometry from a GeoJSON type and coordinates (arrays, or their
    JSON text as a geo-query's ``coordinates`` parameter carries them)."""
    if geometry_type not in GEOMETRY_DEPTH:
        raise BadRequestData(
            f"{subject}: unknown geometry {geometry_type!r}; expected one of "
            f"{', '.join(GEOMETRY_DEPTH)}",
            token=geometry_type,
        )
    if isinstance(coordinates, str):
        try:
            coordinates = json.loads(coordinates)
        except ValueError as exc:
            raise BadRequestData(f"{subject}: coordinates are not a JSON array: {exc}") from exc
    _check_nesting(coordinates, GEOMETRY_DEPTH[geometry_type], "coordinates", subject)
    _check_rings(geometry_type, coordinates, subject)
    try:
        geometry: BaseGeometry = shape({"type": geometry_type, "coordinates": coordinates})
    except (ValueError, TypeError, IndexError, shapely.errors.ShapelyError) as exc:
        raise BadRequestData(f"{subject}: invalid {geometry_type}: {exc}") from exc
    if geometry.is_empty:
        raise BadRequestData(f"{subject}: invalid {geometry_type}: the geometry is empty")
    # Only areas can be invalid in a way GeoJSON forbids (rings crossing themselves); a
    # line through repeated positions is still a GeoJSON LineString (RFC 7946).
    if geometry_type in ("Polygon", "MultiPolygon") and not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry)
        raise BadRequestData(f"{subject}: invalid {geometry_type}: {reason}")
    return geometry


def check_geojson(value: object, *, subject: str) -> dict[str, Any]:
    """A GeoJSON geometry object, validated, as ``{"type", "coordinates"}``."""
    if not isinstance(value, Mapping):
        raise BadRequestData(f"{subject} must hold a GeoJSON geometry object")
    geometry_type = value.get("type")
    coordinates = value.get("coordinates")
    if not isinstance(geometry_type, str):
        raise BadRequestData(f"{subject}: a GeoJSON geometry needs a type")
    if not isinstance(coordinates, list):
        raise BadRequestData(
            f"{subject}: a GeoJSON geometry needs coordinates, an array of positions"
        )
    geometry_from_parts(geometry_type, coordinates, subject=subject)
    return {"type": geometry_type, "coordinates": coordinates}
