"""Publish events when the caller's transaction commits, never when it rolls back.

:func:`~smartcity.kernel.notify.actions.notify` runs inside someone else's transaction,
so it cannot publish right away: the message might still be rolled back. It hands its
event to :func:`publish_on_commit`, which listens for that connection's ``commit`` and
``rollback``. SQLAlchemy's Core ``commit`` event fires just before the driver commits;
the bus delivers on its own worker afterwards, and a page that receives a message whose
COMMIT then failed (disk full, lost connection) simply does not find it on its next
inbox read. That window is accepted in exchange for keeping ``notify`` a plain call.
"""

from __future__ import annotations

import weakref

from sqlalchemy import Connection, event

from smartcity.kernel.bus import Bus, Event

_pending: weakref.WeakKeyDictionary[Connection, list[tuple[Bus, Event]]] = (
    weakref.WeakKeyDictionary()
)


def _on_commit(conn: Connection) -> None:
    for bus, published in _pending.pop(conn, []):
        bus.publish(published)


def _on_rollback(conn: Connection) -> None:
    _pending.pop(conn, None)


def publish_on_commit(conn: Connection, bus: Bus, published: Event) -> None:
    """Publish ``published`` on ``bus`` once ``conn``'s current transaction commits."""
    queued = _pending.get(conn)
    if queued is None:
        queued = []
        _pending[conn] = queued
        if not event.contains(conn, "commit", _on_commit):
            event.listen(conn, "commit", _on_commit)
            event.listen(conn, "rollback", _on_rollback)
    queued.append((bus, published))
