"""Polygons of the synthetic city: districts grown from real centres, then subdivisions.

Work happens in a flat kilometre frame around the city (equirectangular at the city's
mean latitude), so that Voronoi cells are not stretched by the degree grid; polygons go
back to lon/lat at the end. Every function takes its random generator from the caller,
so one seed gives one city.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry

from smartcity.kernel.geo.distance import METRES_PER_DEGREE

FloatArray = npt.NDArray[np.float64]
GeometryArray = npt.NDArray[np.object_]

KM_PER_DEGREE = METRES_PER_DEGREE / 1000.0

# Base cells the districts are grown from; ~0.8 km² keeps the smallest district (Yuexiu)
# at 40+ cells, so its outline is organic rather than blocky.
BASE_CELL_KM = 0.9
# Lloyd relaxation rounds for subdivisions: rounder, more even children.
RELAX_ROUNDS = 2
# Growth stops adjusting district speeds once every area is this close to its target.
AREA_TOLERANCE = 0.06
GROWTH_ROUNDS = 14


@dataclass(frozen=True)
class Frame:
    """A flat kilometre frame centred on (lon0, lat0)."""

    lon0: float
    lat0: float

    @property
    def _km_per_lon(self) -> float:
        return KM_PER_DEGREE * math.cos(math.radians(self.lat0))

    def to_km(self, geometry: BaseGeometry) -> BaseGeometry:
        """The geometry with lon/lat replaced by kilometres east/north of the centre."""
        scale = np.array([self._km_per_lon, KM_PER_DEGREE])
        origin = np.array([self.lon0, self.lat0])
        result: BaseGeometry = shapely.transform(geometry, lambda xy: (xy - origin) * scale)
        return result

    def to_lonlat(self, geometries: GeometryArray) -> GeometryArray:
        """Kilometre-frame geometries back in lon/lat."""
        scale = np.array([self._km_per_lon, KM_PER_DEGREE])
        origin = np.array([self.lon0, self.lat0])
        result: GeometryArray = shapely.transform(geometries, lambda xy: xy / scale + origin)
        return result

    def point_km(self, lon: float, lat: float) -> tuple[float, float]:
        """A lon/lat point in the frame."""
        return ((lon - self.lon0) * self._km_per_lon, (lat - self.lat0) * KM_PER_DEGREE)


def grow_districts(
    outline: Polygon,
    centres: Sequence[tuple[float, float]],
    area_shares: Sequence[float],
    rng: np.random.Generator,
) -> list[Polygon]:
    """Tile ``outline`` (km frame) into one polygon per centre with the given area shares.

    Districts grow at once from their centres over a fine Voronoi tessellation, each at
    its own speed and stopping at its area budget (a competitive region growing). Speeds
    are tuned over a few rounds until the areas match. Every district is connected and
    contains its centre, because it only ever claims cells next to cells it owns.
    """
    points = _jittered_lattice(outline, BASE_CELL_KM, rng)
    cells = _clipped_voronoi(points, outline)
    areas = shapely.area(cells)
    neighbours = _neighbours(cells, points)
    seeds = [_containing_cell(cells, points, x, y) for x, y in centres]
    if len(set(seeds)) != len(seeds):
        raise ValueError("two district centres fall into one base cell; use finer cells")
    targets = np.asarray(area_shares, dtype=np.float64)
    targets = targets / targets.sum() * float(areas.sum())
    speeds = np.sqrt(targets)
    owners = _grow(neighbours, areas, seeds, targets, speeds, points)
    for _round in range(GROWTH_ROUNDS):
        claimed = np.bincount(owners, weights=areas, minlength=len(seeds))
        ratio = targets / np.maximum(claimed, 1e-9)
        if np.all(np.abs(ratio - 1.0) < AREA_TOLERANCE):
            break
        speeds = speeds * np.clip(ratio, 0.5, 2.0) ** 0.5
        owners = _grow(neighbours, areas, seeds, targets, speeds, points)
    owner_array = np.asarray(owners)
    unions = [shapely.union_all(cells[owner_array == d]) for d in range(len(seeds))]
    anchors = [Point(x, y) for x, y in centres]
    return absorb_fragments(unions, anchors)


def partition_polygon(parent: Polygon, count: int, rng: np.random.Generator) -> list[Polygon]:
    """Split ``parent`` into ``count`` polygons that cover it without overlapping.

    Seeds are drawn inside the parent, relaxed by Lloyd's algorithm, and their Voronoi
    cells clipped to the parent; pieces cut off by a concave parent join a neighbour.
    """
    if count < 1:
        raise ValueError("a partition needs at least one piece")
    if count == 1:
        return [parent]
    seeds = sample_points(parent, count, rng)
    pieces = _clipped_voronoi(seeds, parent)
    for _round in range(RELAX_ROUNDS):
        centroids = shapely.centroid(pieces)
        inside = shapely.contains(parent, centroids)
        moved = np.where(inside, centroids, shapely.point_on_surface(pieces))
        seeds = shapely.get_coordinates(moved)
        pieces = _clipped_voronoi(seeds, parent)
    anchors = list(np.asarray(shapely.points(seeds)))
    return absorb_fragments(list(pieces), anchors)


def sample_points(polygon: Polygon, count: int, rng: np.random.Generator) -> FloatArray:
    """``count`` uniformly random points inside ``polygon`` (rejection sampling)."""
    min_x, min_y, max_x, max_y = polygon.bounds
    shapely.prepare(polygon)
    found: list[FloatArray] = []
    have = 0
    fill = max(polygon.area / ((max_x - min_x) * (max_y - min_y)), 0.05)
    while have < count:
        batch = int((count - have) / fill * 1.5) + 8
        xs = rng.uniform(min_x, max_x, batch)
        ys = rng.uniform(min_y, max_y, batch)
        keep = shapely.contains_xy(polygon, xs, ys)
        chosen = np.column_stack([xs[keep], ys[keep]])
        found.append(chosen)
        have += len(chosen)
    return np.concatenate(found)[:count]


def absorb_fragments(pieces: Sequence[BaseGeometry], anchors: Sequence[Point]) -> list[Polygon]:
    """Make every piece one polygon: each keeps the part holding its anchor (else its
    largest part); the other parts join the piece they share the longest border with.
    """
    main: list[BaseGeometry] = []
    orphans: list[BaseGeometry] = []
    for piece, anchor in zip(pieces, anchors, strict=True):
        parts = [p for p in shapely.get_parts(piece) if p.geom_type == "Polygon" and p.area > 0]
        if not parts:
            raise ValueError("a partition produced an empty piece")
        keep = next((p for p in parts if p.contains(anchor)), max(parts, key=lambda p: p.area))
        main.append(keep)
        orphans.extend(p for p in parts if p is not keep)
    for orphan in sorted(orphans, key=lambda p: -p.area):
        shared = shapely.length(shapely.intersection(orphan.boundary, [m.boundary for m in main]))
        best = int(np.argmax(shared))
        if shared[best] <= 0.0:
            best = int(np.argmin(shapely.distance(orphan, main)))
        main[best] = shapely.union(main[best], orphan)
    return [_single_polygon(piece) for piece in main]


def _single_polygon(geometry: BaseGeometry) -> Polygon:
    if isinstance(geometry, Polygon):
        return geometry
    # A union of touching polygons can come back as a MultiPolygon split by a seam only
    # floating-point wide; a zero buffer welds it.
    welded = geometry.buffer(0)
    if isinstance(welded, Polygon):
        return welded
    parts = sorted(shapely.get_parts(welded), key=lambda p: -p.area)
    largest: Polygon = parts[0]
    return largest


def _jittered_lattice(outline: Polygon, spacing: float, rng: np.random.Generator) -> FloatArray:
    min_x, min_y, max_x, max_y = outline.bounds
    xs = np.arange(min_x + spacing / 2, max_x, spacing)
    ys = np.arange(min_y + spacing / 2, max_y, spacing)
    grid_x, grid_y = np.meshgrid(xs, ys)
    jitter = rng.uniform(-0.4 * spacing, 0.4 * spacing, size=(2, *grid_x.shape))
    px = (grid_x + jitter[0]).ravel()
    py = (grid_y + jitter[1]).ravel()
    keep = shapely.contains_xy(outline, px, py)
    return np.column_stack([px[keep], py[keep]])


def _clipped_voronoi(seeds: FloatArray, clip: Polygon) -> GeometryArray:
    diagram = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=clip, ordered=True)
    cells = shapely.get_parts(diagram)
    if len(cells) != len(seeds):
        raise ValueError("Voronoi diagram lost a seed (duplicate points?)")
    clipped: GeometryArray = shapely.intersection(cells, clip)
    return clipped


def _neighbours(cells: GeometryArray, points: FloatArray) -> list[list[tuple[int, float]]]:
    tree = shapely.STRtree(cells)
    left, right = tree.query(cells, predicate="intersects")
    distinct = left < right
    left, right = left[distinct], right[distinct]
    # Cells touching at a corner only are not neighbours: growth must stay connected.
    shared = shapely.length(shapely.intersection(cells[left], cells[right]))
    adjacent = shared > 1e-9
    left, right = left[adjacent], right[adjacent]
    gaps = np.hypot(*(points[left] - points[right]).T)
    neighbours: list[list[tuple[int, float]]] = [[] for _ in range(len(cells))]
    for a, b, gap in zip(left.tolist(), right.tolist(), gaps.tolist(), strict=True):
        neighbours[a].append((b, gap))
        neighbours[b].append((a, gap))
    return neighbours


def _containing_cell(cells: GeometryArray, points: FloatArray, x: float, y: float) -> int:
    inside = np.flatnonzero(shapely.contains_xy(cells, x, y))
    if len(inside):
        return int(inside[0])
    return int(np.argmin(np.hypot(points[:, 0] - x, points[:, 1] - y)))


def _grow(
    neighbours: list[list[tuple[int, float]]],
    areas: FloatArray,
    seeds: list[int],
    targets: FloatArray,
    speeds: FloatArray,
    points: FloatArray,
) -> list[int]:
    owners = [-1] * len(neighbours)
    claimed = [0.0] * len(seeds)
    area_list = areas.tolist()
    target_list = targets.tolist()
    pace = (1.0 / speeds).tolist()
    heap: list[tuple[float, int, int]] = []
    for district, cell in enumerate(seeds):
        owners[cell] = district
        claimed[district] += area_list[cell]
    for district, cell in enumerate(seeds):
        for neighbour, gap in neighbours[cell]:
            heapq.heappush(heap, (gap * pace[district], district, neighbour))
    deferred: list[tuple[float, int, int]] = []
    budgeted = True
    while heap:
        time, district, cell = heapq.heappop(heap)
        if owners[cell] != -1:
            continue
        if budgeted and claimed[district] >= target_list[district]:
            deferred.append((time, district, cell))
        else:
            owners[cell] = district
            claimed[district] += area_list[cell]
            for neighbour, gap in neighbours[cell]:
                if owners[neighbour] == -1:
                    heapq.heappush(heap, (time + gap * pace[district], district, neighbour))
        if not heap and budgeted:
            # Cells walled in by districts that are already full go to those districts.
            budgeted = False
            heap = deferred
            heapq.heapify(heap)
    return _adopt_strays(owners, points)


def _adopt_strays(owners: list[int], points: FloatArray) -> list[int]:
    # Cells with no edge to the rest (slivers cut off by the outline) join the district
    # of the nearest owned cell.
    owner_array = np.asarray(owners)
    strays = np.flatnonzero(owner_array == -1)
    if len(strays) == 0:
        return owners
    owned = np.flatnonzero(owner_array != -1)
    for stray in strays.tolist():
        gaps = np.hypot(*(points[owned] - points[stray]).T)
        owner_array[stray] = owner_array[owned[int(np.argmin(gaps))]]
    result: list[int] = owner_array.tolist()
    return result
