"""The cyclic garbage collector of a serving process (``smartcity serve``).

A served request allocates and frees thousands of small objects, nearly all of them by
reference counting; the cyclic collector still runs every 700 net allocations and, every
hundred young collections or so, walks every tracked object of the process: the modules,
routes, models and caches of the whole platform, several hundred thousand objects. That
walk stalls the event loop for tens of milliseconds and shows as the tail of every route
(p99 of PATCH, p95 of the temporal query). Once the server has started, its objects live
as long as the process, so they are moved out of the collector's sight (``gc.freeze``)
and the young generation is allowed to grow larger before it is examined. The collector
keeps running: cycles a request creates are still found and freed.
"""

from __future__ import annotations

import gc

# Net allocations before a young collection (CPython's default: 700). A young collection
# costs about the same whatever its size below a few tens of thousands of objects, so
# collecting less often costs less CPU; each one then takes well under a millisecond.
YOUNG_THRESHOLD = 20_000
# Young collections per middle one, middle ones per full one (CPython: 10 and 10).
MIDDLE_THRESHOLD = 20
OLD_THRESHOLD = 20


# The thresholds in force before ``tune_collector``, for ``restore_collector``.
_saved: list[tuple[int, int, int]] = []


def tune_collector() -> None:
    """Freeze what exists now (the started server) and collect less often from now on.

    Call once, after startup, in a process that serves: a frozen object is never freed
    if it later becomes part of a garbage cycle, which is right for the application's
    own long-lived objects. :func:`restore_collector` undoes it when serving stops.
    """
    if not _saved:
        _saved.append(gc.get_threshold())
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)


def restore_collector() -> None:
    """Unfreeze and put the earlier thresholds back (a server stopping, or a test's)."""
    gc.unfreeze()
    if _saved:
        gc.set_threshold(*_saved.pop())


async def tune_collector_on_start() -> None:
    """:func:`tune_collector` as a platform start hook (runs on the event loop)."""
    tune_collector()


async def restore_collector_on_stop() -> None:
    """:func:`restore_collector` as a platform stop hook."""
    restore_collector()
