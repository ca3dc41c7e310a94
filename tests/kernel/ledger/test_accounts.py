"""Creating accounts: validation, idempotent retries, linked chains, lookups."""

from __future__ import annotations

import pytest

from smartcity.kernel.ledger import (
    INT64_MAX,
    LEDGER_CNY,
    Account,
    AccountError,
    AccountFlags,
    Ledger,
)
from smartcity.kernel.ledger import CreateAccountResult as R

from .conftest import CASH, CODE, PURSE

LIMITS = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS | AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS


CASES = [
    (Account(10, LEDGER_CNY, CODE, flags=1 << 9), R.RESERVED_FLAG),
    (Account(10, LEDGER_CNY, CODE, timestamp=5), R.TIMESTAMP_MUST_BE_ZERO),
    (Account(0, LEDGER_CNY, CODE), R.ID_MUST_NOT_BE_ZERO),
    (Account(-1, LEDGER_CNY, CODE), R.ID_OUT_OF_RANGE),
    (Account(INT64_MAX + 1, LEDGER_CNY, CODE), R.ID_OUT_OF_RANGE),
    (Account(CASH, LEDGER_CNY, CODE, flags=LIMITS), R.EXISTS_WITH_DIFFERENT_FLAGS),
    (Account(CASH, LEDGER_CNY, CODE, user_data=7), R.EXISTS_WITH_DIFFERENT_USER_DATA),
    (Account(CASH, LEDGER_CNY, CODE, reference="x"), R.EXISTS_WITH_DIFFERENT_REFERENCE),
    (Account(CASH, 840, CODE), R.EXISTS_WITH_DIFFERENT_LEDGER),
    (Account(CASH, LEDGER_CNY, 2), R.EXISTS_WITH_DIFFERENT_CODE),
    (Account(CASH, LEDGER_CNY, CODE), R.EXISTS),
    (Account(10, LEDGER_CNY, CODE, flags=LIMITS), R.FLAGS_ARE_MUTUALLY_EXCLUSIVE),
    (Account(10, LEDGER_CNY, CODE, flags=AccountFlags.CLOSED), R.CLOSED_FLAG_MUST_NOT_BE_SET),
    (Account(10, LEDGER_CNY, CODE, debits_pending=1), R.DEBITS_PENDING_MUST_BE_ZERO),
    (Account(10, LEDGER_CNY, CODE, debits_posted=1), R.DEBITS_POSTED_MUST_BE_ZERO),
    (Account(10, LEDGER_CNY, CODE, credits_pending=1), R.CREDITS_PENDING_MUST_BE_ZERO),
    (Account(10, LEDGER_CNY, CODE, credits_posted=1), R.CREDITS_POSTED_MUST_BE_ZERO),
    (Account(10, 0, CODE), R.LEDGER_MUST_NOT_BE_ZERO),
    (Account(10, 2**31, CODE), R.LEDGER_OUT_OF_RANGE),
    (Account(10, LEDGER_CNY, 0), R.CODE_MUST_NOT_BE_ZERO),
    (Account(10, LEDGER_CNY, -3), R.CODE_OUT_OF_RANGE),
    (Account(10, LEDGER_CNY, CODE, user_data=-1), R.USER_DATA_OUT_OF_RANGE),
    (Account(10, LEDGER_CNY, CODE, reference="x" * 65), R.REFERENCE_TOO_LONG),
]


@pytest.mark.parametrize(("account", "result"), CASES)
def test_each_invalid_account_gets_its_result(ledger: Ledger, account: Account, result: R) -> None:
    assert ledger.create_accounts([account]) == [AccountError(0, result)]
    if result is not R.EXISTS and account.id != CASH:
        assert ledger.lookup_accounts([account.id]) == []


def test_every_account_result_code_is_tested() -> None:
    chains = {R.OK, R.LINKED_EVENT_FAILED, R.LINKED_EVENT_CHAIN_OPEN}  # tests below
    assert chains | {result for _, result in CASES} == set(R)


def test_created_account_reads_back_with_zero_balances_and_clock_timestamp(
    ledger: Ledger,
) -> None:
    assert ledger.create_accounts([Account(10, LEDGER_CNY, 7, user_data=3, reference="户号")]) == []
    (account,) = ledger.lookup_accounts([10])
    assert (account.code, account.user_data, account.reference) == (7, 3, "户号")
    assert account.debits_posted == account.credits_posted == 0
    assert account.timestamp > 0


def test_linked_accounts_are_created_together_or_not_at_all(ledger: Ledger) -> None:
    errors = ledger.create_accounts(
        [
            Account(10, LEDGER_CNY, CODE, flags=AccountFlags.LINKED),
            Account(11, LEDGER_CNY, 0),
            Account(12, LEDGER_CNY, CODE),
        ]
    )
    assert errors == [
        AccountError(0, R.LINKED_EVENT_FAILED),
        AccountError(1, R.CODE_MUST_NOT_BE_ZERO),
    ]
    assert [a.id for a in ledger.lookup_accounts([10, 11, 12])] == [12]


def test_a_chain_left_open_at_the_end_of_the_batch_fails(ledger: Ledger) -> None:
    errors = ledger.create_accounts(
        [
            Account(10, LEDGER_CNY, CODE, flags=AccountFlags.LINKED),
            Account(11, LEDGER_CNY, CODE, flags=AccountFlags.LINKED),
        ]
    )
    assert errors == [
        AccountError(0, R.LINKED_EVENT_FAILED),
        AccountError(1, R.LINKED_EVENT_CHAIN_OPEN),
    ]
    assert ledger.lookup_accounts([10, 11]) == []


def test_lookup_keeps_the_order_asked_and_skips_unknown_ids(ledger: Ledger) -> None:
    found = ledger.lookup_accounts([PURSE, 999, CASH, -4])
    assert [a.id for a in found] == [PURSE, CASH]


def test_list_accounts_pages_in_id_order(ledger: Ledger) -> None:
    first = ledger.list_accounts(limit=2)
    rest = ledger.list_accounts(after_id=first[-1].id, limit=100)
    assert [a.id for a in first + rest] == [1, 2, 3, 4, 5]
    assert [a.id for a in ledger.list_accounts(ledger=840)] == [5]
