from pathlib import Path

import pytest

from smartcity.kernel.config import Settings
from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.notify.categories import Channel
from smartcity.kernel.notify.dispatcher import policy_from_settings, senders_from_settings
from smartcity.kernel.notify.senders import LogSender, SmtpSender


def test_without_smtp_everything_goes_to_the_log(tmp_path: Path) -> None:
    senders = senders_from_settings(Settings(data_dir=tmp_path))
    assert all(isinstance(s, LogSender) for s in senders.values())
    log = senders[Channel.SMS]
    assert isinstance(log, LogSender) and log.path == tmp_path / "outbox.log"


def test_smtp_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "SMARTCITY_SMTP_URL": "smtps://city%40gz:pw@mail.gz.example",
            "SMARTCITY_SMTP_SENDER": "city@gz.example",
            "SMARTCITY_NOTIFY_MAX_ATTEMPTS": "7",
            "SMARTCITY_NOTIFY_INTERVAL_MS": "250",
        }
    )
    email = senders_from_settings(settings)[Channel.EMAIL]
    assert isinstance(email, SmtpSender)
    assert (email.address.host, email.address.port, email.address.tls) == (
        "mail.gz.example",
        465,
        True,
    )
    assert (email.address.username, email.address.password) == ("city@gz", "pw")
    assert email.sender == "city@gz.example"
    assert policy_from_settings(settings).max_attempts == 7
    assert settings.notify_interval == 0.25


@pytest.mark.parametrize(
    ("name", "value"),
    [("SMARTCITY_NOTIFY_MAX_ATTEMPTS", "0"), ("SMARTCITY_NOTIFY_INTERVAL_MS", "-5")],
)
def test_non_positive_notify_settings_are_configuration_errors(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match="must be positive"):
        Settings.from_env({name: value})


def test_a_malformed_smtp_url_is_a_configuration_error() -> None:
    settings = Settings(smtp_url="mail.gz.example:25")
    with pytest.raises(ConfigurationError, match="smtp://host:port"):
        senders_from_settings(settings)
