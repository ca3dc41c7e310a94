"""``smartcity tokens rotate-key | keys``: the access-token key ring."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.console import Console

from smartcity.cli_common import load_settings
from smartcity.kernel.errors import DomainError

tokens_app = typer.Typer(help="访问令牌 Access tokens", no_args_is_help=True)
console = Console()


@tokens_app.command("rotate-key")
def rotate_key() -> None:
    """Make a new current token key; tokens signed by the old one stay good until they
    expire. Restart the servers one by one afterwards."""
    from smartcity.kernel.identity.token_keys import rotate_token_key

    settings = load_settings()
    try:
        old, new = rotate_token_key(settings.data_dir, datetime.now(UTC))
    except DomainError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    console.print(f"token key rotated: kid {old} → {new} (restart the servers one by one)")


@tokens_app.command("keys")
def keys() -> None:
    """List the key ids tokens are checked under (current first)."""
    from smartcity.kernel.identity.token_keys import open_token_signer, retired_keys

    settings = load_settings()
    now = datetime.now(UTC)
    signer = open_token_signer(settings.data_dir, now)
    console.print(f"current  {signer.key_id}")
    for retired in retired_keys(settings.data_dir, now):
        when = datetime.fromtimestamp(retired.retired_at, UTC).isoformat(timespec="seconds")
        console.print(f"retired  {retired.key_id}  at {when}")
