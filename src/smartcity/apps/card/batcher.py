"""Live taps grouped: the taps arriving while one group is being decided form the next.

Deciding a tap costs a handful of queries whatever the number of taps (``taps.py``
reads everything a batch refers to at once), so a gate's tap waits at most for the
group ahead of it and then shares its reads, its ledger call, its inserts and its
commit with every tap that arrived meanwhile. The write itself goes through the
store's group commit (:meth:`Store.write_async`): one writer, so two taps of one card
never race for its balance. One group is in flight per event loop; it holds at most
``MAX_GROUP`` taps.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smartcity.apps.card import taps
from smartcity.apps.card.models import TapRequest, TapView

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform

MAX_GROUP = 256

# What a waiting tap is handed: its group's decision and its place in it.
_Answer = tuple[taps.Decided, int]


@dataclass
class _Waiting:
    terminal_id: str
    request: TapRequest
    answer: asyncio.Future[_Answer]


@dataclass
class TapBatcher:
    """Groups the live taps of one event loop into shared decisions."""

    platform: Platform
    _waiting: list[_Waiting] = field(default_factory=list)
    _flushing: bool = False
    # The running flush, kept so the event loop does not drop it mid-way.
    _task: asyncio.Task[None] | None = None

    async def tap(self, terminal_id: str, request: TapRequest) -> TapView:
        """Decide one live tap (with the taps arriving meanwhile); its answer."""
        decided, index = await self._join(terminal_id, request)
        return decided.view(index)

    async def tap_json(self, terminal_id: str, request: TapRequest) -> bytes:
        """:meth:`tap`, its answer as the JSON the routed endpoint sends (the fast path)."""
        decided, index = await self._join(terminal_id, request)
        return decided.view_json(index)

    async def _join(self, terminal_id: str, request: TapRequest) -> _Answer:
        answer: asyncio.Future[_Answer] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(terminal_id, request, answer))
        if not self._flushing:
            self._flushing = True
            self._task = asyncio.get_running_loop().create_task(self._flush())
        return await answer

    async def _flush(self) -> None:
        try:
            while self._waiting:
                group = self._waiting[:MAX_GROUP]
                del self._waiting[:MAX_GROUP]
                await self._decide(group)
        finally:
            self._flushing = False

    async def _decide(self, group: list[_Waiting]) -> None:
        now = self.platform.clock.now()
        items = [(w.terminal_id, w.request) for w in group]
        store = self.platform.store
        try:
            decided = await store.write_async(
                lambda conn: taps.decide_many(conn, items, now, offline=False, store=store)
            )
        except Exception as error:
            for w in group:
                if not w.answer.done():
                    w.answer.set_exception(error)
            return
        for index, w in enumerate(group):
            if not w.answer.done():
                w.answer.set_result((decided, index))
