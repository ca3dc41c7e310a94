"""Queries of the card app: the views the routes return, read through the kernel Store."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row, func, select

from smartcity.apps.card import postings
from smartcity.apps.card.fares import DAILY_CAP_FEN, TapKind
from smartcity.apps.card.models import (
    CardFunction,
    CardStatus,
    CardView,
    DeclineReason,
    DenyEntry,
    DenyListView,
    FunctionView,
    MovementKind,
    MovementView,
    Purse,
    PurseView,
    TapOutcome,
    TapView,
    TokenView,
)
from smartcity.apps.card.tables import (
    card_card,
    card_deny,
    card_function,
    card_movement,
    card_tap,
    card_token,
)
from smartcity.kernel.errors import NotFound

PAGE_LIMIT = 500
DENY_PAGE = 10_000
# Fare caps and movements are counted in the city's local days.
CITY_ZONE = ZoneInfo("Asia/Shanghai")
TRANSIT_KINDS = (TapKind.BUS.value, TapKind.METRO.value)


def city_day_of(moment: dt.datetime) -> str:
    return moment.astimezone(CITY_ZONE).date().isoformat()


def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes: they were stored in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def card_row(conn: Connection, number: str) -> Row[tuple[object, ...]]:
    row = conn.execute(select(card_card).where(card_card.c.number == number)).first()
    if row is None:
        raise NotFound(f"no citizen card {number}", card=number)
    return row


def current_card_row(conn: Connection, national_id: str) -> Row[tuple[object, ...]]:
    row = conn.execute(select(card_card).where(card_card.c.current_of == national_id)).first()
    if row is None:
        raise NotFound("this citizen holds no citizen card", national_id=national_id)
    return row


def spent_today(conn: Connection, card_number: str, city_day: str) -> int:
    """Transit fares the card paid in ``city_day`` (toward the daily cap)."""
    total = conn.execute(
        select(func.coalesce(func.sum(card_tap.c.charged_fen), 0)).where(
            card_tap.c.card_number == card_number,
            card_tap.c.city_day == city_day,
            card_tap.c.kind.in_(TRANSIT_KINDS),
            card_tap.c.outcome == TapOutcome.APPROVED.value,
        )
    ).scalar_one()
    return int(total)


def card_view(conn: Connection, row: Row[tuple[object, ...]], now: dt.datetime) -> CardView:
    number = str(row.number)
    functions = [
        FunctionView(
            function=CardFunction(f.function), enabled=f.enabled, updated_at=_aware(f.updated_at)
        )
        for f in conn.execute(
            select(card_function)
            .where(card_function.c.card_number == number)
            .order_by(card_function.c.function)
        )
    ]
    balances = postings.purse_balances(conn, [number])
    purses = [
        PurseView(
            purse=purse,
            account_id=postings.purse_account_id(number, purse),
            balance_fen=balances.get((number, purse), 0),
        )
        for purse in Purse
    ]
    return CardView(
        number=number,
        national_id=str(row.national_id),
        status=CardStatus(row.status),
        issued_at=_aware(row.issued_at),
        frozen_at=aware(row.frozen_at),
        retired_at=aware(row.retired_at),
        replaces=row.replaces,
        replaced_by=row.replaced_by,
        functions=functions,
        purses=purses,
        spent_today_fen=spent_today(conn, number, city_day_of(now)),
        daily_cap_fen=DAILY_CAP_FEN,
    )


def movements_of(
    conn: Connection, national_id: str, *, limit: int, offset: int
) -> list[MovementView]:
    """A citizen's movements across all their cards, newest first."""
    rows = conn.execute(
        select(card_movement)
        .where(card_movement.c.national_id == national_id)
        .order_by(card_movement.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [movement_of(r) for r in rows]


def movement_of(row: Row[tuple[object, ...]]) -> MovementView:
    return MovementView(
        id=row.id,
        card_number=row.card_number,
        kind=MovementKind(row.kind),
        purse=Purse(row.purse),
        amount_fen=row.amount_fen,
        transfer_id=row.transfer_id,
        reference=row.reference,
        at=_aware(row.at),
    )


def tap_of(row: Row[tuple[object, ...]], balance_fen: int | None = None) -> TapView:
    return TapView(
        terminal_id=row.terminal_id,
        transaction_id=row.transaction_id,
        card_number=row.card_number,
        kind=TapKind(row.kind),
        outcome=TapOutcome(row.outcome),
        reason=DeclineReason(row.reason) if row.reason else None,
        fare_fen=row.fare_fen,
        charged_fen=row.charged_fen,
        balance_fen=balance_fen,
        tapped_at=_aware(row.tapped_at),
        offline=row.offline,
    )


def conflicts(conn: Connection, *, after_id: int, limit: int) -> list[TapView]:
    """Offline taps the platform could not honour, oldest first (for settlement)."""
    rows = conn.execute(
        select(card_tap)
        .where(card_tap.c.outcome == TapOutcome.CONFLICT.value, card_tap.c.id > after_id)
        .order_by(card_tap.c.id)
        .limit(limit)
    )
    return [tap_of(r) for r in rows]


def deny_list(conn: Connection, since: int) -> DenyListView:
    rows = conn.execute(
        select(card_deny)
        .where(card_deny.c.version > since)
        .order_by(card_deny.c.version)
        .limit(DENY_PAGE)
    ).all()
    entries = [
        DenyEntry(version=r.version, card_number=r.card_number, reason=r.reason, at=_aware(r.at))
        for r in rows
    ]
    return DenyListView(version=entries[-1].version if entries else since, entries=entries)


def tokens_of(conn: Connection, card_number: str) -> list[TokenView]:
    rows = conn.execute(
        select(card_token).where(card_token.c.card_number == card_number).order_by(card_token.c.id)
    )
    return [
        TokenView(
            id=r.id,
            card_number=r.card_number,
            issued_at=_aware(r.issued_at),
            revoked_at=aware(r.revoked_at),
        )
        for r in rows
    ]
