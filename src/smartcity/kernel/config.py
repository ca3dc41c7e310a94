"""Settings, read from environment variables.

The embedded default needs nothing: a SQLite file under ``./var/`` and an in-process bus.
Every setting is documented in the README's configuration table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from smartcity.kernel.errors import ConfigurationError

PREFIX = "SMARTCITY_"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{PREFIX}{name} must be an integer, got {raw!r}") from exc


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value <= 0:
        raise ConfigurationError(f"{PREFIX}{name} must be positive")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the platform needs to start."""

    data_dir: Path = Path("var")
    database_url: str = ""
    bus_url: str = "local"
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 1_048_576
    default_locale: str = "zh_CN"
    log_level: str = "INFO"
    city_seed: int = 20101
    smtp_url: str = ""
    smtp_sender: str = "noreply@smartcity.local"
    notify_max_attempts: int = 5
    notify_interval: float = 1.0
    # Passphrase of the CA's encrypted private keys; empty = a generated key file beside
    # the SQLite database (kernel/identity/certificates/passphrase.py).
    ca_passphrase: str = field(default="", repr=False)
    certificate_fee_fen: int = 2000
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'smartcity.db').as_posix()}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``env`` (default: the process environment)."""
        source = os.environ if env is None else env
        locale = source.get(PREFIX + "DEFAULT_LOCALE", "zh_CN")
        if locale not in ("zh_CN", "en"):
            raise ConfigurationError(f"{PREFIX}DEFAULT_LOCALE must be zh_CN or en, got {locale!r}")
        max_body = _int(source, "MAX_BODY_BYTES", 1_048_576)
        if max_body <= 0:
            raise ConfigurationError(f"{PREFIX}MAX_BODY_BYTES must be positive")
        certificate_fee = _int(source, "CERTIFICATE_FEE_FEN", 2000)
        if certificate_fee < 0:
            raise ConfigurationError(f"{PREFIX}CERTIFICATE_FEE_FEN must not be negative")
        return cls(
            data_dir=Path(source.get(PREFIX + "DATA_DIR", "var")),
            database_url=source.get(PREFIX + "DATABASE_URL", ""),
            bus_url=source.get(PREFIX + "BUS_URL", "local"),
            host=source.get(PREFIX + "HOST", "127.0.0.1"),
            port=_int(source, "PORT", 8000),
            max_body_bytes=max_body,
            default_locale=locale,
            log_level=source.get(PREFIX + "LOG_LEVEL", "INFO"),
            city_seed=_int(source, "CITY_SEED", 20101),
            smtp_url=source.get(PREFIX + "SMTP_URL", ""),
            smtp_sender=source.get(PREFIX + "SMTP_SENDER", "noreply@smartcity.local"),
            notify_max_attempts=_positive(source, "NOTIFY_MAX_ATTEMPTS", 5),
            notify_interval=_positive(source, "NOTIFY_INTERVAL_MS", 1000) / 1000,
            ca_passphrase=source.get(PREFIX + "CA_PASSPHRASE", ""),
            certificate_fee_fen=certificate_fee,
        )
