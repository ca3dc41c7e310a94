"""Benchmark: an offline terminal uploads 100,000 taps (``POST /api/card/taps/batch``).

    uv run python bench/card_batch.py                                 # SQLite, fresh file
    uv run python bench/card_batch.py --database-url postgresql://smartcity@127.0.0.1:55432/sc_card

Seeds citizens with funded cards, runs ``smartcity serve`` (request body limit raised
to 32 MiB for this route, ``apps/card/routes.py`` ``body_limits``) and uploads one batch of
``--taps`` taps (metro, bus and shop, over the last hours) from one terminal, then the
same batch again: the second upload must be all duplicates. Checks that no transaction
was recorded twice and that the ledger balances. The PostgreSQL database given is
emptied first. Writes ``bench/results/card_batch.json`` (keys prefixed by backend).
"""

from __future__ import annotations

import argparse
import platform as host_platform
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import orjson

from card_taps import TOKEN_KEY, check, reset, seed_cards
from harness import RESULTS, running_server
from smartcity.apps import installed_apps
from smartcity.apps.card.sim import random_taps
from smartcity.kernel.config import Settings
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.identity.tokens import TokenSigner
from smartcity.kernel.platform import Platform
from smartcity.kernel.secrets import encode_secret
from smartcity.kernel.storage import open_store

RESULT_FILE = RESULTS / "card_batch.json"
HOLDERS = 10_000


def bench(database_url: str, *, taps: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="smartcity-bench-") as folder:
        data_dir = Path(folder)
        reset(database_url)
        store = open_store(database_url)
        platform = Platform.open(
            Settings(data_dir=data_dir, database_url=database_url),
            apps=installed_apps(),
            store=store,
        )
        numbers = seed_cards(platform, HOLDERS)
        store.close()
        now = datetime.now(UTC)
        requests = random_taps(
            random.Random(5), numbers, taps, prefix="offline", start=now - timedelta(hours=20)
        )
        body = orjson.dumps(
            {"taps": [r.model_dump(mode="json", exclude_none=True) for r in requests]}
        )
        token = (
            TokenSigner(TOKEN_KEY)
            .issue(
                Principal(
                    60_000,
                    AccountKind.MACHINE,
                    "bench-bus-0001",
                    scopes=frozenset({"card.terminal"}),
                ),
                now,
            )
            .token
        )
        env = {
            "SMARTCITY_DATA_DIR": str(data_dir),
            "SMARTCITY_TOKEN_KEY": encode_secret(TOKEN_KEY),
            "SMARTCITY_CA_PASSPHRASE": "card benchmark passphrase",
        }
        headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
        with running_server(database_url, env=env) as server:
            url = f"{server.base_url}/api/card/taps/batch"
            started = time.perf_counter()
            first = httpx2.post(url, content=body, headers=headers, timeout=600)
            first_s = time.perf_counter() - started
            started = time.perf_counter()
            again = httpx2.post(url, content=body, headers=headers, timeout=600)
            again_s = time.perf_counter() - started
        if first.status_code != 200 or again.status_code != 200:
            raise SystemExit(f"upload failed: {first.status_code} {first.text[:300]}")
        one, two = first.json(), again.json()
        results: dict[str, Any] = {
            "batch_taps": taps,
            "batch_body_mb": round(len(body) / 1e6, 1),
            "batch_s": round(first_s, 2),
            "batch_taps_per_s": round(taps / first_s),
            "batch_approved": one["approved"],
            "batch_conflicts": one["conflicts"],
            "batch_duplicates": one["duplicates"],
            "reupload_s": round(again_s, 2),
            "reupload_duplicates": two["duplicates"],
        }
        results.update(check(database_url, one["approved"] + one["conflicts"]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--taps", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smartcity-bench-") as folder:
        url = args.database_url or f"sqlite:///{folder}/card.db"
        backend = "postgres" if url.startswith("postgres") else "sqlite"
        figures = bench(url, taps=args.taps)
    results: dict[str, Any] = orjson.loads(RESULT_FILE.read_bytes()) if RESULT_FILE.exists() else {}
    results["machine"] = f"{host_platform.machine()} {host_platform.system()}, measured under load"
    results.update({f"{backend}_{key}": value for key, value in figures.items()})
    RESULT_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULT_FILE.write_bytes(
        orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    )
    print(
        orjson.dumps(
            {f"{backend}_{k}": v for k, v in figures.items()}, option=orjson.OPT_INDENT_2
        ).decode()
    )


if __name__ == "__main__":
    main()
