"""The passphrase that encrypts the CA's private keys.

``SMARTCITY_CA_PASSPHRASE`` when set. The embedded demo needs nothing: a random passphrase
is generated once into ``ca-passphrase`` beside the SQLite database, readable by its owner
only (0600), like an SSH key file. On PostgreSQL the setting is required, because the
database and the application host are usually different machines.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

from smartcity.kernel.config import Settings
from smartcity.kernel.errors import ConfigurationError

PASSPHRASE_FILE = "ca-passphrase"  # noqa: S105 - a file name, not a secret


def passphrase_path(settings: Settings) -> Path | None:
    """Where the generated passphrase lives, or ``None`` when the database is not SQLite."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:":
        return settings.data_dir / PASSPHRASE_FILE
    return Path(database).parent / PASSPHRASE_FILE


def _read_key_file(path: Path) -> bytes:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"{path} is readable by others; run: chmod 600 {path}",
        )
    value = path.read_bytes().strip()
    if not value:
        raise ConfigurationError(f"{path} is empty")
    return value


def _create_key_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Key material comes from the operating system, never from the seeded simulation RNG.
    value = secrets.token_urlsafe(32).encode()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process created it first: use theirs.
        return _read_key_file(path)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(value + b"\n")
    return value


def resolve_ca_passphrase(settings: Settings) -> bytes:
    """The CA passphrase: the setting, else the key file (generated on first use)."""
    if settings.ca_passphrase:
        return settings.ca_passphrase.encode()
    path = passphrase_path(settings)
    if path is None:
        raise ConfigurationError(
            "SMARTCITY_CA_PASSPHRASE must be set when the database is not SQLite"
        )
    if path.exists():
        return _read_key_file(path)
    return _create_key_file(path)
