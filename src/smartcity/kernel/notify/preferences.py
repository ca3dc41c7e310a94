"""Preferences per account: locale, channels per category, quiet hours, contacts.

The inbox always receives a message; SMS and e-mail are chosen per category. Contact
details live in the preference row (the account holder maintains them on the
preferences page); a caller of :func:`~smartcity.kernel.notify.actions.notify` may pass
``phone``/``email`` to override them for one message. A channel without a contact is
skipped, never an error: the inbox still has the message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from sqlalchemy import Connection, RowMapping, select, text

from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.notify.categories import (
    URGENT,
    Category,
    Channel,
    parse_category,
    parse_channel,
)
from smartcity.kernel.notify.tables import notify_preference
from smartcity.kernel.notify.templates import DEFAULT_LOCALE, LOCALES

DEFAULT_TIMEZONE = "Asia/Shanghai"
MINUTES_PER_DAY = 24 * 60
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_PHONE = re.compile(r"^\+?[0-9]{5,20}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")

# Without a preference row: urgent and security messages go by SMS, bills by e-mail too
# (each only when the account has that contact).
DEFAULT_CHANNELS: Mapping[Category, frozenset[Channel]] = {
    Category.ALERT: frozenset({Channel.SMS}),
    Category.SECURITY: frozenset({Channel.SMS}),
    Category.BILL: frozenset({Channel.EMAIL}),
}


@cache
def zone_named(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; an unknown one is InvalidInput."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}", part="timezone") from None


def _minute_of(text: str) -> int:
    match = _CLOCK.match(text.strip())
    if match is None:
        raise InvalidInput(
            f"quiet hours need HH:MM-HH:MM on a 24-hour clock, got {text!r}", part="quiet_hours"
        )
    return int(match.group(1)) * 60 + int(match.group(2))


def _clock_of(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window, in local time, when SMS and e-mail wait (may cross midnight)."""

    start_minute: int
    end_minute: int
    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        for minute in (self.start_minute, self.end_minute):
            if not 0 <= minute < MINUTES_PER_DAY:
                raise InvalidInput("quiet hours must lie within one day", part="quiet_hours")
        if self.start_minute == self.end_minute:
            raise InvalidInput(
                "quiet hours must not start and end at the same time", part="quiet_hours"
            )
        zone_named(self.timezone)

    @classmethod
    def parse(cls, text: str, timezone: str = DEFAULT_TIMEZONE) -> QuietHours:
        """``"22:00-07:00"`` → quiet from 22:00 until 07:00 the next morning."""
        start, separator, end = text.partition("-")
        if not separator:
            raise InvalidInput(f"quiet hours need HH:MM-HH:MM, got {text!r}", part="quiet_hours")
        return cls(_minute_of(start), _minute_of(end), timezone)

    def __str__(self) -> str:
        return f"{_clock_of(self.start_minute)}-{_clock_of(self.end_minute)}"

    def contains(self, instant: datetime) -> bool:
        """True when ``instant`` falls inside the window (start inclusive, end exclusive)."""
        local = instant.astimezone(zone_named(self.timezone))
        minute = local.hour * 60 + local.minute
        if self.start_minute < self.end_minute:
            return self.start_minute <= minute < self.end_minute
        return minute >= self.start_minute or minute < self.end_minute

    def release_time(self, instant: datetime) -> datetime:
        """``instant`` itself outside the window, else the (UTC) end of the window."""
        if not self.contains(instant):
            return instant
        zone = zone_named(self.timezone)
        local = instant.astimezone(zone)
        end = local.replace(
            hour=self.end_minute // 60, minute=self.end_minute % 60, second=0, microsecond=0
        )
        if end <= local:
            end += timedelta(days=1)
        # Rebuild from wall time so a DST change in between lands on the right offset.
        wall = end.replace(tzinfo=None)
        return wall.replace(tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Preferences:
    """How one account wants to be notified."""

    account_id: int
    locale: str = DEFAULT_LOCALE
    channels: Mapping[Category, frozenset[Channel]] = field(
        default_factory=lambda: dict(DEFAULT_CHANNELS)
    )
    quiet_hours: QuietHours | None = None
    timezone: str = DEFAULT_TIMEZONE
    phone: str | None = None
    email: str | None = None

    def channels_for(self, category: Category) -> frozenset[Channel]:
        """The channels besides the inbox for messages of ``category``."""
        return self.channels.get(category, frozenset())

    def release_time(self, category: Category, now: datetime) -> datetime:
        """When an SMS/e-mail of ``category`` created at ``now`` may be sent."""
        if category in URGENT or self.quiet_hours is None:
            return now
        return self.quiet_hours.release_time(now)

    def contact(self, channel: Channel) -> str | None:
        return self.phone if channel is Channel.SMS else self.email

    def to_json(self) -> dict[str, object]:
        return {
            "locale": self.locale,
            "channels": {
                category.value: sorted(c.value for c in self.channels_for(category))
                for category in Category
            },
            "quiet_hours": None if self.quiet_hours is None else str(self.quiet_hours),
            "timezone": self.timezone,
            "phone": self.phone,
            "email": self.email,
        }


def check_locale(locale: str) -> str:
    if locale not in LOCALES:
        raise InvalidInput(
            f"unknown locale {locale!r} (known: {', '.join(LOCALES)})", part="locale"
        )
    return locale


def check_phone(phone: str | None) -> str | None:
    if phone is None or phone == "":
        return None
    if _PHONE.match(phone) is None:
        raise InvalidInput(f"{phone!r} is not a phone number (digits, optional +)", part="phone")
    return phone


def check_email(email: str | None) -> str | None:
    if email is None or email == "":
        return None
    if len(email) > 254 or _EMAIL.match(email) is None:
        raise InvalidInput(f"{email!r} is not an e-mail address", part="email")
    return email


def parse_channels(raw: Mapping[str, Iterable[str]]) -> dict[Category, frozenset[Channel]]:
    """Channels per category from their names; unknown names are InvalidInput."""
    return {
        parse_category(category): frozenset(parse_channel(c) for c in channels)
        for category, channels in raw.items()
    }


def _from_row(row: RowMapping) -> Preferences:
    raw = orjson.loads(str(row["channels"]))
    timezone = str(row["timezone"])
    start, end = row["quiet_start"], row["quiet_end"]
    quiet = None
    if isinstance(start, int) and isinstance(end, int):
        quiet = QuietHours(start, end, timezone)
    return Preferences(
        account_id=int(row["account_id"]),
        locale=str(row["locale"]),
        channels={Category(k): frozenset(Channel(c) for c in v) for k, v in raw.items()},
        quiet_hours=quiet,
        timezone=timezone,
        phone=row["phone"],
        email=row["email"],
    )


def read_preferences(
    conn: Connection, account_id: int, default_locale: str = DEFAULT_LOCALE
) -> Preferences:
    """The account's preferences, or the defaults when it has saved none."""
    row = conn.execute(
        select(notify_preference).where(notify_preference.c.account_id == account_id)
    ).first()
    if row is None:
        return Preferences(account_id=account_id, locale=default_locale)
    return _from_row(row._mapping)


def read_many_preferences(
    conn: Connection, account_ids: Iterable[int], default_locale: str = DEFAULT_LOCALE
) -> dict[int, Preferences]:
    """Saved preferences of those ``account_ids`` that have any (chunked ``IN`` lists)."""
    ids = [int(account_id) for account_id in account_ids]
    found: dict[int, Preferences] = {}
    chunk = 5000
    columns = ", ".join(notify_preference.c.keys())
    for start in range(0, len(ids), chunk):
        # The ids are ints (converted above), so inlining them is safe; binding 5,000
        # expanding parameters costs more than the query itself.
        listed = ",".join(map(str, ids[start : start + chunk]))
        rows = conn.execute(
            text(f"SELECT {columns} FROM notify_preference WHERE account_id IN ({listed})")
        )
        for row in rows:
            preferences = _from_row(row._mapping)
            found[preferences.account_id] = preferences
    return found


def preference_row(preferences: Preferences, now: datetime) -> dict[str, object]:
    """The ``notify_preference`` row for ``preferences``."""
    quiet = preferences.quiet_hours
    return {
        "account_id": preferences.account_id,
        "locale": preferences.locale,
        "channels": orjson.dumps(
            {k.value: sorted(c.value for c in v) for k, v in preferences.channels.items()}
        ).decode(),
        "quiet_start": None if quiet is None else quiet.start_minute,
        "quiet_end": None if quiet is None else quiet.end_minute,
        "timezone": preferences.timezone,
        "phone": preferences.phone,
        "email": preferences.email,
        "updated_at": now,
    }
