"""Events of the notification module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smartcity.kernel.bus import Event
from smartcity.kernel.notify.models import InboxMessage


@dataclass(frozen=True)
class MessagesCreated(Event):
    """Inbox messages were committed; open pages of their accounts should show them.

    One event per transaction (a bulk notice is one event, not 100,000).
    """

    topic: ClassVar[str] = "notify.messages_created"

    messages: tuple[InboxMessage, ...]
