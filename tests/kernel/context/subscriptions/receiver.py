"""A tiny HTTP server on a loopback port that records the notifications it receives.

It runs its own event loop in a thread, so both async tests (where the notifier shares
the test's loop) and sync API tests (where it runs in the TestClient's loop) can use it.
``hold`` makes it a slow endpoint: requests wait until the test sets the event.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Any

import orjson

from tests.network import free_port


@dataclass(frozen=True)
class Received:
    """One request: its headers (lower-case names) and JSON body."""

    headers: dict[str, str]
    body: Any


class Receiver:
    """Records POSTed JSON; answers ``status``."""

    def __init__(self, *, status: int = 204, hold: threading.Event | None = None) -> None:
        self.status = status
        self.hold = hold
        self.port = free_port()
        self.received: list[Received] = []
        self.arrivals: list[float] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        """The notification endpoint URL."""
        return f"http://127.0.0.1:{self.port}/notify"

    def __enter__(self) -> Receiver:
        self._thread.start()
        self._started.wait(5)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.hold is not None:
            self.hold.set()
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", self.port)
        )
        self._started.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if self.hold is not None:
                    await asyncio.to_thread(self.hold.wait)
                with self._lock:
                    self.received.append(Received(headers, orjson.loads(body)))
                    self.arrivals.append(time.perf_counter())
                writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            # The client hung up, or the receiver is shutting down: nothing more to read.
            pass
        finally:
            writer.close()

    def count(self) -> int:
        """How many notifications arrived so far."""
        with self._lock:
            return len(self.received)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until ``count`` notifications arrived (sync tests)."""
        deadline = time.monotonic() + timeout
        while self.count() < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"got {self.count()} of {count} notifications")
            time.sleep(0.005)
        with self._lock:
            return list(self.received)

    async def wait_async(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait, without blocking the loop, until ``count`` notifications arrived."""
        deadline = time.monotonic() + timeout
        while self.count() < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"got {self.count()} of {count} notifications")
            await asyncio.sleep(0.005)
        with self._lock:
            return list(self.received)
