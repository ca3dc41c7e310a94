"""Linked chains: consecutive events flagged ``linked`` succeed or fail together.

Events are applied to in-memory state one by one; while a chain is open every change
leaves an undo step in the :class:`Journal`, so a failure anywhere in the chain rolls
the earlier events back before anything reaches the database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

Event = TypeVar("Event")
Result = TypeVar("Result")


class Journal:
    """Undo steps of the open chain (nothing is recorded outside a chain)."""

    __slots__ = ("_steps", "active")

    def __init__(self) -> None:
        self.active = False
        self._steps: list[Callable[[], None]] = []

    def record(self, undo: Callable[[], None]) -> None:
        if self.active:
            self._steps.append(undo)

    def open(self) -> None:
        self.active = True
        self._steps.clear()

    def close(self) -> None:
        self.active = False
        self._steps.clear()

    def roll_back(self) -> None:
        for undo in reversed(self._steps):
            undo()
        self._steps.clear()


def run_events(
    events: Sequence[Event],
    *,
    is_linked: Callable[[Event], bool],
    apply: Callable[[int, Event], Result],
    journal: Journal,
    ok: Result,
    chain_failed: Result,
    chain_open: Result,
) -> list[tuple[int, Result]]:
    """Apply each event; return (index, result) of every event that did not succeed.

    ``apply`` must check everything before it changes anything, so a failed event
    outside a chain leaves no trace; inside a chain the journal undoes the events that
    went before it, and every other event of the chain reports ``chain_failed``.
    """
    failures: list[tuple[int, Result]] = []
    chain_start: int | None = None
    chain_broken = False
    last = len(events) - 1
    for index, event in enumerate(events):
        linked = is_linked(event)
        if linked and chain_start is None:
            chain_start = index
            chain_broken = False
            journal.open()
        if chain_broken:
            result = chain_failed
        elif linked and index == last:
            result = chain_open
        else:
            result = apply(index, event)
        if result != ok and chain_start is not None and not chain_broken:
            journal.roll_back()
            failures.extend((earlier, chain_failed) for earlier in range(chain_start, index))
            chain_broken = True
        if result != ok:
            failures.append((index, result))
        if chain_start is not None and not linked:
            chain_start = None
            chain_broken = False
            journal.close()
    if chain_start is not None:
        journal.close()
    return failures
