"""Distances and areas on the WGS 84 sphere approximation (good to ~0.5 % in a city)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180.0

FloatArray = npt.NDArray[np.float64]


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle (haversine) distance in metres between two lon/lat points."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2.0
    half_dlambda = math.radians(lon2 - lon1) / 2.0
    h = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2.0 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def distances_m(
    lons1: npt.ArrayLike, lats1: npt.ArrayLike, lons2: npt.ArrayLike, lats2: npt.ArrayLike
) -> FloatArray:
    """Vectorised :func:`distance_m` (numpy broadcasting rules)."""
    phi1 = np.radians(np.asarray(lats1, dtype=np.float64))
    phi2 = np.radians(np.asarray(lats2, dtype=np.float64))
    half_dphi = (phi2 - phi1) / 2.0
    lambda1 = np.asarray(lons1, dtype=np.float64)
    half_dlambda = np.radians(np.asarray(lons2, dtype=np.float64) - lambda1) / 2.0
    h = np.sin(half_dphi) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(half_dlambda) ** 2
    result: FloatArray = 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return result


def area_km2(geometry: BaseGeometry) -> float:
    """Area of a lon/lat polygon in km², scaling degrees at the polygon's own latitude.

    Within one city the error of this local equirectangular scaling stays well under 1 %.
    """
    if geometry.is_empty:
        return 0.0
    latitude = math.radians(geometry.centroid.y)
    square_degree_km2 = (METRES_PER_DEGREE / 1000.0) ** 2 * math.cos(latitude)
    return float(shapely.area(geometry)) * square_degree_km2


def areas_km2(geometries: npt.NDArray[np.object_]) -> FloatArray:
    """Vectorised :func:`area_km2` over an array of polygons."""
    latitudes = np.radians(shapely.get_y(shapely.centroid(geometries)))
    square_degree_km2 = (METRES_PER_DEGREE / 1000.0) ** 2 * np.cos(latitudes)
    result: FloatArray = shapely.area(geometries) * square_degree_km2
    return result
