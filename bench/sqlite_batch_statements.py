"""Benchmark: what the SQLite batch upsert's own statements cost, alone.

    uv run python bench/sqlite_batch_statements.py [--entities 1000] [--attributes 10]
        [--rounds 15]

Builds a temporary database with ``bench/context_batch.py``'s entities (four batches
written through the library, so each attribute has its series and some history), then
times, in this one thread and with nothing else running in the process, variants of the
two statements of a batch that are neither the history INSERT nor the commit:

- the read of the batch's attribute rows (``batch_reads._SQLITE_ATTRIBUTES``): as the
  library sends it (the series ids kept on the rows since the second batch), with the
  series id by a probe of its key per row (as before session 10) or by a join, without
  the series id, and the series rows alone;
- the narrow UPDATE by row id (``narrow_writes._update_by_rowid``, executemany): as
  the library sends it, without ``value_json``, without ``value_number`` (so without
  the number index's entry), in the number index's order, and as one statement over
  ``json_each`` of the rows.

Each UPDATE runs in a transaction that is rolled back. Figures are the medians of
``--rounds`` runs, in milliseconds of this thread's CPU per 10,000 rows; the variants
alternate and take turns at going first, so that a busy machine slows them alike.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from smartcity.kernel.bus import open_bus
from smartcity.kernel.clock import RealClock
from smartcity.kernel.context.batch_reads import _SQLITE_ATTRIBUTES
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.storage import open_store

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from context_batch import _batch  # noqa: E402  (beside this file)

RESULTS = HERE / "results" / "sqlite_batch_statements.json"
TENANT = "bench"

_KEYS = "WHERE a.tenant = ? AND a.entity_id IN (SELECT value FROM json_each(?))"
_SERIES_KEY = (
    "s.tenant = a.tenant AND s.entity_id = a.entity_id AND s.name = a.name "
    "AND s.dataset_id = a.dataset_id AND s.entity_type = a.entity_type"
)
_ORDER = "ORDER BY a.entity_id, a.name, a.dataset_id"
READS = {
    "read_as_sent": _SQLITE_ATTRIBUTES,
    "read_series_by_probe": (
        "SELECT a.entity_id, a.name, a.value_json, a.created_at, a.modified_at, a.rowid, "
        f"(SELECT s.id FROM context_series AS s WHERE {_SERIES_KEY}) "
        f"FROM context_attribute AS a {_KEYS} {_ORDER}"
    ),
    "read_series_by_join": (
        "SELECT a.entity_id, a.name, a.value_json, a.created_at, a.modified_at, a.rowid, s.id "
        f"FROM context_attribute AS a LEFT JOIN context_series AS s ON {_SERIES_KEY} "
        f"{_KEYS} {_ORDER}"
    ),
    "read_without_series": (
        "SELECT a.entity_id, a.name, a.value_json, a.created_at, a.modified_at, a.rowid "
        f"FROM context_attribute AS a {_KEYS} {_ORDER}"
    ),
    "read_series_alone": (
        "SELECT s.entity_id, s.name, s.dataset_id, s.entity_type, s.id "
        "FROM context_series AS s WHERE s.tenant = ? "
        "AND s.entity_id IN (SELECT value FROM json_each(?))"
    ),
}

_CONSTANTS = (
    "observed_at = '2026-11-21 09:05:00.000000', modified_at = '2026-11-22 10:00:00.000000'"
)
_UPDATE = (
    f"UPDATE context_attribute SET value_number = ?, value_json = ?, {_CONSTANTS} WHERE rowid = ?"
)
Rows = list[tuple[Any, ...]]
# Each variant: its statement and its parameters, prepared (outside the timing) from
# the rows (new number, new value_json, rowid, name).
UPDATES: dict[str, tuple[str, Callable[[Rows], Any]]] = {
    "update_as_sent": (_UPDATE, lambda rows: [row[:3] for row in rows]),
    "update_without_json": (
        f"UPDATE context_attribute SET value_number = ?, {_CONSTANTS} WHERE rowid = ?",
        lambda rows: [(number, rowid) for number, _json, rowid, _name in rows],
    ),
    "update_without_number": (
        f"UPDATE context_attribute SET value_json = ?, {_CONSTANTS} WHERE rowid = ?",
        lambda rows: [(document, rowid) for _number, document, rowid, _name in rows],
    ),
    "update_in_number_index_order": (
        _UPDATE,
        lambda rows: [row[:3] for row in sorted(rows, key=lambda row: (row[3], row[0]))],
    ),
    "update_one_statement_json_each": (
        "UPDATE context_attribute SET value_number = v.value ->> 0, value_json = v.value ->> 1, "
        f"{_CONSTANTS} FROM json_each(?) AS v WHERE context_attribute.rowid = v.value ->> 2",
        lambda rows: (orjson.dumps([row[:3] for row in rows]).decode(),),
    ),
}


def _database(entities: int, attributes: int) -> Path:
    path = Path(tempfile.mkdtemp()) / "statements.db"
    store = open_store(f"sqlite:///{path}")
    store.migrate()
    library = ContextLibrary(store, open_bus("local"), RealClock())
    for round_ in range(4):
        library.upsert_entities(TENANT, _batch(entities, attributes, round_), "update")
    store.close()
    return path


def _new_values(conn: sqlite3.Connection, round_: int) -> Rows:
    """(new number, new value_json, rowid, name) per attribute row, as a batch writes them."""
    rows = []
    for rowid, name, document, number in conn.execute(
        "SELECT rowid, name, value_json, value_number FROM context_attribute "
        "WHERE tenant = ? ORDER BY entity_id, name, dataset_id",
        (TENANT,),
    ):
        instance = orjson.loads(document)
        instance["value"] = number + round_
        rows.append((number + round_, orjson.dumps(instance).decode(), rowid, name))
    return rows


def _rotated(variants: list[Any], round_: int) -> list[Any]:
    """The variants, the first of them a different one each round (the first statement
    after a write finds fewer pages in the cache)."""
    shift = round_ % len(variants)
    return variants[shift:] + variants[:shift]


def bench_statements(
    entities: int = 1000, attributes: int = 10, rounds: int = 8
) -> dict[str, float]:
    """Milliseconds of CPU per 10,000 rows of each variant (medians)."""
    path = _database(entities, attributes)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("PRAGMA foreign_keys=ON")
    ids = orjson.dumps([entity["id"] for entity in _batch(entities, attributes, 0)]).decode()
    count = entities * attributes
    spent: dict[str, list[float]] = {name: [] for name in (*READS, *UPDATES)}
    for round_ in range(rounds):
        for name, sql in _rotated(list(READS.items()), round_):
            started = time.thread_time()
            conn.execute(sql, (TENANT, ids)).fetchall()
            spent[name].append(time.thread_time() - started)
        rows = _new_values(conn, 10 + round_)
        for name, (sql, prepare) in _rotated(list(UPDATES.items()), round_):
            parameters = prepare(rows)
            run = conn.execute if isinstance(parameters, tuple) else conn.executemany
            conn.execute("BEGIN IMMEDIATE")
            started = time.thread_time()
            run(sql, parameters)
            spent[name].append(time.thread_time() - started)
            conn.execute("ROLLBACK")
    conn.close()
    return {
        f"{name}_cpu_ms_per_10k": round(statistics.median(times) * 1000 * 10_000 / count, 1)
        for name, times in spent.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entities", type=int, default=1000)
    parser.add_argument("--attributes", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=15)
    options = parser.parse_args()
    figures = bench_statements(options.entities, options.attributes, options.rounds)
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
