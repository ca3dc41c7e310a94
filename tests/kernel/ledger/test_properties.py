"""Property tests: random sequences of ledger operations keep the books balanced.

A state machine sends random batches (plain, pending, posting, voiding, linked, some
invalid), retries batches, lets time pass and runs the expiry job. After every step:
each balance equals the sum of its transfers (``verify``), debits equal credits, no
no-overdraft account is overdrawn, and a simple model replaying only the events the
ledger accepted arrives at exactly the ledger's balances.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.ledger import (
    LEDGER_CNY,
    Account,
    AccountFlags,
    Ledger,
    Transfer,
    TransferError,
    TransferFlags,
)
from smartcity.kernel.ledger import CreateTransferResult as R
from smartcity.kernel.storage import Store, open_store
from tests.conftest import BACKEND, PG_URL, _truncate_all

F = TransferFlags
BANK, FLOAT, PURSE_A, PURSE_B = 1, 2, 3, 4
ACCOUNTS = (BANK, FLOAT, PURSE_A, PURSE_B)
_PG_STORE: list[Store] = []


def _fresh_store(directory: Path) -> Store:
    if BACKEND == "postgres":
        if not _PG_STORE:
            store = open_store(PG_URL)
            store.migrate()
            _PG_STORE.append(store)
        _truncate_all(_PG_STORE[0])
        return _PG_STORE[0]
    store = open_store(f"sqlite:///{directory / 'ledger.db'}")
    store.migrate()
    return store


kinds = st.sampled_from(["plain", "plain", "pending", "post", "void", "bad"])
event_specs = st.tuples(
    kinds,
    st.sampled_from(ACCOUNTS),
    st.sampled_from(ACCOUNTS),
    st.integers(min_value=0, max_value=400),
    st.sampled_from([False, False, True]),  # linked
    st.sampled_from([0, 0, 5, 30]),  # timeout, seconds
    st.integers(min_value=0, max_value=1000),  # which pending to resolve
)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.TemporaryDirectory()
        self.clock = FixedClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
        self.store = _fresh_store(Path(self.directory.name))
        self.ledger = Ledger(self.store, self.clock)
        self.next_id = 1
        self.model = {a: [0, 0, 0, 0] for a in ACCOUNTS}  # dp, dpo, cp, cpo
        self.pending: dict[int, Transfer] = {}  # still pending in the model
        self.sent_pending: list[int] = []
        self.clean_batches: list[list[Transfer]] = []

    @initialize()
    def open_accounts(self) -> None:
        no_overdraft = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
        accounts = [
            Account(BANK, LEDGER_CNY, 1),
            Account(FLOAT, LEDGER_CNY, 2, flags=AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS),
            Account(PURSE_A, LEDGER_CNY, 3, flags=no_overdraft),
            Account(PURSE_B, LEDGER_CNY, 3, flags=no_overdraft),
        ]
        assert self.ledger.create_accounts(accounts) == []

    def _event(self, spec: tuple[str, int, int, int, bool, int, int]) -> Transfer:
        kind, debit, credit, amount, linked, timeout, pick = spec
        transfer_id = self.next_id
        self.next_id += 1
        flags = F.LINKED if linked else F.NONE
        if kind in ("post", "void") and self.sent_pending:
            # Mostly a transfer still pending; now and then one already resolved.
            choices = list(self.pending) if self.pending and pick % 4 else self.sent_pending
            pending_id = choices[pick % len(choices)]
            resolve = F.POST_PENDING_TRANSFER if kind == "post" else F.VOID_PENDING_TRANSFER
            partial = amount if kind == "post" and amount % 3 == 0 else 0
            return Transfer(
                transfer_id, amount=partial, pending_id=pending_id, flags=flags | resolve
            )
        if kind == "pending":
            flags |= F.PENDING
        else:
            timeout = 0
        if kind == "bad":
            amount = -amount
        return Transfer(
            transfer_id, debit, credit, amount, LEDGER_CNY, 1, flags=flags, timeout=timeout
        )

    def _replay(self, transfers: list[Transfer], errors: list[TransferError]) -> None:
        failed = {e.index for e in errors}
        for index, t in enumerate(transfers):
            if index in failed:
                continue
            if t.flags & (F.POST_PENDING_TRANSFER | F.VOID_PENDING_TRANSFER):
                held = self.pending.pop(t.pending_id)
                self.model[held.debit_account_id][0] -= held.amount
                self.model[held.credit_account_id][2] -= held.amount
                if t.flags & F.POST_PENDING_TRANSFER:
                    amount = t.amount or held.amount
                    self.model[held.debit_account_id][1] += amount
                    self.model[held.credit_account_id][3] += amount
            elif t.flags & F.PENDING:
                self.pending[t.id] = t
                self.sent_pending.append(t.id)
                self.model[t.debit_account_id][0] += t.amount
                self.model[t.credit_account_id][2] += t.amount
            else:
                self.model[t.debit_account_id][1] += t.amount
                self.model[t.credit_account_id][3] += t.amount

    @rule(specs=st.lists(event_specs, min_size=1, max_size=6))
    def send_batch(self, specs: list[tuple[str, int, int, int, bool, int, int]]) -> None:
        transfers = [self._event(spec) for spec in specs]
        errors = self.ledger.create_transfers(transfers)
        assert [e.index for e in errors] == sorted({e.index for e in errors})
        self._replay(transfers, errors)
        if not errors:
            self.clean_batches.append(transfers)

    @rule(amount=st.integers(min_value=1, max_value=500), purse=st.sampled_from([PURSE_A, PURSE_B]))
    def top_up(self, amount: int, purse: int) -> None:
        transfer = Transfer(self.next_id, BANK, purse, amount, LEDGER_CNY, 1)
        self.next_id += 1
        assert self.ledger.create_transfers([transfer]) == []
        self._replay([transfer], [])

    @rule(pick=st.integers(min_value=0, max_value=1000))
    def retry_a_batch(self, pick: int) -> None:
        if not self.clean_batches:
            return
        batch = self.clean_batches[pick % len(self.clean_batches)]
        before = self.ledger.lookup_accounts(list(ACCOUNTS))
        errors = self.ledger.create_transfers(batch)
        assert {e.result for e in errors} <= {R.EXISTS, R.LINKED_EVENT_FAILED}
        assert len(errors) == len(batch)
        assert self.ledger.lookup_accounts(list(ACCOUNTS)) == before

    @rule(seconds=st.sampled_from([1, 10, 40]))
    def let_time_pass(self, seconds: int) -> None:
        self.clock.advance(timedelta(seconds=seconds))
        for transfer_id in self.ledger.expire_pending_transfers(limit=2):
            held = self.pending.pop(transfer_id)
            self.model[held.debit_account_id][0] -= held.amount
            self.model[held.credit_account_id][2] -= held.amount

    @invariant()
    def books_balance(self) -> None:
        report = self.ledger.verify()
        assert report.ok, report
        for account in self.ledger.lookup_accounts(list(ACCOUNTS)):
            balances = [
                account.debits_pending,
                account.debits_posted,
                account.credits_pending,
                account.credits_posted,
            ]
            assert balances == self.model[account.id], account
            if account.id in (PURSE_A, PURSE_B):
                assert account.available >= 0

    def teardown(self) -> None:
        if BACKEND != "postgres":
            self.store.close()
        self.directory.cleanup()


LedgerMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedgerMachine = LedgerMachine.TestCase
