"""Result codes of ``create_accounts`` and ``create_transfers``, one per failed event.

Codes are listed in the order they are checked: when several apply, the first wins.
``exists`` is reported too (the event was already applied earlier; it had no effect
now), so a caller that retries knows its first attempt went through.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from smartcity.kernel.errors import Conflict, DomainError, InvalidInput, NotFound


class CreateAccountResult(StrEnum):
    OK = "ok"
    LINKED_EVENT_FAILED = "linked_event_failed"
    LINKED_EVENT_CHAIN_OPEN = "linked_event_chain_open"
    TIMESTAMP_MUST_BE_ZERO = "timestamp_must_be_zero"
    RESERVED_FLAG = "reserved_flag"
    ID_MUST_NOT_BE_ZERO = "id_must_not_be_zero"
    ID_OUT_OF_RANGE = "id_out_of_range"
    EXISTS_WITH_DIFFERENT_FLAGS = "exists_with_different_flags"
    EXISTS_WITH_DIFFERENT_USER_DATA = "exists_with_different_user_data"
    EXISTS_WITH_DIFFERENT_REFERENCE = "exists_with_different_reference"
    EXISTS_WITH_DIFFERENT_LEDGER = "exists_with_different_ledger"
    EXISTS_WITH_DIFFERENT_CODE = "exists_with_different_code"
    EXISTS = "exists"
    FLAGS_ARE_MUTUALLY_EXCLUSIVE = "flags_are_mutually_exclusive"
    CLOSED_FLAG_MUST_NOT_BE_SET = "closed_flag_must_not_be_set"
    DEBITS_PENDING_MUST_BE_ZERO = "debits_pending_must_be_zero"
    DEBITS_POSTED_MUST_BE_ZERO = "debits_posted_must_be_zero"
    CREDITS_PENDING_MUST_BE_ZERO = "credits_pending_must_be_zero"
    CREDITS_POSTED_MUST_BE_ZERO = "credits_posted_must_be_zero"
    LEDGER_MUST_NOT_BE_ZERO = "ledger_must_not_be_zero"
    LEDGER_OUT_OF_RANGE = "ledger_out_of_range"
    CODE_MUST_NOT_BE_ZERO = "code_must_not_be_zero"
    CODE_OUT_OF_RANGE = "code_out_of_range"
    USER_DATA_OUT_OF_RANGE = "user_data_out_of_range"
    REFERENCE_TOO_LONG = "reference_too_long"


class CreateTransferResult(StrEnum):
    OK = "ok"
    LINKED_EVENT_FAILED = "linked_event_failed"
    LINKED_EVENT_CHAIN_OPEN = "linked_event_chain_open"
    TIMESTAMP_MUST_BE_ZERO = "timestamp_must_be_zero"
    RESERVED_FLAG = "reserved_flag"
    ID_MUST_NOT_BE_ZERO = "id_must_not_be_zero"
    ID_OUT_OF_RANGE = "id_out_of_range"
    EXISTS_WITH_DIFFERENT_FLAGS = "exists_with_different_flags"
    EXISTS_WITH_DIFFERENT_PENDING_ID = "exists_with_different_pending_id"
    EXISTS_WITH_DIFFERENT_TIMEOUT = "exists_with_different_timeout"
    EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID = "exists_with_different_debit_account_id"
    EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID = "exists_with_different_credit_account_id"
    EXISTS_WITH_DIFFERENT_AMOUNT = "exists_with_different_amount"
    EXISTS_WITH_DIFFERENT_USER_DATA = "exists_with_different_user_data"
    EXISTS_WITH_DIFFERENT_REFERENCE = "exists_with_different_reference"
    EXISTS_WITH_DIFFERENT_LEDGER = "exists_with_different_ledger"
    EXISTS_WITH_DIFFERENT_CODE = "exists_with_different_code"
    EXISTS = "exists"
    FLAGS_ARE_MUTUALLY_EXCLUSIVE = "flags_are_mutually_exclusive"
    DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO = "debit_account_id_must_not_be_zero"
    DEBIT_ACCOUNT_ID_OUT_OF_RANGE = "debit_account_id_out_of_range"
    CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO = "credit_account_id_must_not_be_zero"
    CREDIT_ACCOUNT_ID_OUT_OF_RANGE = "credit_account_id_out_of_range"
    ACCOUNTS_MUST_BE_DIFFERENT = "accounts_must_be_different"
    PENDING_ID_MUST_BE_ZERO = "pending_id_must_be_zero"
    PENDING_ID_MUST_NOT_BE_ZERO = "pending_id_must_not_be_zero"
    PENDING_ID_OUT_OF_RANGE = "pending_id_out_of_range"
    PENDING_ID_MUST_BE_DIFFERENT = "pending_id_must_be_different"
    TIMEOUT_RESERVED_FOR_PENDING_TRANSFER = "timeout_reserved_for_pending_transfer"
    TIMEOUT_OUT_OF_RANGE = "timeout_out_of_range"
    CLOSING_TRANSFER_MUST_BE_PENDING = "closing_transfer_must_be_pending"
    AMOUNT_MUST_NOT_BE_ZERO = "amount_must_not_be_zero"
    AMOUNT_MUST_NOT_BE_NEGATIVE = "amount_must_not_be_negative"
    AMOUNT_OUT_OF_RANGE = "amount_out_of_range"
    LEDGER_MUST_NOT_BE_ZERO = "ledger_must_not_be_zero"
    LEDGER_OUT_OF_RANGE = "ledger_out_of_range"
    CODE_MUST_NOT_BE_ZERO = "code_must_not_be_zero"
    CODE_OUT_OF_RANGE = "code_out_of_range"
    USER_DATA_OUT_OF_RANGE = "user_data_out_of_range"
    REFERENCE_TOO_LONG = "reference_too_long"
    DEBIT_ACCOUNT_NOT_FOUND = "debit_account_not_found"
    CREDIT_ACCOUNT_NOT_FOUND = "credit_account_not_found"
    ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER = "accounts_must_have_the_same_ledger"
    TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS = (
        "transfer_must_have_the_same_ledger_as_accounts"
    )
    PENDING_TRANSFER_NOT_FOUND = "pending_transfer_not_found"
    PENDING_TRANSFER_NOT_PENDING = "pending_transfer_not_pending"
    PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID = (
        "pending_transfer_has_different_debit_account_id"
    )
    PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID = (
        "pending_transfer_has_different_credit_account_id"
    )
    PENDING_TRANSFER_HAS_DIFFERENT_LEDGER = "pending_transfer_has_different_ledger"
    PENDING_TRANSFER_HAS_DIFFERENT_CODE = "pending_transfer_has_different_code"
    EXCEEDS_PENDING_TRANSFER_AMOUNT = "exceeds_pending_transfer_amount"
    PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT = "pending_transfer_has_different_amount"
    PENDING_TRANSFER_ALREADY_POSTED = "pending_transfer_already_posted"
    PENDING_TRANSFER_ALREADY_VOIDED = "pending_transfer_already_voided"
    PENDING_TRANSFER_EXPIRED = "pending_transfer_expired"
    DEBIT_ACCOUNT_ALREADY_CLOSED = "debit_account_already_closed"
    CREDIT_ACCOUNT_ALREADY_CLOSED = "credit_account_already_closed"
    OVERFLOWS_DEBITS_PENDING = "overflows_debits_pending"
    OVERFLOWS_CREDITS_PENDING = "overflows_credits_pending"
    OVERFLOWS_DEBITS_POSTED = "overflows_debits_posted"
    OVERFLOWS_CREDITS_POSTED = "overflows_credits_posted"
    OVERFLOWS_DEBITS = "overflows_debits"
    OVERFLOWS_CREDITS = "overflows_credits"
    OVERFLOWS_TIMEOUT = "overflows_timeout"
    EXCEEDS_CREDITS = "exceeds_credits"
    EXCEEDS_DEBITS = "exceeds_debits"


@dataclass(frozen=True, slots=True)
class AccountError:
    """The event at ``index`` of the batch was not applied (or already was: ``exists``)."""

    index: int
    result: CreateAccountResult


@dataclass(frozen=True, slots=True)
class TransferError:
    """The event at ``index`` of the batch was not applied (or already was: ``exists``)."""

    index: int
    result: CreateTransferResult


_NOT_FOUND = frozenset(
    {
        CreateTransferResult.DEBIT_ACCOUNT_NOT_FOUND,
        CreateTransferResult.CREDIT_ACCOUNT_NOT_FOUND,
        CreateTransferResult.PENDING_TRANSFER_NOT_FOUND,
    }
)
_CONFLICT_PREFIXES = ("exists_with_different_", "pending_transfer_already_")
_CONFLICT = frozenset(
    {
        CreateTransferResult.EXISTS,
        CreateTransferResult.PENDING_TRANSFER_EXPIRED,
        CreateTransferResult.DEBIT_ACCOUNT_ALREADY_CLOSED,
        CreateTransferResult.CREDIT_ACCOUNT_ALREADY_CLOSED,
        CreateTransferResult.EXCEEDS_CREDITS,
        CreateTransferResult.EXCEEDS_DEBITS,
    }
)


def error_for(result: CreateAccountResult | CreateTransferResult, index: int) -> DomainError:
    """The domain error (and so the HTTP status) a caller should raise for a failed event.

    Unknown accounts or pending transfers are 404; a clash with what already happened
    (an id reused with other fields, a resolved or expired pending transfer, a closed
    or overdrawn account) is 409; every malformed field is 422.
    """
    reason = f"event {index}: {result.value}"
    if result in _NOT_FOUND:
        return NotFound(reason, result=result.value, index=index)
    if result in _CONFLICT or result.value.startswith(_CONFLICT_PREFIXES):
        return Conflict(reason, result=result.value, index=index)
    return InvalidInput(reason, result=result.value, index=index)


def raise_for_errors(
    errors: Iterable[AccountError | TransferError], *, allow_exists: bool = True
) -> None:
    """Raise the domain error of the first failed event; ``exists`` passes unless refused.

    For callers that submit one logical operation and want a 4xx with a reason rather
    than a list of codes. Call it inside the caller's transaction so a failure rolls
    back the caller's own writes as well.
    """
    failed = [e for e in errors if not (allow_exists and e.result.value == "exists")]
    if not failed:
        return
    # The event that broke a linked chain says why; its neighbours only say that it did.
    cause = next((e for e in failed if e.result.value != "linked_event_failed"), failed[0])
    raise error_for(cause.result, cause.index)
