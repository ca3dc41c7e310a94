"""The demo city's cards and simulated taps keep the ledger balanced."""

from __future__ import annotations

from smartcity.apps.card.sim import fund_purses, seed_demo, simulate_taps
from smartcity.kernel.ledger import verify_ledger
from tests.apps.card.conftest import CITIZEN, CardWorld, transit_balance


def test_seed_and_simulate(world: CardWorld) -> None:
    seed_demo(world.platform, 7)
    seed_demo(world.platform, 7)  # idempotent
    card = world.mine(CITIZEN)
    assert transit_balance(card) == 10_000
    report = simulate_taps(world.platform, 300, seed=7, terminals=3)
    assert report.taps == 300
    assert report.approved + report.declined == 300
    assert report.approved > 0
    assert fund_purses(world.platform, 100, tag="demo-7") == 0
    with world.platform.store.connect() as conn:
        assert verify_ledger(conn).ok
