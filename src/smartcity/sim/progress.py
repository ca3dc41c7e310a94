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
