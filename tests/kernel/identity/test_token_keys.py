"""Token key rotation: old tokens stay good until they expire; forged ones never pass."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from smartcity.cli import app
from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.identity.token_keys import open_token_signer, rotate_token_key
from smartcity.kernel.identity.tokens import ACCESS_TOKEN_SECONDS, InvalidToken, TokenSigner
from smartcity.kernel.secrets import encode_secret

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
CITIZEN = Principal(7, AccountKind.CITIZEN, "440106199001010014")
NO_ENV: dict[str, str] = {}


def _forge(token: str, **claims: object) -> str:
    header, payload, signature = token.split(".")
    body = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body.update(claims)
    forged = base64.urlsafe_b64encode(orjson.dumps(body)).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_tokens_of_the_old_key_verify_after_rotation_until_they_expire(tmp_path: Path) -> None:
    before = open_token_signer(tmp_path, NOW, env=NO_ENV)
    old_token = before.issue(CITIZEN, NOW).token
    old_id, new_id = rotate_token_key(tmp_path, NOW + timedelta(minutes=1), env=NO_ENV)
    assert old_id == before.key_id and new_id != old_id

    after = open_token_signer(tmp_path, NOW + timedelta(minutes=2), env=NO_ENV)
    assert after.key_id == new_id
    new_token = after.issue(CITIZEN, NOW + timedelta(minutes=2)).token
    assert after.verify(old_token, NOW + timedelta(minutes=2)) == CITIZEN
    assert after.verify(new_token, NOW + timedelta(minutes=2)) == CITIZEN
    # The old token still expires when it always would.
    with pytest.raises(InvalidToken, match="expired"):
        after.verify(old_token, NOW + timedelta(seconds=ACCESS_TOKEN_SECONDS))
    # A server that has not reloaded yet does not know the new key.
    with pytest.raises(InvalidToken, match="not issued by this platform"):
        before.verify(new_token, NOW + timedelta(minutes=2))


def test_forged_tokens_fail_under_every_key_of_the_ring(tmp_path: Path) -> None:
    old = open_token_signer(tmp_path, NOW, env=NO_ENV)
    old_token = old.issue(CITIZEN, NOW).token
    rotate_token_key(tmp_path, NOW, env=NO_ENV)
    ring = open_token_signer(tmp_path, NOW, env=NO_ENV)
    new_token = ring.issue(CITIZEN, NOW).token
    for token in (old_token, new_token):
        with pytest.raises(InvalidToken, match="signature does not match"):
            ring.verify(_forge(token, sub="1"), NOW)
    # A token signed by a stranger's key naming our kid: the signature fails.
    stranger = TokenSigner(b"s" * 32)
    header = new_token.split(".")[0]
    _, payload, signature = stranger.issue(CITIZEN, NOW).token.split(".")
    with pytest.raises(InvalidToken, match="signature does not match"):
        ring.verify(f"{header}.{payload}.{signature}", NOW)
    with pytest.raises(InvalidToken, match="not issued by this platform"):
        ring.verify(stranger.issue(CITIZEN, NOW).token, NOW)


def test_retired_keys_are_dropped_once_their_tokens_have_expired(tmp_path: Path) -> None:
    first = open_token_signer(tmp_path, NOW, env=NO_ENV)
    token = first.issue(CITIZEN, NOW).token
    rotate_token_key(tmp_path, NOW, env=NO_ENV)
    later = NOW + timedelta(hours=1)
    rotate_token_key(tmp_path, later, env=NO_ENV)
    ring = open_token_signer(tmp_path, later, env=NO_ENV)
    with pytest.raises(InvalidToken, match="not issued by this platform"):
        ring.verify(token, later)
    retired = (tmp_path / "secrets" / "token_key.retired").read_text().splitlines()
    assert len(retired) == 1  # the first key is gone from the file too
    assert (tmp_path / "secrets" / "token_key.retired").stat().st_mode & 0o077 == 0


def test_keys_from_the_environment_rotate_there(tmp_path: Path) -> None:
    old, new = b"o" * 32, b"n" * 32
    env = {"SMARTCITY_TOKEN_KEY": encode_secret(old)}
    token = open_token_signer(tmp_path, NOW, env=env).issue(CITIZEN, NOW).token
    with pytest.raises(ConfigurationError, match="SMARTCITY_TOKEN_PREVIOUS_KEYS"):
        rotate_token_key(tmp_path, NOW, env=env)
    rotated = {
        "SMARTCITY_TOKEN_KEY": encode_secret(new),
        "SMARTCITY_TOKEN_PREVIOUS_KEYS": encode_secret(old),
    }
    assert open_token_signer(tmp_path, NOW, env=rotated).verify(token, NOW) == CITIZEN


def test_cli_rotates_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTCITY_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SMARTCITY_TOKEN_KEY", raising=False)
    runner = CliRunner()
    before = open_token_signer(tmp_path, datetime.now(UTC), env=NO_ENV).key_id
    rotated = runner.invoke(app, ["tokens", "rotate-key"])
    assert rotated.exit_code == 0, rotated.output
    after = open_token_signer(tmp_path, datetime.now(UTC), env=NO_ENV).key_id
    assert after != before and after in rotated.output
    listed = runner.invoke(app, ["tokens", "keys"])
    assert listed.exit_code == 0, listed.output
    assert before in listed.output and after in listed.output
