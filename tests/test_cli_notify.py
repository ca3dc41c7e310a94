"""``smartcity notify drain`` delivers the outbox; ``smartcity notify log`` shows it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smartcity.cli import app
from smartcity.kernel.notify import Category, Channel, Preferences, notify
from smartcity.kernel.notify.actions import save_preferences
from smartcity.kernel.storage import open_store

runner = CliRunner()


def test_drain_then_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTCITY_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SMARTCITY_SMTP_URL", raising=False)
    url = f"sqlite:///{tmp_path / 'city.db'}"
    store = open_store(url)
    store.migrate()
    now = datetime.now(UTC)
    with store.begin() as conn:
        save_preferences(
            conn,
            Preferences(
                account_id=5,
                channels={Category.SECURITY: frozenset({Channel.SMS})},
                phone="13800138000",
            ),
            now,
        )
        notify(
            conn,
            5,
            "login_new_device",
            {"signed_in_at": "09:00", "device": "Pixel", "place": "天河区"},
            None,
            now,
        )
    store.close()

    empty = runner.invoke(app, ["notify", "log"])
    assert empty.exit_code == 0 and "nothing delivered" in empty.output
    drained = runner.invoke(app, ["notify", "drain", "--database-url", url])
    assert drained.exit_code == 0, drained.output
    assert "sent 1" in drained.output
    shown = runner.invoke(app, ["notify", "log", "--last", "5"])
    assert shown.exit_code == 0
    assert "13800138000" in shown.output and "sms" in shown.output
