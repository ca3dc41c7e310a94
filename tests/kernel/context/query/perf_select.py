"""Quick timing of select_entity_ids over 100,000 entities (run by hand, not a test).

uv run python -m tests.kernel.context.query.perf_select [sqlite-path-or-postgres-url]
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from smartcity.kernel.context.query import build_selection, select_entity_ids
from smartcity.kernel.storage import Store, open_store

from .conftest import entity, expand, insert_entities, point, prop

TYPES = [f"Type{number}" for number in range(10)]
COUNT = 100_000


def fill(store: Store) -> None:
    chance = random.Random(1)
    batch = []
    for number in range(COUNT):
        batch.append(
            entity(
                f"urn:ngsi-ld:Thing:{number:06d}",
                TYPES[number % len(TYPES)],
                temperature=prop(round(chance.uniform(-10, 40), 2)),
                status=prop(chance.choice(["free", "occupied", "closed"])),
                location=point(119.3 + chance.random() * 0.6, 39.7 + chance.random() * 0.4),
            )
        )
        if len(batch) == 10_000:
            insert_entities(store, batch)
            batch = []
    insert_entities(store, batch)


def timed(
    store: Store, label: str, make: Callable[[random.Random], dict[str, object]], **paging: object
) -> None:
    chance = random.Random(2)
    durations = []
    sizes = []
    with store.connect() as conn:
        for _ in range(200):
            selection = build_selection("", expand=expand, **make(chance))  # type: ignore[arg-type]
            started = time.perf_counter()
            ids, total = select_entity_ids(conn, selection, **paging)  # type: ignore[arg-type]
            durations.append((time.perf_counter() - started) * 1000)
            sizes.append(total if total is not None else len(ids))
    durations.sort()
    p95 = durations[int(len(durations) * 0.95)]
    print(
        f"{label:55s} p50 {statistics.median(durations):6.2f} ms  p95 {p95:6.2f} ms  "
        f"(results ~{statistics.median(sizes):.0f})"
    )


def main() -> None:
    target = sys.argv[1] if len(sys.argv) > 1 else ""
    if not target:
        target = f"sqlite:///{Path(tempfile.mkdtemp()) / 'perf.db'}"
    elif not target.startswith(("sqlite", "postgresql")):
        target = f"sqlite:///{target}"
    store = open_store(target)
    store.migrate()
    with store.connect() as conn:
        empty = conn.exec_driver_sql("SELECT count(*) FROM context_entity").scalar_one() == 0
    if empty:
        started = time.perf_counter()
        fill(store)
        print(f"filled {COUNT} entities in {time.perf_counter() - started:.1f} s")

    def type_q(chance: random.Random) -> dict[str, object]:
        return {
            "type_param": chance.choice(TYPES),
            "q_text": f'temperature>{chance.randint(-5, 35)};status=="free"',
        }

    def near(chance: random.Random) -> dict[str, object]:
        longitude, latitude = 119.3 + chance.random() * 0.6, 39.7 + chance.random() * 0.4
        return {
            "georel": "near;maxDistance==500",
            "geometry": "Point",
            "coordinates": f"[{longitude},{latitude}]",
        }

    timed(store, "type + q, limit 20", type_q, limit=20, offset=0, count=False)
    timed(store, "type + q, limit 20, count", type_q, limit=20, offset=0, count=True)
    timed(store, "near;maxDistance==500, limit 20", near, limit=20, offset=0, count=False)
    timed(store, "near;maxDistance==500, limit 20, count", near, limit=20, offset=0, count=True)
    store.close()


if __name__ == "__main__":
    main()
