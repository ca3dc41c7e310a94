from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from sqlalchemy import select

from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.geo.codes import AreaLevel
from smartcity.kernel.geo.distance import distance_m
from smartcity.kernel.geo.roads import RoadEdge, RoadGraph, RoadNode
from smartcity.kernel.geo.tables import geo_road_edge
from smartcity.kernel.storage import Store
from smartcity.sim.geography import Geography, seed_geography
from smartcity.sim.profiles import TINY
from smartcity.sim.progress import SilentProgress

from .conftest import TINY_SEED


@pytest.fixture(scope="module")
def graph(tiny_geography: Geography) -> RoadGraph:
    roads = tiny_geography.roads
    nodes = [
        RoadNode(index + 1, lon, lat)
        for index, (lon, lat) in enumerate(
            zip(roads.node_lons.tolist(), roads.node_lats.tolist(), strict=True)
        )
    ]
    edges = [
        RoadEdge(index + 1, s.from_node, s.to_node, s.length_m, s.road_class, s.name)
        for index, s in enumerate(roads.segments)
    ]
    return RoadGraph(nodes, edges)


def test_the_network_is_connected_and_lengths_are_real(tiny_geography: Geography) -> None:
    roads = tiny_geography.roads
    network: nx.Graph[int] = nx.Graph()
    network.add_edges_from((s.from_node, s.to_node) for s in roads.segments)
    assert network.number_of_nodes() == len(roads.node_lons)
    assert nx.is_connected(network)
    classes = {s.road_class for s in roads.segments}
    assert {"expressway", "arterial", "secondary"} <= classes
    for segment in roads.segments[::50]:
        a, b = segment.from_node - 1, segment.to_node - 1
        straight = distance_m(
            roads.node_lons[a], roads.node_lats[a], roads.node_lons[b], roads.node_lats[b]
        )
        assert segment.length_m == pytest.approx(straight)
        assert segment.name


def test_routes_are_connected_and_never_shorter_than_the_crow_flies(
    tiny_geography: Geography, graph: RoadGraph
) -> None:
    districts = tiny_geography.areas[AreaLevel.DISTRICT]
    centres = [(d.centroid_lon, d.centroid_lat) for d in districts]
    rng = np.random.default_rng(3)
    for _ in range(20):
        a, b = rng.choice(len(centres), 2, replace=False)
        route = graph.shortest_path(centres[a], centres[b])
        assert route.length_m >= distance_m(*centres[a], *centres[b]) - 1e-6
        assert route.nodes[0] == graph.nearest_node(*centres[a])
        assert route.nodes[-1] == graph.nearest_node(*centres[b])
        crow = distance_m(*graph.position(route.nodes[0]), *graph.position(route.nodes[-1]))
        assert route.road_m >= crow - 1e-6


def test_snapping_finds_the_nearest_junction(tiny_geography: Geography, graph: RoadGraph) -> None:
    roads = tiny_geography.roads
    rng = np.random.default_rng(4)
    for lon, lat in zip(rng.uniform(113.1, 113.9, 20), rng.uniform(22.7, 23.8, 20), strict=True):
        snapped = graph.nearest_node(float(lon), float(lat))
        ground = [
            distance_m(lon, lat, x, y)
            for x, y in zip(roads.node_lons.tolist(), roads.node_lats.tolist(), strict=True)
        ]
        # The snapping frame is flat; allow it a metre of disagreement with the sphere.
        assert distance_m(lon, lat, *graph.position(snapped)) <= min(ground) + 1.0


def test_a_route_to_itself_is_empty_of_roads(graph: RoadGraph) -> None:
    route = graph.shortest_path((113.3, 23.1), (113.3, 23.1))
    assert len(route.nodes) == 1 and route.road_m == 0.0
    assert route.length_m == pytest.approx(2 * route.access_m)


def test_bad_points_are_refused(graph: RoadGraph) -> None:
    with pytest.raises(InvalidInput):
        graph.shortest_path((200.0, 23.0), (113.3, 23.1))


def test_graph_loads_from_the_store(store: Store, graph: RoadGraph) -> None:
    seed_geography(store, profile=TINY, seed=TINY_SEED, progress=SilentProgress())
    loaded = RoadGraph.load(store)
    assert (loaded.node_count, loaded.edge_count) == (graph.node_count, graph.edge_count)
    route = loaded.shortest_path((113.25, 23.12), (113.6, 23.6))
    with store.connect() as conn:
        edges = {
            frozenset((row.from_node, row.to_node))
            for row in conn.execute(select(geo_road_edge.c.from_node, geo_road_edge.c.to_node))
        }
    assert all(frozenset(pair) in edges for pair in zip(route.nodes, route.nodes[1:], strict=False))
    assert route.length_m >= distance_m(113.25, 23.12, 113.6, 23.6)
