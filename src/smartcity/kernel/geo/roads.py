"""The road network as a graph: snap points to the nearest junction, route between them."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import shapely
from sqlalchemy import select

from smartcity.kernel.errors import InvalidInput, NotFound
from smartcity.kernel.geo.distance import distance_m
from smartcity.kernel.geo.tables import geo_road_edge, geo_road_node
from smartcity.kernel.storage import Store

LonLat = tuple[float, float]


@dataclass(frozen=True)
class RoadNode:
    """A junction of the road network."""

    id: int
    lon: float
    lat: float


@dataclass(frozen=True)
class RoadEdge:
    """A two-way road segment between two junctions."""

    id: int
    from_node: int
    to_node: int
    length_m: float
    road_class: str
    name: str


@dataclass(frozen=True)
class Route:
    """A route between two points over the road network.

    ``nodes`` are the junction ids driven through; ``length_m`` is the whole trip: the
    straight walk to the first junction, the roads, and the walk from the last junction.
    """

    nodes: tuple[int, ...]
    road_m: float
    access_m: float
    egress_m: float

    @property
    def length_m(self) -> float:
        """Total length in metres."""
        return self.access_m + self.road_m + self.egress_m


class RoadGraph:
    """The road network in memory (networkx), with nearest-junction snapping."""

    def __init__(self, nodes: Sequence[RoadNode], edges: Sequence[RoadEdge]) -> None:
        """Build the graph from junctions and segments (every segment is two-way)."""
        if not nodes:
            raise InvalidInput("a road graph needs at least one node", part="nodes")
        self._ids = np.array([node.id for node in nodes], dtype=np.int64)
        self._positions = {node.id: (node.lon, node.lat) for node in nodes}
        lons = np.array([node.lon for node in nodes])
        lats = np.array([node.lat for node in nodes])
        # Snap in a frame where a degree of longitude is as long as it is at this
        # latitude, so "nearest" means nearest on the ground.
        self._lon_scale = math.cos(math.radians(float(lats.mean())))
        self._tree = shapely.STRtree(np.asarray(shapely.points(lons * self._lon_scale, lats)))
        self._graph: nx.Graph[int] = nx.Graph()
        self._graph.add_nodes_from(node.id for node in nodes)
        for edge in edges:
            known = self._graph.get_edge_data(edge.from_node, edge.to_node)
            if known is None or known["length_m"] > edge.length_m:
                self._graph.add_edge(edge.from_node, edge.to_node, length_m=edge.length_m)
        self._edge_count = len(edges)

    @classmethod
    def load(cls, store: Store) -> RoadGraph:
        """Load the road network from the store."""
        with store.connect() as conn:
            node_rows = conn.execute(
                select(geo_road_node.c.id, geo_road_node.c.lon, geo_road_node.c.lat)
            ).all()
            edge_rows = conn.execute(
                select(
                    geo_road_edge.c.id,
                    geo_road_edge.c.from_node,
                    geo_road_edge.c.to_node,
                    geo_road_edge.c.length_m,
                    geo_road_edge.c.road_class,
                    geo_road_edge.c.name,
                )
            ).all()
        if not node_rows:
            raise NotFound("the store holds no road network; seed the geography first")
        nodes = [RoadNode(row.id, row.lon, row.lat) for row in node_rows]
        edges = [
            RoadEdge(row.id, row.from_node, row.to_node, row.length_m, row.road_class, row.name)
            for row in edge_rows
        ]
        return cls(nodes, edges)

    @property
    def node_count(self) -> int:
        """How many junctions the network has."""
        return int(self._graph.number_of_nodes())

    @property
    def edge_count(self) -> int:
        """How many road segments the network has."""
        return self._edge_count

    def position(self, node: int) -> LonLat:
        """The lon/lat of junction ``node``."""
        try:
            return self._positions[node]
        except KeyError:
            raise NotFound(f"no road node {node}", node=node) from None

    def nearest_node(self, lon: float, lat: float) -> int:
        """The id of the junction nearest the point."""
        _check_lonlat(lon, lat)
        hit = self._tree.query_nearest(shapely.Point(lon * self._lon_scale, lat))
        return int(self._ids[int(hit[0])])

    def shortest_path(self, origin: LonLat, destination: LonLat) -> Route:
        """The shortest route from ``origin`` to ``destination`` (lon, lat pairs).

        Both ends snap to their nearest junction; A* with the straight-line distance
        as its (admissible) estimate finds the roads in between.
        """
        start = self.nearest_node(*origin)
        end = self.nearest_node(*destination)
        try:
            path = nx.astar_path(
                self._graph, start, end, heuristic=self._straight_line, weight="length_m"
            )
        except nx.NetworkXNoPath:
            raise NotFound(
                "no road connects the two points", origin=origin, destination=destination
            ) from None
        road_m = sum(
            float(self._graph.edges[a, b]["length_m"]) for a, b in itertools.pairwise(path)
        )
        return Route(
            nodes=tuple(int(node) for node in path),
            road_m=road_m,
            access_m=distance_m(*origin, *self._positions[start]),
            egress_m=distance_m(*self._positions[end], *destination),
        )

    def _straight_line(self, a: int, b: int) -> float:
        return distance_m(*self._positions[a], *self._positions[b])


def _check_lonlat(lon: float, lat: float) -> None:
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise InvalidInput(f"({lon}, {lat}) is not a lon/lat point", part="point")
