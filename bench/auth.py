"""Benchmark: the access-token check per request, and password sign-ins.

    uv run python bench/auth.py

Figures (written to bench/results/auth.json):

* ``token_check_us``: ``TokenSigner.verify`` (HMAC-SHA256 + claims + ``Principal``) of a
  token not seen before, per call; target <= 50 us. ``token_check_repeated_us``: the same
  token again (answered from the signer's memory of verified tokens, expiry still
  checked). ``baseline_hmac_us`` is the raw HMAC of the same bytes in the same run.
* ``request_with_permission_us`` / ``request_without_auth_us``: one GET through a minimal
  FastAPI app driven as raw ASGI (no sockets), with the ``requires(...)`` dependency and
  without any; ``permission_dependency_us`` is their difference, and
  ``request_with_empty_dependency_us`` shows what FastAPI itself charges for one
  dependency that does nothing.
* ``password_logins_per_s``: full password sign-ins (argon2id verify, audit, refresh token
  row) on SQLite, for information; ``baseline_argon2_verify_per_s`` is argon2 alone.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Request

from smartcity.api.permissions import requires
from smartcity.kernel.clock import RealClock
from smartcity.kernel.config import Settings
from smartcity.kernel.identity import make_citizen_id, register_citizen
from smartcity.kernel.identity.accounts import register_citizen_account
from smartcity.kernel.identity.passwords import DEFAULT_HASHER
from smartcity.kernel.identity.permissions import Permission
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.identity.signin import sign_in_with_password
from smartcity.kernel.identity.totp import TotpCipher
from smartcity.kernel.platform import Platform

RESULTS = Path(__file__).resolve().parent / "results" / "auth.json"
CHECKS = 100_000
FRESH_TOKENS = 8_000  # below the signer's memory bound, so none is evicted mid-run
REQUESTS = 5_000
LOGINS = 20
PASSWORD = "bench horse 42"
# Module level: FastAPI resolves the string annotations of routes in module globals.
GUARD = requires(Permission.CASE_HANDLE)


def bench_token_check(platform: Platform) -> dict[str, float]:
    import hashlib
    import hmac

    now = datetime.now(UTC)
    # Distinct tokens, each checked once: the full check (a signer remembers tokens it
    # has verified, so checking one token over and over measures only that memory).
    tokens = [
        platform.tokens.issue(
            Principal(n, AccountKind.STAFF, "GZ-GAJ-0002", "GZ-GAJ", frozenset({"officer"})),
            now,
        ).token
        for n in range(1, FRESH_TOKENS + 1)
    ]
    verify = platform.tokens.verify
    started = time.perf_counter()
    for token in tokens:
        verify(token, now)
    check_us = (time.perf_counter() - started) / len(tokens) * 1e6
    token = tokens[0]
    started = time.perf_counter()
    for _ in range(CHECKS):
        verify(token, now)
    repeat_us = (time.perf_counter() - started) / CHECKS * 1e6
    key = b"k" * 32
    signing_input = token.rpartition(".")[0].encode()
    started = time.perf_counter()
    for _ in range(CHECKS):
        hmac.digest(key, signing_input, hashlib.sha256)
    baseline_us = (time.perf_counter() - started) / CHECKS * 1e6
    return {
        "token_check_us": round(check_us, 2),
        "token_check_repeated_us": round(repeat_us, 2),
        "baseline_hmac_us": round(baseline_us, 2),
    }


def _asgi_get(app: FastAPI, path: str, headers: list[tuple[bytes, bytes]]) -> Any:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": headers, "client": ("127.0.0.1", 1), "server": ("t", 80),
    }  # fmt: skip
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    async def call() -> int:
        await app(scope, receive, send)
        return status[-1]

    return call


async def trivial_dependency(request: Request) -> int:
    """A dependency that does nothing: FastAPI's own cost of one dependency."""
    return len(request.headers)


def bench_request(platform: Platform) -> dict[str, float]:
    app = FastAPI()
    app.state.platform = platform

    @app.get("/guarded", openapi_extra=GUARD.openapi)
    async def guarded(principal: Annotated[Principal, Depends(GUARD)]) -> dict[str, int]:
        return {"account": principal.account_id}

    @app.get("/trivial")
    async def trivial(value: Annotated[int, Depends(trivial_dependency)]) -> dict[str, int]:
        return {"account": value}

    @app.get("/open")
    async def open_route() -> dict[str, int]:
        return {"account": 0}

    principal = Principal(7, AccountKind.STAFF, "GZ-GAJ-0002", "GZ-GAJ", frozenset({"officer"}))
    token = platform.tokens.issue(principal, platform.clock.now()).token
    headers = [(b"authorization", f"Bearer {token}".encode())]

    async def run(path: str) -> float:
        call = _asgi_get(app, path, headers)
        for _ in range(200):
            assert await call() == 200
        started = time.perf_counter()
        for _ in range(REQUESTS):
            await call()
        return (time.perf_counter() - started) / REQUESTS * 1e6

    with_auth = asyncio.run(run("/guarded"))
    without = asyncio.run(run("/open"))
    empty = asyncio.run(run("/trivial"))
    return {
        "request_with_permission_us": round(with_auth, 1),
        "request_without_auth_us": round(without, 1),
        "request_with_empty_dependency_us": round(empty, 1),
        "permission_dependency_us": round(with_auth - without, 1),
    }


def bench_logins(platform: Platform) -> dict[str, float]:
    national_id = make_citizen_id("440106", date(1980, 1, 1), 11).text
    register_citizen(
        platform.store,
        national_id=national_id,
        name="测试",
        community_code="440106001002",
        grid_code="440106001002003",
    )
    register_citizen_account(
        platform.store,
        platform.clock,
        DEFAULT_HASHER,
        national_id=national_id,
        name="测试",
        password=PASSWORD,
    )
    cipher = TotpCipher(b"t" * 32)
    started = time.perf_counter()
    for _ in range(LOGINS):
        sign_in_with_password(
            platform.store, platform.clock, platform.tokens, DEFAULT_HASHER, cipher,
            username=national_id, password=PASSWORD,
        )  # fmt: skip
    logins = LOGINS / (time.perf_counter() - started)
    encoded = DEFAULT_HASHER.hash(PASSWORD)
    started = time.perf_counter()
    for _ in range(LOGINS):
        DEFAULT_HASHER.verify(encoded, PASSWORD)
    verify = LOGINS / (time.perf_counter() - started)
    return {
        "password_logins_per_s": round(logins, 1),
        "baseline_argon2_verify_per_s": round(verify, 1),
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="smartcity-bench-auth-") as directory:
        settings = Settings(data_dir=Path(directory))
        platform = Platform.open(settings, clock=RealClock())
        try:
            results: dict[str, object] = {
                "note": "2-core machine; see docs/performance.md for the load at the time",
                **bench_token_check(platform),
                **bench_request(platform),
                **bench_logins(platform),
            }
        finally:
            platform.store.close()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    print(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
