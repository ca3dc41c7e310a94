"""What a message is about, and the channels it may travel by."""

from __future__ import annotations

from enum import StrEnum

from smartcity.kernel.errors import InvalidInput


class Category(StrEnum):
    """The category of an inbox message; pages filter and count by it."""

    BILL = "bill"  # bills issued and due
    PAYMENT = "payment"  # payments received, receipts
    SERVICE = "service"  # service applications and their progress
    CERTIFICATE = "certificate"  # digital certificates issued or revoked
    CARD = "card"  # citizen card events
    NOTICE = "notice"  # public notices from departments
    ALERT = "alert"  # emergencies: ignores quiet hours
    HOTLINE = "hotline"  # 12345 hotline cases
    SECURITY = "security"  # sign-ins from new devices, password changes


class Channel(StrEnum):
    """Where a message goes besides the inbox (the inbox always gets it)."""

    SMS = "sms"
    EMAIL = "email"


# Categories that must reach people at once, whatever their quiet hours say.
URGENT: frozenset[Category] = frozenset({Category.ALERT})


def parse_category(value: str) -> Category:
    """The category named ``value``; an unknown name is InvalidInput listing the known ones."""
    try:
        return Category(value)
    except ValueError:
        known = ", ".join(Category)
        raise InvalidInput(
            f"unknown category {value!r} (known: {known})", part="category"
        ) from None


def parse_channel(value: str) -> Channel:
    """The channel named ``value`` (``sms`` or ``email``)."""
    try:
        return Channel(value)
    except ValueError:
        raise InvalidInput(
            f"unknown channel {value!r} (known: sms, email; the inbox is always on)",
            part="channels",
        ) from None
