from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import func, select

from smartcity.kernel.bus import Bus
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.errors import InvalidInput, NotFound
from smartcity.kernel.notify import Category, Channel, Preferences, QuietHours, notify, notify_many
from smartcity.kernel.notify.actions import mark_all_read, mark_read, save_preferences
from smartcity.kernel.notify.events import MessagesCreated
from smartcity.kernel.notify.preferences import read_preferences
from smartcity.kernel.notify.queries import list_inbox, list_outbox, unread_counts
from smartcity.kernel.notify.tables import notify_message, notify_outbox
from smartcity.kernel.storage import Store
from tests.kernel.notify.conftest import BILL, NOTICE, RecordingBus

CITIZEN = 101
OTHER = 202


def save(store: Store, clock: FixedClock, **fields: Any) -> None:
    with store.begin() as conn:
        save_preferences(conn, Preferences(account_id=CITIZEN, **fields), clock.now())


def count(store: Store, table: Any) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_notify_stores_the_message_in_the_account_locale(store: Store, clock: FixedClock) -> None:
    save(store, clock, locale="en")
    with store.begin() as conn:
        english = notify(conn, CITIZEN, "bill_issued", BILL, None, clock.now())
        chinese = notify(conn, OTHER, "bill_issued", BILL, None, clock.now())
    assert english.locale == "en" and english.title.startswith("电力 bill issued")
    assert chinese.locale == "zh_CN" and chinese.title == "电力账单已出：123.45 元"
    with store.connect() as conn:
        page = list_inbox(conn, CITIZEN)
    assert [m.id for m in page.messages] == [english.id]
    assert page.unread == {"bill": 1}
    assert page.messages[0].link == "/me#bill-B-7"


def test_sms_and_email_follow_preferences_and_contacts(store: Store, clock: FixedClock) -> None:
    save(
        store,
        clock,
        channels={Category.BILL: frozenset({Channel.SMS, Channel.EMAIL})},
        phone="13800138000",
        email="li@example.cn",
    )
    with store.begin() as conn:
        message = notify(conn, CITIZEN, "bill_issued", BILL, "bill", clock.now())
        notify(
            conn,
            CITIZEN,
            "card_frozen",
            {"card_suffix": "1234", "frozen_at": "今天", "reason": "挂失"},
            None,
            clock.now(),
        )
    with store.connect() as conn:
        rows = list_outbox(conn)
    assert sorted((r.channel, r.recipient) for r in rows) == [
        (Channel.EMAIL, "li@example.cn"),
        (Channel.SMS, "13800138000"),
    ]
    assert {r.idempotency_key for r in rows} == {
        f"message-{message.id}-sms",
        f"message-{message.id}-email",
    }
    assert all(r.not_before == clock.now() and r.status == "pending" for r in rows)


def test_without_contacts_only_the_inbox_gets_it(store: Store, clock: FixedClock) -> None:
    with store.begin() as conn:
        notify(conn, CITIZEN, "bill_issued", BILL, None, clock.now())  # default: e-mail, no address
        notify(conn, CITIZEN, "bill_issued", BILL, None, clock.now(), email="wang@example.cn")
    with store.connect() as conn:
        assert [r.recipient for r in list_outbox(conn)] == ["wang@example.cn"]
        assert list_inbox(conn, CITIZEN).total == 2


def test_quiet_hours_hold_sms_until_morning_but_not_alerts(store: Store, clock: FixedClock) -> None:
    clock.set(clock.now().replace(hour=15))  # 23:00 in Shanghai
    save(
        store,
        clock,
        channels={
            Category.NOTICE: frozenset({Channel.SMS}),
            Category.ALERT: frozenset({Channel.SMS}),
        },
        quiet_hours=QuietHours.parse("22:00-07:00"),
        phone="13800138000",
    )
    with store.begin() as conn:
        notify(conn, CITIZEN, "notice_published", NOTICE, None, clock.now())
        notify(conn, CITIZEN, "notice_published", NOTICE, Category.ALERT, clock.now())
    with store.connect() as conn:
        by_category = {r.message_id: r.not_before for r in list_outbox(conn)}
        inbox = {m.id: m.category for m in list_inbox(conn, CITIZEN).messages}
    held = {inbox[k]: v for k, v in by_category.items()}
    assert held[Category.ALERT] == clock.now()
    assert held[Category.NOTICE] == clock.now() + timedelta(hours=8)  # 07:00 local


def test_a_failed_caller_transaction_leaves_no_message_no_outbox_and_no_push(
    store: Store, clock: FixedClock
) -> None:
    bus = RecordingBus()
    with pytest.raises(RuntimeError), store.begin() as conn:
        notify(
            conn,
            CITIZEN,
            "bill_issued",
            BILL,
            None,
            clock.now(),
            email="li@example.cn",
            bus=cast(Bus, bus),
        )
        raise RuntimeError("the payment failed after notifying")
    assert count(store, notify_message) == 0
    assert count(store, notify_outbox) == 0
    assert bus.published == []


def test_push_is_published_only_after_commit(store: Store, clock: FixedClock) -> None:
    bus = RecordingBus()
    with store.begin() as conn:
        message = notify(conn, CITIZEN, "bill_issued", BILL, None, clock.now(), bus=cast(Bus, bus))
        assert bus.published == []
    assert bus.published == [MessagesCreated((message,))]


def test_bad_input_is_invalid_input(store: Store, clock: FixedClock) -> None:
    with store.begin() as conn:
        with pytest.raises(InvalidInput, match="unknown category"):
            notify(conn, CITIZEN, "bill_issued", BILL, "weather", clock.now())
        with pytest.raises(InvalidInput, match="needs parameters"):
            notify(conn, CITIZEN, "bill_issued", {}, None, clock.now())
        with pytest.raises(InvalidInput, match="link"):
            notify(
                conn, CITIZEN, "bill_issued", BILL, None, clock.now(), link="javascript:alert(1)"
            )
        with pytest.raises(InvalidInput, match="phone"):
            notify(conn, CITIZEN, "bill_issued", BILL, None, clock.now(), phone="call me")


def test_read_state_is_per_account(store: Store, clock: FixedClock) -> None:
    with store.begin() as conn:
        mine = notify(conn, CITIZEN, "bill_issued", BILL, None, clock.now())
        notify(conn, CITIZEN, "notice_published", NOTICE, None, clock.now())
        theirs = notify(conn, OTHER, "bill_issued", BILL, None, clock.now())
    with store.begin() as conn:
        with pytest.raises(NotFound):
            mark_read(conn, CITIZEN, theirs.id, clock.now())
        read = mark_read(conn, CITIZEN, mine.id, clock.now())
        assert read.is_read
        assert mark_read(conn, CITIZEN, mine.id, clock.now()).read_at == read.read_at
    with store.connect() as conn:
        assert unread_counts(conn, CITIZEN) == {"notice": 1}
        assert unread_counts(conn, OTHER) == {"bill": 1}
        assert list_inbox(conn, CITIZEN, unread_only=True).total == 1
    with store.begin() as conn:
        assert mark_all_read(conn, CITIZEN, clock.now()) == 1
    with store.connect() as conn:
        assert unread_counts(conn, CITIZEN) == {}
        assert unread_counts(conn, OTHER) == {"bill": 1}


def test_inbox_pages_newest_first(store: Store, clock: FixedClock) -> None:
    with store.begin() as conn:
        ids = [
            notify(conn, CITIZEN, "message", {"title": f"t{i}", "body": "b"}, None, clock.now()).id
            for i in range(5)
        ]
    with store.connect() as conn:
        first = list_inbox(conn, CITIZEN, limit=2)
        second = list_inbox(conn, CITIZEN, limit=2, offset=2)
        by_category = list_inbox(conn, CITIZEN, category=Category.BILL)
    assert [m.id for m in first.messages] == ids[::-1][:2]
    assert [m.id for m in second.messages] == ids[::-1][2:4]
    assert first.total == 5 and by_category.total == 0


def test_notify_many_writes_everyone_once_in_their_locale(store: Store, clock: FixedClock) -> None:
    save(
        store,
        clock,
        locale="en",
        channels={Category.NOTICE: frozenset({Channel.SMS})},
        phone="13900000000",
    )
    bus = RecordingBus()
    accounts = [CITIZEN, *range(1000, 1500), 1000]
    with store.begin() as conn:
        notify(conn, OTHER, "bill_issued", BILL, None, clock.now())  # an older message
        written = notify_many(
            conn,
            accounts,
            "notice_published",
            NOTICE,
            None,
            clock.now(),
            bus=cast(Bus, bus),
            bulk_insert=store.bulk_insert,
        )
    assert written == 501
    with store.connect() as conn:
        mine = list_inbox(conn, CITIZEN).messages
        theirs = list_inbox(conn, 1000).messages
        outbox = list_outbox(conn)
        ids = conn.execute(select(notify_message.c.id)).scalars().all()
    assert mine[0].locale == "en" and mine[0].title.startswith("Notice from")
    assert theirs[0].locale == "zh_CN" and len(theirs) == 1
    assert [(r.account_id, r.message_id) for r in outbox] == [(CITIZEN, mine[0].id)]
    assert len(set(ids)) == 502
    (event,) = bus.published
    assert isinstance(event, MessagesCreated) and len(event.messages) == 501


def test_preferences_round_trip(store: Store, clock: FixedClock) -> None:
    save(
        store,
        clock,
        locale="en",
        channels={Category.BILL: frozenset({Channel.SMS})},
        quiet_hours=QuietHours.parse("23:30-06:15"),
        phone="+8613800138000",
    )
    with store.connect() as conn:
        saved = read_preferences(conn, CITIZEN)
        default = read_preferences(conn, OTHER)
    assert saved.locale == "en" and str(saved.quiet_hours) == "23:30-06:15"
    assert saved.channels_for(Category.BILL) == {Channel.SMS}
    assert saved.channels_for(Category.ALERT) == frozenset()
    assert default.channels_for(Category.ALERT) == {Channel.SMS}
    assert default.quiet_hours is None
