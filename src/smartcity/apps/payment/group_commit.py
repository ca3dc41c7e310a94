"""Wallet payments in groups: many requests, one transaction, one commit.

The hot path of the payment API. Each ``POST /payment/bills/{id}/pay`` from the wallet
hands its request to a single writer thread and awaits the answer; the writer takes
every request waiting at that moment (up to ``MAX_GROUP``), decides them in memory
against the bills and orders read in two queries, applies all their ledger transfers in
one ``create_transfers`` batch, writes the orders and bills with one statement each, and
commits once. A commit (and SQLite's write lock) is shared by the whole group instead
of taken once per payment, which is what lets one process take thousands of payments a
second. Each request still gets its own answer: a refused payment (overdrawn wallet,
paid bill, someone else's bill) is refused alone and the others go through.

The result is exactly what :func:`actions.pay_bill` would give one request at a time,
which stays the path for anything unusual: if a group fails as a whole, its requests
are replayed one by one through ``actions.pay_bill``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Dialect, select

from smartcity.apps.payment import actions, postings, storage
from smartcity.apps.payment.events import OrderConfirmed
from smartcity.apps.payment.models import (
    BillStatus,
    OrderPurpose,
    OrderStatus,
    OrderView,
    Payer,
    PaymentMethod,
)
from smartcity.apps.payment.tables import payment_bill, payment_order
from smartcity.kernel.errors import Conflict, DomainError, NotFound
from smartcity.kernel.ledger import (
    LEDGER_CNY,
    CreateTransferResult,
    Transfer,
    create_transfers,
    error_for,
)
from smartcity.kernel.storage.base import bind_processors

if TYPE_CHECKING:
    from smartcity.kernel.platform import Platform

log = logging.getLogger(__name__)

MAX_GROUP = 256
# The writer thread ends after this long without work and restarts on the next payment.
IDLE_SECONDS = 5.0


@dataclass
class WalletPayment:
    payer: Payer
    bill_id: int
    request_id: str
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[OrderView]


@dataclass
class _Outcome:
    order: OrderView | None = None
    error: BaseException | None = None


@dataclass
class GroupCommitter:
    """The writer thread and its queue (one per process, started on first use)."""

    platform: Platform
    _queue: queue.SimpleQueue[WalletPayment | None] = field(default_factory=queue.SimpleQueue)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    groups: int = 0
    payments: int = 0
    fallbacks: int = 0
    last_group_at: float = 0.0

    def busy(self, within_s: float = 0.05) -> bool:
        """True while payments are arriving (a group ended within ``within_s``)."""
        return not self._queue.empty() or time.monotonic() - self.last_group_at < within_s

    async def pay(self, payer: Payer, bill_id: int, request_id: str) -> OrderView:
        """Pay ``bill_id`` from the payer's wallet; the answer of ``actions.pay_bill``."""
        loop = asyncio.get_running_loop()
        request = WalletPayment(payer, bill_id, request_id, loop, loop.create_future())
        # Queued before the writer is checked: a writer leaving for idleness sees it.
        self._queue.put(request)
        self._ensure_started()
        return await request.future

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="payment-group-commit", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        # Idle: leave, so a platform that is gone leaves no thread behind.
                        self._thread = None
                        return
                continue
            if first is None:
                return
            group = [first]
            while len(group) < MAX_GROUP:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this group
                    break
                group.append(more)
            outcomes, confirmed = self._decide(group)
            self.last_group_at = time.monotonic()
            self.groups += 1
            self.payments += len(group)
            # One hop per event loop (not per request): answers and events together.
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[WalletPayment, _Outcome]]] = {}
            for request, outcome in zip(group, outcomes, strict=True):
                by_loop.setdefault(request.loop, []).append((request, outcome))
            for position, (loop, answers) in enumerate(by_loop.items()):
                events = confirmed if position == 0 else []
                loop.call_soon_threadsafe(self._answer, answers, events)

    def _answer(
        self, answers: list[tuple[WalletPayment, _Outcome]], events: list[OrderConfirmed]
    ) -> None:
        """On the event loop: settle each request's future, then publish the events."""
        for request, outcome in answers:
            _settle_future(request.future, outcome)
        for event in events:
            self.platform.bus.publish(event)

    def _apply(self, group: Sequence[WalletPayment]) -> list[_Outcome]:
        """Decide a group and publish its events from this thread (for tests and tools)."""
        outcomes, confirmed = self._decide(group)
        for event in confirmed:
            self.platform.bus.publish(event)
        return outcomes

    def _decide(
        self, group: Sequence[WalletPayment]
    ) -> tuple[list[_Outcome], list[OrderConfirmed]]:
        try:
            with actions.runtime_of(self.platform).writer_lock:
                return self._apply_group(group)
        except Exception:
            self.fallbacks += 1
            log.exception("a group of %d payments failed; paying them one by one", len(group))
            return [self._apply_one(request) for request in group], []

    def _apply_one(self, request: WalletPayment) -> _Outcome:
        try:
            order = actions.pay_bill(
                self.platform,
                request.payer,
                request.bill_id,
                request.request_id,
                PaymentMethod.WALLET,
                callback_url="",
            )
        except Exception as exc:  # handed to the awaiting request, which raises it
            return _Outcome(error=exc)
        return _Outcome(order=order)

    def _apply_group(
        self, group: Sequence[WalletPayment]
    ) -> tuple[list[_Outcome], list[OrderConfirmed]]:
        now = self.platform.clock.now()
        business_date = actions.business_date_of(now)
        outcomes = [_Outcome() for _ in group]
        with self.platform.store.begin() as conn:
            previous = _orders_by_request(conn, group)
            bills = _bills(conn, [r.bill_id for r in group])
            taken: dict[int, int] = {}  # bill id -> index of the request paying it now
            requests_seen: dict[tuple[str, str, str], int] = {}
            to_pay: list[int] = []
            later: list[int] = []
            for index, request in enumerate(group):
                key = (request.payer.kind.value, request.payer.identifier, request.request_id)
                if key in requests_seen:
                    continue  # the same request twice in one group: answered below
                requests_seen[key] = index
                found = previous.get(key)
                if found is not None:
                    outcomes[index] = _replay(found, request)
                    continue
                if request.bill_id in taken:
                    later.append(index)  # decided after this group, one by one
                    continue
                bill = bills.get(request.bill_id)
                if bill is not None and bill.status == BillStatus.PENDING.value:
                    later.append(index)  # a bank payment, perhaps expired: the slow path
                    continue
                error = _refusal(bill, request)
                if error is not None:
                    outcomes[index] = _Outcome(error=error)
                    continue
                taken[request.bill_id] = index
                to_pay.append(index)
            transfers = [
                Transfer(
                    id=postings.order_transfer_id(
                        group[i].payer.kind.value,
                        group[i].payer.identifier,
                        group[i].request_id,
                        "pay",
                    ),
                    debit_account_id=postings.wallet_account_id(
                        group[i].payer.kind.value, group[i].payer.identifier
                    ),
                    credit_account_id=postings.receivable_account_id(
                        bills[group[i].bill_id].biller_code
                    ),
                    amount=bills[group[i].bill_id].amount_fen,
                    ledger=LEDGER_CNY,
                    code=postings.TransferCode.WALLET_PAYMENT,
                )
                for i in to_pay
            ]
            failed = {e.index: e.result for e in create_transfers(conn, transfers, now)}
            paid: list[int] = []
            for position, index in enumerate(to_pay):
                result = failed.get(position)
                if result is None:
                    paid.append(index)
                else:
                    outcomes[index] = _Outcome(error=_ledger_refusal(result, position))
            # Only what differs between the group's orders; the rest is one constant.
            rows = [
                {
                    "payer_kind": group[i].payer.kind.value,
                    "payer_identifier": group[i].payer.identifier,
                    "request_id": group[i].request_id,
                    "account_id": group[i].payer.account_id,
                    "bill_id": group[i].bill_id,
                    "biller_code": bills[group[i].bill_id].biller_code,
                    "amount_fen": bills[group[i].bill_id].amount_fen,
                }
                for i in paid
            ]
            order_ids: list[int] = []
            if rows:
                constants = {
                    "purpose": OrderPurpose.BILL.value,
                    "method": PaymentMethod.WALLET.value,
                    "status": OrderStatus.CONFIRMED.value,
                    "created_at": now,
                    "expires_at": None,
                    "confirmed_at": now,
                    "business_date": business_date,
                    "settled_at": None,
                    "bank_reference": None,
                    "failure_reason": None,
                }
                order_ids = _insert_orders(conn, constants, rows)
                changed = _mark_bills_paid(
                    conn, [(group[i].bill_id, o) for i, o in zip(paid, order_ids, strict=True)], now
                )
                if changed != len(rows):
                    raise Conflict("a bill changed under the group; paying one by one")
            confirmed: list[OrderConfirmed] = []
            for i, order_id, row in zip(paid, order_ids, rows, strict=True):
                outcomes[i] = _Outcome(
                    order=OrderView(
                        id=order_id,
                        request_id=group[i].request_id,
                        purpose=OrderPurpose.BILL,
                        bill_id=group[i].bill_id,
                        biller_code=str(row["biller_code"]),
                        method=PaymentMethod.WALLET,
                        amount_fen=int(str(row["amount_fen"])),
                        status=OrderStatus.CONFIRMED,
                        created_at=now,
                        confirmed_at=now,
                    )
                )
                confirmed.append(
                    OrderConfirmed(
                        order_id=order_id,
                        purpose=OrderPurpose.BILL.value,
                        bill_id=group[i].bill_id,
                        amount_fen=int(str(row["amount_fen"])),
                    )
                )
        for index in later:
            outcomes[index] = self._apply_one(group[index])
        # A request sent twice in one group gets the answer of its first copy.
        for index, request in enumerate(group):
            key = (request.payer.kind.value, request.payer.identifier, request.request_id)
            first = requests_seen[key]
            if first != index:
                outcomes[index] = _duplicate_of(outcomes[first], group[first], request)
        return outcomes, confirmed


def _settle_future(future: asyncio.Future[OrderView], outcome: _Outcome) -> None:
    if future.done():
        return  # the client went away
    if outcome.error is not None:
        future.set_exception(outcome.error)
    elif outcome.order is not None:
        future.set_result(outcome.order)
    else:
        future.set_exception(RuntimeError("a payment of the group was left unanswered"))


# The group's statements go straight to the driver (compiled once, here): they are
# the per-group cost of every wallet payment. Typed SQLAlchemy reads remain for the
# rare rows that need their datetimes (replayed orders).
_BILL_COLUMNS = (
    "id", "biller_code", "bill_number", "payer_kind", "payer_identifier",
    "amount_fen", "status", "order_id",
)  # fmt: skip
_ORDER_COLUMNS = tuple(c.name for c in payment_order.columns if c.name != "id")


def _marker(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _orders_by_request(
    conn: Connection, group: Sequence[WalletPayment]
) -> dict[tuple[str, str, str], Any]:
    # The unique key leads with the request id: one index probe per request.
    wanted = sorted({r.request_id for r in group})
    marks = ", ".join([_marker(conn)] * len(wanted))
    found = conn.exec_driver_sql(
        f"SELECT id FROM payment_order WHERE request_id IN ({marks})", tuple(wanted)
    ).all()
    if not found:
        return {}
    rows = conn.execute(select(payment_order).where(payment_order.c.id.in_([r[0] for r in found])))
    return {(r.payer_kind, r.payer_identifier, r.request_id): r for r in rows}


def _bills(conn: Connection, bill_ids: Sequence[int]) -> dict[int, Any]:
    wanted = sorted(set(bill_ids))
    marks = ", ".join([_marker(conn)] * len(wanted))
    columns = ", ".join(_BILL_COLUMNS)
    rows = conn.exec_driver_sql(
        f"SELECT {columns} FROM payment_bill WHERE id IN ({marks})", tuple(wanted)
    )
    return {r.id: r for r in rows}


@functools.lru_cache(maxsize=8)
def _order_processors(dialect: Dialect) -> dict[str, Any]:
    """Each order column's value converter (or None) for ``dialect``; looked up once."""
    processors = bind_processors(payment_order, _ORDER_COLUMNS, dialect)
    return dict(zip(_ORDER_COLUMNS, processors, strict=True))


def _insert_orders(
    conn: Connection, constants: dict[str, Any], rows: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert the orders in one statement; their ids, in the order of ``rows``.

    ``constants`` holds the columns every order of the group shares (converted once),
    ``rows`` the columns of each order.
    """
    processors = _order_processors(conn.dialect)

    def converted(column: str, value: Any) -> Any:
        process = processors[column]
        return process(value) if process is not None and value is not None else value

    template = [
        converted(column, constants[column]) if column in constants else None
        for column in _ORDER_COLUMNS
    ]
    varying = [
        (position, column, processors[column])
        for position, column in enumerate(_ORDER_COLUMNS)
        if column not in constants
    ]
    values: list[Any] = []
    for row in rows:
        own = template.copy()
        for position, column, process in varying:
            value = row[column]
            own[position] = process(value) if process is not None and value is not None else value
        values.extend(own)
    mark = _marker(conn)
    one = "(" + ", ".join([mark] * len(_ORDER_COLUMNS)) + ")"
    sql = (
        f"INSERT INTO payment_order ({', '.join(_ORDER_COLUMNS)}) "
        f"VALUES {', '.join([one] * len(rows))} "
        "RETURNING id, payer_kind, payer_identifier, request_id"
    )
    # RETURNING names each row by its key: the database need not keep the VALUES order.
    ids = {
        (r.payer_kind, r.payer_identifier, r.request_id): r.id
        for r in conn.exec_driver_sql(sql, tuple(values))
    }
    return [ids[(r["payer_kind"], r["payer_identifier"], r["request_id"])] for r in rows]


def _mark_bills_paid(conn: Connection, paid: Sequence[tuple[int, int]], now: datetime) -> int:
    """One UPDATE for the group's bills (still open); how many it changed."""
    mark = _marker(conn)
    cases = " ".join(f"WHEN {mark} THEN {mark}" for _ in paid)
    ids = ", ".join([mark] * len(paid))
    (process,) = bind_processors(payment_bill, ("paid_at",), conn.dialect)
    paid_at = process(now) if process is not None else now
    params: list[Any] = [BillStatus.PAID.value, paid_at]
    for bill_id, order_id in paid:
        params.extend((bill_id, order_id))
    params.extend(bill_id for bill_id, _ in paid)
    params.append(BillStatus.OPEN.value)
    sql = (
        f"UPDATE payment_bill SET status = {mark}, paid_at = {mark}, "
        f"order_id = CASE id {cases} END "
        f"WHERE id IN ({ids}) AND status = {mark}"
    )
    changed: int = conn.exec_driver_sql(sql, tuple(params)).rowcount
    return changed


def _replay(found: Any, request: WalletPayment) -> _Outcome:
    same = (
        found.purpose == OrderPurpose.BILL.value
        and found.bill_id == request.bill_id
        and found.method == PaymentMethod.WALLET.value
    )
    if not same:
        return _Outcome(
            error=Conflict(
                f"request id {request.request_id!r} was used before for another payment",
                order=found.id,
            )
        )
    return _Outcome(order=storage.order_of(found))


def _refusal(bill: Any, request: WalletPayment) -> DomainError | None:
    payer = request.payer
    if (
        bill is None
        or bill.payer_kind != payer.kind.value
        or bill.payer_identifier != payer.identifier
    ):
        return NotFound(f"you have no bill {request.bill_id}", bill=request.bill_id)
    if bill.status == BillStatus.PAID.value:
        return Conflict(
            f"bill {request.bill_id} is already paid", bill=request.bill_id, order=bill.order_id
        )
    if bill.status == BillStatus.PENDING.value:
        return Conflict(
            f"a bank payment of bill {request.bill_id} is under way; "
            "wait for it or for it to expire",
            bill=request.bill_id,
            order=bill.order_id,
        )
    return None


def _ledger_refusal(result: CreateTransferResult, index: int) -> DomainError:
    if result == CreateTransferResult.EXCEEDS_CREDITS:
        return Conflict(
            "the wallet holds less than the amount: top it up first", result=result.value
        )
    if result == CreateTransferResult.DEBIT_ACCOUNT_NOT_FOUND:
        return NotFound("the payer has no wallet yet: top it up first", result=result.value)
    return error_for(result, index)


def _duplicate_of(first: _Outcome, original: WalletPayment, copy: WalletPayment) -> _Outcome:
    if first.error is not None:
        return first
    if copy.bill_id != original.bill_id:
        return _Outcome(
            error=Conflict(f"request id {copy.request_id!r} was used for another payment")
        )
    return first
