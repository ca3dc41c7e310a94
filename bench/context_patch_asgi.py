"""Benchmark: the PATCH routes in process, ASGI calls without HTTP (CPU per request).

    uv run python bench/context_patch_asgi.py                    # SQLite, fresh file
    uv run python bench/context_patch_asgi.py --database-url postgresql://.../db
    uv run python bench/context_patch_asgi.py --profile /tmp/patch.prof

Builds the served application (``smartcity.api.app.build``, start hooks included) in this
process over a database seeded like ``context_http.py``, and has ``--tasks`` concurrent
callers each send ``PATCH .../attrs/temperature`` of a random entity straight to the ASGI
application for ``--seconds``. It reports the process's CPU per request (every thread:
the loop and the store's writer), steadier under load than a rate, and latency
percentiles. With ``--profile`` the run is recorded by cProfile, the loop's thread and
the writer's each in its own file, timed by the thread's CPU clock (waits on the
database then cost nothing, as in the CPU figures). Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from context_http import ENTITIES, BackendCpu, seed


async def patch_once(app: Any, entity: int, value: float) -> tuple[int, float]:
    """One PATCH through the ASGI app: its status and its latency in seconds."""
    body = b'{"value": %.2f}' % value
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PATCH",
        "scheme": "http",
        "path": f"/ngsi-ld/v1/entities/urn:ngsi-ld:Station:{entity}/attrs/temperature",
        "raw_path": b"",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    started = time.perf_counter()
    await app(scope, receive, send)
    return status, time.perf_counter() - started


# Durations of the cyclic collector's runs during the measured part (gc.callbacks).
pauses: list[float] = []
_collecting: list[float] = []


def time_collections(phase: str, _info: dict[str, Any]) -> None:
    if phase == "start":
        _collecting[:] = [time.perf_counter()]
    elif _collecting:
        pauses.append(time.perf_counter() - _collecting[0])


async def drive(app: Any, *, seconds: float, tasks: int, seed_value: int) -> dict[str, Any]:
    """``tasks`` concurrent callers for ``seconds``; CPU per request and percentiles."""
    chance = random.Random(seed_value)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = 0.0

    async def caller() -> None:
        while time.perf_counter() < deadline:
            status, took = await patch_once(app, chance.randint(1, ENTITIES), chance.random() * 40)
            statuses[status] = statuses.get(status, 0) + 1
            latencies.append(took)

    # Warm up, then measure.
    deadline = time.perf_counter() + 1.0
    await asyncio.gather(*(caller() for _ in range(tasks)))
    warmup_requests = len(latencies)
    latencies.clear()
    statuses.clear()
    pauses.clear()
    threads_before = thread_cpu_s()
    cpu_before = time.process_time()
    wall_before = time.perf_counter()
    deadline = wall_before + seconds
    await asyncio.gather(*(caller() for _ in range(tasks)))
    cpu = time.process_time() - cpu_before
    threads_after = thread_cpu_s()
    wall = time.perf_counter() - wall_before
    latencies.sort()
    count = len(latencies)

    def percentile(p: float) -> float:
        return round(1000 * latencies[min(count - 1, int(p * count))], 2)

    return {
        "requests": count,
        "warmup_requests": warmup_requests,
        "statuses": {str(k): v for k, v in statuses.items()},
        "patch_per_s": round(count / wall, 1),
        "patch_cpu_us": round(1e6 * cpu / max(count, 1), 1),
        # Per thread: the event loop (HTTP-less request handling) and the store's writer.
        **{
            f"patch_{name}_cpu_us": round(
                1e6 * (used - threads_before.get(name, 0.0)) / max(count, 1), 1
            )
            for name, used in threads_after.items()
        },
        "patch_p50_ms": percentile(0.50),
        "patch_p99_ms": percentile(0.99),
        "patch_max_ms": round(1000 * latencies[-1], 2) if latencies else 0.0,
        "gc_collections": len(pauses),
        "gc_total_ms": round(1000 * sum(pauses), 1),
        "gc_max_pause_ms": round(1000 * max(pauses, default=0.0), 2),
    }


def thread_cpu_s() -> dict[str, float]:
    """CPU seconds of the loop's thread and of the store's writer thread (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    names = {threading.main_thread().native_id: "loop"}
    for thread in threading.enumerate():
        if thread.name == "smartcity-store-writer" and thread.native_id is not None:
            names[thread.native_id] = "writer"
    used: dict[str, float] = {}
    for native_id, name in names.items():
        try:
            stat = Path(f"/proc/self/task/{native_id}/stat").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()
        used[name] = used.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return used


writer_profiles: list[cProfile.Profile] = []


def profile_writer_threads() -> None:
    """Record the store's writer thread too (cProfile sees only its own thread)."""
    from smartcity.kernel.storage.group_commit import GroupCommit

    serve = GroupCommit._serve

    def profiled(self: GroupCommit) -> None:
        profiler = cProfile.Profile(time.thread_time)
        writer_profiles.append(profiler)
        profiler.enable()
        try:
            serve(self)
        finally:
            profiler.disable()

    GroupCommit._serve = profiled  # type: ignore[method-assign]


async def run(database_url: str, *, seconds: float, tasks: int, profile: str | None) -> Any:
    os.environ["SMARTCITY_DATABASE_URL"] = database_url
    os.environ.setdefault("SMARTCITY_LOG_LEVEL", "WARNING")
    from smartcity.api.app import build

    if profile is not None:
        profile_writer_threads()
    app = build()
    gc.callbacks.append(time_collections)
    async with app.router.lifespan_context(app):
        if profile is None:
            with BackendCpu(database_url) as backends:
                result = await drive(app, seconds=seconds, tasks=tasks, seed_value=7)
            if database_url.startswith("postgres"):
                # The PostgreSQL backends' CPU over the warm-up and the measured part.
                result["patch_database_cpu_us"] = round(
                    1e6
                    * backends.used_s()
                    / max(result["requests"] + result["warmup_requests"], 1),
                    1,
                )
            return result
        profiler = cProfile.Profile(time.thread_time)
        profiler.enable()
        try:
            return await drive(app, seconds=seconds, tasks=tasks, seed_value=7)
        finally:
            profiler.disable()
            profiler.dump_stats(profile)
            for n, other in enumerate(writer_profiles):
                other.dump_stats(f"{profile}.writer{n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--tasks", type=int, default=16)
    parser.add_argument("--profile", default=None, help="write a cProfile file here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        seed(url)
        result = asyncio.run(run(url, seconds=args.seconds, tasks=args.tasks, profile=args.profile))
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
