"""``smartcity ledger verify | accounts | transfers``: inspect and prove the ledger."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from smartcity.cli_common import DatabaseOption, open_settings_store
from smartcity.kernel.clock import RealClock
from smartcity.kernel.errors import DomainError
from smartcity.kernel.ledger import Ledger, datetime_of

ledger_app = typer.Typer(help="账本 Ledger: accounts and transfers", no_args_is_help=True)
console = Console()


def _open(database_url: str | None) -> Ledger:
    _, store = open_settings_store(database_url)
    store.migrate()
    return Ledger(store, RealClock())


def _fen(amount: int) -> str:
    return (
        f"{amount / 100:,.2f}" if abs(amount) < 2**53 else f"{amount // 100:,}.{amount % 100:02d}"
    )


@ledger_app.command("verify")
def verify(database_url: DatabaseOption = None) -> None:
    """校验账本 Prove every balance equals its transfers and debits equal credits; exit 1 if not."""
    ledger = _open(database_url)
    try:
        report = ledger.verify()
    finally:
        ledger.store.close()
    for totals in report.totals:
        mark = "[green]平[/green]" if totals.balanced else "[red]不平[/red]"
        console.print(
            f"ledger {totals.ledger}: {totals.accounts:,} accounts, "
            f"debits {_fen(totals.debits_posted)} = credits {_fen(totals.credits_posted)} posted, "
            f"{_fen(totals.debits_pending)} / {_fen(totals.credits_pending)} pending {mark}"
        )
    if report.ok:
        console.print(
            f"[green]账本平衡 ledger balances[/green]: {report.accounts:,} accounts, "
            f"{report.transfers:,} transfers"
        )
        return
    console.print("[red]账本不平 ledger does not balance[/red]")
    for mismatch in report.mismatches[:50]:
        console.print(
            f"  account {mismatch.account_id}: {mismatch.balance} stored {mismatch.stored} "
            f"but transfers sum to {mismatch.expected}"
        )
    for account_id in report.overdrawn[:50]:
        console.print(f"  account {account_id}: overdrawn despite its flag")
    for problem in report.pending_problems[:50]:
        console.print(f"  pending transfer {problem.transfer_id}: {problem.detail}")
    raise typer.Exit(1)


@ledger_app.command("accounts")
def accounts(
    ledger_number: Annotated[int | None, typer.Option("--ledger", help="only this ledger")] = None,
    after: Annotated[int, typer.Option(help="start after this account id")] = 0,
    limit: Annotated[int, typer.Option(help="how many")] = 50,
    database_url: DatabaseOption = None,
) -> None:
    """列出账户 List accounts with their balances (yuan)."""
    ledger = _open(database_url)
    try:
        found = ledger.list_accounts(ledger=ledger_number, after_id=after, limit=limit)
    except DomainError as exc:
        console.print(f"[red]错误 error:[/red] {exc.reason}")
        raise typer.Exit(2) from exc
    finally:
        ledger.store.close()
    table = Table(
        "id", "ledger", "code", "flags", "debits posted", "credits posted", "pending dr/cr"
    )
    for a in found:
        table.add_row(
            str(a.id),
            str(a.ledger),
            str(a.code),
            str(int(a.flags)) + (" closed" if a.closed else ""),
            _fen(a.debits_posted),
            _fen(a.credits_posted),
            f"{_fen(a.debits_pending)} / {_fen(a.credits_pending)}",
        )
    console.print(table)


@ledger_app.command("transfers")
def transfers(
    account: Annotated[int, typer.Option(help="the account whose transfers to list")],
    limit: Annotated[int, typer.Option(help="how many, newest first")] = 50,
    database_url: DatabaseOption = None,
) -> None:
    """列出转账 List an account's transfers, newest first."""
    ledger = _open(database_url)
    try:
        found = ledger.account_transfers(account, limit=limit, newest_first=True)
    except DomainError as exc:
        console.print(f"[red]错误 error:[/red] {exc.reason}")
        raise typer.Exit(2) from exc
    finally:
        ledger.store.close()
    table = Table(
        "id", "time (UTC)", "debit", "credit", "amount", "flags", "pending id", "reference"
    )
    for t in found:
        table.add_row(
            str(t.id),
            datetime_of(t.timestamp).strftime("%Y-%m-%d %H:%M:%S"),
            str(t.debit_account_id),
            str(t.credit_account_id),
            _fen(t.amount),
            str(int(t.flags)),
            str(t.pending_id or ""),
            t.reference,
        )
    console.print(table)
