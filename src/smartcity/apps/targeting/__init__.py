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
from typing import TYPE_CHECKING

from smartcity.kernel.app import App

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform

log = logging.getLogger(__name__)

# How often due (scheduled or cut short) publications are looked for.
POLL_SECONDS = 30.0


def setup(platform: Platform) -> None:
    """Deliver due publications while the platform runs (and at once on start, to resume)."""
    task: asyncio.Task[None] | None = None

    async def run() -> None:
        from smartcity.apps.targeting.actions import deliver_due

        while True:
            try:
                await asyncio.to_thread(deliver_due, platform)
            except Exception:  # a failed round is retried on the next one
                log.exception("targeted notice delivery failed; retrying later")
            await asyncio.sleep(POLL_SECONDS)

    async def start() -> None:
        nonlocal task
        task = asyncio.get_running_loop().create_task(run(), name="targeting-delivery")

    async def stop() -> None:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    platform.on_start(start)
    platform.on_stop(stop)


def _seed_demo(platform: Platform, seed: int) -> None:
    from smartcity.apps.targeting.sim import seed_demo

    seed_demo(platform, seed)


APP = App(
    name="targeting",
    setup=setup,
    depends_on=("payment",),
    table_modules=("smartcity.apps.targeting.tables",),
    routes_module="smartcity.apps.targeting.routes",
    seed_demo=_seed_demo,
)
