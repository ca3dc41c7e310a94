from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.geo.codes import AreaLevel
from smartcity.kernel.geo.distance import METRES_PER_DEGREE, distance_m, distances_m
from smartcity.kernel.geo.index import GridIndex
from smartcity.kernel.storage import Store
from smartcity.sim.geography import Geography, seed_geography
from smartcity.sim.profiles import TINY
from smartcity.sim.progress import SilentProgress

from .conftest import TINY_SEED


@pytest.fixture(scope="module")
def index(tiny_geography: Geography) -> GridIndex:
    return GridIndex.from_areas(tiny_geography.areas[AreaLevel.GRID])


def test_every_areas_inner_point_locates_to_it_and_its_ancestors(
    tiny_geography: Geography, index: GridIndex
) -> None:
    for level in (AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.GRID):
        for area in tiny_geography.areas[level]:
            point = area.geometry.point_on_surface()
            location = index.locate(point.x, point.y)
            assert location is not None, area.code
            codes = {
                AreaLevel.DISTRICT: location.district_code,
                AreaLevel.STREET: location.street_code,
                AreaLevel.COMMUNITY: location.community_code,
                AreaLevel.GRID: location.grid_code,
            }
            assert codes[level] == area.code
            assert location.grid_code.startswith(location.community_code)
            assert location.community_code.startswith(location.street_code)
            assert location.street_code.startswith(location.district_code)


def test_random_points_agree_with_brute_force(tiny_geography: Geography, index: GridIndex) -> None:
    grids = tiny_geography.areas[AreaLevel.GRID]
    polygons = np.array([grid.geometry for grid in grids], dtype=object)
    rng = np.random.default_rng(5)
    west, south, east, north = index.bounds
    # Half uniform over the bounding box, half near grid borders (where it is hard).
    boundary_points = shapely.get_coordinates(shapely.segmentize(shapely.boundary(polygons), 0.002))
    near = boundary_points[rng.integers(0, len(boundary_points), 10_000)]
    near = near + rng.normal(0, 0.0004, near.shape)
    lons = np.concatenate([rng.uniform(west, east, 10_000), near[:, 0]])
    lats = np.concatenate([rng.uniform(south, north, 10_000), near[:, 1]])
    inside, grid = shapely.STRtree(polygons).query(shapely.points(lons, lats), predicate="within")
    expected = np.full(len(lons), -1)
    expected[inside] = grid
    assert np.array_equal(index.locate_many(lons, lats), expected)
    single = [index.locate_index(x, y) for x, y in zip(lons.tolist(), lats.tolist(), strict=True)]
    assert np.array_equal(np.array(single), expected)
    codes = index.codes
    for position in range(0, len(lons), 97):
        location = index.locate(float(lons[position]), float(lats[position]))
        if expected[position] < 0:
            assert location is None
        else:
            assert location is not None and location.grid_code == codes[expected[position]]


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(0.0, 0.0), (113.0, 22.6), (114.04, 23.9), (112.0, 23.2), (math.nan, 23.1), (113.3, math.inf)],
)
def test_points_outside_the_city_are_nowhere(index: GridIndex, lon: float, lat: float) -> None:
    assert index.locate(lon, lat) is None
    assert index.locate_many(np.array([lon]), np.array([lat])).tolist() == [-1]


def test_index_loads_from_the_store(store: Store, index: GridIndex) -> None:
    seed_geography(store, profile=TINY, seed=TINY_SEED, progress=SilentProgress())
    loaded = GridIndex.load(store)
    assert sorted(loaded.codes) == sorted(index.codes)
    rng = np.random.default_rng(8)
    west, south, east, north = index.bounds
    lons, lats = rng.uniform(west, east, 5_000), rng.uniform(south, north, 5_000)
    loaded_codes = [loaded.codes[i] if i >= 0 else None for i in loaded.locate_many(lons, lats)]
    codes = [index.codes[i] if i >= 0 else None for i in index.locate_many(lons, lats)]
    assert loaded_codes == codes


def test_nearest_grids_come_closest_first(index: GridIndex) -> None:
    nearest = index.nearest(113.33, 23.12, k=5)
    assert len(nearest) == 5
    distances = [metres for _, metres in nearest]
    assert distances == sorted(distances)
    with pytest.raises(InvalidInput):
        index.nearest(113.33, 23.12, k=0)


def test_locate_many_checks_its_input(index: GridIndex) -> None:
    with pytest.raises(InvalidInput):
        index.locate_many(np.zeros(3), np.zeros(2))
    assert index.locate_many(np.array([]), np.array([])).tolist() == []


def test_haversine_distances() -> None:
    assert distance_m(113.3, 23.1, 113.3, 23.1) == 0.0
    assert distance_m(113.3, 23.0, 113.3, 24.0) == pytest.approx(METRES_PER_DEGREE)
    # Two points across the Pearl River, ~6.6 km apart: symmetric.
    there = distance_m(113.3245, 23.1064, 113.2644, 23.1291)
    back = distance_m(113.2644, 23.1291, 113.3245, 23.1064)
    assert there == pytest.approx(back) and 6_000 < there < 7_000
    vector = distances_m([113.3245, 113.3], [23.1064, 23.0], [113.2644, 113.3], [23.1291, 24.0])
    assert vector.tolist() == pytest.approx([there, METRES_PER_DEGREE])
