"""A plausible road network for the synthetic city.

Three layers, all two-way:

- secondary roads: a jittered lattice (~1.5 km) over the city, each row and column one
  named road, segments kept only where they stay inside the city;
- arterial roads: links between neighbouring street/town centres (Delaunay edges
  shorter than ~8 km), each centre also tied to its nearest lattice junctions;
- expressways: links between neighbouring district centres.

Components left apart by the city's concave outline are joined to the main network by
their shortest possible link, so every node can reach every other.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPoint, Polygon

from smartcity.kernel.geo.distance import distances_m
from smartcity.sim.geography_names import NAME_POOL_SIZE, place_names
from smartcity.sim.geography_shapes import Frame

FloatArray = npt.NDArray[np.float64]

LATTICE_KM = 1.5
ARTERIAL_MAX_KM = 8.0
LATTICE_LINKS_PER_CENTRE = 2


@dataclass(frozen=True)
class RoadSegment:
    """One two-way road segment between two nodes (ids are 1-based node numbers)."""

    from_node: int
    to_node: int
    length_m: float
    road_class: str
    name: str


@dataclass(frozen=True)
class RoadNetwork:
    """Nodes (lon/lat; node id = position + 1) and the segments joining them."""

    node_lons: FloatArray
    node_lats: FloatArray
    segments: tuple[RoadSegment, ...]


@dataclass(frozen=True)
class _Link:
    a: int
    b: int
    road_class: str
    name: str


def generate_roads(
    outline_km: Polygon,
    frame: Frame,
    street_centres_km: FloatArray,
    district_centres_km: FloatArray,
    district_names: Sequence[str],
    rng: np.random.Generator,
) -> RoadNetwork:
    """Generate the road network of a city whose outline and centres are in ``frame``."""
    lattice, lattice_links = _lattice(outline_km, rng)
    street_base = len(lattice)
    district_base = street_base + len(street_centres_km)
    points = np.concatenate([lattice, street_centres_km, district_centres_km])
    links = list(lattice_links)

    # Names repeat only when a huge city needs more roads than the pool has names.
    street_pairs = _delaunay_pairs(street_centres_km)
    wanted = len(street_pairs) + len(street_centres_km) * LATTICE_LINKS_PER_CENTRE
    pool = place_names(min(wanted, NAME_POOL_SIZE), rng)
    arterial_names = itertools.cycle([name + "大道" for name, _ in pool])
    for a, b in street_pairs:
        if np.hypot(*(street_centres_km[a] - street_centres_km[b])) <= ARTERIAL_MAX_KM:
            links.append(_Link(street_base + a, street_base + b, "arterial", next(arterial_names)))
    for index, centre in enumerate(street_centres_km):
        gaps = np.hypot(*(lattice - centre).T)
        for nearest in np.argsort(gaps)[:LATTICE_LINKS_PER_CENTRE].tolist():
            links.append(_Link(street_base + index, nearest, "arterial", next(arterial_names)))

    short = [name.removesuffix("区") for name in district_names]
    for a, b in _delaunay_pairs(district_centres_km):
        links.append(
            _Link(district_base + a, district_base + b, "expressway", f"{short[a]}{short[b]}快速路")
        )
    for index, centre in enumerate(district_centres_km):
        gaps = np.hypot(*(street_centres_km - centre).T)
        nearest = int(np.argmin(gaps))
        links.append(
            _Link(
                district_base + index, street_base + nearest, "expressway", f"{short[index]}连接线"
            )
        )

    links = _inside(links, points, outline_km)
    links.extend(_join_components(points, links))
    lonlat = shapely.get_coordinates(frame.to_lonlat(np.asarray(shapely.points(points))))
    return RoadNetwork(
        node_lons=lonlat[:, 0].copy(),
        node_lats=lonlat[:, 1].copy(),
        segments=_segments(links, lonlat),
    )


def _lattice(outline: Polygon, rng: np.random.Generator) -> tuple[FloatArray, list[_Link]]:
    min_x, min_y, max_x, max_y = outline.bounds
    xs = np.arange(min_x + LATTICE_KM / 2, max_x, LATTICE_KM)
    ys = np.arange(min_y + LATTICE_KM / 2, max_y, LATTICE_KM)
    grid_x, grid_y = np.meshgrid(xs, ys)
    jitter = rng.uniform(-0.25 * LATTICE_KM, 0.25 * LATTICE_KM, size=(2, *grid_x.shape))
    px, py = grid_x + jitter[0], grid_y + jitter[1]
    inside = shapely.contains_xy(outline, px, py)
    numbers = np.full(grid_x.shape, -1)
    numbers[inside] = np.arange(int(inside.sum()))
    row_names = place_names(len(ys), rng)
    column_names = place_names(len(xs), rng)
    links: list[_Link] = []
    rows, columns = grid_x.shape
    for row in range(rows):
        for column in range(columns):
            here = int(numbers[row, column])
            if here < 0:
                continue
            if column + 1 < columns and numbers[row, column + 1] >= 0:
                name = row_names[row][0] + "路"
                links.append(_Link(here, int(numbers[row, column + 1]), "secondary", name))
            if row + 1 < rows and numbers[row + 1, column] >= 0:
                name = column_names[column][0] + "街"
                links.append(_Link(here, int(numbers[row + 1, column]), "secondary", name))
    return np.column_stack([px[inside], py[inside]]), links


def _delaunay_pairs(points: FloatArray) -> list[tuple[int, int]]:
    if len(points) < 2:
        return []
    if len(points) == 2:
        return [(0, 1)]
    edges = shapely.delaunay_triangles(MultiPoint(points), only_edges=True)
    position = {(float(x), float(y)): i for i, (x, y) in enumerate(points.tolist())}
    pairs: list[tuple[int, int]] = []
    for line in shapely.get_parts(edges):
        (x1, y1), (x2, y2) = shapely.get_coordinates(line).tolist()
        a, b = position.get((x1, y1)), position.get((x2, y2))
        if a is not None and b is not None and a != b:
            pairs.append((min(a, b), max(a, b)))
    return sorted(set(pairs))


def _inside(links: list[_Link], points: FloatArray, outline: Polygon) -> list[_Link]:
    # Roads do not leave the city (across the estuary or a neighbouring city's land).
    lines = shapely.linestrings(
        np.stack([points[[link.a for link in links]], points[[link.b for link in links]]], 1)
    )
    shapely.prepare(outline)
    keep = np.asarray(shapely.covers(outline, lines), dtype=bool)
    unique: dict[tuple[int, int], _Link] = {}
    for link, kept in zip(links, keep.tolist(), strict=True):
        key = (min(link.a, link.b), max(link.a, link.b))
        if kept and link.a != link.b and key not in unique:
            unique[key] = link
    return list(unique.values())


def _join_components(points: FloatArray, links: list[_Link]) -> list[_Link]:
    graph: nx.Graph[int] = nx.Graph()
    graph.add_nodes_from(range(len(points)))
    graph.add_edges_from((link.a, link.b) for link in links)
    components = sorted(nx.connected_components(graph), key=len, reverse=True)
    main = np.array(sorted(components[0]))
    joins: list[_Link] = []
    for component in components[1:]:
        members = np.array(sorted(component))
        gaps = np.hypot(
            points[members, 0][:, None] - points[main, 0][None, :],
            points[members, 1][:, None] - points[main, 1][None, :],
        )
        inner, outer = np.unravel_index(int(np.argmin(gaps)), gaps.shape)
        joins.append(_Link(int(members[inner]), int(main[outer]), "secondary", "联络路"))
    return joins


def _segments(links: list[_Link], lonlat: FloatArray) -> tuple[RoadSegment, ...]:
    a = np.array([link.a for link in links])
    b = np.array([link.b for link in links])
    lengths = distances_m(lonlat[a, 0], lonlat[a, 1], lonlat[b, 0], lonlat[b, 1])
    return tuple(
        RoadSegment(link.a + 1, link.b + 1, float(length), link.road_class, link.name)
        for link, length in zip(links, lengths.tolist(), strict=True)
    )
