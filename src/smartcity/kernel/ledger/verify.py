"""Proving the ledger balances: every account equals the sum of its transfers.

Verification recomputes each account's four balances from the immutable transfers
(aggregated in SQL, one pass per balance), compares them with the stored running
balances, checks that total debits equal total credits in every ledger, that no
account breaks its no-overdraft flag, and that each pending transfer's state agrees
with the transfers that resolved it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Select, and_, func, select

from smartcity.kernel.ledger.models import AccountFlags, TransferFlags
from smartcity.kernel.ledger.rows import account_of
from smartcity.kernel.ledger.tables import ledger_account, ledger_pending, ledger_transfer
from smartcity.kernel.ledger.transfers import EXPIRED, PENDING, POSTED, VOIDED

_BALANCES = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")
_STREAM_CHUNK = 10_000


@dataclass(frozen=True, slots=True)
class BalanceMismatch:
    """A stored balance that is not the sum of the account's transfers."""

    account_id: int
    balance: str
    stored: int
    expected: int


@dataclass(frozen=True, slots=True)
class LedgerTotals:
    """Sums over every account of one ledger (currency)."""

    ledger: int
    accounts: int
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int

    @property
    def balanced(self) -> bool:
        return (
            self.debits_posted == self.credits_posted
            and self.debits_pending == self.credits_pending
        )


@dataclass(frozen=True, slots=True)
class PendingProblem:
    """A pending transfer whose recorded state disagrees with the transfers."""

    transfer_id: int
    detail: str


@dataclass(frozen=True)
class LedgerReport:
    """What :func:`verify_ledger` found. ``ok`` when nothing is wrong."""

    accounts: int
    transfers: int
    totals: tuple[LedgerTotals, ...]
    mismatches: tuple[BalanceMismatch, ...] = field(default=())
    overdrawn: tuple[int, ...] = field(default=())
    pending_problems: tuple[PendingProblem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return (
            not self.mismatches
            and not self.overdrawn
            and not self.pending_problems
            and all(t.balanced for t in self.totals)
        )


def _sums(conn: Connection, query: Select[Any]) -> dict[int, int]:
    return {int(account): int(total) for account, total in conn.execute(query)}


def _expected(conn: Connection) -> dict[str, dict[int, int]]:
    t, p = ledger_transfer.c, ledger_pending.c
    # Posted: plain transfers and postings; a pending transfer and its void move nothing.
    posted = t.flags.op("&")(int(TransferFlags.PENDING | TransferFlags.VOID_PENDING_TRANSFER)) == 0
    still_pending = and_(p.transfer_id == t.id, p.status == PENDING)
    held = ledger_transfer.join(ledger_pending, still_pending)
    return {
        "debits_posted": _sums(
            conn,
            select(t.debit_account_id, func.sum(t.amount))
            .where(posted)
            .group_by(t.debit_account_id),
        ),
        "credits_posted": _sums(
            conn,
            select(t.credit_account_id, func.sum(t.amount))
            .where(posted)
            .group_by(t.credit_account_id),
        ),
        "debits_pending": _sums(
            conn,
            select(t.debit_account_id, func.sum(t.amount))
            .select_from(held)
            .group_by(t.debit_account_id),
        ),
        "credits_pending": _sums(
            conn,
            select(t.credit_account_id, func.sum(t.amount))
            .select_from(held)
            .group_by(t.credit_account_id),
        ),
    }


def _stream_accounts(conn: Connection) -> Iterator[Any]:
    after = None
    while True:
        query = select(ledger_account).order_by(ledger_account.c.id).limit(_STREAM_CHUNK)
        if after is not None:
            query = query.where(ledger_account.c.id > after)
        rows = conn.execute(query).all()
        yield from rows
        if len(rows) < _STREAM_CHUNK:
            return
        after = rows[-1].id


def _pending_problems(conn: Connection) -> list[PendingProblem]:
    t, p = ledger_transfer.c, ledger_pending.c
    problems: list[PendingProblem] = []
    missing = (
        select(t.id)
        .select_from(ledger_transfer.outerjoin(ledger_pending, p.transfer_id == t.id))
        .where(t.flags.op("&")(int(TransferFlags.PENDING)) != 0, p.transfer_id.is_(None))
    )
    problems.extend(
        PendingProblem(i, "pending transfer has no state") for (i,) in conn.execute(missing)
    )
    resolver = ledger_transfer.alias("resolver")
    r = resolver.c
    states = select(p.transfer_id, p.status, r.flags).select_from(
        ledger_pending.outerjoin(resolver, r.pending_id == p.transfer_id)
    )
    for transfer_id, status, flags in conn.execute(states):
        if status in (PENDING, EXPIRED):
            good = flags is None
        elif status == POSTED:
            good = flags is not None and bool(flags & TransferFlags.POST_PENDING_TRANSFER)
        elif status == VOIDED:
            good = flags is not None and bool(flags & TransferFlags.VOID_PENDING_TRANSFER)
        else:
            good = False
        if not good:
            problems.append(
                PendingProblem(transfer_id, f"state {status!r} disagrees with transfers")
            )
    return problems


def verify_ledger(conn: Connection) -> LedgerReport:
    """Recompute every balance from the transfers and report what disagrees.

    Run it inside one transaction (``store.connect()`` on SQLite, or a repeatable-read
    transaction on PostgreSQL) so writers committing meanwhile are not half-seen.
    """
    expected = _expected(conn)
    transfers = conn.execute(select(func.count()).select_from(ledger_transfer)).scalar_one()
    mismatches: list[BalanceMismatch] = []
    overdrawn: list[int] = []
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    accounts = 0
    for row in _stream_accounts(conn):
        account = account_of(row)
        accounts += 1
        for name in _BALANCES:
            stored = getattr(account, name)
            want = expected[name].pop(account.id, 0)
            if stored != want:
                mismatches.append(BalanceMismatch(account.id, name, stored, want))
        total = sums[account.ledger]
        total[0] += 1
        total[1] += account.debits_pending
        total[2] += account.debits_posted
        total[3] += account.credits_pending
        total[4] += account.credits_posted
        debits = account.debits_pending + account.debits_posted
        credits = account.credits_pending + account.credits_posted
        if account.flags & AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS and (
            debits > account.credits_posted
        ):
            overdrawn.append(account.id)
        if account.flags & AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS and (
            credits > account.debits_posted
        ):
            overdrawn.append(account.id)
    # Sums left over belong to transfers of accounts that do not exist.
    for name, rest in expected.items():
        for account_id, want in rest.items():
            mismatches.append(BalanceMismatch(account_id, name, 0, want))
    totals = tuple(LedgerTotals(ledger, *values) for ledger, values in sorted(sums.items()))
    return LedgerReport(
        accounts=accounts,
        transfers=int(transfers),
        totals=totals,
        mismatches=tuple(mismatches),
        overdrawn=tuple(overdrawn),
        pending_problems=tuple(_pending_problems(conn)),
    )
