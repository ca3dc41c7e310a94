"""create_transfers: every result code, idempotent retries, overdraft, overflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.errors import Conflict, InvalidInput, NotFound
from smartcity.kernel.ledger import (
    INT64_MAX,
    LEDGER_CNY,
    Account,
    Ledger,
    Transfer,
    TransferError,
    TransferFlags,
    raise_for_errors,
)
from smartcity.kernel.ledger import CreateTransferResult as R
from smartcity.kernel.storage import Store

from .conftest import BANK, CASH, CODE, DOLLARS, FLOAT, PURSE

F = TransferFlags
Y = LEDGER_CNY


def move(id: int, debit: int, credit: int, amount: int, **fields: int | str) -> Transfer:
    return Transfer(
        id, debit, credit, amount, fields.pop("ledger", Y), fields.pop("code", CODE), **fields
    )  # type: ignore[arg-type]


@pytest.fixture
def book(ledger: Ledger) -> Ledger:
    """100 posted; 101 pending; 102 pending posted by 103; 104 pending voided by 105."""
    errors = ledger.create_transfers(
        [
            move(100, CASH, BANK, 1000),
            move(101, CASH, BANK, 500, flags=F.PENDING, timeout=60),
            move(102, CASH, BANK, 300, flags=F.PENDING),
            Transfer(103, pending_id=102, flags=F.POST_PENDING_TRANSFER),
            move(104, CASH, BANK, 200, flags=F.PENDING),
            Transfer(105, pending_id=104, flags=F.VOID_PENDING_TRANSFER),
        ]
    )
    assert errors == []
    return ledger


POST = F.POST_PENDING_TRANSFER
VOID = F.VOID_PENDING_TRANSFER

CASES: list[tuple[Transfer, R]] = [
    (move(200, CASH, BANK, 1, flags=1 << 12), R.RESERVED_FLAG),
    (move(200, CASH, BANK, 1, timestamp=9), R.TIMESTAMP_MUST_BE_ZERO),
    (move(0, CASH, BANK, 1), R.ID_MUST_NOT_BE_ZERO),
    (move(-5, CASH, BANK, 1), R.ID_OUT_OF_RANGE),
    (move(100, CASH, BANK, 1000, flags=F.PENDING), R.EXISTS_WITH_DIFFERENT_FLAGS),
    (Transfer(103, pending_id=101, flags=POST), R.EXISTS_WITH_DIFFERENT_PENDING_ID),
    (move(101, CASH, BANK, 500, flags=F.PENDING, timeout=61), R.EXISTS_WITH_DIFFERENT_TIMEOUT),
    (move(100, PURSE, BANK, 1000), R.EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID),
    (move(100, CASH, PURSE, 1000), R.EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID),
    (move(100, CASH, BANK, 999), R.EXISTS_WITH_DIFFERENT_AMOUNT),
    (move(100, CASH, BANK, 1000, user_data=1), R.EXISTS_WITH_DIFFERENT_USER_DATA),
    (move(100, CASH, BANK, 1000, reference="r"), R.EXISTS_WITH_DIFFERENT_REFERENCE),
    (move(100, CASH, BANK, 1000, ledger=840), R.EXISTS_WITH_DIFFERENT_LEDGER),
    (move(100, CASH, BANK, 1000, code=2), R.EXISTS_WITH_DIFFERENT_CODE),
    (move(100, CASH, BANK, 1000), R.EXISTS),
    (move(200, CASH, BANK, 1, flags=F.PENDING | POST), R.FLAGS_ARE_MUTUALLY_EXCLUSIVE),
    (move(200, 0, BANK, 1), R.DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO),
    (move(200, -1, BANK, 1), R.DEBIT_ACCOUNT_ID_OUT_OF_RANGE),
    (move(200, CASH, 0, 1), R.CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO),
    (move(200, CASH, INT64_MAX + 1, 1), R.CREDIT_ACCOUNT_ID_OUT_OF_RANGE),
    (move(200, CASH, CASH, 1), R.ACCOUNTS_MUST_BE_DIFFERENT),
    (move(200, CASH, BANK, 1, pending_id=101), R.PENDING_ID_MUST_BE_ZERO),
    (Transfer(200, flags=POST), R.PENDING_ID_MUST_NOT_BE_ZERO),
    (Transfer(200, pending_id=-1, flags=POST), R.PENDING_ID_OUT_OF_RANGE),
    (Transfer(200, pending_id=200, flags=VOID), R.PENDING_ID_MUST_BE_DIFFERENT),
    (move(200, CASH, BANK, 1, timeout=5), R.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER),
    (move(200, CASH, BANK, 1, flags=F.PENDING, timeout=-1), R.TIMEOUT_OUT_OF_RANGE),
    (move(200, CASH, BANK, 1, flags=F.CLOSING_DEBIT), R.CLOSING_TRANSFER_MUST_BE_PENDING),
    (move(200, CASH, BANK, 0), R.AMOUNT_MUST_NOT_BE_ZERO),
    (move(200, CASH, BANK, -100), R.AMOUNT_MUST_NOT_BE_NEGATIVE),
    (move(200, CASH, BANK, INT64_MAX + 1), R.AMOUNT_OUT_OF_RANGE),
    (move(200, CASH, BANK, 1, ledger=0), R.LEDGER_MUST_NOT_BE_ZERO),
    (move(200, CASH, BANK, 1, ledger=-1), R.LEDGER_OUT_OF_RANGE),
    (move(200, CASH, BANK, 1, code=0), R.CODE_MUST_NOT_BE_ZERO),
    (move(200, CASH, BANK, 1, code=2**31), R.CODE_OUT_OF_RANGE),
    (move(200, CASH, BANK, 1, user_data=-1), R.USER_DATA_OUT_OF_RANGE),
    (move(200, CASH, BANK, 1, reference="票" * 65), R.REFERENCE_TOO_LONG),
    (move(200, 999, BANK, 1), R.DEBIT_ACCOUNT_NOT_FOUND),
    (move(200, CASH, 999, 1), R.CREDIT_ACCOUNT_NOT_FOUND),
    (move(200, CASH, DOLLARS, 1), R.ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER),
    (move(200, CASH, BANK, 1, ledger=840), R.TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS),
    (Transfer(200, pending_id=999, flags=POST), R.PENDING_TRANSFER_NOT_FOUND),
    (Transfer(200, pending_id=100, flags=POST), R.PENDING_TRANSFER_NOT_PENDING),
    (
        Transfer(200, PURSE, pending_id=101, flags=POST),
        R.PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID,
    ),
    (
        Transfer(200, 0, PURSE, pending_id=101, flags=POST),
        R.PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID,
    ),
    (
        Transfer(200, ledger=840, pending_id=101, flags=POST),
        R.PENDING_TRANSFER_HAS_DIFFERENT_LEDGER,
    ),
    (Transfer(200, code=2, pending_id=101, flags=POST), R.PENDING_TRANSFER_HAS_DIFFERENT_CODE),
    (Transfer(200, amount=501, pending_id=101, flags=POST), R.EXCEEDS_PENDING_TRANSFER_AMOUNT),
    (
        Transfer(200, amount=499, pending_id=101, flags=VOID),
        R.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT,
    ),
    (Transfer(200, pending_id=102, flags=POST), R.PENDING_TRANSFER_ALREADY_POSTED),
    (Transfer(200, pending_id=104, flags=VOID), R.PENDING_TRANSFER_ALREADY_VOIDED),
    (move(200, PURSE, BANK, 1), R.EXCEEDS_CREDITS),
    (move(200, CASH, FLOAT, 1), R.EXCEEDS_DEBITS),
]

# Codes that need a state of their own: tested by the functions named here.
ELSEWHERE = {
    R.OK: "everywhere",
    R.LINKED_EVENT_FAILED: "test_linked.py",
    R.LINKED_EVENT_CHAIN_OPEN: "test_linked.py",
    R.PENDING_TRANSFER_EXPIRED: "test_two_phase.py",
    R.DEBIT_ACCOUNT_ALREADY_CLOSED: "test_two_phase.py (closing transfers)",
    R.CREDIT_ACCOUNT_ALREADY_CLOSED: "test_two_phase.py (closing transfers)",
    R.OVERFLOWS_DEBITS_PENDING: "test_balances_never_overflow",
    R.OVERFLOWS_CREDITS_PENDING: "test_balances_never_overflow",
    R.OVERFLOWS_DEBITS_POSTED: "test_balances_never_overflow",
    R.OVERFLOWS_CREDITS_POSTED: "test_balances_never_overflow",
    R.OVERFLOWS_DEBITS: "test_balances_never_overflow",
    R.OVERFLOWS_CREDITS: "test_balances_never_overflow",
    R.OVERFLOWS_TIMEOUT: "test_a_timeout_past_the_end_of_time_overflows",
}


def test_every_transfer_result_code_is_tested() -> None:
    assert {result for _, result in CASES} | set(ELSEWHERE) == set(R)


@pytest.mark.parametrize(("transfer", "result"), CASES, ids=[r.value for _, r in CASES])
def test_each_invalid_transfer_gets_its_result_and_changes_nothing(
    book: Ledger, transfer: Transfer, result: R
) -> None:
    before = book.lookup_accounts([CASH, BANK, PURSE, FLOAT, DOLLARS])
    assert book.create_transfers([transfer]) == [TransferError(0, result)]
    assert book.lookup_accounts([CASH, BANK, PURSE, FLOAT, DOLLARS]) == before
    if transfer.id == 200:
        assert book.lookup_transfers([200]) == []
    assert book.verify().ok


def test_posted_transfer_moves_balances_on_both_sides(ledger: Ledger) -> None:
    assert (
        ledger.create_transfers([move(1, CASH, PURSE, 2500, user_data=9, reference="缴费")]) == []
    )
    cash, purse = ledger.lookup_accounts([CASH, PURSE])
    assert (cash.debits_posted, cash.credits_posted) == (2500, 0)
    assert (purse.credits_posted, purse.balance) == (2500, 2500)
    (stored,) = ledger.lookup_transfers([1])
    assert (stored.amount, stored.user_data, stored.reference) == (2500, 9, "缴费")
    assert stored.timestamp > 0


def test_retrying_a_batch_has_no_effect_and_says_exists(ledger: Ledger) -> None:
    batch = [move(1, CASH, BANK, 10), move(2, BANK, CASH, 3)]
    assert ledger.create_transfers(batch) == []
    assert ledger.create_transfers(batch) == [
        TransferError(0, R.EXISTS),
        TransferError(1, R.EXISTS),
    ]
    (cash,) = ledger.lookup_accounts([CASH])
    assert (cash.debits_posted, cash.credits_posted) == (10, 3)


def test_the_same_id_twice_in_one_batch_is_applied_once(ledger: Ledger) -> None:
    errors = ledger.create_transfers([move(1, CASH, BANK, 10), move(1, CASH, BANK, 10)])
    assert errors == [TransferError(1, R.EXISTS)]
    assert ledger.lookup_accounts([BANK])[0].credits_posted == 10


def test_no_overdraft_purse_spends_exactly_what_it_holds(ledger: Ledger) -> None:
    assert ledger.create_transfers([move(1, CASH, PURSE, 100)]) == []
    errors = ledger.create_transfers(
        [move(2, PURSE, BANK, 60), move(3, PURSE, BANK, 41), move(4, PURSE, BANK, 40)]
    )
    assert errors == [TransferError(1, R.EXCEEDS_CREDITS)]
    (purse,) = ledger.lookup_accounts([PURSE])
    assert (purse.balance, purse.available) == (0, 0)


def test_pending_debits_count_against_a_no_overdraft_purse(ledger: Ledger) -> None:
    assert ledger.create_transfers([move(1, CASH, PURSE, 100)]) == []
    errors = ledger.create_transfers(
        [move(2, PURSE, BANK, 70, flags=F.PENDING), move(3, PURSE, BANK, 31)]
    )
    assert errors == [TransferError(1, R.EXCEEDS_CREDITS)]
    assert ledger.lookup_accounts([PURSE])[0].available == 30


def test_a_correction_is_a_reversing_transfer(ledger: Ledger) -> None:
    assert ledger.create_transfers([move(1, CASH, BANK, 880)]) == []
    assert ledger.create_transfers([move(2, BANK, CASH, 880, reference="reverses 1")]) == []
    cash, bank = ledger.lookup_accounts([CASH, BANK])
    assert cash.balance == bank.balance == 0
    assert len(ledger.lookup_transfers([1, 2])) == 2


def test_balances_never_overflow(ledger: Ledger) -> None:
    extra = [Account(i, Y, CODE) for i in (11, 12, 13, 14)]
    assert ledger.create_accounts(extra) == []
    assert ledger.create_transfers([move(1, 11, 12, INT64_MAX)]) == []
    assert ledger.create_transfers([move(2, 11, 13, 1)]) == [
        TransferError(0, R.OVERFLOWS_DEBITS_POSTED)
    ]
    assert ledger.create_transfers([move(3, 13, 12, 1)]) == [
        TransferError(0, R.OVERFLOWS_CREDITS_POSTED)
    ]
    assert ledger.create_transfers([move(4, 13, 14, INT64_MAX, flags=F.PENDING)]) == []
    assert ledger.create_transfers([move(5, 13, CASH, 1, flags=F.PENDING)]) == [
        TransferError(0, R.OVERFLOWS_DEBITS_PENDING)
    ]
    assert ledger.create_transfers([move(6, CASH, 14, 1, flags=F.PENDING)]) == [
        TransferError(0, R.OVERFLOWS_CREDITS_PENDING)
    ]
    assert ledger.create_transfers([move(7, 13, CASH, 1)]) == [TransferError(0, R.OVERFLOWS_DEBITS)]
    assert ledger.create_transfers([move(8, CASH, 14, 1)]) == [
        TransferError(0, R.OVERFLOWS_CREDITS)
    ]
    assert ledger.verify().ok


def test_a_timeout_past_the_end_of_time_overflows(store: Store, ledger: Ledger) -> None:
    late = Ledger(store, FixedClock(datetime(2262, 1, 1, tzinfo=UTC)))
    errors = late.create_transfers([move(1, CASH, BANK, 1, flags=F.PENDING, timeout=2**31 - 1)])
    assert errors == [TransferError(0, R.OVERFLOWS_TIMEOUT)]


def test_timestamps_never_run_backwards(store: Store, ledger: Ledger, clock: FixedClock) -> None:
    assert ledger.create_transfers([move(1, CASH, BANK, 1)]) == []
    earlier = Ledger(store, FixedClock(clock.now() - timedelta(hours=1)))
    assert earlier.create_transfers([move(2, CASH, BANK, 1)]) == []
    first, second = ledger.lookup_transfers([1, 2])
    assert second.timestamp > first.timestamp


def test_account_statement_lists_debits_and_credits_in_order(ledger: Ledger) -> None:
    batch = [move(i, CASH if i % 2 else BANK, BANK if i % 2 else CASH, i) for i in range(1, 8)]
    batch.append(move(20, BANK, PURSE, 1))  # not CASH's
    assert ledger.create_transfers(batch) == []
    statement = ledger.account_transfers(CASH)
    assert [t.id for t in statement] == list(range(1, 8))
    page = ledger.account_transfers(CASH, after=statement[2].timestamp, limit=2)
    assert [t.id for t in page] == [4, 5]
    newest = ledger.account_transfers(CASH, newest_first=True, limit=3)
    assert [t.id for t in newest] == [7, 6, 5]
    with pytest.raises(InvalidInput):
        ledger.account_transfers(CASH, limit=0)


def test_failed_events_become_domain_errors_with_a_reason() -> None:
    with pytest.raises(NotFound, match="debit_account_not_found"):
        raise_for_errors([TransferError(0, R.DEBIT_ACCOUNT_NOT_FOUND)])
    with pytest.raises(Conflict, match="exceeds_credits"):
        raise_for_errors(
            [TransferError(0, R.LINKED_EVENT_FAILED), TransferError(1, R.EXCEEDS_CREDITS)]
        )
    with pytest.raises(InvalidInput, match="amount_must_not_be_zero"):
        raise_for_errors([TransferError(0, R.AMOUNT_MUST_NOT_BE_ZERO)])
    with pytest.raises(Conflict):
        raise_for_errors([TransferError(0, R.EXISTS)], allow_exists=False)
    raise_for_errors([TransferError(0, R.EXISTS)])


def test_a_naive_time_is_refused(store: Store, ledger: Ledger) -> None:
    with store.begin() as conn, pytest.raises(InvalidInput):
        from smartcity.kernel.ledger import create_transfers

        create_transfers(conn, [move(1, CASH, BANK, 1)], datetime(2026, 1, 1))


def test_money_that_is_not_an_integer_is_refused_before_anything_happens(ledger: Ledger) -> None:
    for bad in (1.5, True):
        with pytest.raises(InvalidInput, match="amount must be an integer"):
            ledger.create_transfers([move(1, CASH, BANK, 1), move(2, CASH, BANK, bad)])  # type: ignore[arg-type]
    assert ledger.lookup_transfers([1, 2]) == []
    with pytest.raises(InvalidInput, match="code must be an integer"):
        ledger.create_accounts([Account(20, Y, "1")])  # type: ignore[arg-type]
