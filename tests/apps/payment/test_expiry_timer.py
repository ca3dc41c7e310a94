"""The server closes bank orders past their deadline by itself (the expiry timer)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smartcity.api import create_app
from smartcity.apps import installed_apps
from smartcity.apps.payment.actions import runtime_of
from smartcity.apps.payment.runtime import PaymentSettings
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store
from tests.apps.payment.conftest import (
    CA_PASSPHRASE,
    CITIZEN,
    PaymentWorld,
    StandInBank,
    register_payers,
)


def test_the_timer_runs_every_minute_unless_told_otherwise() -> None:
    assert PaymentSettings.from_env({}).expire_every_seconds == 60
    assert (
        PaymentSettings.from_env({"SMARTCITY_PAYMENT_EXPIRE_EVERY": "0"}).expire_every_seconds == 0
    )
    for wrong in ("-1", "soon", "86401"):
        with pytest.raises(ConfigurationError):
            PaymentSettings.from_env({"SMARTCITY_PAYMENT_EXPIRE_EVERY": wrong})


@pytest.fixture
def timed_world(
    store: Store, tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PaymentWorld]:
    monkeypatch.setenv("SMARTCITY_PAYMENT_RECEIPTS", "on_demand")
    # An hour: the test pokes the timer rather than waiting for a tick.
    monkeypatch.setenv("SMARTCITY_PAYMENT_EXPIRE_EVERY", "3600")
    register_payers(store)
    platform = Platform.open(
        Settings(data_dir=tmp_path, ca_passphrase=CA_PASSPHRASE),
        apps=installed_apps(),
        store=store,
        clock=clock,
        migrate=False,
    )
    bank = StandInBank()
    runtime_of(platform).gateway = bank
    with TestClient(create_app(platform), raise_server_exceptions=False) as client:
        yield PaymentWorld(platform=platform, client=client, bank=bank, clock=clock)


def _order_status(world: PaymentWorld, order_id: int) -> str:
    shown = world.client.get(f"/payment/orders/{order_id}", headers=world.auth(CITIZEN))
    status: str = shown.json()["status"]
    return status


def test_the_server_expires_a_forgotten_bank_order_by_itself(timed_world: PaymentWorld) -> None:
    world = timed_world
    timer = runtime_of(world.platform).expiry_timer
    assert timer is not None
    bill = world.issue(amount=2500)
    answer = world.client.post(
        f"/payment/bills/{bill['id']}/pay",
        json={"request_id": "bank-timer", "method": "bank"},
        headers=world.auth(CITIZEN),
    )
    order_id = answer.json()["id"]
    world.clock.advance(timedelta(minutes=16))
    timer.poke()
    deadline = time.monotonic() + 30  # a bound, not a speed assumption
    while _order_status(world, order_id) != "expired" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _order_status(world, order_id) == "expired"
    assert timer.expired == 1
    bill_now = world.client.get(f"/payment/bills/{bill['id']}", headers=world.auth(CITIZEN))
    assert bill_now.json()["status"] == "open"


def test_the_timer_stops_with_the_platform(timed_world: PaymentWorld) -> None:
    timer = runtime_of(timed_world.platform).expiry_timer
    assert timer is not None
    timed_world.client.__exit__(None, None, None)
    assert timer._task is None
    sweeps = timer.sweeps
    timer.poke()  # the loop is gone: nothing runs
    time.sleep(0.1)
    assert timer.sweeps == sweeps


def test_no_timer_when_switched_off(world: PaymentWorld) -> None:
    assert runtime_of(world.platform).expiry_timer is None
