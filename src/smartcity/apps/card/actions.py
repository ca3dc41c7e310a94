"""Every write of the card app but taps (``taps.py``): one function per use case.

Money moves through ``postings`` in the same transaction as the card's rows, so a crash
leaves all or nothing. Who may call is checked in the routes; the actions check what
the data says (whose card, which state).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from smartcity.apps.card import postings, storage
from smartcity.apps.card.models import (
    CardFunction,
    CardStatus,
    CardView,
    MovementKind,
    MovementView,
    Purse,
    TokenView,
    TopUpRequest,
)
from smartcity.apps.card.numbers import card_number_for
from smartcity.apps.card.tables import (
    card_card,
    card_deny,
    card_function,
    card_movement,
    card_token,
)
from smartcity.kernel.errors import Conflict, NotFound, PermissionDenied
from smartcity.kernel.identity.citizen_id import parse_citizen_id
from smartcity.kernel.identity.tables import identity_citizen
from smartcity.kernel.ledger import CreateTransferResult, create_transfers, raise_for_errors

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_card(platform: Platform, national_id: str) -> CardView:
    """Issue a card to a person of the registry, every function enabled.

    A person holds one current card: a second issue is a 409 (report the first lost and
    reissue it instead).
    """
    now = platform.clock.now()
    text = parse_citizen_id(national_id, today=now.date()).text
    try:
        with platform.store.begin() as conn:
            known = conn.execute(
                select(identity_citizen.c.id).where(identity_citizen.c.national_id == text)
            ).first()
            if known is None:
                raise NotFound(f"no citizen {text} in the registry", national_id=text)
            current = conn.execute(
                select(card_card.c.number).where(card_card.c.current_of == text)
            ).first()
            if current is not None:
                raise Conflict("this citizen already holds a card", card=current.number)
            number = _insert_card(conn, text, now, replaces=None, functions=None)
            return storage.card_view(conn, storage.card_row(conn, number), now)
    except IntegrityError:
        raise Conflict("a card is being issued to this citizen; retry") from None


def issue_cards(platform: Platform, national_ids: list[str]) -> int:
    """Issue cards to many registered citizens in one transaction (the demo city);
    those who hold one already, or are not in the registry, are skipped. Returns how many
    were issued."""
    now = platform.clock.now()
    with platform.store.begin() as conn:
        holders = {
            r.current_of
            for r in conn.execute(
                select(card_card.c.current_of).where(card_card.c.current_of.isnot(None))
            )
        }
        wanted = sorted({n for n in national_ids if n not in holders})
        # Only people of the registry get cards.
        fresh = [
            n
            for start in range(0, len(wanted), 2_000)
            for n in conn.execute(
                select(identity_citizen.c.national_id).where(
                    identity_citizen.c.national_id.in_(wanted[start : start + 2_000])
                )
            ).scalars()
        ]
        cards = [
            {
                "number": card_number_for(n, 0),
                "national_id": n,
                "status": CardStatus.ACTIVE.value,
                "current_of": n,
                "issued_at": now,
                "frozen_at": None,
                "retired_at": None,
                "replaces": None,
                "replaced_by": None,
            }
            for n in fresh
        ]
        platform.store.bulk_insert(conn, card_card, cards)
        platform.store.bulk_insert(
            conn,
            card_function,
            [
                {
                    "card_number": c["number"],
                    "function": f.value,
                    "enabled": True,
                    "updated_at": now,
                }
                for c in cards
                for f in CardFunction
            ],
        )
        postings.open_card_accounts(conn, [str(c["number"]) for c in cards], now)
    return len(cards)


def _insert_card(
    conn: Connection,
    national_id: str,
    now: dt.datetime,
    *,
    replaces: str | None,
    functions: dict[str, bool] | None,
) -> str:
    generation = conn.execute(
        select(func.count()).select_from(card_card).where(card_card.c.national_id == national_id)
    ).scalar_one()
    number = card_number_for(national_id, int(generation))
    conn.execute(
        insert(card_card).values(
            number=number,
            national_id=national_id,
            status=CardStatus.ACTIVE.value,
            current_of=national_id,
            issued_at=now,
            replaces=replaces,
        )
    )
    conn.execute(
        insert(card_function),
        [
            {
                "card_number": number,
                "function": f.value,
                "enabled": True if functions is None else functions.get(f.value, True),
                "updated_at": now,
            }
            for f in CardFunction
        ],
    )
    postings.open_card_accounts(conn, [number], now)
    return number


def set_function(
    platform: Platform, number: str, function: CardFunction, enabled: bool
) -> CardView:
    now = platform.clock.now()
    with platform.store.begin() as conn:
        row = storage.card_row(conn, number)
        if row.status == CardStatus.RETIRED.value:
            raise Conflict("the card was replaced; change its successor", card=number)
        conn.execute(
            update(card_function)
            .where(
                card_function.c.card_number == number, card_function.c.function == function.value
            )
            .values(enabled=enabled, updated_at=now)
        )
        return storage.card_view(conn, row, now)


def top_up(platform: Platform, national_id: str, request: TopUpRequest) -> MovementView:
    """Move money from the citizen's platform wallet into a purse of their card.

    Idempotent by ``request_id``: a retry returns the first movement.
    """
    now = platform.clock.now()
    transfer_id = postings.top_up_transfer_id(national_id, request.request_id)
    with platform.store.begin() as conn:
        done = conn.execute(
            select(card_movement).where(
                card_movement.c.transfer_id == transfer_id,
                card_movement.c.national_id == national_id,
            )
        ).first()
        if done is not None:
            if done.amount_fen != request.amount_fen or done.purse != request.purse.value:
                raise Conflict(
                    "this request id was used for another top-up", request_id=request.request_id
                )
            return storage.movement_of(done)
        card = storage.current_card_row(conn, national_id)
        if card.status != CardStatus.ACTIVE.value:
            raise Conflict("the card is frozen: reissue it first", card=card.number)
        transfer = postings.top_up(
            transfer_id, national_id, card.number, request.purse, request.amount_fen
        )
        errors = create_transfers(conn, [transfer], now)
        if errors:
            result = errors[0].result
            if result == CreateTransferResult.EXCEEDS_CREDITS:
                raise Conflict(
                    "the platform wallet holds less than the amount", result=result.value
                )
            if result == CreateTransferResult.DEBIT_ACCOUNT_NOT_FOUND:
                raise NotFound("the citizen has no platform wallet yet", result=result.value)
            raise_for_errors(errors)
        movement_id = conn.execute(
            insert(card_movement)
            .values(
                national_id=national_id,
                card_number=card.number,
                kind=MovementKind.TOP_UP.value,
                purse=request.purse.value,
                amount_fen=request.amount_fen,
                transfer_id=transfer_id,
                reference=request.request_id,
                at=now,
            )
            .returning(card_movement.c.id)
        ).scalar_one()
        row = conn.execute(select(card_movement).where(card_movement.c.id == movement_id)).one()
        return storage.movement_of(row)


def report_loss(platform: Platform, number: str, reason: str) -> CardView:
    """Freeze the card at once and put it on the deny list; its phone tokens are revoked.

    Reporting a frozen card again changes nothing.
    """
    now = platform.clock.now()
    with platform.store.begin() as conn:
        row = storage.card_row(conn, number)
        if row.status == CardStatus.ACTIVE.value:
            _freeze(conn, number, reason, now)
            row = storage.card_row(conn, number)
        return storage.card_view(conn, row, now)


def _freeze(conn: Connection, number: str, reason: str, now: dt.datetime) -> None:
    conn.execute(
        update(card_card)
        .where(card_card.c.number == number)
        .values(status=CardStatus.FROZEN.value, frozen_at=now)
    )
    conn.execute(insert(card_deny).values(card_number=number, reason=reason or "lost", at=now))
    conn.execute(
        update(card_token)
        .where(card_token.c.card_number == number, card_token.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def reissue(platform: Platform, number: str) -> CardView:
    """Replace a card: a new number, the same functions, every purse's balance moved.

    The old card is frozen (if it was not), retired and never used again. A card that
    was replaced already answers 409 naming its successor.
    """
    now = platform.clock.now()
    try:
        with platform.store.begin() as conn:
            old = storage.card_row(conn, number)
            if old.status == CardStatus.RETIRED.value:
                raise Conflict("the card was replaced already", replaced_by=old.replaced_by)
            if old.status == CardStatus.ACTIVE.value:
                _freeze(conn, number, "replaced", now)
            national_id = str(old.national_id)
            functions = {
                r.function: bool(r.enabled)
                for r in conn.execute(
                    select(card_function).where(card_function.c.card_number == number)
                )
            }
            conn.execute(
                update(card_card)
                .where(card_card.c.number == number)
                .values(status=CardStatus.RETIRED.value, retired_at=now, current_of=None)
            )
            new_number = _insert_card(conn, national_id, now, replaces=number, functions=functions)
            conn.execute(
                update(card_card).where(card_card.c.number == number).values(replaced_by=new_number)
            )
            _move_balances(conn, national_id, number, new_number, now)
            return storage.card_view(conn, storage.card_row(conn, new_number), now)
    except IntegrityError:
        raise Conflict("this card is being reissued; retry") from None


def _move_balances(
    conn: Connection, national_id: str, old: str, new: str, now: dt.datetime
) -> None:
    balances = postings.purse_balances(conn, [old])
    transfers = [
        postings.reissue(old, new, purse, balances[(old, purse)])
        for purse in Purse
        if balances.get((old, purse), 0) > 0
    ]
    raise_for_errors(create_transfers(conn, transfers, now))
    movements = []
    for t in transfers:
        purse = next(p for p in Purse if postings.reissue_transfer_id(old, p) == t.id)
        for card, kind, amount, other in (
            (old, MovementKind.REISSUE_OUT, -t.amount, new),
            (new, MovementKind.REISSUE_IN, t.amount, old),
        ):
            movements.append(
                {
                    "national_id": national_id,
                    "card_number": card,
                    "kind": kind.value,
                    "purse": purse.value,
                    "amount_fen": amount,
                    "transfer_id": t.id,
                    "reference": other,
                    "at": now,
                }
            )
    if movements:
        conn.execute(insert(card_movement), movements)


def issue_token(platform: Platform, national_id: str) -> TokenView:
    """A phone NFC token bound to the citizen's current card; shown once."""
    now = platform.clock.now()
    token = secrets.token_urlsafe(32)
    with platform.store.begin() as conn:
        card = storage.current_card_row(conn, national_id)
        if card.status != CardStatus.ACTIVE.value:
            raise Conflict("the card is frozen: reissue it first", card=card.number)
        token_id = conn.execute(
            insert(card_token)
            .values(card_number=card.number, digest=token_digest(token), issued_at=now)
            .returning(card_token.c.id)
        ).scalar_one()
    return TokenView(id=token_id, card_number=card.number, issued_at=now, token=token)


def revoke_token(platform: Platform, national_id: str, token_id: int) -> TokenView:
    now = platform.clock.now()
    with platform.store.begin() as conn:
        row = conn.execute(
            select(card_token, card_card.c.national_id)
            .join(card_card, card_card.c.number == card_token.c.card_number)
            .where(card_token.c.id == token_id)
        ).first()
        if row is None or row.national_id != national_id:
            raise NotFound(f"no token {token_id} of yours", token=token_id)
        if row.revoked_at is None:
            conn.execute(
                update(card_token).where(card_token.c.id == token_id).values(revoked_at=now)
            )
        revoked = storage.aware(row.revoked_at) or now
    return TokenView(
        id=token_id,
        card_number=row.card_number,
        issued_at=storage.aware(row.issued_at) or now,
        revoked_at=revoked,
    )


def check_holder(platform: Platform, national_id: str, number: str) -> None:
    """PermissionDenied unless the card is the citizen's own."""
    with platform.store.connect() as conn:
        row = storage.card_row(conn, number)
    if row.national_id != national_id:
        raise PermissionDenied("this is not your card", card=number)
