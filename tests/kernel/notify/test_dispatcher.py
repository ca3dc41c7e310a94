from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.notify import Category, Channel, Preferences, notify
from smartcity.kernel.notify.actions import save_preferences
from smartcity.kernel.notify.dispatcher import Dispatcher
from smartcity.kernel.notify.models import OutboxRow
from smartcity.kernel.notify.outbox import RetryPolicy, claim_due
from smartcity.kernel.notify.queries import list_outbox
from smartcity.kernel.notify.senders import LogSender, SendFailed, SmtpAddress, SmtpSender, read_log
from smartcity.kernel.storage import Store
from tests.kernel.notify.conftest import BILL
from tests.kernel.notify.smtp_receiver import SmtpReceiver

CITIZEN = 101
POLICY = RetryPolicy(max_attempts=3, first_delay=timedelta(seconds=10), lease=timedelta(minutes=1))


class FailingSender:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[str] = []

    def send(self, row: OutboxRow, now: datetime) -> None:
        self.calls.append(row.idempotency_key)
        if self.failures > 0:
            self.failures -= 1
            raise SendFailed("gateway unavailable")


def queue_email(store: Store, clock: FixedClock) -> int:
    with store.begin() as conn:
        save_preferences(
            conn,
            Preferences(
                account_id=CITIZEN,
                channels={Category.BILL: frozenset({Channel.EMAIL})},
                email="li@example.cn",
            ),
            clock.now(),
        )
        return notify(conn, CITIZEN, "bill_issued", BILL, None, clock.now()).id


def only_row(store: Store) -> OutboxRow:
    with store.connect() as conn:
        (row,) = list_outbox(conn)
    return row


def test_failures_back_off_exponentially_then_succeed(store: Store, clock: FixedClock) -> None:
    queue_email(store, clock)
    sender = FailingSender(failures=2)
    dispatcher = Dispatcher(store, clock, {Channel.EMAIL: sender}, POLICY)
    assert dispatcher.drain_once().retrying == 1
    row = only_row(store)
    assert (row.attempts, row.status, row.last_error) == (1, "pending", "gateway unavailable")
    assert row.not_before == clock.now() + timedelta(seconds=10)
    assert dispatcher.drain_once().claimed == 0  # not due yet
    clock.advance(timedelta(seconds=10))
    assert dispatcher.drain_once().retrying == 1
    assert only_row(store).not_before == clock.now() + timedelta(seconds=20)
    clock.advance(timedelta(seconds=20))
    assert dispatcher.drain_once().sent == 1
    row = only_row(store)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 3, clock.now())
    assert len(set(sender.calls)) == 1 and len(sender.calls) == 3  # one key for every try


def test_after_the_last_attempt_the_row_fails(store: Store, clock: FixedClock) -> None:
    queue_email(store, clock)
    dispatcher = Dispatcher(store, clock, {Channel.EMAIL: FailingSender(failures=99)}, POLICY)
    for _ in range(POLICY.max_attempts):
        dispatcher.drain_once()
        clock.advance(timedelta(hours=1))
    row = only_row(store)
    assert (row.status, row.attempts) == ("failed", 3)
    assert dispatcher.drain_once().claimed == 0


def test_a_claim_lost_in_a_crash_is_sent_again_after_its_lease(
    store: Store, clock: FixedClock
) -> None:
    queue_email(store, clock)
    with store.begin() as conn:
        (claimed,) = claim_due(conn, clock.now(), 10, POLICY)  # then the process dies
    sender = FailingSender(failures=0)
    dispatcher = Dispatcher(store, clock, {Channel.EMAIL: sender}, POLICY)
    assert dispatcher.drain_once().claimed == 0
    clock.advance(POLICY.lease)
    assert dispatcher.drain_once().sent == 1
    assert sender.calls == [claimed.idempotency_key]


def test_log_sender_appends_json_lines(store: Store, clock: FixedClock, tmp_path: Path) -> None:
    message_id = queue_email(store, clock)
    log_path = tmp_path / "outbox.log"
    Dispatcher(store, clock, {Channel.EMAIL: LogSender(log_path)}, POLICY).drain()
    (entry,) = read_log(log_path)
    assert entry["to"] == "li@example.cn"
    assert entry["key"] == f"message-{message_id}-email"
    assert entry["subject"] == "电力账单已出：123.45 元"


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()


def test_smtp_delivery_over_loopback_with_a_retry(
    store: Store, clock: FixedClock, smtp: SmtpReceiver
) -> None:
    message_id = queue_email(store, clock)
    sender = SmtpSender(SmtpAddress.parse(f"smtp://127.0.0.1:{smtp.port}"), "city@gz.example")
    dispatcher = Dispatcher(store, clock, {Channel.EMAIL: sender}, POLICY)
    smtp.fail_next = 1
    assert dispatcher.drain_once().retrying == 1
    assert "451" in (only_row(store).last_error or "")
    clock.advance(timedelta(seconds=10))
    assert dispatcher.drain_once().sent == 1
    (received,) = smtp.received
    assert received.recipients == ["li@example.cn"]
    email = received.message
    assert email["Message-ID"] == f"<message-{message_id}-email@gz.example>"
    assert email["Subject"] == "电力账单已出：123.45 元"
    assert "请于 2026-12-01 前缴纳" in email.get_content()


def test_unreachable_smtp_server_is_a_retry(store: Store, clock: FixedClock) -> None:
    queue_email(store, clock)
    sender = SmtpSender(SmtpAddress.parse("smtp://127.0.0.1:1"), "city@gz.example", timeout=2)
    assert Dispatcher(store, clock, {Channel.EMAIL: sender}, POLICY).drain_once().retrying == 1
    assert "SMTP 127.0.0.1:1" in (only_row(store).last_error or "")
