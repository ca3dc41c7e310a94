"""Benchmark: single-entity attribute updates over HTTP (``PATCH .../attrs[/{attr}]``).

    uv run python bench/context_http.py                       # SQLite, 1 worker
    uv run python bench/context_http.py --workers 2 --database-url postgresql://...
    uv run python bench/context_http.py --patch-only --seconds 5   # PATCH one attribute only

Seeds ``ENTITIES`` entities through the library in-process, then runs ``smartcity serve``
and drives it with wrk (own process, loopback only): every request PATCHes the
``temperature`` of a random entity. A ``GET /healthz`` run in the same server gives the
raw ceiling of the HTTP stack for comparison. Prints JSON.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
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
        # As `smartcity seed` does: PostgreSQL plans with statistics from the start.
        store.analyze()
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


def loop_cpu_s(server: Server) -> float:
    """CPU seconds of the server's main threads (their event loops): the HTTP work.

    uvicorn serves on the main thread of the server process (of each worker process
    with several workers: the parent's main thread then only watches them); the rest
    of the server's CPU is its other threads (the store's writer, the checkpointer).
    """
    root = psutil.Process(server.process.pid)
    processes = [root, *root.children(recursive=True)]
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for process in processes:
        try:
            stat = Path(f"/proc/{process.pid}/task/{process.pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def settle(server: Server, *, most_s: float = 30.0, quiet_windows: int = 4) -> None:
    """Wait until the server's processes are idle: background start-up work done.

    A worker process prepares its keys in the first seconds after the server answers
    (about 1.7 s of CPU); counted in the first measured run, it added ~0.3 ms to each
    request's CPU there. With several workers each starts its own receipts process,
    and on a loaded machine one quiet half second came between two start-up steps:
    runs with 2 workers then counted ~1 ms per request on the processes' main threads.
    So the server must stay quiet for ``quiet_windows`` half seconds in a row.
    """
    deadline = time.monotonic() + most_s
    quiet = 0
    while time.monotonic() < deadline:
        before = server_cpu_s(server)
        time.sleep(0.5)
        quiet = quiet + 1 if server_cpu_s(server) - before < 0.02 else 0
        if quiet >= quiet_windows:
            return


class BackendCpu:
    """CPU seconds of the PostgreSQL backends serving the database (nothing on SQLite).

    Read from /proc (the cluster runs on this machine): the database's own work per
    request, which the server's CPU does not include. Backends come and go (a pool's
    overflow connections close at check-in), so they are sampled every 0.2 s while the
    run lasts and each one's last reading counts. Only client backends: autovacuum
    workers visiting the database after the seeding are not the requests' work.
    """

    def __init__(self, database_url: str) -> None:
        self._url = database_url if database_url.startswith("postgres") else ""
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> BackendCpu:
        if self._url:
            self._first = self._sample()
            self._thread = threading.Thread(target=self._poll, name="bench-backend-cpu")
            self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._last.update(self._sample())

    def used_s(self) -> float:
        """CPU seconds the backends used between enter and exit."""
        return sum(cpu - self._first.get(pid, 0.0) for pid, cpu in self._last.items())

    def _poll(self) -> None:
        while not self._stop.wait(0.2):
            self._last.update(self._sample())

    def _sample(self) -> dict[int, float]:
        import psycopg

        with psycopg.connect(self._url, autocommit=True) as conn:
            pids = [
                pid
                for (pid,) in conn.execute(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND backend_type = 'client backend'"
                )
            ]
        ticks = os.sysconf("SC_CLK_TCK")
        found: dict[int, float] = {}
        for pid in pids:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:  # the backend ended meanwhile
                continue
            fields = stat.rsplit(")", 1)[1].split()
            found[pid] = (int(fields[11]) + int(fields[12])) / ticks
        return found


def connections_per_worker(server: Server) -> list[int]:
    """How many of the load's connections each process of the server holds, most first.

    The kernel decides which worker accepts a connection; an uneven share moves the rate
    from run to run (a worker holding 14 of 16 connections serves them alone).
    """
    port = int(server.base_url.rsplit(":", 1)[1])
    root = psutil.Process(server.process.pid)
    counts = []
    for process in [root, *root.children(recursive=True)]:
        try:
            held = process.net_connections(kind="tcp")
        except psutil.Error:
            continue
        count = sum(1 for c in held if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port)
        if count:
            counts.append(count)
    return sorted(counts, reverse=True)


def measured_run(
    server: Server, script: str, *, seconds: int, connections: int, database_url: str = ""
) -> tuple[WrkResult, float, float, float]:
    """A wrk run; the server's, its loop's and the database's CPU milliseconds per request.

    CPU per request barely moves when other work shares the machine, unlike req/s: it is
    the figure to compare between runs under load. The database's is 0 on SQLite (its
    work is in the server's).
    """
    before = server_cpu_s(server)
    loop_before = loop_cpu_s(server)
    shares: list[int] = []
    # Counted once the load's connections are all open (wrk opens them at its start).
    counting = threading.Timer(
        min(1.0, seconds / 2), lambda: shares.extend(connections_per_worker(server))
    )
    counting.start()
    with BackendCpu(database_url) as backends:
        result = run_wrk(server.base_url, script, seconds=seconds, connections=connections)
        used = server_cpu_s(server) - before
        loop_used = loop_cpu_s(server) - loop_before
    counting.join()
    print(f"connections per worker: {shares}", file=sys.stderr)
    count = max(result.requests, 1)
    return (
        result,
        round(1000 * used / count, 3),
        round(1000 * backends.used_s() / count, 3),
        round(1000 * loop_used / count, 3),
    )


def bench_patch(
    database_url: str, *, workers: int = 1, seconds: int = 10, connections: int = 16
) -> dict[str, float]:
    """PATCH ``.../attrs/temperature`` of random seeded entities under wrk load."""
    seed(database_url)
    script = PATCH_ATTRIBUTE % {"entities": ENTITIES}
    with running_server(database_url, workers=workers) as server:
        # Warm up (imports, caches, connection pools) before measuring.
        run_wrk(server.base_url, script, seconds=1, connections=connections)
        settle(server)
        result, cpu_ms, database_ms, loop_ms = measured_run(
            server, script, seconds=seconds, connections=connections, database_url=database_url
        )
        healthz, healthz_cpu_ms, _, _ = measured_run(
            server, HEALTHZ, seconds=max(1, seconds // 2), connections=connections
        )
    return {
        "patch_per_s": result.requests_per_s,
        "patch_p50_ms": result.p50_ms,
        "patch_p99_ms": result.p99_ms,
        "patch_errors": result.errors,
        "patch_server_cpu_ms": cpu_ms,
        "patch_loop_cpu_ms": loop_ms,
        "patch_database_cpu_ms": database_ms,
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
        settle(server)
        for label, script in scripts.items():
            result, cpu_ms, database_ms, loop_ms = measured_run(
                server, script, seconds=seconds, connections=connections, database_url=database_url
            )
            results[f"{label}_server_cpu_ms"] = cpu_ms
            results[f"{label}_loop_cpu_ms"] = loop_ms
            if database_ms:
                results[f"{label}_database_cpu_ms"] = database_ms
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
    parser.add_argument(
        "--patch-only", action="store_true", help="only PATCH one attribute (and healthz)"
    )
    args = parser.parse_args()
    run = bench_patch if args.patch_only else bench_all
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        results = run(url, workers=args.workers, seconds=args.seconds, connections=args.connections)
    print(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
