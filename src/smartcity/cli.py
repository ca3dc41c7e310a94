"""Command line: ``smartcity serve | demo | seed | audit verify | ledger``."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from rich.console import Console

from smartcity.cli_ca import ca_app
from smartcity.cli_card import card_app
from smartcity.cli_common import DatabaseOption, load_settings, open_settings_store
from smartcity.cli_ledger import ledger_app
from smartcity.cli_notify import notify_app
from smartcity.cli_payment import bank_app, payment_app
from smartcity.cli_tokens import tokens_app
from smartcity.kernel.config import Settings
from smartcity.kernel.errors import DomainError
from smartcity.kernel.storage import Store, open_store

# What ``serve`` runs: the ASGI application's factory, as an import string for the workers.
APPLICATION = "smartcity.api.app:build"

app = typer.Typer(help="智慧城市平台 Smart City Platform", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志 Audit log", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(notify_app, name="notify")
app.add_typer(ledger_app, name="ledger")
app.add_typer(ca_app, name="ca")
app.add_typer(payment_app, name="payment")
app.add_typer(bank_app, name="bank")
app.add_typer(card_app, name="card")
app.add_typer(tokens_app, name="tokens")
console = Console()


def seed_apps(store: Store, settings: Settings, seed: int) -> None:
    """Let every installed app add its demo data to a freshly seeded city."""
    from smartcity.apps import installed_apps
    from smartcity.kernel.platform import Platform

    platform = Platform.open(settings, apps=installed_apps(), store=store, migrate=False)
    for installed in platform.apps:
        if installed.seed_demo is not None:
            console.print(f"演示数据 demo data: {installed.name}")
            installed.seed_demo(platform, seed)


def _seed(settings: Settings, profile_name: str, seed: int) -> None:
    from smartcity.sim.city import seed_city
    from smartcity.sim.profiles import profile_named
    from smartcity.sim.progress import RichProgress

    profile = profile_named(profile_name)
    store = open_store(settings.resolved_database_url)
    try:
        store.migrate()
        with RichProgress() as progress:
            summary = seed_city(store, profile=profile, seed=seed, progress=progress)
        seed_apps(store, settings, seed)
        # Statistics for the planner now, not at autovacuum's first visit.
        store.analyze()
    finally:
        store.close()
    console.print(
        f"[green]已生成城市 seeded[/green] {summary.profile} (seed {summary.seed}) "
        f"in {summary.seconds:.1f} s: {summary.population.citizens:,} citizens, "
        f"{summary.geography.communities:,} communities"
    )


@app.command()
def seed(
    profile: Annotated[str, typer.Option(help="demo | city")] = "demo",
    seed: Annotated[int, typer.Option(help="random seed; same seed, same city")] = 20101,
    database_url: DatabaseOption = None,
) -> None:
    """生成合成城市 Seed a synthetic city into an empty database."""
    try:
        _seed(load_settings(database_url), profile, seed)
    except DomainError as exc:
        console.print(f"[red]错误 error:[/red] {exc.reason}")
        raise typer.Exit(2) from exc


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
    database_url: DatabaseOption = None,
    access_log: Annotated[
        bool, typer.Option(help="log every request (turn off for load tests)")
    ] = True,
) -> None:
    """启动服务 Serve the API and the web pages."""
    import uvicorn

    from smartcity.workers import port_sharing_supported, serve_workers

    settings = load_settings(database_url)
    if database_url:
        os.environ["SMARTCITY_DATABASE_URL"] = database_url
    options: dict[str, Any] = {
        "factory": True,
        "host": host or settings.host,
        "port": port or settings.port,
        "workers": workers,
        "log_level": settings.log_level.lower(),
        "access_log": access_log,
    }
    if workers > 1 and port_sharing_supported():
        # Each worker on a socket of its own: the kernel spreads connections over them.
        serve_workers(uvicorn.Config(APPLICATION, **options))
        return
    uvicorn.run(APPLICATION, **options)


@app.command()
def demo(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
) -> None:
    """演示 Seed the demo city if absent, then serve it and print the URL."""
    from smartcity.sim.city import seeded_profile

    settings, store = open_settings_store()
    try:
        store.migrate()
        already = seeded_profile(store)
    finally:
        store.close()
    if already is None:
        _seed(settings, "demo", settings.city_seed)
    else:
        console.print(f"城市已存在 city present: {already} ({settings.resolved_database_url})")
    bind_host = host or settings.host
    bind_port = port or settings.port
    console.print(
        f"[bold]运营中心 Operations centre:[/bold] http://{bind_host}:{bind_port}/ops   "
        f"(English: http://{bind_host}:{bind_port}/ops?lang=en)"
    )
    serve(host=bind_host, port=bind_port, workers=1, database_url=None, access_log=True)


@app.command()
def sim(
    rate: Annotated[float, typer.Option(help="readings per second across all sensors")] = 200.0,
    duration: Annotated[float, typer.Option(help="seconds to run")] = 60.0,
    seed: Annotated[int, typer.Option(help="random seed of the sensor fleet")] = 20101,
    url: Annotated[
        str | None,
        typer.Option(
            help="send readings over HTTP to this running server (so its subscriptions fire)"
        ),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """模拟传感器 Stream the demo city's sensors into the information library."""
    from smartcity.kernel.platform import Platform
    from smartcity.sim.progress import RichProgress
    from smartcity.sim.sensors import run_sensors

    platform = Platform.open(load_settings(database_url))
    try:
        with RichProgress() as progress:
            summary = run_sensors(
                platform,
                rate_per_s=rate,
                duration_s=duration,
                seed=seed,
                progress=progress,
                base_url=url,
            )
    except DomainError as exc:
        console.print(f"[red]错误 error:[/red] {exc.reason}")
        raise typer.Exit(2) from exc
    finally:
        platform.store.close()
    console.print(
        f"[green]已发送 sent[/green] {summary.measurements:,} measurements from "
        f"{summary.devices:,} devices in {summary.seconds:.1f} s"
    )


@audit_app.command("verify")
def audit_verify(database_url: DatabaseOption = None) -> None:
    """校验审计链 Verify the hash chain of the audit log; exit 1 if tampered."""
    from smartcity.kernel.audit import verify

    _, store = open_settings_store(database_url)
    try:
        store.migrate()
        report = verify(store)
    finally:
        store.close()
    if report.ok:
        console.print(f"[green]审计链完好 audit chain intact[/green]: {report.checked:,} entries")
        return
    console.print(f"[red]审计链被篡改 audit chain broken[/red]: {len(report.problems)} problem(s)")
    for problem in report.problems[:50]:
        console.print(f"  seq {problem.seq}: {problem.kind} {problem.detail}")
    raise typer.Exit(1)


@app.command("version")
def version() -> None:
    """Print the platform version."""
    from importlib.metadata import version as package_version

    console.print(package_version("smartcity"))


def main() -> None:
    """Entry point of the ``smartcity`` command."""
    app()


if __name__ == "__main__":
    main()
