"""Reading the geography: areas by level or parent, one area by code, GeoJSON for maps."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping
from sqlalchemy import Row, select

from smartcity.kernel.errors import NotFound
from smartcity.kernel.geo.codes import AreaLevel, area_level, parse_code
from smartcity.kernel.geo.models import Area
from smartcity.kernel.geo.tables import geo_area
from smartcity.kernel.storage import Store

# Map pages draw whole districts and streets at city zoom: dropping wiggles smaller than
# this (degrees, ~100 m / ~30 m) keeps the page light without visible change.
SIMPLIFY_DEGREES: dict[AreaLevel, float] = {
    AreaLevel.CITY: 0.001,
    AreaLevel.DISTRICT: 0.001,
    AreaLevel.STREET: 0.0003,
}
GEOJSON_DECIMALS = 5


def load_areas(store: Store, level: AreaLevel | str, parent_code: str | None = None) -> list[Area]:
    """Every area of ``level`` (optionally only the children of ``parent_code``), by code."""
    wanted = area_level(level) if not isinstance(level, AreaLevel) else level
    query = select(geo_area).where(geo_area.c.level == wanted.value)
    if parent_code is not None:
        parse_code(parent_code)
        query = query.where(geo_area.c.parent_code == parent_code)
    with store.connect() as conn:
        rows = conn.execute(query.order_by(geo_area.c.code)).all()
    return [_area(row) for row in rows]


def get_area(store: Store, code: str) -> Area:
    """The area with ``code``; :class:`InvalidInput` if malformed, :class:`NotFound` if absent."""
    parse_code(code)
    with store.connect() as conn:
        row = conn.execute(select(geo_area).where(geo_area.c.code == code)).one_or_none()
    if row is None:
        raise NotFound(f"no area with code {code}", code=code)
    return _area(row)


def children_of(store: Store, code: str) -> list[Area]:
    """The areas directly below ``code`` (districts of the city, streets of a district …)."""
    level = parse_code(code).level.child
    if level is None:
        return []
    return load_areas(store, level, parent_code=code)


def areas_geojson(
    store: Store, level: AreaLevel | str, parent_code: str | None = None
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the areas :func:`load_areas` returns.

    Properties: code, name, name_en, level, parent_code, area_km2 (rounded to 0.001).
    Coordinates are rounded to 5 decimals (~1 m); district and street outlines are
    simplified together, so neighbours still share their borders.
    """
    areas = load_areas(store, level, parent_code)
    return features_geojson(areas)


def features_geojson(areas: list[Area]) -> dict[str, Any]:
    """GeoJSON for already loaded areas (see :func:`areas_geojson`)."""
    if not areas:
        return {"type": "FeatureCollection", "features": []}
    geometries = np.array([area.geometry for area in areas], dtype=object)
    tolerance = SIMPLIFY_DEGREES.get(areas[0].level)
    if tolerance is not None:
        geometries = shapely.coverage_simplify(geometries, tolerance, simplify_boundary=False)
    geometries = shapely.transform(geometries, lambda xy: np.round(xy, GEOJSON_DECIMALS))
    features = [
        {
            "type": "Feature",
            "id": area.code,
            "geometry": mapping(geometry),
            "properties": {
                "code": area.code,
                "name": area.name,
                "name_en": area.name_en,
                "level": area.level.value,
                "parent_code": area.parent_code,
                "area_km2": round(area.area_km2, 3),
            },
        }
        for area, geometry in zip(areas, geometries, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def _area(row: Row[Any]) -> Area:
    return Area(
        code=row.code,
        level=AreaLevel(row.level),
        name=row.name,
        name_en=row.name_en,
        parent_code=row.parent_code,
        centroid_lon=row.centroid_lon,
        centroid_lat=row.centroid_lat,
        area_km2=row.area_km2,
        population_weight=row.population_weight,
        geometry=row.geometry,
    )
