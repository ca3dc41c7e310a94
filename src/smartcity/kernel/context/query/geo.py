"""Geo-queries (NGSI-LD clause 4.10): parsing, validation and exact evaluation.

A :class:`GeoQuery` names a relation (``georel``), a reference geometry and the
GeoProperty it tests (``location`` by default). Distances are metres on a sphere
(radius 6,371,008.8 m): haversine between points; other shapes are measured in a local
equirectangular projection around the reference geometry, exact enough at city scale.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import shapely
import shapely.errors
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.context.geometry import geometry_from_parts

LOCATION = "https://uri.etsi.org/ngsi-ld/location"
EARTH_RADIUS = 6_371_008.8
METRES_PER_DEGREE = EARTH_RADIUS * math.pi / 180
# Depth of nesting of each geometry's coordinates (0 = one position).
Georel = Literal["near", "within", "contains", "intersects", "equals", "disjoint", "overlaps"]
GEORELS: frozenset[str] = frozenset(
    {"near", "within", "contains", "intersects", "equals", "disjoint", "overlaps"}
)


@dataclass(frozen=True)
class GeoQuery:
    """A validated geo-query; ``geoproperty`` is an expanded IRI."""

    georel: Georel
    geometry: BaseGeometry
    geoproperty: str = LOCATION
    max_distance: float | None = None
    min_distance: float | None = None

    def search_box(self) -> tuple[float, float, float, float] | None:
        """(west, south, east, north) any matching location's box must intersect, or None."""
        if self.georel == "disjoint" or self.min_distance is not None:
            return None
        west, south, east, north = self.geometry.bounds
        if self.max_distance is None:
            return (west, south, east, north)
        # Widen a little beyond the distance so rounding never loses a candidate.
        margin = self.max_distance * 1.01 + 1.0
        delta_latitude = margin / METRES_PER_DEGREE
        south, north = max(south - delta_latitude, -90.0), min(north + delta_latitude, 90.0)
        widest = max(abs(south), abs(north))
        cosine = max(math.cos(math.radians(widest)), 0.01)
        delta_longitude = min(margin / (METRES_PER_DEGREE * cosine), 360.0)
        return (west - delta_longitude, south, east + delta_longitude, north)


def parse_georel(text: str) -> tuple[Georel, float | None, float | None]:
    """``near;maxDistance==N``, ``near;minDistance==N`` or a plain relation."""
    parts = text.split(";")
    relation = parts[0]
    if relation not in GEORELS:
        raise BadRequestData(
            f"unknown georel {relation!r}; expected one of {', '.join(sorted(GEORELS))}",
            token=relation,
        )
    if relation != "near":
        if len(parts) > 1:
            raise BadRequestData(f"georel {relation!r} takes no modifier", token=text)
        return relation, None, None  # type: ignore[return-value]
    if len(parts) != 2:
        raise BadRequestData("georel near needs ;maxDistance==N or ;minDistance==N", token=text)
    name, _, number = parts[1].partition("==")
    if name not in ("maxDistance", "minDistance"):
        raise BadRequestData(
            f"georel near: expected maxDistance or minDistance, got {name!r}", token=parts[1]
        )
    try:
        distance = float(number)
    except ValueError:
        distance = -1.0
    if not math.isfinite(distance) or distance < 0:
        raise BadRequestData(
            f"georel near: {name} must be a non-negative number of metres", token=number
        )
    if name == "maxDistance":
        return "near", distance, None
    return "near", None, distance


def build_geo_query(
    *,
    georel: str | None,
    geometry: str | None,
    coordinates: str | Sequence[Any] | None,
    geoproperty: str | None = None,
    expand: Callable[[str], str] = lambda term: term,
) -> GeoQuery | None:
    """The geo-query of a request's ``georel``/``geometry``/``coordinates``/``geoproperty``.

    None when none of them is given; BadRequestData when some are missing or invalid.
    ``geoproperty`` is expanded with ``expand`` (``location`` by default).
    """
    given = {"georel": georel, "geometry": geometry, "coordinates": coordinates}
    if all(value is None for value in given.values()):
        if geoproperty is not None:
            raise BadRequestData("geoproperty needs georel, geometry and coordinates")
        return None
    missing = [name for name, value in given.items() if value is None]
    if missing:
        raise BadRequestData(f"a geo-query also needs {', '.join(missing)}")
    relation, max_distance, min_distance = parse_georel(str(georel))
    if not isinstance(coordinates, str | list | tuple):
        raise BadRequestData("coordinates must be a JSON array (or its text)")
    if not isinstance(coordinates, str):
        coordinates = list(coordinates)
    reference = geometry_from_parts(str(geometry), coordinates)
    target = LOCATION if geoproperty in (None, "location") else expand(str(geoproperty))
    return GeoQuery(relation, reference, target, max_distance, min_distance)


def geometry_from_value(value: Any) -> BaseGeometry | None:
    """The geometry of a stored GeoProperty value (GeoJSON dict or text), None if unusable."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, dict):
        return None
    try:
        geometry: BaseGeometry = shape(value)
    except (
        ValueError,
        TypeError,
        IndexError,
        KeyError,
        AttributeError,
        shapely.errors.ShapelyError,
    ):
        return None
    return None if geometry.is_empty else geometry


def _haversine(a: Point, b: Point) -> float:
    latitude_a, latitude_b = math.radians(a.y), math.radians(b.y)
    half_latitude = (latitude_b - latitude_a) / 2
    half_longitude = math.radians(b.x - a.x) / 2
    h = math.sin(half_latitude) ** 2 + math.cos(latitude_a) * math.cos(latitude_b) * (
        math.sin(half_longitude) ** 2
    )
    return 2 * EARTH_RADIUS * math.asin(min(1.0, math.sqrt(h)))


def distance_metres(location: BaseGeometry, reference: BaseGeometry) -> float:
    """Metres between a location and a reference geometry (see the module docstring)."""
    if isinstance(location, Point) and isinstance(reference, Point):
        return _haversine(location, reference)
    origin = reference.centroid
    scale_x = METRES_PER_DEGREE * math.cos(math.radians(origin.y))

    def project(coordinates: Any) -> Any:
        shifted = np.asarray(coordinates, dtype=float) - (origin.x, origin.y)
        return shifted * (scale_x, METRES_PER_DEGREE)

    return float(
        shapely.transform(location, project).distance(shapely.transform(reference, project))
    )


def geo_matches(location: BaseGeometry | None, query: GeoQuery) -> bool:
    """Whether a location satisfies the geo-query (no location: never)."""
    if location is None:
        return False
    reference = query.geometry
    if query.georel == "near":
        distance = distance_metres(location, reference)
        if query.max_distance is not None:
            return distance <= query.max_distance
        return distance >= (query.min_distance or 0.0)
    relations: dict[str, Callable[[BaseGeometry], bool]] = {
        "within": location.within,
        "contains": location.contains,
        "intersects": location.intersects,
        "equals": location.equals,
        "disjoint": location.disjoint,
        "overlaps": location.overlaps,
    }
    return bool(relations[query.georel](reference))
