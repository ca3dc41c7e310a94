"""``smartcity payment reconcile | settle | expire | receipts`` and ``smartcity bank serve``."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from smartcity.cli_common import DatabaseOption, load_settings
from smartcity.kernel.errors import DomainError

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform

payment_app = typer.Typer(help="统一支付 Unified payment and e-bills", no_args_is_help=True)
bank_app = typer.Typer(help="模拟银行 The simulated bank (its own process)", no_args_is_help=True)
console = Console()

DateOption = Annotated[
    dt.datetime, typer.Option("--date", formats=["%Y-%m-%d"], help="business day (Asia/Shanghai)")
]


def _platform(database_url: str | None) -> Platform:
    from smartcity.apps import payment
    from smartcity.kernel.platform import Platform

    return Platform.open(load_settings(database_url), apps=[payment.APP])


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


@payment_app.command("reconcile")
def reconcile(date: DateOption, database_url: DatabaseOption = None) -> None:
    """日对账 Reconcile a business day per biller; exit 1 if anything does not balance."""
    from smartcity.apps.payment.reconciliation import reconcile_day

    platform = _platform(database_url)
    try:
        with platform.store.connect() as conn:
            report = reconcile_day(conn, date.date())
    finally:
        platform.store.close()
    table = Table(title=f"对账 Reconciliation {report.business_date}")
    for column in ("biller", "bills", "orders ¥", "ledger ¥", "settled ¥", "balanced"):
        table.add_column(column, justify="right" if column != "biller" else "left")
    for line in report.billers:
        table.add_row(
            line.biller_code,
            str(line.bills_paid),
            _yuan(line.amount_fen),
            _yuan(line.ledger_amount_fen),
            _yuan(line.settlement_amount_fen) if line.settled else "—",
            "[green]yes[/green]" if line.balanced else "[red]NO[/red]",
        )
    table.add_row(
        "total",
        str(report.bills_paid),
        _yuan(report.amount_fen),
        _yuan(report.ledger_amount_fen),
        _yuan(report.settlement_amount_fen),
        "[green]yes[/green]" if report.balanced else "[red]NO[/red]",
    )
    console.print(table)
    if not report.balanced:
        raise typer.Exit(1)


@payment_app.command("settle")
def settle(date: DateOption, database_url: DatabaseOption = None) -> None:
    """日结 Pass an ended business day's payments on to each biller (idempotent)."""
    from smartcity.apps.payment.actions import settle_day

    platform = _platform(database_url)
    try:
        settled = settle_day(platform, date.date())
    except DomainError as exc:
        console.print(f"[red]错误 error:[/red] {exc.reason}")
        raise typer.Exit(2) from exc
    finally:
        platform.store.close()
    for line in settled:
        console.print(
            f"{line['biller_code']}: {line['orders']} orders, ¥{_yuan(line['amount_fen'])}"
        )
    console.print(f"[green]已结算 settled[/green] {len(settled)} biller(s)")


@payment_app.command("expire")
def expire(database_url: DatabaseOption = None) -> None:
    """Close bank orders the bank never answered in time (the server does it every minute)."""
    from smartcity.apps.payment.actions import expire_orders

    platform = _platform(database_url)
    try:
        count = expire_orders(platform)
    finally:
        platform.store.close()
    console.print(f"expired {count} order(s)")


@payment_app.command("receipts")
def receipts(database_url: DatabaseOption = None) -> None:
    """Issue the receipts of paid bills that have none yet."""
    from smartcity.apps.payment.actions import issue_pending_receipts

    platform = _platform(database_url)
    total = 0
    try:
        while count := issue_pending_receipts(platform):
            total += count
    finally:
        platform.store.close()
    console.print(f"issued {total} receipt(s)")


@payment_app.command("demo-bills")
def demo_bills(
    payers: Annotated[int, typer.Option(help="how many registered citizens get bills")] = 100,
    period: Annotated[str, typer.Option(help="billing period, YYYY-MM")] = "2026-10",
    seed: Annotated[int, typer.Option(help="random seed of the amounts")] = 20101,
    database_url: DatabaseOption = None,
) -> None:
    """模拟账单 Bills from every biller to the first registered citizens (seed the city first)."""
    from smartcity.apps.payment.sim import citizens_of, issue_demo_bills

    platform = _platform(database_url)
    try:
        chosen = citizens_of(platform, payers)
        if not chosen:
            console.print("[red]no citizens: run `smartcity seed` first[/red]")
            raise typer.Exit(2)
        issued = issue_demo_bills(platform, chosen, period=period, seed=seed)
    except DomainError as exc:
        console.print(f"[red]错误 error:[/red] {exc.reason}")
        raise typer.Exit(2) from exc
    finally:
        platform.store.close()
    console.print(f"[green]已开具 issued[/green] {issued:,} bills to {len(chosen):,} citizens")


@bank_app.command("serve")
def bank_serve(
    port: Annotated[int, typer.Option(help="port")] = 8100,
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
    decide: Annotated[
        str, typer.Option(help="approve | decline every order by itself, or manual")
    ] = "approve",
    delay: Annotated[float, typer.Option(help="seconds before the bank answers")] = 0.2,
) -> None:
    """启动模拟银行 Serve the simulated bank; it calls the platform back, signed."""
    import uvicorn

    from smartcity.apps.payment.runtime import bank_secret_of
    from smartcity.sim.bank import Bank, Decide, create_bank_app

    try:
        choice = Decide(decide)
    except ValueError:
        console.print("[red]--decide must be approve, decline or manual[/red]")
        raise typer.Exit(2) from None
    settings = load_settings()
    bank = Bank(
        secret=bank_secret_of(settings.data_dir),
        decide=choice,
        delay_s=delay,
        base_url=f"http://{host}:{port}",
    )
    console.print(f"模拟银行 simulated bank on http://{host}:{port} ({choice.value})")
    uvicorn.run(create_bank_app(bank), host=host, port=port, log_level="warning")
