"""Every write of the payment app: one function per use case, one transaction each.

Money moves through ``postings`` inside the same transaction as the bill and order rows,
so a crash at any point leaves either everything or nothing. Events are published after
the commit. Checks of who may call (the biller's department, the payer) happen in the
routes; the actions check what the data says (whose bill, which state).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Connection, Row, and_, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from smartcity.apps.payment import postings, storage
from smartcity.apps.payment.bank_gateway import BankUnavailable
from smartcity.apps.payment.bank_protocol import verify_message
from smartcity.apps.payment.billers import BILLERS
from smartcity.apps.payment.events import (
    BillIssued,
    DaySettled,
    OrderConfirmed,
    OrderFailed,
    ReceiptIssued,
)
from smartcity.apps.payment.models import (
    BillRequest,
    BillStatus,
    BillView,
    OrderPurpose,
    OrderStatus,
    OrderView,
    Payer,
    PayerKind,
    PaymentMethod,
    PreferenceView,
    TopUpRequest,
)
from smartcity.apps.payment.notices import (
    accounts_of,
    notify_bill_issued,
    notify_payment_received,
    notify_receipt_ready,
)
from smartcity.apps.payment.receipts import receipt_document, receipt_number
from smartcity.apps.payment.runtime import PaymentRuntime
from smartcity.apps.payment.tables import (
    payment_bill,
    payment_biller,
    payment_order,
    payment_payer,
    payment_receipt,
    payment_settlement,
)
from smartcity.kernel.bus import Event
from smartcity.kernel.errors import Conflict, InvalidInput, NotFound
from smartcity.kernel.identity.citizen_id import parse_citizen_id
from smartcity.kernel.identity.tables import identity_citizen, identity_enterprise
from smartcity.kernel.identity.uscc import parse_uscc
from smartcity.kernel.ledger import expire_pending_transfers
from smartcity.kernel.storage import Store

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform

log = logging.getLogger(__name__)

APP_NAME = "payment"
# Business days (for settlement and reconciliation) are the city's local days.
CITY_ZONE = ZoneInfo("Asia/Shanghai")


def business_date_of(moment: dt.datetime) -> dt.date:
    return moment.astimezone(CITY_ZONE).date()


def runtime_of(platform: Platform) -> PaymentRuntime:
    return platform.state(APP_NAME, PaymentRuntime)


def _publish(platform: Platform, events: list[Event]) -> None:
    for event in events:
        platform.bus.publish(event)


def ensure_billers(store: Store, now: dt.datetime) -> None:
    """Seed the biller catalogue and open their ledger accounts (idempotent)."""
    with store.begin() as conn:
        known = {r.code for r in conn.execute(select(payment_biller.c.code))}
        missing = [
            {
                "code": b.code,
                "department_code": b.department_code,
                "name": b.name,
                "name_en": b.name_en,
                "active": True,
            }
            for b in BILLERS
            if b.code not in known
        ]
        if missing:
            conn.execute(insert(payment_biller), missing)
            postings.open_biller_accounts(conn, [b.code for b in BILLERS], now)


# --- bills -------------------------------------------------------------------------


def checked_payer(conn: Connection, kind: PayerKind, identifier: str, today: dt.date) -> Payer:
    """A payer whose identifier is valid and who is in the base registry."""
    if kind == PayerKind.CITIZEN:
        text = parse_citizen_id(identifier, today=today).text
        table, column = identity_citizen, identity_citizen.c.national_id
    else:
        text = parse_uscc(identifier).text
        table, column = identity_enterprise, identity_enterprise.c.uscc
    if conn.execute(select(table.c.id).where(column == text)).first() is None:
        raise NotFound(f"no {kind.value} {text} in the registry", payer=text)
    return Payer(kind=kind, identifier=text)


def _ensure_payer(conn: Connection, payer: Payer, now: dt.datetime) -> None:
    if storage.payer_row(conn, payer) is None:
        conn.execute(
            insert(payment_payer).values(
                kind=payer.kind.value,
                identifier=payer.identifier,
                paperless=True,
                account_id=payer.account_id,
                created_at=now,
            )
        )
        postings.open_wallet(conn, payer.kind.value, payer.identifier, now)


def _same_bill(existing: BillView, biller_code: str, request: BillRequest, payer: Payer) -> bool:
    return (
        existing.biller_code == biller_code
        and existing.payer_kind == payer.kind
        and existing.payer_identifier == payer.identifier
        and existing.amount_fen == request.amount_fen
        and existing.period == request.period
        and existing.due_date == request.due_date
        and existing.reference == request.reference
    )


def issue_bill(platform: Platform, biller_code: str, request: BillRequest) -> tuple[BillView, bool]:
    """Issue a bill; the same bill number again returns the first bill (``False``).

    The same number with other fields is a 409: a biller corrects a bill by issuing a
    new number, never by rewriting one a payer may already have paid.
    """
    now = platform.clock.now()
    try:
        with platform.store.begin() as conn:
            biller = storage.get_biller(conn, biller_code)
            if not biller.active:
                raise Conflict(f"biller {biller_code} is closed", biller=biller_code)
            payer = checked_payer(conn, request.payer_kind, request.payer_identifier, now.date())
            existing = conn.execute(
                select(payment_bill).where(
                    payment_bill.c.biller_code == biller_code,
                    payment_bill.c.bill_number == request.bill_number,
                )
            ).first()
            if existing is not None:
                bill = storage.bill_of(existing)
                if not _same_bill(bill, biller_code, request, payer):
                    raise Conflict(
                        f"bill {request.bill_number} was issued before with other details",
                        bill=bill.id,
                    )
                return bill, False
            _ensure_payer(conn, payer, now)
            bill_id = conn.execute(
                insert(payment_bill)
                .values(
                    biller_code=biller_code,
                    bill_number=request.bill_number,
                    payer_kind=payer.kind.value,
                    payer_identifier=payer.identifier,
                    amount_fen=request.amount_fen,
                    period=request.period,
                    due_date=request.due_date,
                    reference=request.reference,
                    status=BillStatus.OPEN.value,
                    issued_at=now,
                )
                .returning(payment_bill.c.id)
            ).scalar_one()
            bill = storage.get_bill(conn, bill_id)
            notify_bill_issued(conn, platform.bus, bill, biller.name, now)
    except IntegrityError:
        # Another writer issued the same number between our check and our insert.
        raise Conflict(f"bill {request.bill_number} is being issued; retry") from None
    _publish(
        platform, [BillIssued(bill_id=bill.id, biller_code=biller_code, amount_fen=bill.amount_fen)]
    )
    return bill, True


def issue_bills(platform: Platform, biller_code: str, requests: Sequence[BillRequest]) -> int:
    """Issue many bills of one biller in one transaction (a month's run); returns how many
    were new. Numbers issued before are skipped when their details agree, refused (409,
    nothing issued) when they do not. Every payer is checked as :func:`issue_bill` does.
    """
    now = platform.clock.now()
    today = now.date()
    with platform.store.begin() as conn:
        biller = storage.get_biller(conn, biller_code)
        if not biller.active:
            raise Conflict(f"biller {biller_code} is closed", biller=biller_code)
        payers = {
            (r.payer_kind, r.payer_identifier): _parsed_payer(
                r.payer_kind, r.payer_identifier, today
            )
            for r in requests
        }
        _check_registered(conn, list(payers.values()))
        known = _known_payers(conn, list(payers.values()))
        fresh = [p for p in payers.values() if (p.kind.value, p.identifier) not in known]
        if fresh:
            platform.store.bulk_insert(
                conn,
                payment_payer,
                [
                    {
                        "kind": p.kind.value,
                        "identifier": p.identifier,
                        "paperless": True,
                        "account_id": None,
                        "created_at": now,
                    }
                    for p in fresh
                ],
            )
            postings.open_wallets(conn, [(p.kind.value, p.identifier) for p in fresh], now)
        numbers = [r.bill_number for r in requests]
        existing: dict[str, BillView] = {}
        for start in range(0, len(numbers), _CHUNK):
            for row in conn.execute(
                select(payment_bill).where(
                    payment_bill.c.biller_code == biller_code,
                    payment_bill.c.bill_number.in_(numbers[start : start + _CHUNK]),
                )
            ):
                existing[row.bill_number] = storage.bill_of(row)
        rows: list[dict[str, object]] = []
        seen: set[str] = set()
        for r in requests:
            payer = payers[(r.payer_kind, r.payer_identifier)]
            if r.bill_number in existing:
                if not _same_bill(existing[r.bill_number], biller_code, r, payer):
                    raise Conflict(f"bill {r.bill_number} was issued before with other details")
                continue
            if r.bill_number in seen:
                raise InvalidInput(f"bill {r.bill_number} appears twice in the batch")
            seen.add(r.bill_number)
            rows.append(
                {
                    "biller_code": biller_code,
                    "bill_number": r.bill_number,
                    "payer_kind": payer.kind.value,
                    "payer_identifier": payer.identifier,
                    "amount_fen": r.amount_fen,
                    "period": r.period,
                    "due_date": r.due_date,
                    "reference": r.reference,
                    "status": BillStatus.OPEN.value,
                    "issued_at": now,
                    "paid_at": None,
                    "order_id": None,
                }
            )
        platform.store.bulk_insert(conn, payment_bill, rows)
        # Announce the new bills to the payers who have a platform account.
        accounts = accounts_of(conn, list(payers.values()))
        if accounts and rows:
            numbers = [str(r["bill_number"]) for r in rows]
            for start in range(0, len(numbers), _CHUNK):
                for row in conn.execute(
                    select(payment_bill).where(
                        payment_bill.c.biller_code == biller_code,
                        payment_bill.c.bill_number.in_(numbers[start : start + _CHUNK]),
                    )
                ):
                    bill = storage.bill_of(row)
                    account_id = accounts.get(Payer(bill.payer_kind, bill.payer_identifier))
                    if account_id is not None:
                        notify_bill_issued(
                            conn, platform.bus, bill, biller.name, now, account_id=account_id
                        )
    return len(rows)


_CHUNK = 1000


def _parsed_payer(kind: PayerKind, identifier: str, today: dt.date) -> Payer:
    if kind == PayerKind.CITIZEN:
        return Payer(kind, parse_citizen_id(identifier, today=today).text)
    return Payer(kind, parse_uscc(identifier).text)


def _check_registered(conn: Connection, payers: Sequence[Payer]) -> None:
    for kind, column in (
        (PayerKind.CITIZEN, identity_citizen.c.national_id),
        (PayerKind.ENTERPRISE, identity_enterprise.c.uscc),
    ):
        wanted = [p.identifier for p in payers if p.kind == kind]
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            found = {r[0] for r in conn.execute(select(column).where(column.in_(chunk)))}
            missing = [i for i in chunk if i not in found]
            if missing:
                raise NotFound(f"no {kind.value} {missing[0]} in the registry", payer=missing[0])


def _known_payers(conn: Connection, payers: Sequence[Payer]) -> set[tuple[str, str]]:
    known: set[tuple[str, str]] = set()
    identifiers = [p.identifier for p in payers]
    for start in range(0, len(identifiers), _CHUNK):
        rows = conn.execute(
            select(payment_payer.c.kind, payment_payer.c.identifier).where(
                payment_payer.c.identifier.in_(identifiers[start : start + _CHUNK])
            )
        )
        known.update((r.kind, r.identifier) for r in rows)
    return known


def set_paperless(platform: Platform, payer: Payer, paperless: bool) -> PreferenceView:
    """Choose paperless e-bills (or paper ones mailed as well) for every future bill."""
    now = platform.clock.now()
    with platform.store.begin() as conn:
        if storage.payer_row(conn, payer) is None:
            _ensure_payer(conn, payer, now)
        conn.execute(
            update(payment_payer)
            .where(
                payment_payer.c.kind == payer.kind.value,
                payment_payer.c.identifier == payer.identifier,
            )
            .values(paperless=paperless, account_id=payer.account_id)
        )
    return PreferenceView(
        payer_kind=payer.kind, payer_identifier=payer.identifier, paperless=paperless
    )


def preference_of(platform: Platform, payer: Payer) -> PreferenceView:
    with platform.store.connect() as conn:
        row = storage.payer_row(conn, payer)
    return PreferenceView(
        payer_kind=payer.kind,
        payer_identifier=payer.identifier,
        paperless=True if row is None else bool(row.paperless),
    )


# --- paying ------------------------------------------------------------------------


def _replayed(
    existing: Row[Any],
    purpose: OrderPurpose,
    bill_id: int | None,
    method: PaymentMethod,
    amount_fen: int | None,
) -> None:
    """Refuse a request id reused for something else (the same again is a retry)."""
    same = (
        existing.purpose == purpose.value
        and existing.bill_id == bill_id
        and existing.method == method.value
        and (amount_fen is None or existing.amount_fen == amount_fen)
    )
    if not same:
        raise Conflict(
            f"request id {existing.request_id!r} was used before for another payment",
            order=existing.id,
        )


def _view(platform: Platform, row: Row[Any]) -> OrderView:
    runtime = runtime_of(platform)
    gateway_url = runtime.gateway.base_url if runtime.gateway is not None else None
    return storage.order_of(row, bank_url=gateway_url)


def _transfer_id(payer_kind: str, payer_identifier: str, request_id: str, step: str) -> int:
    return postings.order_transfer_id(payer_kind, payer_identifier, request_id, step)


def pay_bill(
    platform: Platform,
    payer: Payer,
    bill_id: int,
    request_id: str,
    method: PaymentMethod,
    *,
    callback_url: str,
) -> OrderView:
    """Pay one of the payer's bills from the wallet (at once) or through the bank."""
    if method == PaymentMethod.BANK:
        return _pay_through_bank(
            platform, payer, OrderPurpose.BILL, request_id, bill_id, None, callback_url
        )
    now = platform.clock.now()
    try:
        with platform.store.begin() as conn:
            existing = storage.order_by_request(conn, payer, request_id)
            if existing is not None:
                _replayed(existing, OrderPurpose.BILL, bill_id, method, None)
                return _view(platform, existing)
            bill = _payable_bill(conn, payer, bill_id, now)
            order_id = _insert_order(
                conn, payer, request_id, OrderPurpose.BILL, bill, method, bill.amount_fen,
                status=OrderStatus.CONFIRMED, now=now, expires_at=None,
            )  # fmt: skip
            postings.pay_from_wallet(
                conn,
                transfer_id=_transfer_id(payer.kind.value, payer.identifier, request_id, "pay"),
                wallet_id=postings.wallet_account_id(payer.kind.value, payer.identifier),
                biller_code=bill.biller_code,
                amount_fen=bill.amount_fen,
                order_id=order_id,
                now=now,
            )
            _mark_bill(
                conn, bill.id, BillStatus.OPEN, BillStatus.PAID, order_id=order_id, paid_at=now
            )
            row = storage.order_row(conn, order_id)
    except IntegrityError:
        # The same request id raced in from another connection: answer with its order.
        with platform.store.connect() as conn:
            existing = storage.order_by_request(conn, payer, request_id)
        if existing is None:
            raise
        _replayed(existing, OrderPurpose.BILL, bill_id, method, None)
        return _view(platform, existing)
    _publish(
        platform,
        [
            OrderConfirmed(
                order_id=order_id, purpose="bill", bill_id=bill.id, amount_fen=bill.amount_fen
            )
        ],
    )
    return _view(platform, row)


def _payable_bill(
    conn: Connection, payer: Payer, bill_id: int, now: dt.datetime | None = None
) -> BillView:
    bill = storage.bill_of_payer(conn, payer, bill_id)
    if bill.status == BillStatus.PENDING and bill.order_id is not None and now is not None:
        # A bank payment past its deadline is closed now rather than by the next expiry
        # job, so the payer may pay the bill another way at once.
        order = storage.order_row(conn, bill.order_id)
        expires_at = storage.aware(order.expires_at)
        if order.status == OrderStatus.PENDING.value and expires_at and expires_at <= now:
            _expire_order(conn, order, now)
            bill = storage.bill_of_payer(conn, payer, bill_id)
    if bill.status == BillStatus.PAID:
        raise Conflict(f"bill {bill_id} is already paid", bill=bill_id, order=bill.order_id)
    if bill.status == BillStatus.PENDING:
        raise Conflict(
            f"a bank payment of bill {bill_id} is under way; wait for it or for it to expire",
            bill=bill_id,
            order=bill.order_id,
        )
    return bill


def _insert_order(
    conn: Connection,
    payer: Payer,
    request_id: str,
    purpose: OrderPurpose,
    bill: BillView | None,
    method: PaymentMethod,
    amount_fen: int,
    *,
    status: OrderStatus,
    now: dt.datetime,
    expires_at: dt.datetime | None,
) -> int:
    confirmed = status == OrderStatus.CONFIRMED
    order_id: int = conn.execute(
        insert(payment_order)
        .values(
            payer_kind=payer.kind.value,
            payer_identifier=payer.identifier,
            request_id=request_id,
            account_id=payer.account_id,
            purpose=purpose.value,
            bill_id=bill.id if bill is not None else None,
            biller_code=bill.biller_code if bill is not None else None,
            method=method.value,
            amount_fen=amount_fen,
            status=status.value,
            created_at=now,
            expires_at=expires_at,
            confirmed_at=now if confirmed else None,
            business_date=business_date_of(now) if confirmed else None,
        )
        .returning(payment_order.c.id)
    ).scalar_one()
    return order_id


def _mark_bill(
    conn: Connection,
    bill_id: int,
    before: BillStatus,
    after: BillStatus,
    *,
    order_id: int | None,
    paid_at: dt.datetime | None = None,
) -> None:
    changed = conn.execute(
        update(payment_bill)
        .where(payment_bill.c.id == bill_id, payment_bill.c.status == before.value)
        .values(status=after.value, order_id=order_id, paid_at=paid_at)
    ).rowcount
    if changed != 1:
        # Another payment of the same bill won the race; this transaction rolls back.
        raise Conflict(f"bill {bill_id} is no longer {before.value}", bill=bill_id)


def top_up(
    platform: Platform, payer: Payer, request: TopUpRequest, *, callback_url: str
) -> OrderView:
    """Money into the payer's wallet through the bank (pending until the bank confirms)."""
    return _pay_through_bank(
        platform,
        payer,
        OrderPurpose.TOP_UP,
        request.request_id,
        None,
        request.amount_fen,
        callback_url,
    )


def order_number_of(order_id: int) -> str:
    """The number the bank knows an order by."""
    return f"P{order_id:012d}"


def order_id_of(order_number: str) -> int:
    if (
        len(order_number) != 13
        or not order_number.startswith("P")
        or not order_number[1:].isdigit()
    ):
        raise InvalidInput(f"{order_number!r} is not a payment order number", part="order_number")
    return int(order_number[1:])


def _pay_through_bank(
    platform: Platform,
    payer: Payer,
    purpose: OrderPurpose,
    request_id: str,
    bill_id: int | None,
    amount_fen: int | None,
    callback_url: str,
) -> OrderView:
    runtime = runtime_of(platform)
    if runtime.gateway is None:
        raise BankUnavailable("no bank is configured (SMARTCITY_BANK_URL)")
    now = platform.clock.now()
    timeout = runtime.settings.order_timeout_seconds
    try:
        with platform.store.begin() as conn:
            existing = storage.order_by_request(conn, payer, request_id)
            if existing is not None:
                _replayed(existing, purpose, bill_id, PaymentMethod.BANK, amount_fen)
                row = existing
            else:
                row = _reserve(conn, payer, purpose, request_id, bill_id, amount_fen, now, timeout)
    except IntegrityError:
        with platform.store.connect() as conn:
            existing = storage.order_by_request(conn, payer, request_id)
        if existing is None:
            raise
        _replayed(existing, purpose, bill_id, PaymentMethod.BANK, amount_fen)
        row = existing
    if row.status != OrderStatus.PENDING.value or row.bank_reference is not None:
        return _view(platform, row)
    # Outside the transaction: a slow bank never holds the database. The bank knows the
    # order by its number, so asking again after a lost answer creates nothing new.
    bank_order = runtime.gateway.create_order(
        order_number=order_number_of(row.id),
        amount_fen=row.amount_fen,
        callback_url=callback_url,
        description=f"{purpose.value} {row.biller_code or 'wallet'}",
        timestamp=int(now.timestamp()),
    )
    with platform.store.begin() as conn:
        conn.execute(
            update(payment_order)
            .where(payment_order.c.id == row.id, payment_order.c.bank_reference.is_(None))
            .values(bank_reference=bank_order.bank_reference)
        )
        row = storage.order_row(conn, row.id)
    return _view(platform, row)


def _reserve(
    conn: Connection,
    payer: Payer,
    purpose: OrderPurpose,
    request_id: str,
    bill_id: int | None,
    amount_fen: int | None,
    now: dt.datetime,
    timeout: int,
) -> Row[Any]:
    bill: BillView | None = None
    if purpose == OrderPurpose.BILL:
        bill = _payable_bill(conn, payer, bill_id or 0, now)
        amount = bill.amount_fen
        credit = postings.receivable_account_id(bill.biller_code)
        code = postings.TransferCode.BANK_PAYMENT
    else:
        if amount_fen is None:
            raise InvalidInput("a top-up needs an amount", part="amount_fen")
        amount = amount_fen
        if storage.payer_row(conn, payer) is None:
            _ensure_payer(conn, payer, now)
        credit = postings.wallet_account_id(payer.kind.value, payer.identifier)
        code = postings.TransferCode.TOP_UP
    expires_at = now + dt.timedelta(seconds=timeout)
    order_id = _insert_order(
        conn, payer, request_id, purpose, bill, PaymentMethod.BANK, amount,
        status=OrderStatus.PENDING, now=now, expires_at=expires_at,
    )  # fmt: skip
    postings.reserve_from_bank(
        conn,
        transfer_id=_transfer_id(payer.kind.value, payer.identifier, request_id, "pay"),
        credit_account_id=credit,
        amount_fen=amount,
        order_id=order_id,
        code=code,
        timeout_seconds=timeout,
        now=now,
    )
    if bill is not None:
        _mark_bill(conn, bill.id, BillStatus.OPEN, BillStatus.PENDING, order_id=order_id)
    return storage.order_row(conn, order_id)


# --- the bank's answer -----------------------------------------------------------------

CALLBACK_OUTCOMES = ("confirmed", "failed")


def _parse_callback(body: bytes) -> tuple[int, str, str, int]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("the callback body is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("the callback body must be a JSON object")
    number, outcome = data.get("order_number"), data.get("status")
    reference, amount = data.get("bank_reference"), data.get("amount_fen")
    if not isinstance(number, str) or not isinstance(reference, str) or not reference:
        raise InvalidInput("order_number and bank_reference must be strings")
    if outcome not in CALLBACK_OUTCOMES:
        raise InvalidInput(f"status must be one of {', '.join(CALLBACK_OUTCOMES)}")
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise InvalidInput("amount_fen must be an integer")
    return order_id_of(number), str(outcome), reference[:64], amount


def handle_bank_callback(platform: Platform, headers: dict[str, str], body: bytes) -> OrderView:
    """Apply the bank's signed outcome of an order; a replayed callback changes nothing.

    ``confirmed`` posts the pending transfer and marks the bill paid; ``failed`` voids
    it and opens the bill again. An outcome that contradicts what is already recorded
    (or arrives after the order expired) is a 409, which tells the bank to refund.
    """
    verify_message(runtime_of(platform).bank_secret, headers, body)
    order_id, outcome, reference, amount = _parse_callback(body)
    now = platform.clock.now()
    events: list[Event] = []
    with platform.store.begin() as conn:
        row = storage.order_row(conn, order_id)
        if row.method != PaymentMethod.BANK.value:
            raise Conflict(f"order {order_id} is not a bank order", order=order_id)
        if amount != row.amount_fen:
            raise Conflict(
                f"the bank reports {amount} fen for order {order_id} of {row.amount_fen} fen",
                order=order_id,
            )
        status = OrderStatus(row.status)
        if status != OrderStatus.PENDING:
            settled_like = {OrderStatus.CONFIRMED, OrderStatus.SETTLED}
            if (outcome == "confirmed") == (status in settled_like):
                return _view(platform, row)  # a replay: already applied
            raise Conflict(
                f"order {order_id} is already {status.value}; the bank must refund",
                order=order_id,
                status=status.value,
            )
        pending_id = _transfer_id(row.payer_kind, row.payer_identifier, row.request_id, "pay")
        expires_at = storage.aware(row.expires_at)
        if expires_at is not None and expires_at <= now:
            _expire_order(conn, row, now)
            expired = storage.order_row(conn, order_id)
            events.append(OrderFailed(order_id=order_id, status=OrderStatus.EXPIRED.value))
            failed_view = _view(platform, expired)
        elif outcome == "confirmed":
            postings.post_reserved(
                conn,
                transfer_id=_transfer_id(
                    row.payer_kind, row.payer_identifier, row.request_id, "post"
                ),
                pending_id=pending_id,
                now=now,
            )
            conn.execute(
                update(payment_order)
                .where(payment_order.c.id == order_id)
                .values(
                    status=OrderStatus.CONFIRMED.value,
                    confirmed_at=now,
                    business_date=business_date_of(now),
                    bank_reference=row.bank_reference or reference,
                )
            )
            if row.bill_id is not None:
                _mark_bill(
                    conn,
                    row.bill_id,
                    BillStatus.PENDING,
                    BillStatus.PAID,
                    order_id=order_id,
                    paid_at=now,
                )
            if row.purpose == OrderPurpose.TOP_UP.value:
                # A bill payment's notices go out with its receipt; a top-up has none.
                notify_payment_received(
                    conn,
                    platform.bus,
                    row.account_id,
                    amount_fen=row.amount_fen,
                    payee="钱包充值 wallet top-up",
                    paid_at=now,
                    transfer_id=pending_id,
                    now=now,
                )
            events.append(
                OrderConfirmed(
                    order_id=order_id,
                    purpose=row.purpose,
                    bill_id=row.bill_id,
                    amount_fen=row.amount_fen,
                )
            )
            failed_view = None
        else:
            postings.void_reserved(
                conn,
                transfer_id=_transfer_id(
                    row.payer_kind, row.payer_identifier, row.request_id, "void"
                ),
                pending_id=pending_id,
                now=now,
            )
            _close_order(conn, row, OrderStatus.FAILED, "the bank refused the payment")
            events.append(OrderFailed(order_id=order_id, status=OrderStatus.FAILED.value))
            failed_view = None
        final = storage.order_row(conn, order_id)
    _publish(platform, events)
    if failed_view is not None:
        raise Conflict(
            f"order {order_id} expired before the bank answered; the bank must refund",
            order=order_id,
            status=OrderStatus.EXPIRED.value,
        )
    return _view(platform, final)


def _close_order(conn: Connection, row: Row[Any], status: OrderStatus, reason: str) -> None:
    conn.execute(
        update(payment_order)
        .where(payment_order.c.id == row.id)
        .values(status=status.value, failure_reason=reason)
    )
    if row.bill_id is not None:
        _mark_bill(conn, row.bill_id, BillStatus.PENDING, BillStatus.OPEN, order_id=None)


def _expire_order(conn: Connection, row: Row[Any], now: dt.datetime) -> None:
    """Release an order's reservation (the ledger may have done so already) and close it."""
    pending_id = _transfer_id(row.payer_kind, row.payer_identifier, row.request_id, "pay")
    try:
        postings.void_reserved(
            conn,
            transfer_id=_transfer_id(row.payer_kind, row.payer_identifier, row.request_id, "void"),
            pending_id=pending_id,
            now=now,
        )
    except Conflict:
        # Past its timeout the ledger refuses a void: its own expiry releases the amount.
        expire_pending_transfers(conn, now)
    _close_order(conn, row, OrderStatus.EXPIRED, "the bank did not confirm in time")


def expire_orders(platform: Platform, *, limit: int = 1000) -> int:
    """Close every bank order past its deadline; their bills can be paid again."""
    now = platform.clock.now()
    with platform.store.begin() as conn:
        expire_pending_transfers(conn, now)
        rows = conn.execute(
            select(payment_order)
            .where(
                payment_order.c.status == OrderStatus.PENDING.value,
                payment_order.c.expires_at <= now,
            )
            .order_by(payment_order.c.id)
            .limit(limit)
        ).all()
        for row in rows:
            _expire_order(conn, row, now)
    _publish(platform, [OrderFailed(order_id=r.id, status=OrderStatus.EXPIRED.value) for r in rows])
    return len(rows)


# --- receipts ----------------------------------------------------------------------


def issue_receipt(platform: Platform, order_id: int) -> Row[Any]:
    """The signed receipt of a paid bill, made once (later calls return the same)."""
    signer = runtime_of(platform).signer
    if signer is not None:
        signer.prepare()
    try:
        with platform.store.begin() as conn:
            row, event = _receipt_in(conn, platform, order_id)
    except IntegrityError:
        # The background worker issued it between our check and our insert.
        with platform.store.connect() as conn:
            found = storage.receipt_row(conn, order_id)
        if found is None:
            raise
        return found
    _publish(platform, [event] if event is not None else [])
    return row


def issue_receipts(
    platform: Platform,
    order_ids: Sequence[int],
    *,
    publish: Callable[[Sequence[Event]], None] | None = None,
) -> int:
    """Receipts of many paid bills in one transaction (the background worker's batch);
    orders that have one already, or pay no bill yet, are skipped. Returns how many were new.

    Reads the orders, bills and billers of the whole batch in three queries, renders and
    signs every receipt outside any transaction, then writes them in one short one (the
    write lock is held for an INSERT and the notices, never for signing). A receipt
    issued on demand meanwhile is left as it is.
    """
    runtime = runtime_of(platform)
    if runtime.signer is not None:
        runtime.signer.prepare()
    now = platform.clock.now()
    wanted = sorted(set(order_ids))
    with platform.store.connect() as conn:
        done = _receipted(conn, wanted)
        orders = [
            o
            for o in conn.execute(_ORDERS_BY_ID, {"ids": wanted})
            if o.id not in done
            and o.purpose == OrderPurpose.BILL.value
            and o.bill_id is not None
            and o.status in (OrderStatus.CONFIRMED.value, OrderStatus.SETTLED.value)
        ]
        if not orders:
            return 0
        bills = {
            r.id: storage.bill_of(r)
            for r in conn.execute(_BILLS_BY_ID, {"ids": [o.bill_id for o in orders]})
        }
        billers = {b.code: b for b in storage.list_billers(conn)}
    made: list[tuple[dict[str, object], Any, BillView, str]] = []
    for order in orders:
        bill = bills[order.bill_id]
        biller = billers[bill.biller_code]
        document = receipt_document(
            order_id=order.id,
            method=order.method,
            paid_at=storage.aware(order.confirmed_at) or now,
            bill=bill,
            biller=biller,
            issued_at=now,
        )
        row: dict[str, object] = {
            "order_id": order.id,
            "bill_id": bill.id,
            "number": receipt_number(order.id),
            "document": document.decode("utf-8"),
            "signature": runtime.signer.sign(document, now) if runtime.signer else None,
            "issued_at": now,
        }
        made.append((row, order, bill, biller.name))
    events: list[Event] = []
    with platform.store.begin() as conn:
        done = _receipted(conn, [order.id for _, order, _, _ in made])
        fresh = [m for m in made if m[1].id not in done]
        if not fresh:
            return 0
        conn.execute(insert(payment_receipt), [row for row, _, _, _ in fresh])
        for row, order, bill, payee in fresh:
            number = str(row["number"])
            _notify_paid(conn, platform, order, bill, payee, number, now)
            events.append(ReceiptIssued(order_id=order.id, bill_id=bill.id, number=number))
    if publish is not None:
        publish(events)
    else:
        _publish(platform, events)
    return len(events)


# The receipt batch's reads, built once: a statement made per batch (an IN of literal
# values coerced one by one) cost more than the queries themselves.
_ORDERS_BY_ID = select(payment_order).where(
    payment_order.c.id.in_(bindparam("ids", expanding=True))
)
_BILLS_BY_ID = select(payment_bill).where(payment_bill.c.id.in_(bindparam("ids", expanding=True)))


def _receipted(conn: Connection, order_ids: Sequence[int]) -> set[int]:
    """Which of ``order_ids`` have their receipt already."""
    if not order_ids:
        return set()
    # Plain integers back: straight to the driver.
    marks = ", ".join(["?" if conn.dialect.paramstyle == "qmark" else "%s"] * len(order_ids))
    found = conn.exec_driver_sql(
        f"SELECT order_id FROM payment_receipt WHERE order_id IN ({marks})", tuple(order_ids)
    )
    return {row[0] for row in found}


def _receipt_in(
    conn: Connection, platform: Platform, order_id: int
) -> tuple[Row[Any], ReceiptIssued | None]:
    runtime = runtime_of(platform)
    now = platform.clock.now()
    found = storage.receipt_row(conn, order_id)
    if found is not None:
        return found, None
    order = storage.order_row(conn, order_id)
    if order.purpose != OrderPurpose.BILL.value or order.bill_id is None:
        raise NotFound(f"order {order_id} pays no bill, so it has no receipt", order=order_id)
    if order.status not in (OrderStatus.CONFIRMED.value, OrderStatus.SETTLED.value):
        raise Conflict(f"order {order_id} is {order.status}: no receipt yet", order=order_id)
    bill = storage.get_bill(conn, order.bill_id)
    biller = storage.get_biller(conn, bill.biller_code)
    document = receipt_document(
        order_id=order_id,
        method=order.method,
        paid_at=storage.aware(order.confirmed_at) or now,
        bill=bill,
        biller=biller,
        issued_at=now,
    )
    signature = runtime.signer.sign(document, now) if runtime.signer is not None else None
    number = receipt_number(order_id)
    conn.execute(
        insert(payment_receipt).values(
            order_id=order_id,
            bill_id=bill.id,
            number=number,
            document=document.decode("utf-8"),
            signature=signature,
            issued_at=now,
        )
    )
    _notify_paid(conn, platform, order, bill, biller.name, number, now)
    row = storage.receipt_row(conn, order_id)
    if row is None:  # pragma: no cover - inserted just above, in this transaction
        raise NotFound(f"receipt of order {order_id} vanished", order=order_id)
    return row, ReceiptIssued(order_id=order_id, bill_id=bill.id, number=number)


def _notify_paid(
    conn: Connection,
    platform: Platform,
    order: Row[Any],
    bill: BillView,
    payee: str,
    number: str,
    now: dt.datetime,
) -> None:
    """A paid bill's notice, sent with its receipt: "receipt ready" names the payment,
    its amount and payee, so one message says both that the money arrived and where the
    signed receipt is (see ``notices``)."""
    notify_receipt_ready(
        conn,
        platform.bus,
        order.account_id,
        receipt_number=number,
        amount_fen=bill.amount_fen,
        payee=payee,
        now=now,
    )


def issue_pending_receipts(platform: Platform, *, limit: int = 100) -> int:
    """Issue the receipts of paid bills that have none yet (after a crash, say)."""
    with platform.store.connect() as conn:
        order_ids = storage.confirmed_without_receipt(conn, limit)
    issue_receipts(platform, order_ids)
    return len(order_ids)


# --- settlement ----------------------------------------------------------------------


def settle_day(platform: Platform, business_date: dt.date) -> list[dict[str, Any]]:
    """Pass one ended business day's confirmed payments on to each biller.

    One ledger transfer per biller moves the day's sum from its receivable account to
    its settlement account; the orders become ``settled``. Running it again changes
    nothing. A day that has not ended yet is refused: a later payment of that day
    would otherwise miss its settlement.
    """
    now = platform.clock.now()
    if business_date >= business_date_of(now):
        raise InvalidInput(
            f"business day {business_date} has not ended yet (Asia/Shanghai)", part="date"
        )
    settled: list[dict[str, Any]] = []
    with platform.store.begin() as conn:
        done = {
            r.biller_code
            for r in conn.execute(
                select(payment_settlement.c.biller_code).where(
                    payment_settlement.c.business_date == business_date
                )
            )
        }
        sums = conn.execute(
            select(
                payment_order.c.biller_code,
                func.count().label("orders"),
                func.sum(payment_order.c.amount_fen).label("amount"),
            )
            .where(
                payment_order.c.business_date == business_date,
                payment_order.c.purpose == OrderPurpose.BILL.value,
                payment_order.c.status == OrderStatus.CONFIRMED.value,
            )
            .group_by(payment_order.c.biller_code)
            .order_by(payment_order.c.biller_code)
        ).all()
        for row in sums:
            if row.biller_code in done:
                continue
            amount = int(row.amount)
            transfer_id = postings.settle(
                conn,
                biller_code=row.biller_code,
                business_date=business_date,
                amount_fen=amount,
                now=now,
            )
            conn.execute(
                update(payment_order)
                .where(
                    and_(
                        payment_order.c.business_date == business_date,
                        payment_order.c.biller_code == row.biller_code,
                        payment_order.c.purpose == OrderPurpose.BILL.value,
                        payment_order.c.status == OrderStatus.CONFIRMED.value,
                    )
                )
                .values(status=OrderStatus.SETTLED.value, settled_at=now)
            )
            conn.execute(
                insert(payment_settlement).values(
                    biller_code=row.biller_code,
                    business_date=business_date,
                    orders=int(row.orders),
                    amount_fen=amount,
                    transfer_id=transfer_id,
                    settled_at=now,
                )
            )
            settled.append(
                {"biller_code": row.biller_code, "orders": int(row.orders), "amount_fen": amount}
            )
    _publish(
        platform,
        [
            DaySettled(
                biller_code=s["biller_code"],
                business_date=business_date.isoformat(),
                orders=s["orders"],
                amount_fen=s["amount_fen"],
            )
            for s in settled
        ],
    )
    return settled
