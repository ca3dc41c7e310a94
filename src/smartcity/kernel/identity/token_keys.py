"""The token key ring: the current HS256 key and the keys it replaced.

``rotate_token_key`` (``smartcity tokens rotate-key``) makes a new current key. The
replaced key moves to ``<data_dir>/secrets/token_key.retired`` with the time it was
retired, and every platform that loads the ring keeps checking tokens under it until the
last token it signed has expired (``ACCESS_TOKEN_SECONDS`` after retirement), so a
rotation signs nobody out. Servers read the ring when they start: restart them one by
one after a rotation.

A deployment that sets ``SMARTCITY_TOKEN_KEY`` in the environment rotates there: it sets
the new key and lists the old ones in ``SMARTCITY_TOKEN_PREVIOUS_KEYS`` (comma
separated) until their tokens have expired.
"""

from __future__ import annotations

import os
import secrets as random_source
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.identity.tokens import ACCESS_TOKEN_SECONDS, TokenSigner, key_id_of
from smartcity.kernel.secrets import ENV_PREFIX, decode_secret, encode_secret, secret_bytes

NAME = "token_key"
PREVIOUS_VARIABLE = ENV_PREFIX + "TOKEN_PREVIOUS_KEYS"
# A retired key is kept a little past the lifetime, for clocks a few seconds apart.
GRACE_SECONDS = 60


@dataclass(frozen=True)
class RetiredKey:
    key: bytes
    retired_at: int  # seconds since the epoch

    @property
    def key_id(self) -> str:
        return key_id_of(self.key)


def _retired_path(data_dir: Path) -> Path:
    return data_dir / "secrets" / f"{NAME}.retired"


def _current_path(data_dir: Path) -> Path:
    return data_dir / "secrets" / f"{NAME}.key"


def retired_keys(data_dir: Path, now: datetime) -> list[RetiredKey]:
    """Retired keys whose tokens may still be unexpired at ``now``."""
    path = _retired_path(data_dir)
    if not path.exists():
        return []
    kept = []
    for line in path.read_text(encoding="ascii").splitlines():
        when, _, text = line.strip().partition(" ")
        if not when.isdigit() or not text:
            raise ConfigurationError(f"{path} has a malformed line")
        retired = RetiredKey(decode_secret(text, name=str(path)), int(when))
        if retired.retired_at + ACCESS_TOKEN_SECONDS + GRACE_SECONDS > now.timestamp():
            kept.append(retired)
    return kept


def open_token_signer(
    data_dir: Path, now: datetime, env: Mapping[str, str] | None = None
) -> TokenSigner:
    """The platform's signer: the current key, and the previous ones still in use."""
    source = os.environ if env is None else env
    current = secret_bytes(data_dir, NAME, env=source)
    if source.get(ENV_PREFIX + NAME.upper()):
        previous = [
            decode_secret(text, name=PREVIOUS_VARIABLE)
            for text in source.get(PREVIOUS_VARIABLE, "").split(",")
            if text.strip()
        ]
    else:
        previous = [r.key for r in retired_keys(data_dir, now)]
    return TokenSigner(current, previous_keys=previous)


def rotate_token_key(
    data_dir: Path, now: datetime, env: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """Make a new current token key; returns the old and new key ids."""
    source = os.environ if env is None else env
    if source.get(ENV_PREFIX + NAME.upper()):
        raise ConfigurationError(
            f"the token key comes from {ENV_PREFIX}{NAME.upper()}: set the new key there and "
            f"the old one in {PREVIOUS_VARIABLE}"
        )
    old = secret_bytes(data_dir, NAME, env=source)
    new = random_source.token_bytes(32)
    kept = [*retired_keys(data_dir, now), RetiredKey(old, int(now.timestamp()))]
    retired = _retired_path(data_dir)
    _write_private(retired, "".join(f"{r.retired_at} {encode_secret(r.key)}\n" for r in kept))
    # The old key is safe in the retired list before the current one is replaced.
    _write_private(_current_path(data_dir), encode_secret(new) + "\n")
    return key_id_of(old), key_id_of(new)


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with a file only its owner can read."""
    scratch = path.with_suffix(path.suffix + ".new")
    descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    scratch.replace(path)
