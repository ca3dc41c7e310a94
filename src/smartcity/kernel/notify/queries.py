"""Reading the inbox and the outbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, func, select

from smartcity.kernel.errors import InvalidInput, NotFound
from smartcity.kernel.notify.categories import Category, Channel
from smartcity.kernel.notify.models import InboxMessage, OutboxRow, OutboxStatus
from smartcity.kernel.notify.tables import notify_message, notify_outbox

MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class InboxPage:
    """One page of an inbox, newest first, with the unread counts of the whole inbox."""

    messages: tuple[InboxMessage, ...]
    total: int
    unread: Mapping[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "messages": [m.to_json() for m in self.messages],
            "total": self.total,
            "unread": dict(self.unread),
            "unread_total": sum(self.unread.values()),
        }


def message_from_row(row: RowMapping) -> InboxMessage:
    return InboxMessage(
        id=int(row["id"]),
        account_id=int(row["account_id"]),
        category=Category(row["category"]),
        template=row["template"],
        locale=row["locale"],
        title=row["title"],
        body=row["body"],
        link=row["link"],
        created_at=row["created_at"],
        read_at=row["read_at"],
    )


def outbox_from_row(row: RowMapping) -> OutboxRow:
    return OutboxRow(
        id=int(row["id"]),
        idempotency_key=row["idempotency_key"],
        message_id=int(row["message_id"]),
        account_id=int(row["account_id"]),
        channel=Channel(row["channel"]),
        recipient=row["recipient"],
        subject=row["subject"],
        body=row["body"],
        status=row["status"],
        attempts=int(row["attempts"]),
        not_before=row["not_before"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        last_error=row["last_error"],
    )


def check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", part="limit")
    if offset < 0:
        raise InvalidInput("offset must not be negative", part="offset")


def read_message(conn: Connection, account_id: int, message_id: int) -> InboxMessage:
    """One of the account's messages; another account's message is NotFound too."""
    row = conn.execute(
        select(notify_message).where(
            notify_message.c.id == message_id, notify_message.c.account_id == account_id
        )
    ).first()
    if row is None:
        raise NotFound(f"no message {message_id} in this inbox", message=message_id)
    return message_from_row(row._mapping)


def unread_counts(conn: Connection, account_id: int) -> dict[str, int]:
    """Unread messages per category (categories with none are left out)."""
    rows = conn.execute(
        select(notify_message.c.category, func.count())
        .where(notify_message.c.account_id == account_id, notify_message.c.read_at.is_(None))
        .group_by(notify_message.c.category)
    )
    return {str(category): int(count) for category, count in rows}


def list_inbox(
    conn: Connection,
    account_id: int,
    *,
    unread_only: bool = False,
    category: Category | None = None,
    limit: int = 20,
    offset: int = 0,
) -> InboxPage:
    """A page of the account's inbox, newest first."""
    check_page(limit, offset)
    conditions = [notify_message.c.account_id == account_id]
    if unread_only:
        conditions.append(notify_message.c.read_at.is_(None))
    if category is not None:
        conditions.append(notify_message.c.category == category.value)
    rows = conn.execute(
        select(notify_message)
        .where(*conditions)
        .order_by(notify_message.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    messages = tuple(message_from_row(r._mapping) for r in rows)
    total = conn.execute(select(func.count()).select_from(notify_message).where(*conditions))
    return InboxPage(messages, int(total.scalar_one()), unread_counts(conn, account_id))


def list_outbox(
    conn: Connection,
    *,
    status: str | None = None,
    account_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[OutboxRow]:
    """Outbox rows, newest first, optionally of one status or one account."""
    check_page(limit, offset)
    statement = select(notify_outbox)
    if status is not None:
        if status not in OutboxStatus.ALL:
            raise InvalidInput(
                f"unknown outbox status {status!r} (known: {', '.join(OutboxStatus.ALL)})",
                part="status",
            )
        statement = statement.where(notify_outbox.c.status == status)
    if account_id is not None:
        statement = statement.where(notify_outbox.c.account_id == account_id)
    rows = conn.execute(statement.order_by(notify_outbox.c.id.desc()).limit(limit).offset(offset))
    return [outbox_from_row(r._mapping) for r in rows]


def messages_after(
    conn: Connection, account_id: int, after_id: int, limit: int = MAX_PAGE
) -> list[InboxMessage]:
    """The account's messages newer than ``after_id``, oldest first (stream resumption)."""
    rows = conn.execute(
        select(notify_message)
        .where(notify_message.c.account_id == account_id, notify_message.c.id > after_id)
        .order_by(notify_message.c.id)
        .limit(limit)
    )
    return [message_from_row(r._mapping) for r in rows]
