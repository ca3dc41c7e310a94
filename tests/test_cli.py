"""The command line: seeding a city and verifying the audit chain."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smartcity.cli import app
from smartcity.sim.accounts import DEMO_CITIZEN

runner = CliRunner()


def test_seed_then_audit_verify_then_detect_tampering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMARTCITY_DATA_DIR", str(tmp_path))
    database = tmp_path / "city.db"
    url = f"sqlite:///{database}"

    seeded = runner.invoke(app, ["seed", "--profile", "tiny", "--seed", "3", "--database-url", url])
    assert seeded.exit_code == 0, seeded.output
    assert "2,000 citizens" in seeded.output
    # Installed apps add their demo data: the demo citizen has last month's bills to pay.
    with sqlite3.connect(database) as conn:
        (bills,) = conn.execute(
            "SELECT count(*) FROM payment_bill WHERE payer_identifier = ?", (DEMO_CITIZEN,)
        ).fetchone()
    assert bills == 7

    again = runner.invoke(app, ["seed", "--profile", "tiny", "--database-url", url])
    assert again.exit_code == 2
    assert "already holds a seeded city" in again.output

    intact = runner.invoke(app, ["audit", "verify", "--database-url", url])
    assert intact.exit_code == 0, intact.output
    assert "intact" in intact.output

    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE audit_entry SET details = '{\"citizens\":1}' WHERE seq = 1")
    broken = runner.invoke(app, ["audit", "verify", "--database-url", url])
    assert broken.exit_code == 1
    assert "broken" in broken.output


def test_unknown_profile_is_a_clear_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = runner.invoke(app, ["seed", "--profile", "metropolis", "--database-url", url])
    assert result.exit_code == 2
    assert "unknown city profile" in result.output
