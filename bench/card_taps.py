"""Benchmark: card tap authorisation over HTTP (``POST /api/card/taps``).

    uv run python bench/card_taps.py                                  # SQLite, fresh file
    uv run python bench/card_taps.py --database-url postgresql://smartcity@127.0.0.1:55432/sc_card

Seeds citizens with funded cards, runs ``smartcity serve`` and drives it with wrk (own
process, loopback only): every request is a new tap (its own terminal transaction id)
of a card picked in turn, a third each bus, metro and shop, from 16 terminals. In the
same server ``GET /healthz`` gives the raw ceiling of the HTTP stack. Afterwards it
checks that no transaction was recorded twice, that every approved fare is one ledger
transfer, and that the ledger balances. The PostgreSQL database given is emptied first.
Writes ``bench/results/card_taps.json`` (keys prefixed by backend) and prints JSON.
"""

from __future__ import annotations

import argparse
import platform as host_platform
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select, text

from context_http import measured_run
from harness import RESULTS, bench_citizen_rows, run_wrk, running_server
from smartcity.apps import installed_apps
from smartcity.apps.card.actions import issue_cards
from smartcity.apps.card.sim import card_numbers, fund_purses
from smartcity.apps.card.tables import card_movement, card_tap
from smartcity.kernel.config import Settings
from smartcity.kernel.identity import make_citizen_id
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.identity.tables import identity_citizen
from smartcity.kernel.identity.tokens import TokenSigner
from smartcity.kernel.ledger import verify_ledger
from smartcity.kernel.platform import Platform
from smartcity.kernel.secrets import encode_secret
from smartcity.kernel.storage import open_store

RESULT_FILE = RESULTS / "card_taps.json"
HOLDERS = 10_000
TERMINALS = 16
TOKEN_KEY = b"card-bench-token-key-0123456789abc"

TAP = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local tokens = {%(tokens)s}
local cards = {%(cards)s}
local counter = %(start)d
local kinds = {'"kind":"bus"', '"kind":"metro","distance_m":9000', '"kind":"shop","amount_fen":350'}
request = function()
  counter = counter + 1
  wrk.headers["Authorization"] = "Bearer " .. tokens[(counter %% #tokens) + 1]
  local body = '{"transaction_id":"w' .. counter .. '","card_number":"' ..
    cards[(counter %% #cards) + 1] .. '",' .. kinds[(counter %% 3) + 1] .. '}'
  return wrk.format(nil, "/api/card/taps", nil, body)
end
"""


def reset(database_url: str) -> None:
    store = open_store(database_url)
    try:
        if store.dialect == "postgresql":
            with store.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
    finally:
        store.close()


def terminal_tokens() -> list[str]:
    """An access token for each of the bench's gate terminals."""
    signer = TokenSigner(TOKEN_KEY)
    now = datetime.now(UTC)
    return [
        signer.issue(
            Principal(
                50_000 + n,
                AccountKind.MACHINE,
                f"bench-terminal-{n:02d}",
                scopes=frozenset({"card.terminal"}),
            ),
            now,
        ).token
        for n in range(TERMINALS)
    ]


def seed_cards(platform: Platform, holders: int) -> list[str]:
    """``holders`` registered citizens, each with a card and 1,000 yuan in the purse."""
    identifiers = [
        make_citizen_id(
            "440106", date(1950 + n // 336 % 60, 1 + n // 28 % 12, 1 + n % 28), n % 1000
        ).text
        for n in range(holders)
    ]
    identifiers = sorted(set(identifiers))
    with platform.store.begin() as conn:
        conn.execute(
            identity_citizen.insert(),
            bench_citizen_rows(identifiers),
        )
    issue_cards(platform, identifiers)
    fund_purses(platform, 100_000, tag="bench")
    return card_numbers(platform)


def check(database_url: str, answered: int) -> dict[str, Any]:
    store = open_store(database_url)
    try:
        with store.connect() as conn:
            taps = conn.execute(select(func.count()).select_from(card_tap)).scalar_one()
            distinct = conn.execute(
                select(func.count()).select_from(
                    select(card_tap.c.terminal_id, card_tap.c.transaction_id).distinct().subquery()
                )
            ).scalar_one()
            charged = conn.execute(
                select(func.count()).select_from(card_tap).where(card_tap.c.charged_fen > 0)
            ).scalar_one()
            fares = conn.execute(
                select(func.count()).select_from(card_movement).where(card_movement.c.kind == "tap")
            ).scalar_one()
            report = verify_ledger(conn)
    finally:
        store.close()
    return {
        "taps_recorded": taps,
        "answered_ok": answered,
        "duplicate_taps": taps - distinct,
        "charged_taps": charged,
        "fare_movements": fares,
        "verify_ok": report.ok,
    }


def bench(database_url: str, *, seconds: int, connections: int, workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="smartcity-bench-") as folder:
        data_dir = Path(folder)
        reset(database_url)
        started = time.perf_counter()
        store = open_store(database_url)
        platform = Platform.open(
            Settings(data_dir=data_dir, database_url=database_url),
            apps=installed_apps(),
            store=store,
        )
        numbers = seed_cards(platform, HOLDERS)
        store.close()
        seed_seconds = time.perf_counter() - started
        tokens = terminal_tokens()
        env = {
            "SMARTCITY_DATA_DIR": str(data_dir),
            "SMARTCITY_TOKEN_KEY": encode_secret(TOKEN_KEY),
            "SMARTCITY_CA_PASSPHRASE": "card benchmark passphrase",
        }
        script = TAP % {
            "tokens": ", ".join(f'"{t}"' for t in tokens),
            "cards": ", ".join(f'"{n}"' for n in numbers),
            "start": 0,
        }
        results: dict[str, Any] = {"seed_s": round(seed_seconds, 1), "cards": len(numbers)}
        with running_server(database_url, workers=workers, env=env) as server:
            health, health_cpu_ms, *_ = measured_run(
                server, 'wrk.method = "GET"\nwrk.path = "/healthz"\n',
                seconds=seconds, connections=connections,
            )  # fmt: skip
            warm = run_wrk(server.base_url, script, seconds=1, connections=connections)
            start = warm.requests + 1000
            tap, tap_cpu_ms, *_ = measured_run(
                server,
                TAP % {**{"tokens": ", ".join(f'"{t}"' for t in tokens)},
                       "cards": ", ".join(f'"{n}"' for n in numbers), "start": start},
                seconds=seconds, connections=connections,
            )  # fmt: skip
        results.update(
            {
                "taps_per_s": round(tap.requests_per_s),
                "tap_p50_ms": tap.p50_ms,
                "tap_p90_ms": tap.p90_ms,
                "tap_p99_ms": tap.p99_ms,
                "tap_errors": tap.errors,
                "healthz_per_s": round(health.requests_per_s),
                "healthz_p99_ms": health.p99_ms,
                # Server CPU per request (user + system): comparable between runs under load.
                "tap_server_cpu_us": round(1000 * tap_cpu_ms),
                "healthz_server_cpu_us": round(1000 * health_cpu_ms),
            }
        )
        answered = warm.requests - warm.errors + tap.requests - tap.errors
        results.update(check(database_url, answered))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smartcity-bench-") as folder:
        url = args.database_url or f"sqlite:///{folder}/card.db"
        backend = "postgres" if url.startswith("postgres") else "sqlite"
        figures = bench(
            url, seconds=args.seconds, connections=args.connections, workers=args.workers
        )
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
