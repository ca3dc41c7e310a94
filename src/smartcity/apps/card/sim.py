"""What the card app adds to the simulated city: cards for the demo citizen and the first
few thousand residents, money in their transit purses, and taps across metro, bus and
shops decided by the same code path terminals use."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import insert, select

from smartcity.apps.card import actions, postings, taps
from smartcity.apps.card.fares import METRO_STATIONS, TapKind
from smartcity.apps.card.models import MovementKind, Purse, TapOutcome, TapRequest
from smartcity.apps.card.tables import card_card, card_movement
from smartcity.kernel.identity.tables import identity_citizen
from smartcity.kernel.ledger import create_transfers, raise_for_errors

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform

DEMO_CARDHOLDERS = 3_000
DEMO_PURSE_FEN = 10_000
"""Opening balance of a demo card's transit purse (100 yuan)."""


def seed_demo(platform: Platform, seed: int) -> None:
    """Cards for the demo citizen and the first residents, each purse funded."""
    from smartcity.sim.accounts import DEMO_CITIZEN

    with platform.store.connect() as conn:
        residents = list(
            conn.execute(
                select(identity_citizen.c.national_id)
                .order_by(identity_citizen.c.id)
                .limit(DEMO_CARDHOLDERS)
            ).scalars()
        )
    actions.issue_cards(platform, [DEMO_CITIZEN, *residents])
    fund_purses(platform, DEMO_PURSE_FEN, tag=f"demo-{seed}")


def fund_purses(platform: Platform, amount_fen: int, *, tag: str) -> int:
    """Cash at the counter into every current card's transit purse (idempotent by tag)."""
    now = platform.clock.now()
    with platform.store.begin() as conn:
        cards = conn.execute(
            select(card_card.c.number, card_card.c.national_id).where(
                card_card.c.current_of.isnot(None)
            )
        ).all()
        transfers = [postings.counter_top_up(c.number, tag, amount_fen) for c in cards]
        done = {
            r.transfer_id
            for r in conn.execute(
                select(card_movement.c.transfer_id).where(
                    card_movement.c.kind == MovementKind.TOP_UP.value,
                    card_movement.c.reference == f"counter:{tag}",
                )
            )
        }
        fresh = [(c, t) for c, t in zip(cards, transfers, strict=True) if t.id not in done]
        raise_for_errors(create_transfers(conn, [t for _, t in fresh], now))
        if fresh:
            conn.execute(
                insert(card_movement),
                [
                    {
                        "national_id": c.national_id,
                        "card_number": c.number,
                        "kind": MovementKind.TOP_UP.value,
                        "purse": Purse.TRANSIT.value,
                        "amount_fen": amount_fen,
                        "transfer_id": t.id,
                        "reference": f"counter:{tag}",
                        "at": now,
                    }
                    for c, t in fresh
                ],
            )
    return len(fresh)


@dataclass
class SimReport:
    taps: int = 0
    approved: int = 0
    declined: int = 0


def card_numbers(platform: Platform) -> list[str]:
    with platform.store.connect() as conn:
        return list(
            conn.execute(
                select(card_card.c.number)
                .where(card_card.c.current_of.isnot(None))
                .order_by(card_card.c.number)
            ).scalars()
        )


def random_taps(
    rng: random.Random, numbers: Sequence[str], count: int, *, prefix: str, start: dt.datetime
) -> list[TapRequest]:
    """``count`` taps of random cards: 50% metro, 35% bus, 15% shop."""
    stations = list(METRO_STATIONS)
    made: list[TapRequest] = []
    for i in range(count):
        roll = rng.random()
        number = rng.choice(numbers)
        at = start + dt.timedelta(seconds=i)
        txn = f"{prefix}-{i:08d}"
        if roll < 0.5:
            entry, exit_ = rng.sample(stations, 2)
            made.append(
                TapRequest(
                    transaction_id=txn,
                    kind=TapKind.METRO,
                    card_number=number,
                    entry_station=entry,
                    exit_station=exit_,
                    tapped_at=at,
                )
            )
        elif roll < 0.85:
            made.append(
                TapRequest(transaction_id=txn, kind=TapKind.BUS, card_number=number, tapped_at=at)
            )
        else:
            made.append(
                TapRequest(
                    transaction_id=txn,
                    kind=TapKind.SHOP,
                    card_number=number,
                    amount_fen=rng.randint(300, 3_000),
                    tapped_at=at,
                )
            )
    return made


def simulate_taps(platform: Platform, count: int, *, seed: int, terminals: int = 20) -> SimReport:
    """``count`` live taps spread over ``terminals`` terminals, through the tap action."""
    rng = random.Random(seed)
    numbers = card_numbers(platform)
    report = SimReport()
    if not numbers:
        return report
    now = platform.clock.now()
    per_terminal = -(-count // terminals)
    for t in range(terminals):
        share = min(per_terminal, count - report.taps)
        if share <= 0:
            break
        terminal_id = f"sim-terminal-{t:03d}"
        requests = random_taps(rng, numbers, share, prefix=f"{seed}-{now:%Y%m%d%H%M%S}", start=now)
        with platform.store.begin() as conn:
            decided = taps.decide(
                conn, terminal_id, requests, now, offline=False, store=platform.store
            )
        report.taps += share
        report.approved += decided.count(TapOutcome.APPROVED)
        report.declined += decided.count(TapOutcome.DECLINED)
    return report
