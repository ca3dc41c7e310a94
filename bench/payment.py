"""Benchmark: single wallet payments through the HTTP API (``POST /payment/bills/{id}/pay``).

    uv run python bench/payment.py                                   # SQLite, fresh file
    uv run python bench/payment.py --database-url postgresql://smartcity@127.0.0.1:55432/smartcity

Seeds payers with funded wallets and one open bill per request to come, then runs
``smartcity serve`` and drives it with wrk (own process, loopback only): every request
pays a different bill from its payer's wallet with its own request id, as a payment app
would. In the same server, ``GET /healthz`` (the HTTP stack alone) and ``GET
/payment/wallet`` (token check + one read) give the raw ceilings to compare with.
Afterwards it checks that every 200 answer is exactly one paid bill and that the
ledger's debits equal its credits. The PostgreSQL database given is emptied first.
Writes ``bench/results/payment.json`` (keys prefixed by backend) and prints JSON.
"""

from __future__ import annotations

import argparse
import os
import platform as host_platform
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import psutil
from sqlalchemy import func, select, text

from harness import RESULTS, WrkResult, bench_citizen_rows, run_wrk, running_server
from smartcity.apps import payment
from smartcity.apps.payment import actions
from smartcity.apps.payment.models import BillRequest, Payer, PayerKind
from smartcity.apps.payment.sim import fund_wallets
from smartcity.apps.payment.tables import payment_bill, payment_order, payment_receipt
from smartcity.kernel.config import Settings
from smartcity.kernel.identity import make_citizen_id
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.identity.tables import identity_citizen
from smartcity.kernel.identity.tokens import TokenSigner
from smartcity.kernel.ledger import verify_ledger
from smartcity.kernel.platform import Platform
from smartcity.kernel.secrets import encode_secret
from smartcity.kernel.storage import open_store

RESULT_FILE = RESULTS / "payment.json"
PAYERS = 64
BILLERS = ("electricity", "water", "gas", "telecom", "medical_insurance", "traffic_fines", "taxes")
CHUNK = 5000
TOKEN_KEY = b"payment-bench-token-key-0123456789"
CA_PASSPHRASE = os.environ.get("SMARTCITY_CA_PASSPHRASE") or "payment benchmark passphrase"

PAY = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local tokens = {%(tokens)s}
local payers = %(payers)d
local counter = %(start)d
request = function()
  counter = counter + 1
  local token = tokens[((counter - 1) %% payers) + 1]
  wrk.headers["Authorization"] = "Bearer " .. token
  local body = '{"request_id": "bench-' .. counter .. '", "method": "wallet"}'
  return wrk.format(nil, "/payment/bills/" .. counter .. "/pay", nil, body)
end
"""

GET_WALLET = """
wrk.method = "GET"
wrk.path = "/payment/wallet"
wrk.headers["Authorization"] = "Bearer %(token)s"
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


def seed(database_url: str, data_dir: Path, bills: int) -> list[str]:
    """Payers with funded wallets and ``bills`` open bills; bill k+1 belongs to payer k % PAYERS."""
    store = open_store(database_url)
    # The same CA passphrase as the server's, or the server could not read the keys
    # made here (the receipt signer is warmed up as soon as the app starts).
    settings = Settings(data_dir=data_dir, database_url=database_url, ca_passphrase=CA_PASSPHRASE)
    platform = Platform.open(settings, apps=[payment.APP], store=store)
    try:
        identifiers = [
            make_citizen_id("440106", date(1970 + n // 300, 1 + n // 28 % 12, 1 + n % 28), n).text
            for n in range(PAYERS)
        ]
        with store.begin() as conn:
            conn.execute(
                identity_citizen.insert(),
                bench_citizen_rows(identifiers),
            )
        payers = [Payer(PayerKind.CITIZEN, i) for i in identifiers]
        fund_wallets(platform, payers, 10**12, tag="bench")
        for start in range(0, bills, CHUNK):
            biller = BILLERS[(start // CHUNK) % len(BILLERS)]
            requests = [
                BillRequest(
                    bill_number=f"B{k + 1:09d}",
                    payer_kind=PayerKind.CITIZEN,
                    payer_identifier=identifiers[k % PAYERS],
                    amount_fen=100 + k % 9000,
                    period="2026-10",
                    due_date=date(2026, 12, 15),
                )
                for k in range(start, min(bills, start + CHUNK))
            ]
            actions.issue_bills(platform, biller, requests)
        return identifiers
    finally:
        store.close()


def _cpu_seconds(process: psutil.Process) -> float:
    """CPU time of the server and its children (uvicorn workers), user + system."""
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def wait_for_receipts(database_url: str, *, limit_s: float = 120) -> float | None:
    """Seconds until every paid bill has its signed receipt (None: not within the limit)."""
    store = open_store(database_url)
    started = time.monotonic()
    try:
        while time.monotonic() - started < limit_s:
            with store.connect() as conn:
                paid = conn.execute(
                    select(func.count())
                    .select_from(payment_bill)
                    .where(payment_bill.c.status == "paid")
                ).scalar_one()
                signed = conn.execute(
                    select(func.count())
                    .select_from(payment_receipt)
                    .where(payment_receipt.c.signature.is_not(None))
                ).scalar_one()
            if signed >= paid:
                return round(time.monotonic() - started, 1)
            time.sleep(0.5)
    finally:
        store.close()
    return None


def check(database_url: str, answered: int) -> dict[str, Any]:
    """Every 200 is one paid bill with one order; the ledger balances."""
    store = open_store(database_url)
    try:
        with store.connect() as conn:
            paid = conn.execute(
                select(func.count())
                .select_from(payment_bill)
                .where(payment_bill.c.status == "paid")
            ).scalar_one()
            orders = conn.execute(
                select(func.count())
                .select_from(payment_order)
                .where(payment_order.c.purpose == "bill")
            ).scalar_one()
            report = verify_ledger(conn)
    finally:
        store.close()
    return {
        "bills_paid": paid,
        "bill_orders": orders,
        "answered_ok": answered,
        "verify_ok": report.ok,
    }


def bench(
    database_url: str, *, seconds: int, connections: int, workers: int, receipts: str
) -> dict[str, Any]:
    bills = max(20_000, seconds * 6_000)
    with tempfile.TemporaryDirectory(prefix="smartcity-bench-") as folder:
        data_dir = Path(folder)
        reset(database_url)
        started = time.perf_counter()
        identifiers = seed(database_url, data_dir, bills)
        seed_seconds = time.perf_counter() - started
        signer = TokenSigner(TOKEN_KEY)
        now = datetime.now(UTC)
        tokens = [
            signer.issue(
                Principal(10_000 + n, AccountKind.CITIZEN, i),
                now,
            ).token
            for n, i in enumerate(identifiers)
        ]
        env = {
            "SMARTCITY_DATA_DIR": str(data_dir),
            "SMARTCITY_TOKEN_KEY": encode_secret(TOKEN_KEY),
            "SMARTCITY_PAYMENT_RECEIPTS": receipts,
            # PostgreSQL needs the CA passphrase set (SQLite makes a key file).
            "SMARTCITY_CA_PASSPHRASE": CA_PASSPHRASE,
        }
        quoted = ", ".join(f'"{t}"' for t in tokens)
        results: dict[str, Any] = {"seed_s": round(seed_seconds, 1)}
        with running_server(database_url, workers=workers, env=env) as server:
            process = psutil.Process(server.process.pid)

            def measured(script: str) -> tuple[WrkResult, float]:
                """A wrk run and the server's CPU microseconds per answered request."""
                before = _cpu_seconds(process)
                result = run_wrk(server.base_url, script, seconds=seconds, connections=connections)
                spent = _cpu_seconds(process) - before
                return result, round(spent / max(1, result.requests) * 1e6)

            health, health_cpu = measured('wrk.method = "GET"\nwrk.path = "/healthz"\n')
            wallet, wallet_cpu = measured(GET_WALLET % {"token": tokens[0]})
            # Warm-up pays the first bills; the measured run continues after them.
            warm = run_wrk(server.base_url, PAY % {"tokens": quoted, "payers": PAYERS, "start": 0},
                           seconds=1, connections=connections)  # fmt: skip
            start = warm.requests + 1000
            pay, pay_cpu = measured(PAY % {"tokens": quoted, "payers": PAYERS, "start": start})
            drained_s = wait_for_receipts(database_url) if receipts != "on_demand" else None
        if pay.requests + start > bills:
            raise SystemExit(f"ran out of bills: {pay.requests + start} > {bills}")
        results.update(
            {
                "pay_per_s": round(pay.requests_per_s),
                "pay_p50_ms": pay.p50_ms,
                "pay_p90_ms": pay.p90_ms,
                "pay_p99_ms": pay.p99_ms,
                "pay_errors": pay.errors,
                # Server CPU per request: what the figure would be on a quiet core.
                "pay_server_cpu_us": pay_cpu,
                "healthz_server_cpu_us": health_cpu,
                "wallet_read_server_cpu_us": wallet_cpu,
                "healthz_per_s": round(health.requests_per_s),
                "healthz_p99_ms": health.p99_ms,
                "wallet_read_per_s": round(wallet.requests_per_s),
                "wallet_read_p99_ms": wallet.p99_ms,
                # Receipts yield to payments during the run; how long they took to catch up.
                "receipts_caught_up_after_s": drained_s,
            }
        )
        answered = warm.requests - warm.errors + pay.requests - pay.errors
        results.update(check(database_url, answered))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--receipts",
        choices=("background", "thread", "on_demand"),
        default="background",
        help="sign receipts while paying in a worker process (the default), in the server "
        "process (thread), or leave them to the first request (on_demand)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smartcity-bench-") as folder:
        url = args.database_url or f"sqlite:///{folder}/payment.db"
        backend = "postgres" if url.startswith("postgres") else "sqlite"
        figures = bench(
            url,
            seconds=args.seconds,
            connections=args.connections,
            workers=args.workers,
            receipts=args.receipts,
        )
        if args.receipts != "background":
            figures = {f"{key}_receipts_{args.receipts}": v for key, v in figures.items()}
    results: dict[str, Any] = orjson.loads(RESULT_FILE.read_bytes()) if RESULT_FILE.exists() else {}
    results["machine"] = (
        f"{host_platform.machine()} {os.cpu_count()} cores, Python {host_platform.python_version()}"
    )
    results["date"] = time.strftime("%Y-%m-%d")
    figures["load_average"] = round(os.getloadavg()[0], 1)  # the machine is shared
    results.pop("load_average_at_start", None)
    results.update({f"{backend}_{key}": value for key, value in figures.items()})
    RESULT_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULT_FILE.write_bytes(
        orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    )
    print(orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())


if __name__ == "__main__":
    main()
