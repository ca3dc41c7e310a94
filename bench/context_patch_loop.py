"""Benchmark: the loop's own work for a PATCH, the store's write stubbed out (CPU per request).

    uv run python bench/context_patch_loop.py            # 5 rounds of 20,000 PATCHes

Builds the served application (``smartcity.api.app.build``) over a small SQLite file and
sends ``PATCH .../attrs/temperature`` straight to the ASGI application, one at a time,
with ``SqlStore.write_async`` answering at once: what remains is the work of the
middleware, the fast path, the body's parse and the attribute's normalization. It is
the steadiest figure of the route's own CPU (no writer thread, no waiting), for A/B runs
of changes to that path. Prints the best and the median round, in µs of the loop's
thread CPU per PATCH.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from context_http import seed
from context_patch_asgi import patch_once


async def measure(database_url: str, *, count: int, rounds: int) -> dict[str, float]:
    os.environ["SMARTCITY_DATABASE_URL"] = database_url
    os.environ.setdefault("SMARTCITY_LOG_LEVEL", "WARNING")
    from smartcity.api.app import build
    from smartcity.kernel.storage.base import SqlStore

    async def answered_at_once(self: SqlStore, work: Any, **_options: Any) -> None:
        return None

    app = build()
    async with app.router.lifespan_context(app):
        SqlStore.write_async = answered_at_once  # type: ignore[method-assign,assignment]
        for _ in range(2000):  # warm up
            await patch_once(app, 1, 1.5)
        used: list[float] = []
        for _ in range(rounds):
            started = time.thread_time()
            for n in range(count):
                status, _took = await patch_once(app, 1 + n % 10, 1.5)
                if status != 204:
                    raise SystemExit(f"PATCH answered {status}")
            used.append(1e6 * (time.thread_time() - started) / count)
    used.sort()
    return {
        "loop_cpu_us_best": round(used[0], 2),
        "loop_cpu_us_median": round(used[len(used) // 2], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20_000, help="PATCHes per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        seed(url, 10)
        print(asyncio.run(measure(url, count=args.count, rounds=args.rounds)))


if __name__ == "__main__":
    main()
