"""The write path of notifications.

:func:`notify` and :func:`notify_many` join the caller's transaction: the inbox message,
its SMS/e-mail outbox rows and the caller's own change commit together or not at all, so
a crash never loses a notification nor sends one for a change that did not happen.
Pushing to open pages happens only after that transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, text, update

from smartcity.kernel.bus import Bus
from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.notify.categories import Category, Channel, parse_category
from smartcity.kernel.notify.commit_hooks import publish_on_commit
from smartcity.kernel.notify.events import MessagesCreated
from smartcity.kernel.notify.models import InboxMessage, OutboxStatus
from smartcity.kernel.notify.preferences import (
    Preferences,
    check_email,
    check_phone,
    preference_row,
    read_many_preferences,
    read_preferences,
)
from smartcity.kernel.notify.queries import read_message
from smartcity.kernel.notify.tables import notify_message, notify_outbox, notify_preference
from smartcity.kernel.notify.templates import (
    DEFAULT_LOCALE,
    ParamValue,
    Rendered,
    TemplateCatalogue,
    shipped_templates,
)

MAX_LINK_LENGTH = 2000

# ``Store.bulk_insert``: executemany on SQLite, COPY on PostgreSQL.
BulkInsert = Callable[[Connection, Table, Sequence[Mapping[str, Any]]], int]


def _category(category: Category | str | None, rendered: Rendered) -> Category:
    if category is None:
        return rendered.category
    return category if isinstance(category, Category) else parse_category(category)


def _check_link(link: str | None) -> str | None:
    if link is None or link == "":
        return None
    if any(ord(character) < 32 for character in link):
        raise InvalidInput("a link must not contain control characters", part="link")
    if len(link) > MAX_LINK_LENGTH:
        raise InvalidInput(f"a link is at most {MAX_LINK_LENGTH} characters", part="link")
    # Only our own pages or the web: no javascript: or data: links in an inbox.
    if not (link.startswith("/") or link.startswith("https://") or link.startswith("http://")):
        raise InvalidInput("a link must be a path (/...) or an http(s) URL", part="link")
    return link


def _outbox_text(channel: Channel, rendered: Rendered) -> str:
    if channel is Channel.SMS:
        return (
            f"{rendered.title}: {rendered.body}"
            if rendered.locale == "en"
            else (f"【智慧城市】{rendered.title}：{rendered.body}")
        )
    lines = [rendered.body]
    if rendered.link:
        lines.append(rendered.link)
    return "\n\n".join(lines)


def _outbox_rows(
    message_id: int,
    account_id: int,
    category: Category,
    rendered: Rendered,
    preferences: Preferences,
    now: datetime,
    contacts: Mapping[Channel, str | None],
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    channels = preferences.channels_for(category)
    if not channels:
        return rows
    not_before = preferences.release_time(category, now)
    for channel in sorted(channels):
        recipient = contacts.get(channel) or preferences.contact(channel)
        if not recipient:
            continue  # no phone or address on file: the inbox alone carries it
        rows.append(
            {
                "idempotency_key": f"message-{message_id}-{channel.value}",
                "message_id": message_id,
                "account_id": account_id,
                "channel": channel.value,
                "recipient": recipient,
                "subject": rendered.title,
                "body": _outbox_text(channel, rendered),
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "not_before": not_before,
                "created_at": now,
                "sent_at": None,
                "last_error": None,
            }
        )
    return rows


def notify(
    conn: Connection,
    account_id: int,
    template: str,
    params: Mapping[str, ParamValue],
    category: Category | str | None,
    now: datetime,
    *,
    link: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    bus: Bus | None = None,
    default_locale: str = DEFAULT_LOCALE,
    templates: TemplateCatalogue | None = None,
) -> InboxMessage:
    """Notify one account inside the caller's transaction ``conn``.

    Renders ``template`` with ``params`` in the account's locale, stores the inbox
    message and, per the account's preferences, queues SMS and/or e-mail in the outbox
    (held until quiet hours end, unless the category is urgent). ``category`` None means
    the template's own. ``link`` overrides the template's link. ``phone``/``email``
    override the contacts saved in the preferences for this message. With ``bus``, the
    message is pushed to the account's open pages after the transaction commits.
    Unknown templates, missing parameters and bad categories raise InvalidInput.
    """
    catalogue = templates or shipped_templates()
    preferences = read_preferences(conn, account_id, default_locale)
    rendered = catalogue.render(template, preferences.locale, params)
    chosen = _category(category, rendered)
    chosen_link = _check_link(link if link is not None else rendered.link)
    contacts = {Channel.SMS: check_phone(phone), Channel.EMAIL: check_email(email)}
    result = conn.execute(
        insert(notify_message).values(
            account_id=account_id,
            category=chosen.value,
            template=rendered.template,
            locale=rendered.locale,
            title=rendered.title,
            body=rendered.body,
            link=chosen_link,
            created_at=now,
            read_at=None,
        )
    )
    key = result.inserted_primary_key
    if key is None:  # every backend we support returns it; say so if one does not
        raise RuntimeError("the database did not return the new message id")
    message_id = int(key[0])
    outbox = _outbox_rows(message_id, account_id, chosen, rendered, preferences, now, contacts)
    if outbox:
        conn.execute(insert(notify_outbox), outbox)
    message = InboxMessage(
        id=message_id,
        account_id=account_id,
        category=chosen,
        template=rendered.template,
        locale=rendered.locale,
        title=rendered.title,
        body=rendered.body,
        link=chosen_link,
        created_at=now,
    )
    if bus is not None:
        publish_on_commit(conn, bus, MessagesCreated((message,)))
    return message


def _allocate_message_ids(conn: Connection, count: int) -> list[int]:
    """``count`` fresh ids for ``notify_message``, so bulk rows can name their outbox rows.

    PostgreSQL draws them from the column's sequence (safe under concurrency). SQLite
    writers hold the database lock (``BEGIN IMMEDIATE``) for the whole transaction, so the
    current maximum cannot move under us.
    """
    if conn.dialect.name == "postgresql":
        # One array instead of 100,000 result rows: the fetch, not nextval, was the cost.
        drawn = conn.execute(
            text(
                "SELECT array_agg(nextval(pg_get_serial_sequence('notify_message', 'id'))) "
                "FROM generate_series(1, :count)"
            ),
            {"count": count},
        ).scalar_one()
        return [int(value) for value in drawn]
    highest = conn.execute(select(func.coalesce(func.max(notify_message.c.id), 0))).scalar_one()
    return list(range(int(highest) + 1, int(highest) + 1 + count))


def notify_many(
    conn: Connection,
    account_ids: Iterable[int],
    template: str,
    params: Mapping[str, ParamValue],
    category: Category | str | None,
    now: datetime,
    *,
    link: str | None = None,
    bus: Bus | None = None,
    default_locale: str = DEFAULT_LOCALE,
    templates: TemplateCatalogue | None = None,
    bulk_insert: BulkInsert | None = None,
) -> int:
    """Notify many accounts with the same template and parameters in one transaction.

    Renders once per locale, reads saved preferences in chunks, and writes messages and
    outbox rows with one bulk statement each (``executemany``/``COPY`` through the
    store's ``bulk_insert`` when given: pass ``store.bulk_insert``). Duplicate account ids
    are notified once. Returns the number of messages written.
    """
    accounts = list(dict.fromkeys(account_ids))
    if not accounts:
        return 0
    catalogue = templates or shipped_templates()
    rendered_by_locale: dict[str, Rendered] = {}

    def rendered_in(locale: str) -> Rendered:
        found = rendered_by_locale.get(locale)
        if found is None:
            found = catalogue.render(template, locale, params)
            rendered_by_locale[locale] = found
        return found

    first = rendered_in(default_locale)  # unknown template or missing params fail up front
    chosen = _category(category, first)
    saved = read_many_preferences(conn, accounts, default_locale)
    ids = _allocate_message_ids(conn, len(accounts))
    messages: list[dict[str, Any]] = []
    outbox: list[dict[str, Any]] = []
    pushed: list[InboxMessage] = []
    default_link = _check_link(link) if link is not None else None
    no_contacts: dict[Channel, str | None] = {}
    for message_id, account_id in zip(ids, accounts, strict=True):
        preferences = saved.get(account_id)
        rendered = rendered_in(preferences.locale if preferences else default_locale)
        message_link = default_link if link is not None else _check_link(rendered.link)
        messages.append(
            {
                "id": message_id,
                "account_id": account_id,
                "category": chosen.value,
                "template": rendered.template,
                "locale": rendered.locale,
                "title": rendered.title,
                "body": rendered.body,
                "link": message_link,
                "created_at": now,
                # read_at is left out: NULL by default, and one bind conversion less per row.
            }
        )
        if preferences is not None:
            outbox.extend(
                _outbox_rows(
                    message_id, account_id, chosen, rendered, preferences, now, no_contacts
                )
            )
        if bus is not None:
            pushed.append(
                InboxMessage(
                    message_id,
                    account_id,
                    chosen,
                    rendered.template,
                    rendered.locale,
                    rendered.title,
                    rendered.body,
                    message_link,
                    now,
                )
            )
    bulk = bulk_insert or _plain_bulk_insert
    bulk(conn, notify_message, messages)
    if outbox:
        bulk(conn, notify_outbox, outbox)
    if bus is not None:
        publish_on_commit(conn, bus, MessagesCreated(tuple(pushed)))
    return len(messages)


def _plain_bulk_insert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    conn.execute(insert(table), list(rows))
    return len(rows)


def mark_read(conn: Connection, account_id: int, message_id: int, now: datetime) -> InboxMessage:
    """Mark one of the account's messages read (again is fine); another's is NotFound."""
    message = read_message(conn, account_id, message_id)
    if message.read_at is not None:
        return message
    conn.execute(
        update(notify_message)
        .where(notify_message.c.id == message_id, notify_message.c.account_id == account_id)
        .values(read_at=now)
    )
    return replace(message, read_at=now)


def mark_all_read(
    conn: Connection, account_id: int, now: datetime, category: Category | None = None
) -> int:
    """Mark every unread message of the account (of one category, if given) read."""
    statement = update(notify_message).where(
        notify_message.c.account_id == account_id, notify_message.c.read_at.is_(None)
    )
    if category is not None:
        statement = statement.where(notify_message.c.category == category.value)
    return int(conn.execute(statement.values(read_at=now)).rowcount)


def save_preferences(conn: Connection, preferences: Preferences, now: datetime) -> Preferences:
    """Insert or replace the account's preferences."""
    row = preference_row(preferences, now)
    updated = conn.execute(
        update(notify_preference)
        .where(notify_preference.c.account_id == preferences.account_id)
        .values(**{k: v for k, v in row.items() if k != "account_id"})
    ).rowcount
    if not updated:
        conn.execute(insert(notify_preference).values(**row))
    return preferences
