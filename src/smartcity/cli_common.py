"""What the ``smartcity`` command groups share: the ``--database-url`` option, the
settings it overrides, and the store it names."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from smartcity.kernel.config import Settings
from smartcity.kernel.storage import Store, open_store

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Database URL (default: SMARTCITY_DATABASE_URL or var/)"),
]


def load_settings(database_url: str | None = None) -> Settings:
    """The settings from the environment, with ``--database-url`` over them when given."""
    settings = Settings.from_env()
    if database_url:
        settings = dataclasses.replace(settings, database_url=database_url)
    return settings


def open_settings_store(database_url: str | None = None) -> tuple[Settings, Store]:
    """The settings (as :func:`load_settings`) and their database, opened (the caller
    migrates and closes it)."""
    settings = load_settings(database_url)
    return settings, open_store(settings.resolved_database_url)
