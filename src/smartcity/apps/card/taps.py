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

import orjson
from sqlalchemy import Connection, select

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
from smartcity.apps.card.tables import card_card, card_movement, card_tap
from smartcity.kernel.errors import Conflict
from smartcity.kernel.ledger import Transfer, create_transfers, lookup_accounts
from smartcity.kernel.storage import Store
from smartcity.kernel.storage.driver import any_of, fetch_all, result_processor

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

    def view_json(self, index: int) -> bytes:
        """``view(index)`` as JSON, built without the model for a new tap (the hot path).

        The same bytes as ``view(index).model_dump_json()`` (tests/apps/card/test_taps.py
        holds them to it); a retry's first answer, read back from the database, still
        goes through the model.
        """
        row = self.answers[index]
        if row.get("id"):
            return self.view(index).model_dump_json().encode()
        number = row["card_number"]
        return orjson.dumps(
            {
                "terminal_id": row["terminal_id"],
                "transaction_id": row["transaction_id"],
                "card_number": number,
                "kind": row["kind"],
                "outcome": row["outcome"],
                "reason": row["reason"],
                "fare_fen": row["fare_fen"],
                "charged_fen": row["charged_fen"],
                "balance_fen": self.balances.get(number) if number else None,
                "tapped_at": row["tapped_at"],
                "offline": row["offline"],
            },
            option=orjson.OPT_UTC_Z,
        )


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


# The group's reads go straight to the driver (no statement building or compiling per
# group: SQLAlchemy's expanding IN cost more than the queries themselves), through the
# kernel's driver helpers (PostgreSQL: one array parameter; SQLite: a marker per value).


def _previous_taps(
    conn: Connection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Taps recorded before, by (terminal, transaction id)."""
    wanted = set(keys)
    terminals = sorted({t for t, _ in keys})
    ids: list[int] = []
    for chunk in _chunks(sorted({x for _, x in keys})):
        terminal_in, terminal_values = any_of(conn, "terminal_id", terminals)
        transaction_in, transaction_values = any_of(conn, "transaction_id", chunk)
        rows = fetch_all(
            conn,
            f"SELECT id, terminal_id, transaction_id FROM card_tap "
            f"WHERE {terminal_in} AND {transaction_in}",
            (*terminal_values, *transaction_values),
        )
        ids.extend(row[0] for row in rows if (row[1], row[2]) in wanted)
    if not ids:
        return {}
    # Retries are rare: their first answers are read whole, with SQLAlchemy's types.
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for chunk in _chunks(ids):
        for row in conn.execute(select(card_tap).where(card_tap.c.id.in_(chunk))):
            found[(row.terminal_id, row.transaction_id)] = dict(row._mapping)
    return found


def _tokens(conn: Connection, digests: Sequence[str]) -> dict[str, tuple[str, bool]]:
    """digest -> (card number, revoked)."""
    found: dict[str, tuple[str, bool]] = {}
    for chunk in _chunks(digests):
        where, values = any_of(conn, "digest", chunk)
        sql = f"SELECT digest, card_number, revoked_at FROM card_token WHERE {where}"
        for digest, number, revoked_at in fetch_all(conn, sql, values):
            found[digest] = (number, revoked_at is not None)
    return found


@dataclass(frozen=True)
class _Card:
    number: str
    national_id: str
    status: str
    frozen_at: dt.datetime | None
    # Whether the transit function is switched off.
    disabled: bool


def _cards(conn: Connection, numbers: Sequence[str]) -> dict[str, _Card]:
    """The cards among ``numbers``, with their transit switch, in one query."""
    found: dict[str, _Card] = {}
    frozen_at = result_processor(card_card.c.frozen_at, conn.dialect)
    for chunk in _chunks(numbers):
        where, values = any_of(conn, "c.number", chunk)
        sql = (
            "SELECT c.number, c.national_id, c.status, c.frozen_at, f.enabled "
            "FROM card_card c LEFT JOIN card_function f "
            f"ON f.card_number = c.number AND f.function = '{CardFunction.TRANSIT.value}' "
            f"WHERE {where}"
        )
        for number, national_id, status, frozen, enabled in fetch_all(conn, sql, values):
            if frozen is not None and frozen_at is not None:
                frozen = frozen_at(frozen)
            # No row: the function was never switched; SQLite hands back 0/1.
            disabled = enabled is not None and not enabled
            found[number] = _Card(number, national_id, status, frozen, disabled)
    return found


def _spent(
    conn: Connection, numbers: Sequence[str], days: Iterable[str]
) -> dict[tuple[str, str], int]:
    """Transit fares paid per (card, city day), for ``numbers`` on ``days``."""
    found: dict[tuple[str, str], int] = {}
    day_list = sorted(set(days))
    kinds = ", ".join(f"'{kind}'" for kind in storage.TRANSIT_KINDS)
    # Without statistics SQLite picks the outcome index for ``outcome = 'approved'`` and
    # reads every approved tap ever made (3 ms per group at 20,000 taps, growing with the
    # table); the card and day are what narrow it.
    by_card_day = " INDEXED BY ix_card_tap_card_day" if conn.dialect.name == "sqlite" else ""
    for chunk in _chunks(numbers):
        number_in, number_values = any_of(conn, "card_number", chunk)
        day_in, day_values = any_of(conn, "city_day", day_list)
        sql = (
            f"SELECT card_number, city_day, SUM(charged_fen) FROM card_tap{by_card_day} "
            f"WHERE {number_in} AND {day_in} AND kind IN ({kinds}) "
            f"AND outcome = '{TapOutcome.APPROVED.value}' "
            "GROUP BY card_number, city_day"
        )
        for number, day, total in fetch_all(conn, sql, (*number_values, *day_values)):
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


def _refusal(card: _Card, moment: dt.datetime, offline: bool) -> DeclineReason | None:
    """Why a known card may not pay now, if it may not."""
    if card.status != CardStatus.ACTIVE.value:
        frozen_at = storage.aware(card.frozen_at)
        # An offline tap made before the loss report is honoured (from the balance).
        if not (offline and frozen_at is not None and moment < frozen_at):
            if card.status == CardStatus.RETIRED.value:
                return DeclineReason.CARD_RETIRED
            return DeclineReason.CARD_FROZEN
    if card.disabled:
        return DeclineReason.FUNCTION_DISABLED
    return None


def decide(
    conn: Connection,
    terminal_id: str,
    requests: Sequence[TapRequest],
    now: dt.datetime,
    *,
    offline: bool,
    store: Store,
) -> Decided:
    """Decide ``requests`` of one terminal and write the outcome (taps, fares, movements)."""
    items = [(terminal_id, r) for r in requests]
    return decide_many(conn, items, now, offline=offline, store=store)


def decide_many(
    conn: Connection,
    items: Sequence[tuple[str, TapRequest]],
    now: dt.datetime,
    *,
    offline: bool,
    store: Store,
) -> Decided:
    """Decide the taps of several terminals at once (the live taps of one commit group).

    ``store`` is the one ``conn`` belongs to: its bulk insert writes the taps and
    movements at the driver level.
    """
    result = Decided()
    requests = [r for _, r in items]
    previous = _previous_taps(conn, [(t, r.transaction_id) for t, r in items])
    digests = {r.token: token_digest(r.token) for r in requests if r.token is not None}
    tokens = _tokens(conn, sorted(set(digests.values())))
    named = [_resolve(r, tokens, digests) for r in requests]
    # No check digit test here: every issued number has a right one, so a mistyped
    # number is simply not found (unknown_card), for less than the test costs per tap.
    numbers = sorted({n for n, _ in named if n is not None})
    cards = _cards(conn, numbers)
    known = sorted(cards)
    moments = [r.tapped_at if offline and r.tapped_at is not None else now for r in requests]
    city_days: dict[dt.datetime, str] = {}  # live taps share one moment: one conversion
    days = [city_days.get(m) or city_days.setdefault(m, storage.city_day_of(m)) for m in moments]
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
            reason = DeclineReason.UNKNOWN_CARD if card is None else _refusal(card, moment, offline)
        fare = fare_of(request)
        charged = 0
        if reason is None and card is not None:
            number = card.number
            key = (number, day)
            transit = request.kind is not TapKind.SHOP
            charged = capped(fare, spent.get(key, 0)) if transit else fare
            if charged > balances.get(number, 0):
                reason, charged = DeclineReason.INSUFFICIENT_BALANCE, 0
            elif charged > 0:
                balances[number] -= charged
                if transit:
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
    store.bulk_insert(conn, card_tap, result.taps)
    store.bulk_insert(conn, card_movement, movements)
    result.balances = balances
    return result
