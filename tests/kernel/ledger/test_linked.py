"""Linked chains: events flagged ``linked`` succeed or fail together."""

from __future__ import annotations

from smartcity.kernel.ledger import CreateTransferResult as R
from smartcity.kernel.ledger import Ledger, Transfer, TransferError, TransferFlags

from .conftest import BANK, CASH, PURSE
from .test_transfers import move

L = TransferFlags.LINKED


def test_a_failing_event_fails_its_whole_chain_and_nothing_else(ledger: Ledger) -> None:
    errors = ledger.create_transfers(
        [
            move(1, CASH, BANK, 10),  # alone
            move(2, CASH, PURSE, 5, flags=L),  # chain: 2, 3, 4
            move(3, PURSE, BANK, 5, flags=L),
            move(4, PURSE, BANK, 1),  # the purse is empty: fails
            move(5, BANK, CASH, 1),  # alone again
        ]
    )
    assert errors == [
        TransferError(1, R.LINKED_EVENT_FAILED),
        TransferError(2, R.LINKED_EVENT_FAILED),
        TransferError(3, R.EXCEEDS_CREDITS),
    ]
    assert [t.id for t in ledger.lookup_transfers([1, 2, 3, 4, 5])] == [1, 5]
    cash, bank, purse = ledger.lookup_accounts([CASH, BANK, PURSE])
    assert (bank.debits_posted, bank.credits_posted) == (1, 10)
    assert (cash.debits_posted, cash.credits_posted) == (10, 1)
    assert (purse.debits_posted, purse.credits_posted) == (0, 0)
    assert ledger.verify().ok


def test_events_after_the_failure_in_a_chain_also_fail(ledger: Ledger) -> None:
    errors = ledger.create_transfers(
        [move(1, CASH, 999, 1, flags=L), move(2, CASH, BANK, 1, flags=L), move(3, CASH, BANK, 1)]
    )
    assert errors == [
        TransferError(0, R.CREDIT_ACCOUNT_NOT_FOUND),
        TransferError(1, R.LINKED_EVENT_FAILED),
        TransferError(2, R.LINKED_EVENT_FAILED),
    ]
    assert ledger.lookup_transfers([1, 2, 3]) == []


def test_a_chain_succeeds_as_a_whole(ledger: Ledger) -> None:
    chain = [move(1, CASH, PURSE, 5, flags=L), move(2, PURSE, BANK, 5)]
    assert ledger.create_transfers(chain) == []
    assert ledger.lookup_accounts([PURSE])[0].balance == 0


def test_a_chain_left_open_fails(ledger: Ledger) -> None:
    errors = ledger.create_transfers([move(1, CASH, BANK, 1), move(2, CASH, BANK, 1, flags=L)])
    assert errors == [TransferError(1, R.LINKED_EVENT_CHAIN_OPEN)]
    assert [t.id for t in ledger.lookup_transfers([1, 2])] == [1]


def test_an_undone_chain_also_undoes_its_pending_transfers_and_postings(ledger: Ledger) -> None:
    assert ledger.create_transfers([move(1, CASH, BANK, 50, flags=TransferFlags.PENDING)]) == []
    errors = ledger.create_transfers(
        [
            Transfer(2, pending_id=1, flags=TransferFlags.POST_PENDING_TRANSFER | L),
            move(3, CASH, BANK, 7, flags=TransferFlags.PENDING | L),
            Transfer(4, pending_id=3, flags=TransferFlags.VOID_PENDING_TRANSFER | L),
            move(5, PURSE, BANK, 1),  # fails
        ]
    )
    assert [e.result for e in errors] == [R.LINKED_EVENT_FAILED] * 3 + [R.EXCEEDS_CREDITS]
    cash, bank = ledger.lookup_accounts([CASH, BANK])
    assert (cash.debits_pending, cash.debits_posted, bank.credits_pending) == (50, 0, 50)
    # The pending transfer is still open and can be posted now.
    assert (
        ledger.create_transfers(
            [Transfer(2, pending_id=1, flags=TransferFlags.POST_PENDING_TRANSFER)]
        )
        == []
    )
    assert ledger.verify().ok


def test_a_retried_chain_reports_exists_and_changes_nothing(ledger: Ledger) -> None:
    chain = [move(1, CASH, PURSE, 5, flags=L), move(2, PURSE, BANK, 5)]
    assert ledger.create_transfers(chain) == []
    errors = ledger.create_transfers(chain)
    # As in TigerBeetle, ``exists`` is not ``ok``: it breaks the chain, which is harmless
    # because the first attempt already applied every event of it.
    assert errors == [TransferError(0, R.EXISTS), TransferError(1, R.LINKED_EVENT_FAILED)]
    assert ledger.lookup_accounts([BANK])[0].credits_posted == 5
