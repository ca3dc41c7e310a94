"""``smartcity card sim | seed``: citizen cards in the demo city."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from smartcity.cli_common import DatabaseOption, load_settings

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform

card_app = typer.Typer(help="市民卡 Citizen card", no_args_is_help=True)
console = Console()


def _platform(database_url: str | None) -> Platform:
    from smartcity.apps import installed_apps
    from smartcity.kernel.platform import Platform

    return Platform.open(load_settings(database_url), apps=installed_apps())


@card_app.command("seed")
def seed(
    seed: Annotated[int, typer.Option(help="the city's seed")] = 1,
    database_url: DatabaseOption = None,
) -> None:
    """Cards for the demo citizen and the first residents, purses funded (idempotent)."""
    from smartcity.apps.card.sim import seed_demo

    seed_demo(_platform(database_url), seed)
    console.print("[green]cards issued and funded[/green]")


@card_app.command("sim")
def sim(
    taps: Annotated[int, typer.Option("--taps", min=1, help="how many taps")] = 10_000,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
    database_url: DatabaseOption = None,
) -> None:
    """Taps across metro, bus and shops through the tap action (cards must be seeded)."""
    from smartcity.apps.card.sim import simulate_taps

    platform = _platform(database_url)
    started = time.perf_counter()
    report = simulate_taps(platform, taps, seed=seed)
    seconds = time.perf_counter() - started
    if report.taps == 0:
        console.print("[yellow]no cards: run `smartcity seed` or `smartcity card seed` first[/]")
        raise typer.Exit(1)
    console.print(
        f"{report.taps:,} taps: {report.approved:,} approved, {report.declined:,} declined "
        f"in {seconds:.1f} s"
    )
