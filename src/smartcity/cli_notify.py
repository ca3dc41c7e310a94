"""``smartcity notify``: deliver the outbox now and read the demo delivery log."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from smartcity.cli_common import load_settings, open_settings_store
from smartcity.kernel.clock import RealClock
from smartcity.kernel.notify.dispatcher import (
    Dispatcher,
    policy_from_settings,
    senders_from_settings,
)
from smartcity.kernel.notify.senders import LOG_FILE, read_log

notify_app = typer.Typer(help="通知 Notifications: outbox and delivery log", no_args_is_help=True)
console = Console()


@notify_app.command("drain")
def drain(
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Database URL (default: var/)")
    ] = None,
) -> None:
    """投递发件箱 Deliver every SMS and e-mail that is due now, then exit."""
    settings, store = open_settings_store(database_url)
    try:
        store.migrate()
        dispatcher = Dispatcher(
            store, RealClock(), senders_from_settings(settings), policy_from_settings(settings)
        )
        result = dispatcher.drain()
    finally:
        store.close()
    console.print(
        f"已发送 sent {result.sent}, 待重试 retrying {result.retrying}, 失败 failed {result.failed}"
    )


@notify_app.command("log")
def show_log(
    last: Annotated[int, typer.Option(help="show the last N deliveries")] = 20,
) -> None:
    """查看投递日志 Show the demo sender's log (<data_dir>/outbox.log)."""
    path = load_settings().data_dir / LOG_FILE
    entries = list(read_log(path, last))
    if not entries:
        console.print(f"没有投递 nothing delivered yet ({path})")
        return
    table = Table("sent_at", "channel", "to", "subject", "key")
    for entry in entries:
        table.add_row(
            str(entry.get("sent_at")),
            str(entry.get("channel")),
            str(entry.get("to")),
            str(entry.get("subject")),
            str(entry.get("key")),
        )
    console.print(table)
