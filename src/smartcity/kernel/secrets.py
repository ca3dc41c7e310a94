"""Platform secrets: keys the platform signs or encrypts with.

A secret comes from the environment (``SMARTCITY_<NAME>``, URL-safe base64) when the
operator sets one, which is what a deployment with several machines must do so that every
worker agrees. Otherwise the embedded default creates it once, with random bytes, in a
file under ``<data_dir>/secrets/`` readable by its owner only, and reads it from there on
every start. The file is created with ``O_EXCL`` so two workers starting together still end
up with one secret.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets as random_source
from collections.abc import Mapping
from pathlib import Path

from smartcity.kernel.errors import ConfigurationError

ENV_PREFIX = "SMARTCITY_"


def encode_secret(value: bytes) -> str:
    """The text form of a secret (URL-safe base64 without padding)."""
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode("ascii")


def decode_secret(text: str, *, name: str) -> bytes:
    """Bytes of a secret's text form; ConfigurationError if it is not base64."""
    cleaned = text.strip()
    try:
        padded = cleaned + "=" * (-len(cleaned) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"secret {name} is not URL-safe base64") from None


def secret_bytes(
    data_dir: Path,
    name: str,
    *,
    size: int = 32,
    env: Mapping[str, str] | None = None,
) -> bytes:
    """The secret called ``name`` (e.g. ``token_key``): from the environment or its file."""
    source = os.environ if env is None else env
    variable = ENV_PREFIX + name.upper()
    if source.get(variable):
        value = decode_secret(source[variable], name=variable)
        if len(value) < 16:
            raise ConfigurationError(f"{variable} must hold at least 16 bytes")
        return value
    path = data_dir / "secrets" / f"{name}.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another worker won the race; read its secret below
        else:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(encode_secret(random_source.token_bytes(size)) + "\n")
    value = decode_secret(path.read_text(encoding="ascii"), name=str(path))
    if len(value) < 16:
        raise ConfigurationError(f"secret file {path} is empty or too short")
    return value
