"""How long-running seeding steps report progress (rich bars in the CLI, nothing in tests)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Protocol

Advance = Callable[[int], None]


class Progress(Protocol):
    def step(self, description: str, total: int) -> contextlib.AbstractContextManager[Advance]:
        """A step of ``total`` units; call the yielded function with how many units finished."""
        ...


class SilentProgress:
    """Reports nothing."""

    @contextlib.contextmanager
    def step(self, description: str, total: int) -> Iterator[Advance]:
        yield lambda _n: None


class RichProgress:
    """Progress bars on the terminal (the CLI's long steps)."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichBars

        self._bars = RichBars(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )

    def __enter__(self) -> RichProgress:
        self._bars.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._bars.stop()

    @contextlib.contextmanager
    def step(self, description: str, total: int) -> Iterator[Advance]:
        task = self._bars.add_task(description, total=max(total, 1))

        def advance(n: int) -> None:
            self._bars.advance(task, n)

        try:
            yield advance
        finally:
            self._bars.update(task, completed=max(total, 1))
