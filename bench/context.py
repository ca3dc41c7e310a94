"""Benchmark: the city information library (issue 3's figures), on SQLite or PostgreSQL.

    uv run python bench/context.py                          # every figure, SQLite
    uv run python bench/context.py --backend postgres       # on a throwaway PostgreSQL
    uv run python bench/context.py --only patch,query       # a subset

Every figure runs on a fresh, migrated database of its own. Each area's benchmark lives
beside this file (context_http, context_batch, context_read, context_notify,
mqtt_ingestion); this script runs them and writes bench/results/context.json with keys
prefixed by the backend (``sqlite_patch_per_s``, ``postgres_patch_p99_ms``, ...).

The PATCH figure is served by two uvicorn workers on PostgreSQL and one on SQLite
(``PATCH_WORKERS``: why, beside it); ``patch_workers`` records the number.
"""

from __future__ import annotations

import argparse
import os
import platform as host_platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
RESULTS = HERE / "results" / "context.json"


@contextmanager
def fresh_database(backend: str) -> Iterator[str]:
    """A new, migrated, empty database URL, removed afterwards."""
    from smartcity.kernel.storage import open_store

    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="smartcity-bench-") as tmp:
            url = f"sqlite:///{tmp}/context.db"
            store = open_store(url)
            store.migrate()
            store.close()
            yield url
        return
    server = subprocess.run(
        [str(HERE.parent / "scripts" / "pg-test-cluster"), "start"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = open_store(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = server.rsplit("/", 1)[0] + "/" + name
    try:
        store = open_store(url)
        store.migrate()
        store.close()
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# Serve workers per backend for the PATCH figure. PostgreSQL: two, one per core, as the
# architecture's "many stateless serve workers" intends: one process's interpreter lock
# binds a single worker (its loop and the store's writer share it) while the database
# backend has the other core to spare; two groups in flight overlap one process's
# Python with the other's wait for the server. SQLite: one, since two processes split
# the groups and queue on one writer lock, costing more CPU per PATCH than the second
# core gives back (docs/performance.md, "SQLite PATCH, session 7").
PATCH_WORKERS = {"sqlite": 1, "postgresql": 2}


def _patch(url: str) -> dict[str, Any]:
    from context_http import bench_patch

    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    return {
        **bench_patch(url, workers=PATCH_WORKERS[backend]),
        "patch_workers": PATCH_WORKERS[backend],
    }


def _batch(url: str) -> dict[str, Any]:
    from context_batch import bench_batch_upsert

    return bench_batch_upsert(url)


def _query(url: str) -> dict[str, Any]:
    from context_read import bench_query

    return bench_query(url)


def _temporal(url: str) -> dict[str, Any]:
    from context_read import bench_temporal

    return bench_temporal(url)


def _notify(url: str) -> dict[str, Any]:
    from context_notify import bench_notifications

    return bench_notifications(url)


def _mqtt(url: str) -> dict[str, Any]:
    from mqtt_ingestion import bench_mqtt

    script = str(HERE.parent / "scripts" / "mosquitto")
    broker = subprocess.run([script, "start"], check=True, capture_output=True, text=True)
    try:
        return bench_mqtt(broker.stdout.strip(), database_url=url)
    finally:
        subprocess.run([script, "stop"], check=False, capture_output=True)


FIGURES: dict[str, Callable[[str], dict[str, Any]]] = {
    "patch": _patch,
    "batch": _batch,
    "query": _query,
    "temporal": _temporal,
    "notify": _notify,
    "mqtt": _mqtt,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--only", default=",".join(FIGURES), help="comma list of figures")
    args = parser.parse_args()
    chosen = [name for name in args.only.split(",") if name]
    unknown = sorted(set(chosen) - FIGURES.keys())
    if unknown:
        raise SystemExit(f"unknown figures {unknown}; known: {', '.join(FIGURES)}")

    results: dict[str, Any] = orjson.loads(RESULTS.read_bytes()) if RESULTS.exists() else {}
    results["machine"] = (
        f"{host_platform.machine()} {os.cpu_count()} cores, Python {host_platform.python_version()}"
    )
    results["date"] = time.strftime("%Y-%m-%d")
    for name in chosen:
        print(f"==> {name} on {args.backend}", file=sys.stderr)
        with fresh_database(args.backend) as url:
            figures = FIGURES[name](url)
        results.update({f"{args.backend}_{key}": value for key, value in figures.items()})
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_bytes(
            orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
        )
    print(orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())


if __name__ == "__main__":
    main()
