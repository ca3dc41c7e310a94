"""``smartcity payment ...``: demo bills, settlement, reconciliation, receipts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from smartcity.cli import app

runner = CliRunner()


def test_demo_bills_then_reconcile_and_settle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMARTCITY_DATA_DIR", str(tmp_path))
    url = f"sqlite:///{tmp_path / 'city.db'}"
    empty = runner.invoke(app, ["payment", "demo-bills", "--database-url", url])
    assert empty.exit_code == 2
    assert "seed" in empty.output

    seeded = runner.invoke(app, ["seed", "--profile", "tiny", "--seed", "3", "--database-url", url])
    assert seeded.exit_code == 0, seeded.output
    bills = runner.invoke(app, ["payment", "demo-bills", "--payers", "5", "--database-url", url])
    assert bills.exit_code == 0, bills.output
    assert "35 bills to 5 citizens" in bills.output

    report = runner.invoke(
        app, ["payment", "reconcile", "--date", "2026-11-20", "--database-url", url]
    )
    assert report.exit_code == 0, report.output
    assert "total" in report.output

    future = runner.invoke(
        app, ["payment", "settle", "--date", "2999-01-01", "--database-url", url]
    )
    assert future.exit_code == 2
    assert "has not ended" in future.output
    past = runner.invoke(app, ["payment", "settle", "--date", "2026-01-01", "--database-url", url])
    assert past.exit_code == 0, past.output

    for command in ("expire", "receipts"):
        result = runner.invoke(app, ["payment", command, "--database-url", url])
        assert result.exit_code == 0, result.output
