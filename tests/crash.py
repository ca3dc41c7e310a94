"""Crash-test helpers: start a process of our own, SIGKILL it, start again on the same data.

Used by the SIGKILL tests (payment and card storms against ``smartcity serve``, the
notify transaction killed before its commit, the IoT writer's worker process).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sized
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx2

from smartcity.kernel.identity import make_citizen_id, register_citizen
from smartcity.kernel.secrets import encode_secret
from smartcity.kernel.storage import Store
from tests.conftest import BACKEND, PG_URL
from tests.network import free_port

# Generous: on a loaded machine the imports alone take seconds.
READY_SECONDS = 90
# The key the served process signs and checks access tokens with.
TOKEN_KEY = b"crash-test-token-key-0123456789ab"


@dataclass
class Server:
    """A running ``smartcity serve`` process and where it answers."""

    url: str
    process: subprocess.Popen[bytes]


def crash_database_url(tmp_path: Path) -> str:
    """The database a killed process and its successor share (the test's backend)."""
    return PG_URL if BACKEND == "postgres" else f"sqlite:///{tmp_path / 'test.db'}"


@contextlib.contextmanager
def serve(
    database_url: str, data_dir: Path, *, ca_passphrase: str, token_key: bytes = TOKEN_KEY
) -> Iterator[Server]:
    """``smartcity serve`` on a free loopback port, once it answers ``/readyz``; stopped
    (terminate, then kill) on the way out unless it is dead already."""
    port = free_port()
    env = {
        **os.environ,
        "SMARTCITY_DATABASE_URL": database_url,
        "SMARTCITY_DATA_DIR": str(data_dir),
        "SMARTCITY_TOKEN_KEY": encode_secret(token_key),
        "SMARTCITY_LOG_LEVEL": "WARNING",
        "SMARTCITY_CA_PASSPHRASE": ca_passphrase,
    }
    command = [
        sys.executable, "-m", "smartcity.cli", "serve", "--host", "127.0.0.1",
        "--port", str(port), "--no-access-log",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            with contextlib.suppress(httpx2.TransportError):
                if httpx2.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not become ready in {READY_SECONDS} s")
            time.sleep(0.1)
        yield Server(url=url, process=process)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def sigkill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and reap it."""
    process.send_signal(signal.SIGKILL)
    process.wait(30)


def kill_mid_storm(
    server: Server,
    work: Callable[[str, int], None],
    threads: int,
    answered: Sized,
    kill_after: int,
    killed: threading.Event,
) -> None:
    """Run ``work(url, thread_number)`` on ``threads`` threads; once ``answered`` holds
    ``kill_after`` answers (or after 60 s), SIGKILL the server, set ``killed`` (the
    workers stop at their next request) and wait for them."""
    workers = [threading.Thread(target=work, args=(server.url, n)) for n in range(threads)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 60
    while len(answered) < kill_after and time.monotonic() < deadline:
        time.sleep(0.005)
    sigkill(server.process)
    killed.set()
    for worker in workers:
        worker.join()


def sigkill_pid(pid: int) -> None:
    """SIGKILL a process this test did not start itself (a pool's worker)."""
    os.kill(pid, signal.SIGKILL)


def killed_after_line(code: str, *arguments: str, line: bytes) -> None:
    """Run ``code`` in a child Python (this test's import path), wait until it prints
    ``line``, then SIGKILL it: whatever it had not committed by then is lost."""
    child = subprocess.Popen(
        [sys.executable, "-c", code, *arguments],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == line
    finally:
        sigkill(child)


def register_residents(store: Store, count: int, *, born: date, sequence: int) -> list[str]:
    """``count`` citizens of one grid, born on consecutive days from ``born``; their ids."""
    national_ids = []
    for index in range(count):
        national_id = make_citizen_id(
            "440106", date(born.year, born.month, born.day + index), sequence + index
        ).text
        register_citizen(
            store,
            national_id=national_id,
            name="压测居民",
            community_code="440106001002",
            grid_code="440106001002003",
            today=date(2026, 11, 21),
        )
        national_ids.append(national_id)
    return national_ids
