"""Benchmark: single-entity attribute updates over HTTP (``PATCH .../attrs[/{attr}]``).

    uv run python bench/context_http.py                       # SQLite, 1 worker
    uv run python bench/context_http.py --workers 2 --database-url postgresql://...

Seeds ``ENTITIES`` entities through the library in-process, then runs ``smartcity serve``
and drives it with wrk (own process, loopback only): every request PATCHes the
``temperature`` of a random entity. A ``GET /healthz`` run in the same server gives the
raw ceiling of the HTTP stack for comparison. Prints JSON.
"""

from __future__ import annotations

import argparse
import tempfile
from typing import Any

import orjson
import psutil

from harness import Server, WrkResult, run_wrk, running_server
from smartcity.kernel.clock import RealClock
from smartcity.kernel.context.jsonld import core_context
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.context.normalize import Normalizer
from smartcity.kernel.storage import open_store

ENTITIES = 1000

PATCH_ATTRIBUTE = """
math.randomseed(os.time())
wrk.method = "PATCH"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local n = math.random(1, %(entities)d)
  local body = string.format('{"value": %%.2f}', math.random() * 40)
  local path = "/ngsi-ld/v1/entities/urn:ngsi-ld:Station:" .. n .. "/attrs/temperature"
  return wrk.format(nil, path, nil, body)
end
"""

PATCH_ATTRIBUTES = """
math.randomseed(os.time())
wrk.method = "PATCH"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local n = math.random(1, %(entities)d)
  local value = math.random() * 40
  local body = string.format('{"temperature": {"type": "Property", "value": %%.2f}}', value)
  local path = "/ngsi-ld/v1/entities/urn:ngsi-ld:Station:" .. n .. "/attrs"
  return wrk.format(nil, path, nil, body)
end
"""

HEALTHZ = 'wrk.method = "GET"\nwrk.path = "/healthz"\n'


class _QuietBus:
    """Seeding publishes nothing anyone listens to."""

    def publish(self, event: Any) -> None:
        pass


def seed(database_url: str, entities: int = ENTITIES) -> None:
    """Migrate and (re)create ``entities`` stations through the library."""
    store = open_store(database_url)
    try:
        store.migrate()
        normalizer = Normalizer(core_context())
        batch = [
            normalizer.entity(
                {
                    "id": f"urn:ngsi-ld:Station:{n}",
                    "type": "Station",
                    "temperature": {"type": "Property", "value": 20.0, "unitCode": "CEL"},
                    "name": f"station {n}",
                }
            )
            for n in range(1, entities + 1)
        ]
        library = ContextLibrary(store, _QuietBus(), RealClock())  # type: ignore[arg-type]
        library.upsert_entities("", batch, "replace")
    finally:
        store.close()


def server_cpu_s(server: Server) -> float:
    """CPU seconds (user + system) the server and its worker processes have used."""
    root = psutil.Process(server.process.pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        times = process.cpu_times()
        total += times.user + times.system
    return total


def measured_run(
    server: Server, script: str, *, seconds: int, connections: int
) -> tuple[WrkResult, float]:
    """A wrk run and the server's CPU milliseconds per request during it.

    CPU per request barely moves when other work shares the machine, unlike req/s: it is
    the figure to compare between runs under load.
    """
    before = server_cpu_s(server)
    result = run_wrk(server.base_url, script, seconds=seconds, connections=connections)
    used = server_cpu_s(server) - before
    return result, round(1000 * used / max(result.requests, 1), 3)


def bench_patch(
    database_url: str, *, workers: int = 1, seconds: int = 10, connections: int = 16
) -> dict[str, float]:
    """PATCH ``.../attrs/temperature`` of random seeded entities under wrk load."""
    seed(database_url)
    script = PATCH_ATTRIBUTE % {"entities": ENTITIES}
    with running_server(database_url, workers=workers) as server:
        # Warm up (imports, caches, connection pools) before measuring.
        run_wrk(server.base_url, script, seconds=1, connections=connections)
        result, cpu_ms = measured_run(server, script, seconds=seconds, connections=connections)
        healthz, healthz_cpu_ms = measured_run(
            server, HEALTHZ, seconds=max(1, seconds // 2), connections=connections
        )
    return {
        "patch_per_s": result.requests_per_s,
        "patch_p50_ms": result.p50_ms,
        "patch_p99_ms": result.p99_ms,
        "patch_errors": result.errors,
        "patch_server_cpu_ms": cpu_ms,
        "healthz_per_s": healthz.requests_per_s,
        "healthz_server_cpu_ms": healthz_cpu_ms,
    }


def bench_all(
    database_url: str, *, workers: int = 1, seconds: int = 10, connections: int = 16
) -> dict[str, float]:
    """PATCH one attribute, PATCH ``.../attrs`` and GET /healthz in one server."""
    seed(database_url)
    scripts = {
        "patch": PATCH_ATTRIBUTE % {"entities": ENTITIES},
        "patch_attrs": PATCH_ATTRIBUTES % {"entities": ENTITIES},
        "healthz": HEALTHZ,
    }
    results: dict[str, float] = {}
    with running_server(database_url, workers=workers) as server:
        run_wrk(server.base_url, scripts["patch"], seconds=1, connections=connections)
        for label, script in scripts.items():
            result, cpu_ms = measured_run(server, script, seconds=seconds, connections=connections)
            results[f"{label}_server_cpu_ms"] = cpu_ms
            results[f"{label}_per_s"] = result.requests_per_s
            results[f"{label}_p50_ms"] = result.p50_ms
            results[f"{label}_p99_ms"] = result.p99_ms
            results[f"{label}_errors"] = result.errors
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        results = bench_all(
            url, workers=args.workers, seconds=args.seconds, connections=args.connections
        )
    print(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
