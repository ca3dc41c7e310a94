from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon
from sqlalchemy import func, select

from smartcity.kernel.errors import Conflict, InvalidInput, NotFound
from smartcity.kernel.geo.codes import AreaLevel, parse_code
from smartcity.kernel.geo.distance import area_km2
from smartcity.kernel.geo.queries import areas_geojson, children_of, get_area, load_areas
from smartcity.kernel.geo.tables import geo_area, geo_road_edge, geo_road_node
from smartcity.kernel.storage import Store
from smartcity.sim.geography import FRAME, Geography, allocate, generate_geography, seed_geography
from smartcity.sim.geography_data import CITY_OUTLINE, DISTRICTS
from smartcity.sim.geography_shapes import grow_districts
from smartcity.sim.profiles import DEMO, TINY, CityProfile
from smartcity.sim.progress import SilentProgress

SEED = 20101


@pytest.fixture(scope="module")
def tiny() -> Geography:
    return generate_geography(profile=TINY, seed=SEED)


@pytest.fixture(scope="module")
def demo() -> Geography:
    return generate_geography(profile=DEMO, seed=SEED)


def test_seeding_writes_every_level_with_the_profiles_counts(store: Store) -> None:
    summary = seed_geography(store, profile=TINY, seed=SEED, progress=SilentProgress())
    assert (summary.cities, summary.districts) == (1, 11)
    assert summary.communities == TINY.communities
    assert summary.grids == TINY.communities * TINY.grids_per_community
    assert 11 <= summary.streets <= TINY.communities
    with store.connect() as conn:
        counts = dict(
            conn.execute(select(geo_area.c.level, func.count()).group_by(geo_area.c.level)).all()
        )
        nodes = conn.execute(select(func.count()).select_from(geo_road_node)).scalar_one()
        edges = conn.execute(select(func.count()).select_from(geo_road_edge)).scalar_one()
    assert counts == {
        "city": 1,
        "district": 11,
        "street": summary.streets,
        "community": summary.communities,
        "grid": summary.grids,
    }
    assert (nodes, edges) == (summary.road_nodes, summary.road_edges)
    with pytest.raises(Conflict):
        seed_geography(store, profile=TINY, seed=SEED, progress=SilentProgress())


def test_stored_areas_read_back_whole(store: Store, tiny: Geography) -> None:
    seed_geography(store, profile=TINY, seed=SEED, progress=SilentProgress())
    tianhe = get_area(store, "440106")
    assert (tianhe.name, tianhe.name_en, tianhe.parent_code) == ("天河区", "Tianhe", "440100")
    generated = next(a for a in tiny.areas[AreaLevel.DISTRICT] if a.code == "440106")
    assert tianhe.geometry.equals_exact(generated.geometry, 0.0)
    streets = children_of(store, "440106")
    assert streets and all(street.parent_code == "440106" for street in streets)
    assert [a.code for a in load_areas(store, "street", "440106")] == [s.code for s in streets]
    assert children_of(store, streets[0].code + "001001") == []
    with pytest.raises(NotFound):
        get_area(store, "440106999")
    with pytest.raises(InvalidInput):
        get_area(store, "44010x")
    with pytest.raises(InvalidInput):
        load_areas(store, "block")


def test_geojson_is_light_and_complete(store: Store) -> None:
    seed_geography(store, profile=TINY, seed=SEED, progress=SilentProgress())
    collection = areas_geojson(store, "district")
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    assert [f["properties"]["code"] for f in features] == [d.code for d in DISTRICTS]
    first = features[0]
    assert set(first["properties"]) == {
        "code",
        "name",
        "name_en",
        "level",
        "parent_code",
        "area_km2",
    }
    coordinates = shapely.get_coordinates(shapely.geometry.shape(first["geometry"]))
    assert np.array_equal(coordinates, np.round(coordinates, 5))
    every_street = areas_geojson(store, "street")["features"]
    simplified = [shapely.geometry.shape(f["geometry"]) for f in every_street]
    assert all(shape.is_valid for shape in simplified)
    assert len(shapely.union_all(simplified).interiors) == 0, "simplification opened gaps"
    streets = areas_geojson(store, AreaLevel.STREET, parent_code="440104")["features"]
    assert streets and {f["properties"]["parent_code"] for f in streets} == {"440104"}
    assert areas_geojson(store, "grid", parent_code="440104999999")["features"] == []


def test_polygons_are_valid_nested_and_cover_their_parent(tiny: Geography) -> None:
    by_code = {area.code: area for level in AreaLevel for area in tiny.areas[level]}
    for level in (AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.GRID):
        children: dict[str, list[shapely.Geometry]] = {}
        for area in tiny.areas[level]:
            assert area.geometry.geom_type == "Polygon" and area.geometry.is_valid, area.code
            assert area.parent_code is not None
            children.setdefault(area.parent_code, []).append(area.geometry)
        # Edge-matched: neighbours share identical border vertices (maps simplify cleanly).
        assert shapely.coverage_is_valid([area.geometry for area in tiny.areas[level]])
        for parent_code, shapes in children.items():
            parent = by_code[parent_code].geometry
            total = float(np.sum(shapely.area(shapes)))
            union = shapely.union_all(shapes)
            # Covering: the children fill the parent; not overlapping: their areas add up.
            assert union.symmetric_difference(parent).area < 1e-7 * parent.area
            assert total == pytest.approx(parent.area, rel=1e-7)


def test_codes_names_and_weights_add_up(tiny: Geography) -> None:
    for level in AreaLevel:
        areas = tiny.areas[level]
        assert len({a.code for a in areas}) == len(areas)
        for area in areas:
            parsed = parse_code(area.code)
            assert parsed.level is level
            assert parsed.parent_code == area.parent_code
            assert area.name and area.name_en
            assert area.area_km2 == pytest.approx(area_km2(area.geometry), rel=0.01)
    weights: dict[str, float] = {}
    for level in (AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.GRID):
        for area in tiny.areas[level]:
            assert area.population_weight > 0
            key = area.parent_code or ""
            weights[key] = weights.get(key, 0.0) + area.population_weight
    for level in (AreaLevel.CITY, AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY):
        for area in tiny.areas[level]:
            assert weights[area.code] == pytest.approx(area.population_weight, rel=1e-9)


def test_districts_hold_their_real_centres_and_areas(tiny: Geography) -> None:
    districts = {a.code: a for a in tiny.areas[AreaLevel.DISTRICT]}
    total = sum(a.area_km2 for a in districts.values())
    real_total = sum(d.land_area_km2 for d in DISTRICTS)
    for facts in DISTRICTS:
        district = districts[facts.code]
        assert district.name == facts.name
        assert district.geometry.contains(Point(facts.centre_lon, facts.centre_lat))
        share = district.area_km2 / total
        assert share == pytest.approx(facts.land_area_km2 / real_total, rel=0.15)
    west, south, east, north = tiny.areas[AreaLevel.CITY][0].geometry.bounds
    assert west >= 112.9 and east <= 114.1 and south >= 22.5 and north <= 24.0


def test_demo_keeps_the_real_street_counts(demo: Geography) -> None:
    streets = demo.areas[AreaLevel.STREET]
    assert len(streets) == sum(d.street_count for d in DISTRICTS) == 176
    for facts in DISTRICTS:
        mine = [s for s in streets if s.parent_code == facts.code]
        assert len(mine) == facts.street_count
        assert sum(s.name.endswith("镇") for s in mine) == facts.towns
    assert len(demo.areas[AreaLevel.GRID]) == DEMO.communities * DEMO.grids_per_community


def test_district_growth_is_deterministic() -> None:
    outline = FRAME.to_km(Polygon(CITY_OUTLINE))
    centres = [FRAME.point_km(d.centre_lon, d.centre_lat) for d in DISTRICTS]
    areas = [d.land_area_km2 for d in DISTRICTS]
    first = grow_districts(outline, centres, areas, np.random.default_rng(7))
    second = grow_districts(outline, centres, areas, np.random.default_rng(7))
    assert [shapely.to_wkb(p) for p in first] == [shapely.to_wkb(p) for p in second]


def test_same_seed_same_city_other_seed_other_city(tiny: Geography) -> None:
    again = generate_geography(profile=TINY, seed=SEED)
    for level in AreaLevel:
        first, second = tiny.areas[level], again.areas[level]
        assert [a.code for a in first] == [a.code for a in second]
        assert [a.name for a in first] == [a.name for a in second]
        assert all(
            shapely.to_wkb(a.geometry) == shapely.to_wkb(b.geometry)
            for a, b in zip(first, second, strict=True)
        )
    assert [s.name for s in tiny.roads.segments] == [s.name for s in again.roads.segments]
    other = generate_geography(profile=TINY, seed=SEED + 1)
    tianhe = next(a for a in tiny.areas[AreaLevel.DISTRICT] if a.code == "440106")
    moved = next(a for a in other.areas[AreaLevel.DISTRICT] if a.code == "440106")
    assert not tianhe.geometry.equals(moved.geometry)


def test_a_profile_needs_a_community_per_district() -> None:
    small = CityProfile("small", 10, 5, 2, 1, 1)
    with pytest.raises(InvalidInput, match="at least one per district"):
        generate_geography(profile=small, seed=SEED)


@given(st.lists(st.floats(0.01, 100.0), min_size=1, max_size=40), st.integers(0, 500))
def test_allocation_is_whole_and_fair(weights: list[float], extra: int) -> None:
    total = len(weights) + extra
    counts = allocate(total, weights)
    assert sum(counts) == total
    assert min(counts) >= 1
    quotas = np.array(weights) / sum(weights) * total
    # Largest remainder never strays a whole unit from the quota, except to lift a
    # share up to the minimum.
    assert all(c <= max(q + 1, 1) for c, q in zip(counts, quotas, strict=True))


def test_districts_add_up_to_the_real_city_area() -> None:
    from smartcity.kernel.geo.codes import AreaLevel
    from smartcity.sim.geography import generate_geography
    from smartcity.sim.geography_data import DISTRICTS
    from smartcity.sim.profiles import TINY

    geography = generate_geography(profile=TINY, seed=11)
    total = sum(area.area_km2 for area in geography.areas[AreaLevel.DISTRICT])
    real = sum(district.land_area_km2 for district in DISTRICTS)
    assert abs(total - real) / real < 0.01
    assert abs(real - 7434.4) < 1
