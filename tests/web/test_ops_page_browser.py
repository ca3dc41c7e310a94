"""The operations centre in a real browser: Debian's Chromium driven by Playwright.

A uvicorn subprocess serves a tiny seeded city (SQLite file in a temporary directory)
on a free loopback port, through the same factory ``smartcity serve`` uses. Chromium
runs headless with SwiftShader, the software WebGL that MapLibre needs when there is no
GPU. Run these alone with ``uv run pytest -m browser``.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest

from smartcity.sim.accounts import DEMO_PEOPLE
from smartcity.sim.profiles import TINY
from tests.network import free_port

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",  # the tests may run as root
    "--disable-gpu",
    # Software WebGL: without these two flags headless Chromium has no WebGL context.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    # No calls home: this machine's network is closed and the page must not need one.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
SCREENSHOT_DESKTOP = Path("/tmp/ops.png")
SCREENSHOT_PHONE = Path("/tmp/ops-phone.png")
CITY_SEED = 20101

# Waits for the page script's ``ready`` promise (which settles on the map's first 'idle'
# event), then reads what the map drew and what the chart holds.
READ_PAGE = """
async () => {
  const ops = window.smartcityOps;
  const timeout = new Promise((_, reject) =>
    setTimeout(() => reject(new Error("the page did not become ready in 30 s")), 30000));
  await Promise.race([ops.ready, timeout]);
  if (!ops.map) { throw new Error(document.getElementById("ops-map-status").textContent); }
  await Promise.race([ops.mapIdle, timeout]);
  const rendered = ops.map.queryRenderedFeatures({ layers: ["district-fill"] });
  const option = ops.chart.getOption();
  return {
    codes: [...new Set(rendered.map((feature) => feature.properties.code))].sort(),
    chartValues: option.series[0].data.map((item) => typeof item === "object" ? item.value : item),
    chartNames: option.xAxis[0].data,
    mapLoaded: ops.map.loaded(),
  };
}
"""


def seed_tiny_city(data_dir: Path) -> None:
    from smartcity.kernel.storage import open_store
    from smartcity.sim.city import seed_city
    from smartcity.sim.profiles import TINY
    from smartcity.sim.progress import SilentProgress

    store = open_store(f"sqlite:///{data_dir / 'smartcity.db'}")
    try:
        store.migrate()
        seed_city(store, profile=TINY, seed=CITY_SEED, progress=SilentProgress())
    finally:
        store.close()


@contextlib.contextmanager
def serve_city(data_dir: Path) -> Iterator[str]:
    """A real server (uvicorn, own process) over the city in ``data_dir``; its base URL."""
    port = free_port()
    environment = {
        **os.environ,
        "SMARTCITY_DATA_DIR": str(data_dir),
        "SMARTCITY_DATABASE_URL": "",
        "SMARTCITY_LOG_LEVEL": "WARNING",
    }
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "smartcity.api.app:build",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    pytest.fail(f"the server exited early:\n{log_path.read_text()}")
                try:
                    if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"the server did not get ready:\n{log_path.read_text()}")
                time.sleep(0.2)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a real server over a seeded tiny city."""
    data_dir = tmp_path_factory.mktemp("ops-city")
    seed_tiny_city(data_dir)
    with serve_city(data_dir) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright; a missing browser fails loudly, never skips."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Debian's Chromium is not installed at {CHROMIUM}; install it with "
            "`scripts/bootstrap --test` (apt-get install chromium). Never `playwright install`."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class PageWatch:
    """What a page asked for and complained about."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def outside_requests(self) -> list[str]:
        outside = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob"):
                continue
            if parts.hostname not in LOOPBACK_HOSTS:
                outside.append(url)
        return outside


def open_page(browser: Any, width: int, height: int) -> tuple[Any, PageWatch]:
    # A Chinese browser: without a locale Chromium sends Accept-Language: en-US.
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    watch = PageWatch()
    page.on("request", lambda request: watch.requests.append(request.url))
    page.on(
        "console",
        lambda message: watch.errors.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    return page, watch


def assert_whole_city(state: dict[str, Any]) -> None:
    assert state["mapLoaded"]
    assert len(state["codes"]) == 11, state["codes"]
    assert all(code.startswith("4401") for code in state["codes"])
    values = state["chartValues"]
    assert len(values) == 11
    assert all(value > 0 for value in values)
    assert sum(values) == TINY.citizens + DEMO_PEOPLE


def test_ops_page_draws_every_district_and_the_chart(browser: Any, server: str) -> None:
    page, watch = open_page(browser, 1366, 900)
    try:
        page.goto(f"{server}/ops")
        state = page.evaluate(READ_PAGE)
        assert_whole_city(state)
        assert "天河区" in state["chartNames"]
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert page.locator(".ops-legend__button").count() == 11
        page.screenshot(path=str(SCREENSHOT_DESKTOP), full_page=True)
    finally:
        page.context.close()
    assert watch.outside_requests() == []
    assert any("/api/geo/areas?level=district" in url for url in watch.requests)
    assert watch.errors == []


def test_clicking_a_district_on_the_map_shows_its_details(browser: Any, server: str) -> None:
    page, watch = open_page(browser, 1366, 900)
    try:
        page.goto(f"{server}/ops")
        page.evaluate(READ_PAGE)
        # Click where the map draws Baiyun's label point: inside the district.
        point = page.evaluate(
            """() => {
              const ops = window.smartcityOps;
              const pixel = ops.map.project(ops.byCode.get("440111").labelPoint);
              return { x: pixel.x, y: pixel.y };
            }"""
        )
        canvas = page.locator("#ops-map canvas").bounding_box()
        assert canvas is not None
        page.mouse.click(canvas["x"] + point["x"], canvas["y"] + point["y"])
        details = page.locator("#ops-details-body")
        details.get_by_text("440111").wait_for()
        assert "白云区" in details.inner_text()
        assert "平方公里" in details.inner_text()
        assert (
            page.locator('.ops-legend__button[data-code="440111"]').get_attribute("aria-pressed")
            == "true"
        )

        # The legend works too, from the keyboard.
        page.locator('.ops-legend__button[data-code="440106"]').focus()
        page.keyboard.press("Enter")
        details.get_by_text("440106").wait_for()
        assert "天河区" in details.inner_text()
    finally:
        page.context.close()
    assert watch.errors == []


def test_english_switch_translates_the_page(browser: Any, server: str) -> None:
    page, watch = open_page(browser, 1366, 900)
    try:
        page.goto(f"{server}/ops")
        assert page.title() == "城市运营中心 · 智慧城市平台"
        page.get_by_role("link", name="English").click()
        page.wait_for_url("**/ops?lang=en")
        assert page.title() == "City Operations Centre · Smart City Platform"
        assert page.locator("h1").inner_text() == "City Operations Centre"
        assert page.locator("html").get_attribute("lang") == "en"
        state = page.evaluate(READ_PAGE)
        assert "Tianhe" in state["chartNames"]
        # The cookie keeps English on the next visit without ?lang.
        page.goto(f"{server}/ops")
        assert page.locator("h1").inner_text() == "City Operations Centre"
    finally:
        page.context.close()
    assert watch.outside_requests() == []
    assert watch.errors == []


def test_ops_page_on_a_phone(browser: Any, server: str) -> None:
    page, watch = open_page(browser, 390, 844)
    try:
        page.goto(f"{server}/ops")
        state = page.evaluate(READ_PAGE)
        assert_whole_city(state)
        # Nothing is wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(SCREENSHOT_PHONE), full_page=True)
    finally:
        page.context.close()
    assert watch.outside_requests() == []
    assert watch.errors == []


def test_missing_browser_libraries_are_explained(browser: Any, server: str) -> None:
    """As if ``make assets`` had not run: the page says so instead of staying blank."""
    page, _watch = open_page(browser, 1366, 900)
    try:
        page.route("**/static/vendor/**", lambda route: route.fulfill(status=404, body="missing"))
        page.goto(f"{server}/ops")
        page.wait_for_function("window.smartcityOps && window.smartcityOps.ready")
        page.evaluate("window.smartcityOps.ready")
        map_status = page.locator("#ops-map-status")
        chart_status = page.locator("#ops-chart-status")
        assert map_status.is_visible() and "make assets" in map_status.inner_text()
        assert chart_status.is_visible() and "make assets" in chart_status.inner_text()
        # The data still arrives: the list and the table work without the libraries.
        assert page.locator(".ops-legend__button").count() == 11
    finally:
        page.context.close()
