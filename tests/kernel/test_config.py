"""Settings from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartcity.kernel.config import Settings
from smartcity.kernel.errors import ConfigurationError


def test_defaults_need_nothing() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.data_dir == Path("var")
    assert settings.resolved_database_url == "sqlite:///var/smartcity.db"
    assert settings.bus_url == "local"
    assert settings.default_locale == "zh_CN"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_environment_overrides() -> None:
    settings = Settings.from_env(
        {
            "SMARTCITY_DATA_DIR": "/srv/city",
            "SMARTCITY_PORT": "9000",
            "SMARTCITY_HOST": "0.0.0.0",
            "SMARTCITY_DEFAULT_LOCALE": "en",
            "SMARTCITY_MAX_BODY_BYTES": "2048",
            "SMARTCITY_CITY_SEED": "7",
            "SMARTCITY_LOG_LEVEL": "DEBUG",
            "UNRELATED": "ignored",
        }
    )
    assert settings.data_dir == Path("/srv/city")
    assert settings.resolved_database_url == "sqlite:////srv/city/smartcity.db"
    assert settings.port == 9000
    assert settings.host == "0.0.0.0"
    assert settings.default_locale == "en"
    assert settings.max_body_bytes == 2048
    assert settings.city_seed == 7
    assert settings.log_level == "DEBUG"


def test_explicit_database_url_wins() -> None:
    url = "postgresql://smartcity@db/city"
    assert Settings.from_env({"SMARTCITY_DATABASE_URL": url}).resolved_database_url == url


def test_empty_integer_means_default() -> None:
    assert Settings.from_env({"SMARTCITY_PORT": ""}).port == 8000


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SMARTCITY_PORT", "eighty", "SMARTCITY_PORT must be an integer, got 'eighty'"),
        ("SMARTCITY_CITY_SEED", "1.5", "SMARTCITY_CITY_SEED must be an integer"),
        ("SMARTCITY_MAX_BODY_BYTES", "0", "SMARTCITY_MAX_BODY_BYTES must be positive"),
        ("SMARTCITY_DEFAULT_LOCALE", "fr", "SMARTCITY_DEFAULT_LOCALE must be zh_CN or en"),
    ],
)
def test_bad_values_are_configuration_errors(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env({name: value})


def test_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTCITY_PORT", "8123")
    assert Settings.from_env().port == 8123
