"""The synthetic geography of a Guangzhou-like city, and seeding it into the store.

The eleven real districts (codes, names, centres, land areas, residents, street counts:
see :mod:`smartcity.sim.geography_data`) are grown over a hand-drawn city outline; streets
and towns, communities and villages, and unit grids are generated below them, with
population weights that add up level by level, and a road network on top.

Deterministic: one seed gives the same codes, names and geometries. Each district,
street and community draws from its own generator, seeded from the city seed and the
parent's code, so changing one part does not reshuffle the rest.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
import shapely.affinity
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select

from smartcity.kernel.errors import Conflict, InvalidInput
from smartcity.kernel.geo.codes import AreaLevel, build_code
from smartcity.kernel.geo.models import Area
from smartcity.kernel.geo.tables import geo_area, geo_road_edge, geo_road_node
from smartcity.kernel.storage import Store
from smartcity.sim.geography_data import (
    CITY_CODE,
    CITY_NAME,
    CITY_NAME_EN,
    CITY_OUTLINE,
    DISTRICTS,
    DistrictFacts,
)
from smartcity.sim.geography_names import place_names
from smartcity.sim.geography_roads import RoadNetwork, generate_roads
from smartcity.sim.geography_shapes import Frame, grow_districts, partition_polygon
from smartcity.sim.profiles import CityProfile
from smartcity.sim.progress import Progress, SilentProgress

GeometryArray = npt.NDArray[np.object_]

FRAME = Frame(lon0=113.5, lat0=23.25)

# Street offices (街道) are denser than towns (镇): twice the residents per unit of noise.
STREET_OFFICE_DENSITY = 2.0
# Share of a town's communities that are urban residents' committees (社区), not villages.
TOWN_COMMUNITY_SHARE = 0.25
FIRST_TOWN_SERIAL = 100
FIRST_VILLAGE_SERIAL = 200
# Gamma shape of the population noise between siblings: 4 keeps most within ×0.5–×2.
POPULATION_NOISE_SHAPE = 4.0


@dataclass(frozen=True)
class GeographySummary:
    """What :func:`seed_geography` wrote: areas per level and the road network's size."""

    cities: int
    districts: int
    streets: int
    communities: int
    grids: int
    road_nodes: int
    road_edges: int


@dataclass
class _Piece:
    """An area being generated: its record fields plus its km-frame polygon."""

    code: str
    level: AreaLevel
    name: str
    name_en: str
    parent_code: str | None
    population_weight: float
    shape_km: Polygon
    child_count: int = 0
    is_town: bool = False


@dataclass(frozen=True)
class Geography:
    """A generated geography before it is written: areas per level and the roads."""

    areas: dict[AreaLevel, list[Area]]
    roads: RoadNetwork

    def summary(self) -> GeographySummary:
        """Counts per level and of the road network."""
        return GeographySummary(
            cities=len(self.areas[AreaLevel.CITY]),
            districts=len(self.areas[AreaLevel.DISTRICT]),
            streets=len(self.areas[AreaLevel.STREET]),
            communities=len(self.areas[AreaLevel.COMMUNITY]),
            grids=len(self.areas[AreaLevel.GRID]),
            road_nodes=len(self.roads.node_lons),
            road_edges=len(self.roads.segments),
        )


def seed_geography(
    store: Store, *, profile: CityProfile, seed: int, progress: Progress
) -> GeographySummary:
    """Generate the city's geography and write it: one transaction per level, then roads.

    Refuses (:class:`Conflict`) a store that already holds areas.
    """
    with store.connect() as conn:
        existing = conn.execute(select(func.count()).select_from(geo_area)).scalar_one()
    if existing:
        raise Conflict(f"the store already holds {existing} areas; seed an empty database")
    geography = generate_geography(profile=profile, seed=seed, progress=progress)
    for level in AreaLevel:
        areas = geography.areas[level]
        with progress.step(f"writing {level.value} areas", len(areas)) as advance:
            rows = [_area_row(area) for area in areas]
            with store.begin() as conn:
                store.bulk_insert(conn, geo_area, rows)
            advance(len(rows))
    roads = geography.roads
    with progress.step("writing roads", len(roads.segments)) as advance, store.begin() as conn:
        store.bulk_insert(conn, geo_road_node, _node_rows(roads))
        store.bulk_insert(conn, geo_road_edge, _edge_rows(roads))
        advance(len(roads.segments))
    return geography.summary()


def generate_geography(
    *, profile: CityProfile, seed: int, progress: Progress | None = None
) -> Geography:
    """Generate the whole geography in memory (what :func:`seed_geography` writes)."""
    progress = progress or SilentProgress()
    community_counts = _community_counts(profile)
    outline_km = _outline_km()
    city = _Piece(CITY_CODE, AreaLevel.CITY, CITY_NAME, CITY_NAME_EN, None, 1.0, outline_km)
    with progress.step("growing districts", len(DISTRICTS)) as advance:
        districts = _districts(city, seed)
        advance(len(districts))
    for district, count in zip(districts, community_counts, strict=True):
        district.child_count = count
    streets = _subdivide(districts, seed, "dividing districts into streets", progress, _streets)
    communities = _subdivide(
        streets, seed, "dividing streets into communities", progress, _communities
    )
    for community in communities:
        community.child_count = profile.grids_per_community
    grids = _subdivide(communities, seed, "dividing communities into grids", progress, _grids)
    with progress.step("laying roads", 1) as advance:
        street_centres = shapely.get_coordinates(
            shapely.point_on_surface([street.shape_km for street in streets])
        )
        district_centres = np.array([FRAME.point_km(d.centre_lon, d.centre_lat) for d in DISTRICTS])
        roads = generate_roads(
            outline_km,
            FRAME,
            street_centres,
            district_centres,
            [d.name for d in DISTRICTS],
            np.random.default_rng([seed, 9]),
        )
        advance(1)
    levels = ([city], districts, streets, communities, grids)
    return Geography(
        areas={level: _areas(pieces) for level, pieces in zip(AreaLevel, levels, strict=True)},
        roads=roads,
    )


def allocate(total: int, weights: Sequence[float], minimum: int = 1) -> list[int]:
    """Split ``total`` into whole numbers proportional to ``weights``, each ≥ ``minimum``
    (largest-remainder method)."""
    if total < minimum * len(weights):
        raise InvalidInput(
            f"cannot give {len(weights)} areas at least {minimum} of {total}", part="total"
        )
    shares = np.asarray(weights, dtype=np.float64)
    quotas = shares / shares.sum() * total
    counts = np.maximum(np.floor(quotas).astype(np.int64), minimum)
    while counts.sum() < total:
        counts[int(np.argmax(quotas - counts))] += 1
    while counts.sum() > total:
        reducible = np.where(counts > minimum, quotas - counts, np.inf)
        counts[int(np.argmin(reducible))] -= 1
    return [int(c) for c in counts]


def _community_counts(profile: CityProfile) -> list[int]:
    if profile.communities < len(DISTRICTS):
        raise InvalidInput(
            f"profile {profile.name!r} has {profile.communities} communities; the city needs "
            f"at least one per district ({len(DISTRICTS)})",
            part="communities",
        )
    if profile.grids_per_community < 1 or profile.grids_per_community > 999:
        raise InvalidInput(
            f"profile {profile.name!r}: grids per community must be 1–999",
            part="grids_per_community",
        )
    return allocate(profile.communities, [d.residents_2020 for d in DISTRICTS])


def _districts(city: _Piece, seed: int) -> list[_Piece]:
    shapes = _district_shapes(seed)
    residents = sum(d.residents_2020 for d in DISTRICTS)
    return [
        _Piece(
            facts.code,
            AreaLevel.DISTRICT,
            facts.name,
            facts.name_en,
            city.code,
            facts.residents_2020 / residents,
            shape,
        )
        for facts, shape in zip(DISTRICTS, shapes, strict=True)
    ]


@functools.lru_cache(maxsize=1)
def _outline_km() -> Polygon:
    # The hand-drawn outline follows Guangzhou's shape but not its exact extent; scale it
    # about its centroid so the districts add up to the city's real land area.
    drawn = _polygon(FRAME.to_km(Polygon(CITY_OUTLINE)))
    real_km2 = sum(d.land_area_km2 for d in DISTRICTS)
    factor = math.sqrt(real_km2 / drawn.area)
    return _polygon(shapely.affinity.scale(drawn, factor, factor, origin="centroid"))


@functools.lru_cache(maxsize=4)
def _district_shapes(seed: int) -> tuple[Polygon, ...]:
    # The slowest stage and independent of the profile: seeding several profiles (or
    # tests) with one seed grows the districts once. Shapely geometries are immutable.
    centres = [FRAME.point_km(d.centre_lon, d.centre_lat) for d in DISTRICTS]
    outline_km = _outline_km()
    return tuple(
        grow_districts(
            outline_km,
            centres,
            [d.land_area_km2 for d in DISTRICTS],
            np.random.default_rng([seed, 1]),
        )
    )


Divider = Callable[[_Piece, np.random.Generator], list[_Piece]]


def _subdivide(
    parents: list[_Piece], seed: int, description: str, progress: Progress, divide: Divider
) -> list[_Piece]:
    children: list[_Piece] = []
    with progress.step(description, len(parents)) as advance:
        for parent in parents:
            level = parent.level.child
            depth = level.depth if level else 0
            children.extend(divide(parent, np.random.default_rng([seed, depth, int(parent.code)])))
            advance(1)
    _match_edges(children)
    return children


def _match_edges(pieces: list[_Piece]) -> None:
    # Children of neighbouring parents meet along the parents' border, but each side
    # has its own cut points there. Cleaning the level as one coverage gives shared
    # borders identical vertices, so maps can simplify them without gaps (moves are
    # sub-millimetre).
    shapes = np.array([piece.shape_km for piece in pieces], dtype=object)
    # types-shapely predates shapely 2.2, which added coverage_clean.
    cleaned: GeometryArray = shapely.coverage_clean(shapes)  # type: ignore[attr-defined]
    for piece, shape in zip(pieces, cleaned, strict=True):
        if isinstance(shape, Polygon) and shape.is_valid and not shape.is_empty:
            piece.shape_km = shape


def _streets(district: _Piece, rng: np.random.Generator) -> list[_Piece]:
    facts = _facts(district.code)
    # Small profiles have fewer communities than real streets: then every street keeps
    # at least one community, and offices and towns shrink in proportion.
    count = min(facts.street_count, district.child_count)
    offices = round(count * facts.streets / facts.street_count)
    if facts.streets:
        offices = max(offices, 1)
    shapes = partition_polygon(district.shape_km, count, rng)
    centre = Point(FRAME.point_km(facts.centre_lon, facts.centre_lat))
    # Central pieces become street offices, outer ones towns, numbered from the centre out.
    order = np.argsort(shapely.distance(centre, shapely.point_on_surface(shapes)), kind="stable")
    names = place_names(count, rng)
    noise = rng.gamma(POPULATION_NOISE_SHAPE, size=count)
    density = np.where(np.arange(count) < offices, STREET_OFFICE_DENSITY, 1.0)
    weights = _shares(noise * density) * district.population_weight
    communities = allocate(district.child_count, weights.tolist())
    streets: list[_Piece] = []
    for rank, index in enumerate(order.tolist()):
        is_town = rank >= offices
        serial = FIRST_TOWN_SERIAL + rank - offices if is_town else rank + 1
        name, pinyin = names[rank]
        streets.append(
            _Piece(
                build_code(district.code, serial),
                AreaLevel.STREET,
                name + ("镇" if is_town else "街道"),
                f"{pinyin} {'Town' if is_town else 'Subdistrict'}",
                district.code,
                float(weights[rank]),
                shapes[index],
                child_count=communities[rank],
                is_town=is_town,
            )
        )
    return streets


def _communities(street: _Piece, rng: np.random.Generator) -> list[_Piece]:
    count = street.child_count
    shapes = partition_polygon(street.shape_km, count, rng)
    centre = street.shape_km.point_on_surface()
    order = np.argsort(shapely.distance(centre, shapely.point_on_surface(shapes)), kind="stable")
    urban = math.ceil(count * TOWN_COMMUNITY_SHARE) if street.is_town else count
    names = place_names(count, rng)
    weights = _shares(rng.gamma(POPULATION_NOISE_SHAPE, size=count)) * street.population_weight
    street_serial = int(street.code[6:9])
    first_village = max(FIRST_VILLAGE_SERIAL, urban + 1)
    communities: list[_Piece] = []
    for rank, index in enumerate(order.tolist()):
        is_village = rank >= urban
        serial = first_village + rank - urban if is_village else rank + 1
        if serial > 999:
            raise InvalidInput(
                f"street {street.code} would need more than 999 community serials",
                part="community serial",
            )
        name, pinyin = names[rank]
        communities.append(
            _Piece(
                build_code(street.code[:6], street_serial, serial),
                AreaLevel.COMMUNITY,
                name + ("村" if is_village else "社区"),
                f"{pinyin} {'Village' if is_village else 'Community'}",
                street.code,
                float(weights[rank]),
                shapes[index],
            )
        )
    return communities


def _grids(community: _Piece, rng: np.random.Generator) -> list[_Piece]:
    count = community.child_count
    shapes = partition_polygon(community.shape_km, count, rng)
    order = _reading_order(shapes)
    weights = _shares(rng.gamma(POPULATION_NOISE_SHAPE, size=count)) * community.population_weight
    street_serial, community_serial = int(community.code[6:9]), int(community.code[9:12])
    return [
        _Piece(
            build_code(community.code[:6], street_serial, community_serial, rank + 1),
            AreaLevel.GRID,
            f"{community.name}第{rank + 1}网格",
            f"{community.name_en} Grid {rank + 1}",
            community.code,
            float(weights[rank]),
            shapes[index],
        )
        for rank, index in enumerate(order)
    ]


def _reading_order(shapes: Sequence[Polygon]) -> list[int]:
    # Grids are numbered in rows from north-west to south-east, like a map sheet.
    points = shapely.get_coordinates(shapely.point_on_surface(list(shapes)))
    rows = max(1, round(math.sqrt(len(shapes))))
    top, bottom = points[:, 1].max(), points[:, 1].min()
    height = max(top - bottom, 1e-9)
    row = np.minimum(((top - points[:, 1]) / height * rows).astype(int), rows - 1)
    return [int(i) for i in np.lexsort((points[:, 0], row))]


def _shares(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    shares: npt.NDArray[np.float64] = values / values.sum()
    return shares


def _facts(code: str) -> DistrictFacts:
    return next(d for d in DISTRICTS if d.code == code)


def _polygon(geometry: BaseGeometry) -> Polygon:
    if not isinstance(geometry, Polygon):
        raise TypeError(f"expected a polygon, got {geometry.geom_type}")
    return geometry


def _areas(pieces: list[_Piece]) -> list[Area]:
    shapes_km = np.array([piece.shape_km for piece in pieces], dtype=object)
    shapes = FRAME.to_lonlat(shapes_km)
    centroids = shapely.get_coordinates(shapely.centroid(shapes))
    areas_km2 = shapely.area(shapes_km)
    return [
        Area(
            code=piece.code,
            level=piece.level,
            name=piece.name,
            name_en=piece.name_en,
            parent_code=piece.parent_code,
            centroid_lon=float(centroid[0]),
            centroid_lat=float(centroid[1]),
            area_km2=float(area),
            population_weight=piece.population_weight,
            geometry=shape,
        )
        for piece, shape, centroid, area in zip(pieces, shapes, centroids, areas_km2, strict=True)
    ]


def _area_row(area: Area) -> dict[str, object]:
    return {
        "code": area.code,
        "level": area.level.value,
        "name": area.name,
        "name_en": area.name_en,
        "parent_code": area.parent_code,
        "centroid_lon": area.centroid_lon,
        "centroid_lat": area.centroid_lat,
        "area_km2": area.area_km2,
        "population_weight": area.population_weight,
        "geometry": area.geometry,
    }


def _node_rows(roads: RoadNetwork) -> list[dict[str, object]]:
    return [
        {"id": index + 1, "lon": lon, "lat": lat}
        for index, (lon, lat) in enumerate(
            zip(roads.node_lons.tolist(), roads.node_lats.tolist(), strict=True)
        )
    ]


def _edge_rows(roads: RoadNetwork) -> list[dict[str, object]]:
    lons, lats = roads.node_lons, roads.node_lats
    starts = np.array([s.from_node - 1 for s in roads.segments])
    ends = np.array([s.to_node - 1 for s in roads.segments])
    lines = np.asarray(
        shapely.linestrings(
            np.stack(
                [
                    np.column_stack([lons[starts], lats[starts]]),
                    np.column_stack([lons[ends], lats[ends]]),
                ],
                axis=1,
            )
        )
    )
    return [
        {
            "id": index + 1,
            "from_node": segment.from_node,
            "to_node": segment.to_node,
            "length_m": segment.length_m,
            "road_class": segment.road_class,
            "name": segment.name,
            "geometry": line,
        }
        for index, (segment, line) in enumerate(zip(roads.segments, lines, strict=True))
    ]
