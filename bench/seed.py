"""Benchmark: seeding the synthetic city, and district/grid point lookups.

    uv run python bench/seed.py                 # demo profile + lookups
    uv run python bench/seed.py --profiles demo,city

Each profile seeds a fresh SQLite file in a child process, so its peak memory (max RSS)
is measured on its own. Point lookups run on the seeded city: our raster index against
a raw baseline (shapely STRtree + exact predicate) in the same run.
Prints JSON and writes bench/results/seed.json.
"""

from __future__ import annotations

import argparse
import os
import platform as host_platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "seed.json"

CHILD = """
import sys, orjson
from smartcity.kernel.storage import open_store
from smartcity.sim.city import seed_city
from smartcity.sim.profiles import profile_named
from smartcity.sim.progress import RichProgress
store = open_store(sys.argv[1]); store.migrate()
with RichProgress() as progress:
    summary = seed_city(store, profile=profile_named(sys.argv[2]), seed=int(sys.argv[3]),
                        progress=progress)
print(orjson.dumps({"citizens": summary.population.citizens,
                    "communities": summary.geography.communities,
                    "grids": summary.geography.grids,
                    "seconds": summary.seconds}).decode())
"""


def seed_profile(profile: str, seed: int, workdir: Path) -> dict[str, float | int]:
    database = workdir / f"{profile}.db"
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, f"sqlite:///{database}", profile, str(seed)],
        stdout=subprocess.PIPE,
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    output = child.stdout.read() if child.stdout else b""
    if status != 0:
        raise SystemExit(f"seeding {profile} failed with status {status}")
    summary = orjson.loads(output.strip().splitlines()[-1])
    return {
        f"{profile}_seed_s": round(wall, 2),
        f"{profile}_peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        f"{profile}_citizens": summary["citizens"],
        f"{profile}_communities": summary["communities"],
        f"{profile}_grids": summary["grids"],
        f"{profile}_db_mib": round(database.stat().st_size / 2**20, 1),
    }


def bench_lookups(database: Path, n: int, seed: int) -> dict[str, float | int]:
    """Point lookups on the index loaded from the seeded store (see bench/geo_lookup.py)."""
    from geo_lookup import bench_point_lookup
    from smartcity.kernel.geo.index import GridIndex
    from smartcity.kernel.storage import open_store

    store = open_store(f"sqlite:///{database}")
    started = time.perf_counter()
    index = GridIndex.load(store)
    load_s = time.perf_counter() - started
    store.close()
    figures = bench_point_lookup(index, n, np.random.default_rng(seed))
    return {
        "lookup_index_load_s": round(load_s, 2),
        **{f"lookup_{key}": value for key, value in figures.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profiles", default="demo", help="comma list: demo,city")
    parser.add_argument("--seed", type=int, default=20101)
    parser.add_argument("--lookups", type=int, default=200_000)
    args = parser.parse_args()

    results: dict[str, object] = {
        "machine": f"{host_platform.machine()} {os.cpu_count()} cores, Python "
        f"{host_platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
    }
    if RESULTS.exists():  # keep figures of profiles not run this time
        previous = orjson.loads(RESULTS.read_bytes())
        results = {**previous, **results}
    with tempfile.TemporaryDirectory(prefix="smartcity-bench-") as tmp:
        workdir = Path(tmp)
        profiles = [p for p in args.profiles.split(",") if p]
        for profile in profiles:
            results.update(seed_profile(profile, args.seed, workdir))
        lookup_profile = "city" if "city" in profiles else profiles[0]
        figures = bench_lookups(workdir / f"{lookup_profile}.db", args.lookups, args.seed)
        results.update({"lookup_profile": lookup_profile, **figures})
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    print(orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())


if __name__ == "__main__":
    main()
