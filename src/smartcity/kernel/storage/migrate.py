"""Running Alembic migrations from inside the package (no alembic.ini needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from smartcity.kernel.storage.schema import load_tables

if TYPE_CHECKING:
    from smartcity.kernel.storage.base import SqlStore

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(store: SqlStore, extra_table_modules: Sequence[str] = ()) -> None:
    """Upgrade the database to every head revision.

    Parallel branches of migrations (one per kernel area or app) are allowed, so we
    always upgrade to ``heads``.
    """
    load_tables(extra_table_modules)
    config = alembic_config()
    with store.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "heads")


def current_heads(store: SqlStore) -> set[str]:
    """The revisions the database is at."""
    with store.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def script_heads() -> set[str]:
    """The head revisions the code ships."""
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())
