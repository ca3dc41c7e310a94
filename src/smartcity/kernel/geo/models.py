"""Typed records of the geography: areas of the hierarchy and point locations."""

from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

from smartcity.kernel.geo.codes import AreaLevel


@dataclass(frozen=True)
class Area:
    """One area of the hierarchy (city, district, street, community or unit grid).

    ``population_weight`` is the area's share of the city's residents: the city has 1.0
    and the weights of an area's children add up to the area's own weight.
    """

    code: str
    level: AreaLevel
    name: str
    name_en: str
    parent_code: str | None
    centroid_lon: float
    centroid_lat: float
    area_km2: float
    population_weight: float
    geometry: BaseGeometry


@dataclass(frozen=True)
class Location:
    """Where a point lies: its unit grid and every area above it."""

    district_code: str
    street_code: str
    community_code: str
    grid_code: str

    @classmethod
    def of_grid(cls, grid_code: str) -> Location:
        """The location of a unit grid, its ancestors read from the code's structure."""
        return cls(
            district_code=grid_code[:6],
            street_code=grid_code[:9],
            community_code=grid_code[:12],
            grid_code=grid_code,
        )
