"""信息找人 Information finds people: notices delivered to the citizens they concern.

Staff of a department author a notice with an audience rule (occupation, interests, age,
gender, household, area and life events such as a bill falling due or an outage in the
community), preview how many it reaches, and publish it: the matching citizens with an
account get it in their inbox (kernel/notify), in batches that survive a restart; reach
(matched, delivered, read) is counted per notice. Citizens see the live notices that
concern them, including those published before they registered. See docs/apps/targeting.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import TYPE_CHECKING

from smartcity.kernel.app import App

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform

log = logging.getLogger(__name__)

# How often due (scheduled or cut short) publications are looked for.
POLL_SECONDS = 30.0


def setup(platform: Platform) -> None:
    """Add the "notices for you" section to the citizen's page; deliver due publications
    while the platform runs (and at once on start, to resume cut ones)."""
    from smartcity.apps.portal.api import MyPageSection, register_section
    from smartcity.apps.targeting.section import notices_section

    register_section(
        platform, MyPageSection("notices", "为您推送", "Notices for you", notices_section, order=60)
    )
    task: asyncio.Task[None] | None = None
    # Set on stop: the delivery thread finishes its current batch (one transaction) and
    # leaves the rest to the next start, so no write outlives the platform.
    stopping = threading.Event()
    wake: asyncio.Event | None = None  # made in start(): it belongs to the running loop

    async def run(wake: asyncio.Event) -> None:
        from smartcity.apps.targeting.actions import deliver_due

        while not stopping.is_set():
            try:
                await asyncio.to_thread(deliver_due, platform, stopping)
            except Exception:  # a failed round is retried on the next one
                log.exception("targeted notice delivery failed; retrying later")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_SECONDS):
                    await wake.wait()

    async def start() -> None:
        nonlocal task, wake
        stopping.clear()
        wake = asyncio.Event()
        task = asyncio.get_running_loop().create_task(run(wake), name="targeting-delivery")

    async def stop() -> None:
        stopping.set()
        if wake is not None:
            wake.set()
        if task is not None:
            await task

    platform.on_start(start)
    platform.on_stop(stop)


def _seed_demo(platform: Platform, seed: int) -> None:
    from smartcity.apps.targeting.sim import seed_demo

    seed_demo(platform, seed)


APP = App(
    name="targeting",
    setup=setup,
    depends_on=("payment", "portal"),
    table_modules=("smartcity.apps.targeting.tables",),
    routes_module="smartcity.apps.targeting.routes",
    seed_demo=_seed_demo,
)
