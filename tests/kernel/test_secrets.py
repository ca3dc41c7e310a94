import stat
from pathlib import Path

import pytest

from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.secrets import encode_secret, secret_bytes


def test_secret_is_created_once_owner_only_and_read_back(tmp_path: Path) -> None:
    first = secret_bytes(tmp_path, "token_key", env={})
    again = secret_bytes(tmp_path, "token_key", env={})
    assert first == again and len(first) == 32
    mode = (tmp_path / "secrets" / "token_key.key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    value = bytes(range(32))
    env = {"SMARTCITY_TOKEN_KEY": encode_secret(value)}
    assert secret_bytes(tmp_path, "token_key", env=env) == value
    assert not (tmp_path / "secrets").exists()


def test_short_or_garbled_environment_secret_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="at least 16 bytes"):
        secret_bytes(tmp_path, "token_key", env={"SMARTCITY_TOKEN_KEY": encode_secret(b"short")})
    with pytest.raises(ConfigurationError, match="base64"):
        secret_bytes(tmp_path, "token_key", env={"SMARTCITY_TOKEN_KEY": "!!!"})
