"""Demo notices for the seeded city (filled in below)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform


def seed_demo(platform: Platform, seed: int) -> None:
    """Publish the demo notices (see docs/apps/targeting.md)."""
    del platform, seed
