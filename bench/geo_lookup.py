"""Benchmark: point-to-unit-grid lookups of ``GridIndex`` (single calls and vectorised).

    uv run python bench/geo_lookup.py --profile city     # generates the city in memory

``bench/seed.py`` calls :func:`bench_point_lookup` on an index loaded from a seeded store.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import orjson
import shapely

from smartcity.kernel.geo.index import GridIndex

RESULTS = Path(__file__).resolve().parent / "results" / "geo_lookup.json"


def bench_point_lookup(index: GridIndex, n: int, rng: np.random.Generator) -> dict[str, float]:
    """Time ``n`` lookups of uniform points over the city's bounding box and of points
    drawn where people live (a grid chosen uniformly, a point inside its bounding box),
    single and vectorised; check the answers against a brute-force shapely query."""
    west, south, east, north = index.bounds
    polygons = index.grid_polygons()
    picks = rng.integers(0, len(index), n)
    boxes = shapely.bounds(polygons[picks])
    samples = {
        "uniform": (rng.uniform(west, east, n), rng.uniform(south, north, n)),
        "in_grids": (rng.uniform(boxes[:, 0], boxes[:, 2]), rng.uniform(boxes[:, 1], boxes[:, 3])),
    }
    tree = shapely.STRtree(polygons)
    results: dict[str, float] = {"grids": len(index), "points": n}
    for label, (lons, lats) in samples.items():
        lon_list, lat_list = lons.tolist(), lats.tolist()
        locate = index.locate
        started = time.perf_counter()
        for lon, lat in zip(lon_list, lat_list, strict=True):
            locate(lon, lat)
        results[f"{label}_single_per_s"] = round(n / (time.perf_counter() - started))
        started = time.perf_counter()
        found = index.locate_many(lons, lats)
        results[f"{label}_vectorised_per_s"] = round(n / (time.perf_counter() - started))
        # Raw baseline in the same run: an STRtree with the exact predicate, per point.
        points = shapely.points(lons, lats)
        sample = points[: min(n, 20_000)]
        started = time.perf_counter()
        for point in sample:
            tree.query(point, predicate="within")
        results[f"{label}_baseline_strtree_single_per_s"] = round(
            len(sample) / (time.perf_counter() - started)
        )
        started = time.perf_counter()
        inside, grid = tree.query(points, predicate="within")
        results[f"{label}_baseline_strtree_vectorised_per_s"] = round(
            n / (time.perf_counter() - started)
        )
        expected = np.full(n, -1)
        expected[inside] = grid
        results[f"{label}_disagreements"] = int(np.count_nonzero(found != expected))
    return results


def main() -> None:
    from smartcity.kernel.geo.codes import AreaLevel
    from smartcity.sim.geography import generate_geography
    from smartcity.sim.profiles import profile_named

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--seed", type=int, default=20101)
    parser.add_argument("--lookups", type=int, default=200_000)
    args = parser.parse_args()
    started = time.perf_counter()
    geography = generate_geography(profile=profile_named(args.profile), seed=args.seed)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    index = GridIndex.from_areas(geography.areas[AreaLevel.GRID])
    built = time.perf_counter() - started
    figures = bench_point_lookup(index, args.lookups, np.random.default_rng(args.seed))
    report = {
        "profile": args.profile,
        "generate_s": round(generated, 2),
        "index_build_s": round(built, 2),
        **figures,
    }
    text = orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(text)
    print(text.decode())


if __name__ == "__main__":
    main()
