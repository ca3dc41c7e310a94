"""Tap authorisation: one code path for a gate's live tap and an offline terminal's batch.

A batch of taps (one, or up to 100,000) is decided inside the caller's transaction in
three steps, the way the kernel ledger applies transfers: one read of everything the
batch refers to (taps sent before, tokens, cards, disabled functions, today's transit
spending, purse balances), every tap decided in memory in order (so later taps see the
fares of earlier ones), then one ledger call for all the fares and one batched INSERT
each of taps and movements.

A terminal's transaction id makes a tap idempotent: a tap sent again is a duplicate
and gets the first answer. A live tap that cannot be honoured is *declined*; an offline
tap already let the passenger through, so one that cannot be honoured (the card was
frozen before the tap, the purse ran dry) is a *conflict*, kept for settlement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, insert, select

from smartcity.apps.card import postings, storage
from smartcity.apps.card.actions import token_digest
from smartcity.apps.card.fares import (
    BUS_FARE_FEN,
    TapKind,
    capped,
    metro_fare_for_distance,
    station_distance,
)
from smartcity.apps.card.models import (
    CardFunction,
    CardStatus,
    DeclineReason,
    MovementKind,
    Purse,
    TapOutcome,
    TapRequest,
    TapView,
)
from smartcity.apps.card.numbers import is_valid_number
from smartcity.apps.card.tables import card_card, card_function, card_movement, card_tap, card_token
from smartcity.kernel.errors import Conflict
from smartcity.kernel.ledger import Transfer, create_transfers, lookup_accounts

# Parameters per IN (...) list: well under SQLite's and PostgreSQL's limits.
_CHUNK = 2_000


@dataclass
class Decided:
    """What a batch came to: the new taps, the duplicates, and each request's answer."""

    taps: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    balances: dict[str, int] = field(default_factory=dict)
    # Per request, in order: its tap row (new, or the one recorded before).
    answers: list[dict[str, Any]] = field(default_factory=list)

    def count(self, outcome: TapOutcome) -> int:
        return sum(1 for t in self.taps if t["outcome"] == outcome.value)

    def view(self, index: int) -> TapView:
        """The answer to request ``index``: its new tap, or the first answer to a retry."""
        row = self.answers[index]
        number = row.get("card_number")
        fresh = not row.get("id")
        balance = self.balances.get(number) if number and fresh else None
        at = storage.aware(row["tapped_at"])
        return TapView.model_validate({**row, "tapped_at": at, "balance_fen": balance})


def fare_of(request: TapRequest) -> int:
    """The fare in fen before the daily cap."""
    if request.kind is TapKind.BUS:
        return BUS_FARE_FEN
    if request.kind is TapKind.METRO:
        if request.distance_m is not None:
            return metro_fare_for_distance(request.distance_m)
        return metro_fare_for_distance(
            station_distance(request.entry_station or "", request.exit_station or "")
        )
    return request.amount_fen or 0


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _previous_taps(
    conn: Connection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Taps recorded before, by (terminal, transaction id)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    wanted = set(keys)
    terminals = sorted({t for t, _ in keys})
    for chunk in _chunks(sorted({x for _, x in keys})):
        for row in conn.execute(
            select(card_tap).where(
                card_tap.c.terminal_id.in_(terminals), card_tap.c.transaction_id.in_(chunk)
            )
        ):
            key = (row.terminal_id, row.transaction_id)
            if key in wanted:
                found[key] = dict(row._mapping)
    return found


def _tokens(conn: Connection, digests: Sequence[str]) -> dict[str, tuple[str, bool]]:
    """digest -> (card number, revoked)."""
    found: dict[str, tuple[str, bool]] = {}
    for chunk in _chunks(digests):
        for row in conn.execute(
            select(card_token.c.digest, card_token.c.card_number, card_token.c.revoked_at).where(
                card_token.c.digest.in_(chunk)
            )
        ):
            found[row.digest] = (row.card_number, row.revoked_at is not None)
    return found


def _cards(conn: Connection, numbers: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for chunk in _chunks(numbers):
        for row in conn.execute(
            select(
                card_card.c.number,
                card_card.c.national_id,
                card_card.c.status,
                card_card.c.frozen_at,
            ).where(card_card.c.number.in_(chunk))
        ):
            found[row.number] = row
    return found


def _disabled(conn: Connection, numbers: Sequence[str]) -> set[str]:
    """Cards among ``numbers`` whose transit function is switched off."""
    found: set[str] = set()
    for chunk in _chunks(numbers):
        found.update(
            conn.execute(
                select(card_function.c.card_number).where(
                    card_function.c.card_number.in_(chunk),
                    card_function.c.function == CardFunction.TRANSIT.value,
                    card_function.c.enabled.is_(False),
                )
            ).scalars()
        )
    return found


def _spent(
    conn: Connection, numbers: Sequence[str], days: Iterable[str]
) -> dict[tuple[str, str], int]:
    """Transit fares paid per (card, city day), for ``numbers`` on ``days``."""
    found: dict[tuple[str, str], int] = {}
    day_list = sorted(set(days))
    for chunk in _chunks(numbers):
        rows = conn.execute(
            select(card_tap.c.card_number, card_tap.c.city_day, func.sum(card_tap.c.charged_fen))
            .where(
                card_tap.c.card_number.in_(chunk),
                card_tap.c.city_day.in_(day_list),
                card_tap.c.kind.in_(storage.TRANSIT_KINDS),
                card_tap.c.outcome == TapOutcome.APPROVED.value,
            )
            .group_by(card_tap.c.card_number, card_tap.c.city_day)
        )
        for number, day, total in rows:
            found[(number, day)] = int(total or 0)
    return found


def _purses(conn: Connection, numbers: Sequence[str]) -> dict[str, int]:
    """Available fen of each card's transit purse."""
    ids = {postings.purse_account_id(n, Purse.TRANSIT): n for n in numbers}
    found: dict[str, int] = {}
    keys = list(ids)
    for chunk in _chunks(keys):
        for account in lookup_accounts(conn, list(chunk)):
            found[ids[account.id]] = account.available
    return found


def _resolve(
    request: TapRequest, tokens: dict[str, tuple[str, bool]], digests: dict[str, str]
) -> tuple[str | None, DeclineReason | None]:
    """The card number a tap names, or why it names none."""
    if request.token is None:
        return request.card_number, None
    bound = tokens.get(digests[request.token])
    if bound is None:
        return None, DeclineReason.UNKNOWN_TOKEN
    if bound[1]:
        return bound[0], DeclineReason.TOKEN_REVOKED
    return bound[0], None


def _refusal(card: Any, moment: dt.datetime, offline: bool, disabled: bool) -> DeclineReason | None:
    """Why a known card may not pay now, if it may not."""
    if card.status != CardStatus.ACTIVE.value:
        frozen_at = storage.aware(card.frozen_at)
        # An offline tap made before the loss report is honoured (from the balance).
        if not (offline and frozen_at is not None and moment < frozen_at):
            if card.status == CardStatus.RETIRED.value:
                return DeclineReason.CARD_RETIRED
            return DeclineReason.CARD_FROZEN
    if disabled:
        return DeclineReason.FUNCTION_DISABLED
    return None


def decide(
    conn: Connection,
    terminal_id: str,
    requests: Sequence[TapRequest],
    now: dt.datetime,
    *,
    offline: bool,
) -> Decided:
    """Decide ``requests`` of one terminal and write the outcome (taps, fares, movements)."""
    return decide_many(conn, [(terminal_id, r) for r in requests], now, offline=offline)


def decide_many(
    conn: Connection,
    items: Sequence[tuple[str, TapRequest]],
    now: dt.datetime,
    *,
    offline: bool,
) -> Decided:
    """Decide the taps of several terminals at once (the live taps of one commit group)."""
    result = Decided()
    requests = [r for _, r in items]
    previous = _previous_taps(conn, [(t, r.transaction_id) for t, r in items])
    digests = {r.token: token_digest(r.token) for r in requests if r.token is not None}
    tokens = _tokens(conn, sorted(set(digests.values())))
    named = [_resolve(r, tokens, digests) for r in requests]
    numbers = sorted({n for n, _ in named if n is not None and is_valid_number(n)})
    cards = _cards(conn, numbers)
    known = sorted(cards)
    disabled = _disabled(conn, known)
    moments = [r.tapped_at if offline and r.tapped_at is not None else now for r in requests]
    days = [storage.city_day_of(m) for m in moments]
    spent = _spent(conn, known, days)
    balances = _purses(conn, known)
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    transfers: list[Transfer] = []
    movements: list[dict[str, Any]] = []
    for (terminal_id, request), (number, reason), moment, day in zip(
        items, named, moments, days, strict=True
    ):
        txn = request.transaction_id
        first = previous.get((terminal_id, txn)) or seen.get((terminal_id, txn))
        if first is not None:
            result.duplicates.append(first)
            result.answers.append(first)
            continue
        card = cards.get(number) if number is not None else None
        if reason is None:
            if card is None:
                reason = DeclineReason.UNKNOWN_CARD
            else:
                reason = _refusal(card, moment, offline, card.number in disabled)
        fare = fare_of(request)
        charged = 0
        if reason is None and card is not None:
            number = str(card.number)
            key = (number, day)
            charged = capped(fare, spent.get(key, 0)) if request.kind.transit else fare
            if charged > balances.get(number, 0):
                reason, charged = DeclineReason.INSUFFICIENT_BALANCE, 0
            elif charged > 0:
                balances[number] -= charged
                if request.kind.transit:
                    spent[key] = spent.get(key, 0) + charged
                transfer_id = postings.tap_transfer_id(terminal_id, txn)
                transfers.append(postings.tap(transfer_id, number, request.kind, charged))
                movements.append(
                    {
                        "national_id": card.national_id,
                        "card_number": number,
                        "kind": MovementKind.TAP.value,
                        "purse": Purse.TRANSIT.value,
                        "amount_fen": -charged,
                        "transfer_id": transfer_id,
                        "reference": f"{terminal_id}/{txn}"[:80],
                        "at": moment,
                    }
                )
        if reason is None:
            outcome = TapOutcome.APPROVED
        else:
            outcome = TapOutcome.CONFLICT if offline else TapOutcome.DECLINED
        row = {
            "terminal_id": terminal_id,
            "transaction_id": txn,
            "card_number": card.number if card is not None else None,
            "kind": request.kind.value,
            "outcome": outcome.value,
            "reason": reason.value if reason else None,
            "fare_fen": fare,
            "charged_fen": charged,
            "city_day": day,
            "tapped_at": moment,
            "recorded_at": now,
            "offline": offline,
        }
        seen[(terminal_id, txn)] = row
        result.taps.append(row)
        result.answers.append(row)
    errors = create_transfers(conn, transfers, now)
    if errors:
        # Balances were read in this transaction, so this is a bug, not a race: undo all.
        raise Conflict("the fares could not be booked; nothing was recorded", result=str(errors[0]))
    for table, rows in ((card_tap, result.taps), (card_movement, movements)):
        if rows:
            conn.execute(insert(table), rows)
    result.balances = balances
    return result
