"""Benchmark: CPU per live tap in one process, without HTTP (``POST /api/card/taps``).

    uv run python bench/card_taps_inprocess.py [--taps 20000] [--profile /tmp/card]

Seeds cards like ``card_taps.py``, then drives the ASGI application directly from
``--concurrency`` tasks on one event loop (the requests wrk sends, without sockets or
uvicorn): the figure is the process CPU (every thread: the loop and the store's writer)
per tap, which barely moves when other work shares the machine. ``--profile PREFIX``
writes cProfile statistics of the event loop thread (``PREFIX.loop.prof``) and of the
writer thread (``PREFIX.writer.prof``). Prints JSON; writes no result file.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from card_taps import HOLDERS, TOKEN_KEY, seed_cards, terminal_tokens
from smartcity.api.app import create_app
from smartcity.apps import installed_apps
from smartcity.kernel.config import Settings
from smartcity.kernel.platform import Platform
from smartcity.kernel.secrets import encode_secret
from smartcity.kernel.storage import group_commit

# Seconds each tap of the last drive took, and the garbage collector's pauses.
LATENCIES: list[float] = []
GC_PAUSES: list[float] = []
KINDS = (b'"kind":"bus"', b'"kind":"metro","distance_m":9000', b'"kind":"shop","amount_fen":350')


def tap_body(counter: int, numbers: list[str]) -> bytes:
    number = numbers[counter % len(numbers)].encode()
    return b'{"transaction_id":"w%d","card_number":"%s",%s}' % (
        counter,
        number,
        KINDS[counter % len(KINDS)],
    )


async def drive(
    app: Any, tokens: list[bytes], numbers: list[str], start: int, taps: int, tasks: int
) -> int:
    """Send taps ``start + 1`` to ``start + taps`` from ``tasks`` concurrent clients.

    Returns how many were answered 200.
    """
    counter = start
    answered = 0
    LATENCIES.clear()

    async def client() -> None:
        nonlocal counter, answered
        while counter < start + taps:
            counter += 1
            mine = counter
            body = tap_body(mine, numbers)
            scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": "POST",
                "scheme": "http",
                "path": "/api/card/taps",
                "raw_path": b"/api/card/taps",
                "root_path": "",
                "query_string": b"",
                "headers": [
                    (b"host", b"127.0.0.1"),
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"authorization", b"Bearer " + tokens[mine % len(tokens)]),
                ],
                "client": ("127.0.0.1", 1),
                "server": ("127.0.0.1", 80),
            }
            status = 0

            async def receive(body: bytes = body) -> dict[str, Any]:
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]

            began = time.perf_counter()
            await app(scope, receive, send)
            LATENCIES.append(time.perf_counter() - began)
            if status == 200:
                answered += 1

    await asyncio.gather(*(client() for _ in range(tasks)))
    return answered


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def watch_gc() -> None:
    """Record how long each collection of the oldest generation takes."""
    started: list[float] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            GC_PAUSES.append(time.perf_counter() - started.pop())

    gc.callbacks.append(callback)


def profile_writer(prefix: str) -> None:
    """Run the store's writer thread under its own profiler, dumped when it stops."""
    serve = group_commit.GroupCommit._serve

    def profiled(self: group_commit.GroupCommit) -> None:
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            serve(self)
        finally:
            profiler.disable()
            profiler.dump_stats(f"{prefix}.writer.prof")

    group_commit.GroupCommit._serve = profiled  # type: ignore[method-assign]


async def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    os.environ["SMARTCITY_TOKEN_KEY"] = encode_secret(TOKEN_KEY)
    url = args.database_url or f"sqlite:///{folder}/card.db"
    if args.database_url:
        from card_taps import reset

        reset(url)
    platform = Platform.open(Settings(data_dir=folder, database_url=url), apps=installed_apps())
    numbers = seed_cards(platform, HOLDERS)
    tokens = [token.encode() for token in terminal_tokens()]
    app = create_app(platform)
    await platform.start()
    try:
        await drive(app, tokens, numbers, 0, 2_000, args.concurrency)  # warm up
        profiler = cProfile.Profile() if args.profile else None
        GC_PAUSES.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        answered = await drive(app, tokens, numbers, 10_000, args.taps, args.concurrency)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(f"{args.profile}.loop.prof")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        pauses = sorted(GC_PAUSES)
    finally:
        await platform.stop()
    return {
        "taps": args.taps,
        "answered_ok": answered,
        "inprocess_taps_per_s": round(args.taps / wall),
        "inprocess_cpu_us_per_tap": round(cpu / args.taps * 1e6, 1),
        "inprocess_p50_ms": round(1000 * percentile(LATENCIES, 0.50), 2),
        "inprocess_p99_ms": round(1000 * percentile(LATENCIES, 0.99), 2),
        "gc_pauses": len(pauses),
        "gc_pause_max_ms": round(1000 * pauses[-1], 2) if pauses else 0.0,
        "profiled": bool(args.profile),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--taps", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--profile", default=None, help="write cProfile stats to PREFIX.*.prof")
    args = parser.parse_args()
    watch_gc()
    if args.profile:
        profile_writer(args.profile)
    with tempfile.TemporaryDirectory(prefix="smartcity-bench-") as folder:
        figures = asyncio.run(run(args, Path(folder)))
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
