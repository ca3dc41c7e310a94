"""A process killed (SIGKILL) inside a transaction that notified leaves no trace."""

from __future__ import annotations

import textwrap

from sqlalchemy import func, select

from smartcity.kernel.notify.tables import notify_message, notify_outbox
from smartcity.kernel.storage import Store
from tests.crash import killed_after_line

CHILD = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from smartcity.kernel.notify import notify
    from smartcity.kernel.storage import open_store

    store = open_store(sys.argv[1])
    now = datetime.now(UTC)
    with store.begin() as conn:
        for n in range(50):
            notify(conn, 101, "message", {"title": str(n), "body": "b"}, "alert", now,
                   phone="13800138000")
        print("written", flush=True)
        time.sleep(120)  # killed here, before the commit
    """
)


def test_sigkill_before_commit_loses_message_and_outbox_together(store: Store) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    killed_after_line(CHILD, url, line=b"written")
    with store.connect() as conn:
        messages = conn.execute(select(func.count()).select_from(notify_message)).scalar_one()
        outbox = conn.execute(select(func.count()).select_from(notify_outbox)).scalar_one()
    assert (messages, outbox) == (0, 0)
