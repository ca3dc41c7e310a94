"""Benchmark: the citizen page's one-call summary and the profile, in process.

Seeds the tiny city with its demo data on a SQLite file, signs the demo citizen in and
times ``GET /api/portal/me`` (profile + bills + wallet + inbox + documents) against the
raw baseline ``GET /healthz`` through the same in-process client, so the figure is what
the page's own queries add. In-process (no server, no wrk): a quick check of the page's
cost, not a throughput figure.

    uv run python bench/portal.py [--requests 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import orjson
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import RESULTS, percentile
from smartcity.api import create_app
from smartcity.apps import installed_apps
from smartcity.kernel.config import Settings
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import open_store
from smartcity.sim.accounts import DEMO_CITIZEN, DEMO_PASSWORD
from smartcity.sim.city import seed_city
from smartcity.sim.profiles import TINY
from smartcity.sim.progress import SilentProgress


def _timed(client: TestClient, path: str, headers: dict[str, str], count: int) -> list[float]:
    took = []
    for _ in range(count):
        start = time.perf_counter()
        answer = client.get(path, headers=headers)
        took.append((time.perf_counter() - start) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: {answer.status_code} {answer.text}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    arguments = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="smartcity-portal-bench-"))
    store = open_store(f"sqlite:///{directory / 'city.db'}")
    store.migrate()
    seed_city(store, profile=TINY, seed=3, progress=SilentProgress())
    platform = Platform.open(
        Settings(data_dir=directory), apps=installed_apps(), store=store, migrate=False
    )
    for app in platform.apps:
        if app.seed_demo is not None:
            app.seed_demo(platform, 3)
    with TestClient(create_app(platform)) as client:
        token = client.post(
            "/auth/token",
            data={"grant_type": "password", "username": DEMO_CITIZEN, "password": DEMO_PASSWORD},
        ).json()["access_token"]
        headers = {"authorization": f"Bearer {token}"}
        _timed(client, "/api/portal/me", headers, 20)  # warm up
        baseline = _timed(client, "/healthz", {}, arguments.requests)
        summary = _timed(client, "/api/portal/me", headers, arguments.requests)
        profile = _timed(client, "/api/portal/profile", headers, arguments.requests)
    result = {
        "requests": arguments.requests,
        "baseline_healthz_p50_ms": round(percentile(baseline, 0.5), 2),
        "me_p50_ms": round(percentile(summary, 0.5), 2),
        "me_p99_ms": round(percentile(summary, 0.99), 2),
        "profile_p50_ms": round(percentile(profile, 0.5), 2),
        "profile_p99_ms": round(percentile(profile, 0.99), 2),
        "backend": "sqlite",
        "note": "in-process TestClient, tiny city with demo data; measured under load",
    }
    text = orjson.dumps(result, option=orjson.OPT_INDENT_2).decode()
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "portal.json").write_text(text + "\n")
    platform.store.close()


if __name__ == "__main__":
    main()
