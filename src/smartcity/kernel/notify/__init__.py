"""Notifications: inbox per account, realtime push, SMS and e-mail through an outbox.

Other modules call :func:`notify` (or :func:`notify_many`) inside their own transaction:
the inbox message and its outbox rows commit together with the caller's change, or not at
all. The :class:`~smartcity.kernel.notify.dispatcher.Dispatcher` delivers outbox rows
through pluggable :class:`~smartcity.kernel.notify.senders.Sender` s, and the
:class:`~smartcity.kernel.notify.feed.InboxFeed` pushes new messages to open pages.
See ``docs/kernel/notify.md``.
"""

from smartcity.kernel.notify.actions import mark_all_read, mark_read, notify, notify_many
from smartcity.kernel.notify.categories import Category, Channel
from smartcity.kernel.notify.models import InboxMessage, OutboxRow
from smartcity.kernel.notify.preferences import Preferences, QuietHours

__all__ = [
    "Category",
    "Channel",
    "InboxMessage",
    "OutboxRow",
    "Preferences",
    "QuietHours",
    "mark_all_read",
    "mark_read",
    "notify",
    "notify_many",
]
