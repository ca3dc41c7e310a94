"""The fast path's answer JSON is byte for byte the routed endpoint's (the TapView model)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from smartcity.apps.card.fares import TapKind
from smartcity.apps.card.models import DeclineReason, TapOutcome
from smartcity.apps.card.taps import Decided
from tests.apps.card.conftest import BUS, CITIZEN_ID, CardWorld


def _decided(row: dict[str, object], balances: dict[str, int]) -> Decided:
    return Decided(taps=[row], balances=balances, answers=[row])


@given(
    kind=st.sampled_from(list(TapKind)),
    outcome=st.sampled_from(list(TapOutcome)),
    reason=st.none() | st.sampled_from(list(DeclineReason)),
    number=st.none() | st.from_regex(r"8844[0-9]{12}", fullmatch=True),
    fare=st.integers(0, 10**9),
    charged=st.integers(0, 10**9),
    balance=st.none() | st.integers(-(10**12), 10**12),
    moment=st.datetimes(
        min_value=dt.datetime(2000, 1, 1),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=8))]),
    ),
    offline=st.booleans(),
    transaction=st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True),
)
def test_a_new_taps_json_is_the_models_json(
    kind: TapKind,
    outcome: TapOutcome,
    reason: DeclineReason | None,
    number: str | None,
    fare: int,
    charged: int,
    balance: int | None,
    moment: dt.datetime,
    offline: bool,
    transaction: str,
) -> None:
    row: dict[str, object] = {
        "terminal_id": "gate-tiyu-xilu-01",
        "transaction_id": transaction,
        "card_number": number,
        "kind": kind.value,
        "outcome": outcome.value,
        "reason": reason.value if reason else None,
        "fare_fen": fare,
        "charged_fen": charged,
        "city_day": "2026-11-21",
        "tapped_at": moment,
        "recorded_at": moment,
        "offline": offline,
    }
    balances = {number: balance} if number is not None and balance is not None else {}
    decided = _decided(row, balances)
    assert decided.view_json(0) == decided.view(0).model_dump_json().encode()


def test_the_fast_path_answers_what_the_routed_endpoint_answers(world: CardWorld) -> None:
    number = str(world.issue()["number"])
    world.fund_wallet(CITIZEN_ID, 500)
    assert world.top_up(500).status_code == 200
    # The fast path answers POST /api/card/taps; the model is what the routed one sends.
    fast = world.tap(BUS, card_number=number, transaction_id="T1")
    again = world.tap(BUS, card_number=number, transaction_id="T1")
    unknown = world.tap(BUS, card_number="8844000000000000", transaction_id="T2")
    for answer in (fast, again, unknown):
        assert answer.status_code == 200, answer.text
    assert fast.json()["outcome"] == "approved"
    assert again.json() == {**fast.json(), "balance_fen": None}  # a retry: the first answer
    assert unknown.json()["reason"] == "unknown_card"
