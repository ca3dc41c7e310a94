"""Shared pieces of the HTTP benchmarks: a throwaway server, wrk runs, percentiles.

Load comes from ``wrk`` (Debian package; installed on first use) in its own process, so
the Python server is measured, not the Python client. Only loopback addresses are used.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    base_url: str
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def running_server(
    database_url: str, *, workers: int = 1, env: Mapping[str, str] | None = None
) -> Iterator[Server]:
    """``smartcity serve`` on a free loopback port, without access logs; stopped after."""
    port = free_port()
    environment = {
        **os.environ,
        "SMARTCITY_DATABASE_URL": database_url,
        "SMARTCITY_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    command = [
        sys.executable, "-m", "smartcity.cli", "serve", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(workers), "--no-access-log",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=environment)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"server exited with {process.returncode}")
            with contextlib.suppress(httpx2.TransportError):
                if httpx2.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("server did not become ready in 60 s")
            time.sleep(0.2)
        yield Server(base_url=base_url, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def ensure_wrk() -> str:
    """The wrk binary, installing Debian's package on first use."""
    found = shutil.which("wrk")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not available")
    return found


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


@dataclass(frozen=True)
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    errors: int


def run_wrk(
    url: str,
    script: str,
    *,
    seconds: int = 10,
    connections: int = 16,
    threads: int = 1,
) -> WrkResult:
    """Run wrk with a Lua ``script`` against ``url`` and parse its latency distribution."""
    wrk = ensure_wrk()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
        script_path = handle.name
    try:
        completed = subprocess.run(
            [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
             "--latency", "-s", script_path, url],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    finally:
        Path(script_path).unlink(missing_ok=True)
    output = completed.stdout
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, flags=re.M))
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if not (rate and total and {"50", "90", "99"} <= percentiles.keys()):
        raise SystemExit(f"could not parse wrk output:\n{output}")
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return WrkResult(
        requests_per_s=float(rate.group(1)),
        p50_ms=_milliseconds(percentiles["50"]),
        p90_ms=_milliseconds(percentiles["90"]),
        p99_ms=_milliseconds(percentiles["99"]),
        requests=int(total.group(1)),
        errors=errors,
    )


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` percentile (nearest rank) of ``values``."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]


def bench_citizen_rows(national_ids: Sequence[str]) -> list[dict[str, object]]:
    """``identity_citizen`` rows for benchmark payers and card holders (one community)."""
    return [
        {
            "national_id": national_id,
            "name": "压测",
            "gender": "M",
            "birth_date": date(1970, 1, 1),
            "phone": None,
            "community_code": "440106001002",
            "grid_code": "440106001002003",
            "district_code": "440106",
            "occupation": None,
            "household_id": None,
        }
        for national_id in national_ids
    ]
