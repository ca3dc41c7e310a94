"""Benchmark: what a SQLite batch upsert writes to the WAL, by table and index.

    uv run python bench/context_wal.py [--depth 10] [--batches 3] [--entities 1000]
        [--attributes 10] [--drop-history-index]

Builds the bench's batch (``bench/context_batch.py``) history ``--depth`` rounds deep,
then for each measured batch: empties the WAL (a TRUNCATE checkpoint from a connection
of its own, the store's checkpointer stopped), upserts the batch, and reads the WAL's
frame headers to name the b-tree of each page written (``dbstat``). Prints per batch:
the frames (pages) written, by table or index, the COMMIT's CPU (the writer's thread)
and the CPU of the checkpoint that copies them into the database file.
``--drop-history-index`` drops ``ix_context_instance_series`` first: what the history's
series index costs.
"""

from __future__ import annotations

import argparse
import collections
import sqlite3
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

from context_batch import _batch
from smartcity.kernel.bus import open_bus
from smartcity.kernel.clock import RealClock
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.storage import open_store

WAL_HEADER = 32
FRAME_HEADER = 24


def wal_pages(path: Path) -> list[int]:
    """The page number of every frame in the WAL file of the database ``path``."""
    data = (path.parent / (path.name + "-wal")).read_bytes()
    if len(data) < WAL_HEADER:
        return []
    page_size = struct.unpack(">I", data[8:12])[0]
    pages = []
    offset = WAL_HEADER
    while offset + FRAME_HEADER + page_size <= len(data):
        pages.append(struct.unpack(">I", data[offset : offset + 4])[0])
        offset += FRAME_HEADER + page_size
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--depth", type=int, default=10, help="history rounds written first")
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--entities", type=int, default=1000)
    parser.add_argument("--attributes", type=int, default=10)
    parser.add_argument("--drop-history-index", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "wal.db"
        store = open_store(f"sqlite:///{path}")
        store.migrate()
        store._checkpointer.close()  # type: ignore[attr-defined]  # this bench checkpoints
        side = sqlite3.connect(path, isolation_level=None)
        if args.drop_history_index:
            side.execute("DROP INDEX ix_context_instance_series")
        commits: list[float] = []
        dialect: Any = store._engine.dialect  # type: ignore[attr-defined]
        commit = dialect.do_commit

        def timed_commit(connection: Any) -> None:
            started = time.thread_time()
            commit(connection)
            commits.append(time.thread_time() - started)

        dialect.do_commit = timed_commit
        library = ContextLibrary(store, open_bus("local"), RealClock())
        shape = (args.entities, args.attributes)
        for round_ in range(args.depth + 1):
            library.upsert_entities("wal", _batch(*shape, 1000 + round_), "update")
        for round_ in range(1, args.batches + 1):
            side.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            commits.clear()
            library.upsert_entities("wal", _batch(*shape, round_), "update")
            pages = wal_pages(path)
            names = dict(side.execute("SELECT pageno, name FROM dbstat").fetchall())
            written = collections.Counter(names.get(page, "(new)") for page in pages)
            started = time.thread_time()
            side.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            checkpoint = time.thread_time() - started
            print(
                f"{args.depth + 1 + round_} rows per series: {len(pages)} pages written, "
                f"commit {max(commits, default=0) * 1000:.1f} ms CPU, "
                f"checkpoint {checkpoint * 1000:.1f} ms CPU"
            )
            print("   ", dict(written.most_common()))
        sizes = side.execute(
            "SELECT name, count(*) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 5"
        ).fetchall()
        print("   pages in the file:", dict(sizes))
        side.close()
        store.close()


if __name__ == "__main__":
    main()
