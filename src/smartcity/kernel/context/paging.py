"""Page bounds of every listing of the library (entities, history, subscriptions, devices).

One check, so every listing refuses the same pages with the same reason; the upper bound
on ``offset`` keeps it inside the 64-bit integers both databases take (an offset past any
real result set would otherwise reach the driver and fail there).
"""

from __future__ import annotations

from smartcity.kernel.context.errors import BadRequestData

MAX_LIMIT = 1000
MAX_OFFSET = 2**31 - 1


def check_page(limit: int, offset: int, *, max_limit: int = MAX_LIMIT) -> None:
    """Raise :class:`BadRequestData` unless ``0 <= limit <= max_limit`` and the offset fits."""
    if not 0 <= limit <= max_limit:
        raise BadRequestData(f"limit must be between 0 and {max_limit}, not {limit}")
    if offset < 0:
        raise BadRequestData(f"offset must not be negative, not {offset}")
    if offset > MAX_OFFSET:
        raise BadRequestData(f"offset must be at most {MAX_OFFSET}, not {offset}")
