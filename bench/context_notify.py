"""Benchmark: notification latency, from an entity update over HTTP to its arrival.

A real server (``smartcity serve``) holds a subscription whose endpoint is a receiver in
its own process; the benchmark PATCHes entities at a steady rate and the receiver stamps
each notification's arrival. Both clocks are ``time.perf_counter`` (CLOCK_MONOTONIC on
Linux, shared by every process of the machine). Run once alone and once with a second
subscription whose endpoint is down (a closed loopback port).

    uv run python bench/context_notify.py
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from queue import Empty
from typing import Any

import httpx2
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

from harness import free_port, percentile, running_server

ENTITY_TYPE = "NotifyProbe"


def _receive(port: int, count: int, results: Any) -> None:
    """Accept notifications until ``count`` arrived; report ``{n: arrival}``."""
    arrivals: dict[int, float] = {}
    done = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                body = await reader.readexactly(length)
                arrived = time.perf_counter()
                for entity in orjson.loads(body)["data"]:
                    if int(entity["n"]) >= 0:  # -1: the creation, not measured
                        arrivals.setdefault(int(entity["n"]), arrived)
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                if len(arrivals) >= count:
                    done.set()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", port)
        results.put("ready")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout=120)
        server.close()
        results.put(arrivals)

    asyncio.run(main())


def _subscription(uri: str) -> dict[str, Any]:
    return {
        "type": "Subscription",
        "entities": [{"type": ENTITY_TYPE}],
        "watchedAttributes": ["n"],
        "notification": {"endpoint": {"uri": uri}, "format": "keyValues", "attributes": ["n"]},
    }


def _measure(database_url: str, *, updates: int, rate: float, dead_endpoint: bool) -> list[float]:
    port = free_port()
    results: Any = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=_receive, args=(port, updates, results))
    receiver.start()
    results.get(timeout=20)
    sent: dict[int, float] = {}
    with running_server(database_url) as server, httpx2.Client(base_url=server.base_url) as http:
        base = "/ngsi-ld/v1"
        http.post(f"{base}/subscriptions", json=_subscription(f"http://127.0.0.1:{port}/n"))
        if dead_endpoint:
            dead = f"http://127.0.0.1:{free_port()}/n"
            http.post(f"{base}/subscriptions", json=_subscription(dead))
        entities = [f"urn:ngsi-ld:{ENTITY_TYPE}:{i}" for i in range(50)]
        for entity_id in entities:
            http.post(
                f"{base}/entities",
                json={"id": entity_id, "type": ENTITY_TYPE, "n": {"type": "Property", "value": -1}},
            )
        time.sleep(1.0)  # creation notifications (n = -1) are not measured
        start = time.perf_counter()
        for number in range(updates):
            delay = start + number / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            entity_id = entities[number % len(entities)]
            sent[number] = time.perf_counter()
            response = http.patch(
                f"{base}/entities/{entity_id}/attrs/n", json={"type": "Property", "value": number}
            )
            if response.status_code != 204:
                raise SystemExit(f"PATCH answered {response.status_code}: {response.text}")
        try:
            arrivals: dict[int, float] = {}
            while True:
                item = results.get(timeout=60)
                if isinstance(item, dict):
                    arrivals = item
                    break
        except Empty:
            arrivals = {}
    receiver.join(10)
    missing = [n for n in range(updates) if n not in arrivals]
    if missing:
        raise SystemExit(f"{len(missing)} of {updates} notifications never arrived")
    return [(arrivals[n] - sent[n]) * 1000 for n in range(updates)]


def bench_notifications(
    database_url: str | None = None, *, updates: int = 2000, rate: float = 200.0
) -> dict[str, float]:
    """p50/p99 latency from PATCH sent to notification received, alone and next to a dead
    endpoint; each run on a fresh SQLite database unless ``database_url`` is given."""
    figures: dict[str, float] = {"notify_updates": updates, "notify_rate_per_s": rate}
    for label, dead in (("alone", False), ("dead_endpoint", True)):
        with tempfile.TemporaryDirectory(prefix="smartcity-notify-") as tmp:
            url = database_url or f"sqlite:///{tmp}/notify.db"
            latencies = _measure(url, updates=updates, rate=rate, dead_endpoint=dead)
        figures[f"notify_{label}_p50_ms"] = round(percentile(latencies, 0.50), 2)
        figures[f"notify_{label}_p99_ms"] = round(percentile(latencies, 0.99), 2)
    return figures


if __name__ == "__main__":
    print(orjson.dumps(bench_notifications(), option=orjson.OPT_INDENT_2).decode())
