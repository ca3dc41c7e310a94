"""Live taps arriving together are decided together, and never overdraw a purse."""

from __future__ import annotations

import asyncio

from smartcity.apps.card.batcher import TapBatcher
from smartcity.apps.card.fares import TapKind
from smartcity.apps.card.models import TapRequest, TapView
from tests.apps.card.conftest import CITIZEN_ID, CardWorld, transit_balance


def test_concurrent_taps_of_one_card_spend_only_what_it_holds(world: CardWorld) -> None:
    number = str(world.issue()["number"])
    world.fund_wallet(CITIZEN_ID, 500)
    assert world.top_up(500).status_code == 200
    batcher = world.platform.state("card", TapBatcher)

    async def storm() -> list[TapView]:
        return await asyncio.gather(
            *(
                batcher.tap(
                    f"bus-{i % 2}",
                    TapRequest(transaction_id=f"T{i}", kind=TapKind.BUS, card_number=number),
                )
                for i in range(5)
            )
        )

    answers = asyncio.run(storm())
    outcomes = sorted((a.outcome.value, a.reason.value if a.reason else "") for a in answers)
    assert outcomes == [
        ("approved", ""),
        ("approved", ""),
        ("declined", "insufficient_balance"),
        ("declined", "insufficient_balance"),
        ("declined", "insufficient_balance"),
    ]
    assert transit_balance(world.mine()) == 100
