"""What the citizen page adds to a freshly seeded demo city."""

from __future__ import annotations

from smartcity.kernel.platform import Platform


def seed_demo(platform: Platform, seed: int) -> None:
    """Profiles with interests (filled in below as the page grows)."""
    return None
