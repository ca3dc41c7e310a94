"""Benchmark: bulk notification and realtime push latency.

1. ``bulk_notify_per_s``: one ``notify_many`` call sending a notice to 100,000 accounts
   on a SQLite file (10% of them have saved preferences asking for SMS, so the outbox is
   written too), against the raw baseline of the same 100,000 message rows written with
   the store's ``bulk_insert`` alone (no rendering, preferences or outbox).
2. ``sse_latency_p99_ms``: a real server (``smartcity serve``); one page holds
   ``GET /notify/stream`` open while staff POST messages to its account at a steady rate;
   latency is from the start of the POST to the arrival of the SSE event (the same
   monotonic clock on both ends).

    uv run python bench/notify.py [--accounts 100000] [--pushes 300]
    uv run python bench/notify.py --bulk-database-url postgresql://.../throwaway  (bulk only)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import orjson
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import percentile, running_server
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.identity.tokens import TokenSigner
from smartcity.kernel.notify import Category, Channel, Preferences, notify_many
from smartcity.kernel.notify.actions import save_preferences
from smartcity.kernel.notify.tables import notify_message
from smartcity.kernel.secrets import secret_bytes
from smartcity.kernel.storage import open_store

RESULTS = Path(__file__).resolve().parent / "results" / "notify.json"
NOTICE = {
    "department": "市应急管理局",
    "headline": "台风“海燕”橙色预警",
    "summary": "预计今晚至明天有暴雨和大风，请减少外出，关好门窗。",
    "link": "/notices/2026-118",
}


def measure_bulk(accounts: int, directory: Path, database_url: str | None) -> dict[str, Any]:
    store = open_store(database_url or f"sqlite:///{directory / 'bulk.db'}")
    store.migrate()
    with store.begin() as conn:  # a throwaway database: start from empty tables
        for table in ("notify_outbox", "notify_message", "notify_preference"):
            conn.execute(text(f"DELETE FROM {table}"))
    now = datetime.now(UTC)
    with store.begin() as conn:
        for account_id in range(1, accounts + 1, 10):
            save_preferences(
                conn,
                Preferences(
                    account_id=account_id,
                    locale="en" if account_id % 20 == 1 else "zh_CN",
                    channels={Category.NOTICE: frozenset({Channel.SMS})},
                    phone=f"138{account_id:08d}",
                ),
                now,
            )
    ids = list(range(1, accounts + 1))

    started = time.perf_counter()
    with store.begin() as conn:
        written = notify_many(
            conn, ids, "notice_published", NOTICE, None, now, bulk_insert=store.bulk_insert
        )
    bulk_seconds = time.perf_counter() - started

    raw_rows = [
        {
            "id": 100_000_000 + n,
            "account_id": n,
            "category": "notice",
            "template": "notice_published",
            "locale": "zh_CN",
            "title": "市应急管理局公告",
            "body": NOTICE["summary"],
            "link": NOTICE["link"],
            "created_at": now,
        }
        for n in ids
    ]
    started = time.perf_counter()
    with store.begin() as conn:
        store.bulk_insert(conn, notify_message, raw_rows)
    raw_seconds = time.perf_counter() - started
    store.close()
    return {
        "bulk_notify_accounts": written,
        "bulk_notify_seconds": round(bulk_seconds, 3),
        "bulk_notify_per_s": round(written / bulk_seconds),
        "raw_bulk_insert_per_s": round(accounts / raw_seconds),
        "bulk_notify_fraction_of_raw": round(raw_seconds / bulk_seconds, 3),
    }


def measure_push(pushes: int, rate: float, directory: Path) -> dict[str, Any]:
    data_dir = directory / "server"
    data_dir.mkdir()
    signer = TokenSigner(secret_bytes(data_dir, "token_key"))
    now = datetime.now(UTC)
    citizen = signer.issue(Principal(101, AccountKind.CITIZEN, "440106199001011234"), now).token
    officer = signer.issue(
        Principal(7, AccountKind.STAFF, "GZ-7", "440100-GA", frozenset({"officer"})), now
    ).token
    arrivals: dict[int, float] = {}
    ready = threading.Event()
    done = threading.Event()

    def read(base_url: str) -> None:
        headers = {"Authorization": f"Bearer {citizen}"}
        timeout = httpx2.Timeout(10, read=60)
        with httpx2.stream(
            "GET", f"{base_url}/notify/stream", headers=headers, timeout=timeout
        ) as s:
            for line in s.iter_lines():
                if line.startswith("event: unread"):
                    ready.set()
                elif line.startswith("data: {") and '"title"' in line:
                    arrived = time.perf_counter()
                    arrivals[int(orjson.loads(line[6:])["title"])] = arrived
                    if len(arrivals) >= pushes:
                        done.set()
                        return

    database_url = f"sqlite:///{data_dir / 'smartcity.db'}"
    with running_server(database_url, env={"SMARTCITY_DATA_DIR": str(data_dir)}) as server:
        reader = threading.Thread(target=read, args=(server.base_url,), daemon=True)
        reader.start()
        if not ready.wait(30):
            raise SystemExit("the stream did not open")
        sent: dict[int, float] = {}
        headers = {"Authorization": f"Bearer {officer}"}
        with httpx2.Client(base_url=server.base_url, headers=headers, timeout=10) as client:
            interval = 1 / rate
            next_at = time.perf_counter()
            for n in range(pushes):
                body = {
                    "account_id": 101,
                    "template": "message",
                    "params": {"title": str(n), "body": "bench"},
                }
                sent[n] = time.perf_counter()
                answer = client.post("/notify/messages", json=body)
                answer.raise_for_status()
                next_at += interval
                time.sleep(max(0.0, next_at - time.perf_counter()))
        done.wait(30)
    latencies = [(arrivals[n] - sent[n]) * 1000 for n in sent if n in arrivals]
    return {
        "sse_pushes": pushes,
        "sse_received": len(latencies),
        "sse_rate_per_s": rate,
        "sse_latency_p50_ms": round(percentile(latencies, 0.50), 2),
        "sse_latency_p99_ms": round(percentile(latencies, 0.99), 2),
        "sse_latency_max_ms": round(max(latencies), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--pushes", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50.0, help="pushes per second")
    parser.add_argument(
        "--bulk-database-url",
        help="run the bulk figure on this (throwaway!) database instead of a SQLite file",
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-notify-") as temporary:
        directory = Path(temporary)
        figures = measure_bulk(options.accounts, directory, options.bulk_database_url)
        if options.bulk_database_url:
            figures = {f"postgres_{key}": value for key, value in figures.items()}
            results = RESULTS.with_name("notify_postgres.json")
        else:
            figures |= measure_push(options.pushes, options.rate, directory)
            results = RESULTS
    figures["measured_under_load"] = True
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
    results.parent.mkdir(exist_ok=True)
    results.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
