"""Writes of one ``platform_meta`` key each, for the tests of the store's writers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select

from smartcity.kernel.storage import Store
from smartcity.kernel.storage.tables import platform_meta


def insert(key: str, clock: Any) -> Callable[[Connection], str]:
    """A write that stores ``key`` and answers it."""

    def work(conn: Connection) -> str:
        conn.execute(platform_meta.insert().values(key=key, value=key, updated_at=clock.now()))
        return key

    return work


def stored_keys(store: Store) -> list[str]:
    """The keys stored so far, sorted."""
    with store.connect() as conn:
        return sorted(conn.execute(select(platform_meta.c.key)).scalars())
