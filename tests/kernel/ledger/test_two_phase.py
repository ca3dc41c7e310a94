"""Two-phase transfers: post in full or in part, void, expire by the clock; closing."""

from __future__ import annotations

from datetime import timedelta

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.ledger import CreateTransferResult as R
from smartcity.kernel.ledger import Ledger, Transfer, TransferError, TransferFlags

from .conftest import BANK, CASH, CODE, PURSE
from .test_transfers import Y, move

F = TransferFlags
POST = F.POST_PENDING_TRANSFER
VOID = F.VOID_PENDING_TRANSFER


def funded(ledger: Ledger, amount: int = 1000) -> Ledger:
    assert ledger.create_transfers([move(1, CASH, PURSE, amount)]) == []
    return ledger


def test_pending_reserves_then_post_in_full_moves_it(ledger: Ledger) -> None:
    funded(ledger)
    assert ledger.create_transfers([move(2, PURSE, BANK, 300, flags=F.PENDING)]) == []
    purse, bank = ledger.lookup_accounts([PURSE, BANK])
    assert (purse.debits_pending, purse.debits_posted, purse.available) == (300, 0, 700)
    assert bank.credits_pending == 300
    assert ledger.create_transfers([Transfer(3, pending_id=2, flags=POST)]) == []
    purse, bank = ledger.lookup_accounts([PURSE, BANK])
    assert (purse.debits_pending, purse.debits_posted, purse.balance) == (0, 300, 700)
    assert (bank.credits_pending, bank.credits_posted) == (0, 300)
    (posting,) = ledger.lookup_transfers([3])
    assert (posting.debit_account_id, posting.credit_account_id, posting.amount) == (
        PURSE,
        BANK,
        300,
    )
    assert ledger.verify().ok


def test_post_in_part_releases_the_rest(ledger: Ledger) -> None:
    funded(ledger)
    assert ledger.create_transfers([move(2, PURSE, BANK, 300, flags=F.PENDING)]) == []
    assert ledger.create_transfers([Transfer(3, amount=120, pending_id=2, flags=POST)]) == []
    (purse,) = ledger.lookup_accounts([PURSE])
    assert (purse.debits_pending, purse.debits_posted, purse.balance) == (0, 120, 880)
    # Resolved once: the rest can be neither posted nor voided later.
    assert ledger.create_transfers([Transfer(4, pending_id=2, flags=VOID)]) == [
        TransferError(0, R.PENDING_TRANSFER_ALREADY_POSTED)
    ]
    assert ledger.verify().ok


def test_void_releases_everything_and_cannot_be_posted_after(ledger: Ledger) -> None:
    funded(ledger)
    assert ledger.create_transfers([move(2, PURSE, BANK, 300, flags=F.PENDING)]) == []
    assert ledger.create_transfers([Transfer(3, pending_id=2, flags=VOID)]) == []
    (purse,) = ledger.lookup_accounts([PURSE])
    assert (purse.debits_pending, purse.debits_posted, purse.available) == (0, 0, 1000)
    assert ledger.create_transfers([Transfer(4, pending_id=2, flags=POST)]) == [
        TransferError(0, R.PENDING_TRANSFER_ALREADY_VOIDED)
    ]
    assert ledger.verify().ok


def test_retrying_a_post_is_harmless(ledger: Ledger) -> None:
    funded(ledger)
    post = Transfer(3, pending_id=2, flags=POST)
    assert ledger.create_transfers([move(2, PURSE, BANK, 300, flags=F.PENDING), post]) == []
    assert ledger.create_transfers([post]) == [TransferError(0, R.EXISTS)]
    named = Transfer(3, PURSE, BANK, 300, Y, CODE, flags=POST, pending_id=2)
    assert ledger.create_transfers([named]) == [TransferError(0, R.EXISTS)]
    assert ledger.lookup_accounts([PURSE])[0].debits_posted == 300


def test_an_expired_pending_transfer_cannot_be_posted_and_the_job_releases_it(
    ledger: Ledger, clock: FixedClock
) -> None:
    funded(ledger)
    assert ledger.create_transfers([move(2, PURSE, BANK, 300, flags=F.PENDING, timeout=60)]) == []
    clock.advance(timedelta(seconds=59))
    assert ledger.expire_pending_transfers() == ()
    clock.advance(timedelta(seconds=1))
    assert ledger.create_transfers([Transfer(3, pending_id=2, flags=POST)]) == [
        TransferError(0, R.PENDING_TRANSFER_EXPIRED)
    ]
    # Until the job runs the amount is still held; the books balance either way.
    assert ledger.lookup_accounts([PURSE])[0].debits_pending == 300
    assert ledger.verify().ok
    assert ledger.expire_pending_transfers() == (2,)
    (purse,) = ledger.lookup_accounts([PURSE])
    assert (purse.debits_pending, purse.available) == (0, 1000)
    assert ledger.create_transfers([Transfer(4, pending_id=2, flags=VOID)]) == [
        TransferError(0, R.PENDING_TRANSFER_EXPIRED)
    ]
    assert ledger.expire_pending_transfers() == ()
    assert ledger.verify().ok


def test_expiry_job_works_in_rounds(ledger: Ledger, clock: FixedClock) -> None:
    funded(ledger)
    holds = [move(10 + i, PURSE, BANK, 1, flags=F.PENDING, timeout=1) for i in range(7)]
    assert ledger.create_transfers(holds) == []
    clock.advance(timedelta(seconds=5))
    assert ledger.expire_pending_transfers(limit=3) == tuple(range(10, 17))
    assert ledger.lookup_accounts([PURSE])[0].debits_pending == 0
    assert ledger.verify().ok


def test_pending_without_timeout_never_expires(ledger: Ledger, clock: FixedClock) -> None:
    funded(ledger)
    assert ledger.create_transfers([move(2, PURSE, BANK, 5, flags=F.PENDING)]) == []
    clock.advance(timedelta(days=3650))
    assert ledger.expire_pending_transfers() == ()
    assert ledger.create_transfers([Transfer(3, pending_id=2, flags=POST)]) == []


def test_a_closing_transfer_closes_the_account_until_voided(ledger: Ledger) -> None:
    funded(ledger)
    closing = move(2, PURSE, BANK, 1, flags=F.PENDING | F.CLOSING_DEBIT)
    assert ledger.create_transfers([closing]) == []
    assert ledger.lookup_accounts([PURSE])[0].closed
    assert ledger.create_transfers([move(3, PURSE, BANK, 1)]) == [
        TransferError(0, R.DEBIT_ACCOUNT_ALREADY_CLOSED)
    ]
    assert ledger.create_transfers([move(4, CASH, PURSE, 1)]) == [
        TransferError(0, R.CREDIT_ACCOUNT_ALREADY_CLOSED)
    ]
    assert ledger.create_transfers([Transfer(5, pending_id=2, flags=VOID)]) == []
    assert not ledger.lookup_accounts([PURSE])[0].closed
    assert ledger.create_transfers([move(6, PURSE, BANK, 1)]) == []
    assert ledger.verify().ok


def test_posting_a_closing_transfer_keeps_the_account_closed(ledger: Ledger) -> None:
    funded(ledger, 10)
    closing = move(2, BANK, CASH, 1, flags=F.PENDING | F.CLOSING_CREDIT)
    pending_elsewhere = move(3, PURSE, CASH, 4, flags=F.PENDING)
    assert ledger.create_transfers([pending_elsewhere, closing]) == []
    assert ledger.create_transfers([Transfer(4, pending_id=2, flags=POST)]) == []
    assert ledger.lookup_accounts([CASH])[0].closed
    # A transfer held before the close cannot be posted into the closed account ...
    assert ledger.create_transfers([Transfer(5, pending_id=3, flags=POST)]) == [
        TransferError(0, R.CREDIT_ACCOUNT_ALREADY_CLOSED)
    ]
    # ... but it can be voided.
    assert ledger.create_transfers([Transfer(6, pending_id=3, flags=VOID)]) == []
    assert ledger.verify().ok


def test_an_expired_closing_transfer_reopens_the_account(ledger: Ledger, clock: FixedClock) -> None:
    closing = move(2, CASH, BANK, 1, flags=F.PENDING | F.CLOSING_DEBIT, timeout=10)
    assert ledger.create_transfers([closing]) == []
    assert ledger.lookup_accounts([CASH])[0].closed
    clock.advance(timedelta(seconds=10))
    assert ledger.expire_pending_transfers() == (2,)
    assert not ledger.lookup_accounts([CASH])[0].closed
    assert ledger.verify().ok
