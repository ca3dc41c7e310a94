"""The notification records other code reads: inbox messages and outbox rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smartcity.kernel.notify.categories import Category, Channel


@dataclass(frozen=True, slots=True)
class InboxMessage:
    """One message in one account's inbox."""

    id: int
    account_id: int
    category: Category
    template: str
    locale: str
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None = None

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    def to_json(self) -> dict[str, Any]:
        """The message as the API and the realtime stream show it."""
        return {
            "id": self.id,
            "category": self.category.value,
            "title": self.title,
            "body": self.body,
            "link": self.link,
            "template": self.template,
            "locale": self.locale,
            "created_at": self.created_at.isoformat(),
            "read_at": None if self.read_at is None else self.read_at.isoformat(),
            "read": self.is_read,
        }


class OutboxStatus:
    """States of an outbox row: pending (waiting or retrying), sent, failed (gave up)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    ALL = (PENDING, SENT, FAILED)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One SMS or e-mail to deliver (at least once, keyed by ``idempotency_key``)."""

    id: int
    idempotency_key: str
    message_id: int
    account_id: int
    channel: Channel
    recipient: str
    subject: str
    body: str
    status: str
    attempts: int
    not_before: datetime
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "idempotency_key": self.idempotency_key,
            "message_id": self.message_id,
            "account_id": self.account_id,
            "channel": self.channel.value,
            "recipient": self.recipient,
            "subject": self.subject,
            "body": self.body,
            "status": self.status,
            "attempts": self.attempts,
            "not_before": self.not_before.isoformat(),
            "created_at": self.created_at.isoformat(),
            "sent_at": None if self.sent_at is None else self.sent_at.isoformat(),
            "last_error": self.last_error,
        }
