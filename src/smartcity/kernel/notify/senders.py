"""Senders deliver one outbox row each: a log file for the demo, SMTP for e-mail.

A :class:`Sender` raises :class:`SendFailed` when a delivery did not happen; the
dispatcher then retries with backoff. Delivery is at least once: after a crash between
sending and recording, the row is sent again under the same ``idempotency_key``, which
every sender passes on (the log line's ``key``, the e-mail's ``Message-ID``) so the far
end can drop the duplicate.
"""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import orjson

from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.notify.models import OutboxRow

LOG_FILE = "outbox.log"


class SendFailed(Exception):
    """A delivery did not happen; the reason is kept on the outbox row."""


class Sender(Protocol):
    """Delivers one SMS or e-mail (blocking; the dispatcher runs it in a thread)."""

    def send(self, row: OutboxRow, now: datetime) -> None:
        """Deliver ``row`` or raise :class:`SendFailed`."""
        ...


class LogSender:
    """Appends each delivery as one JSON line to ``<data_dir>/outbox.log`` (the demo default).

    ``smartcity notify log`` and staff at ``GET /notify/outbox`` show what was "sent".
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, row: OutboxRow, now: datetime) -> None:
        line = orjson.dumps(
            {
                "sent_at": now.isoformat(),
                "key": row.idempotency_key,
                "channel": row.channel.value,
                "to": row.recipient,
                "subject": row.subject,
                "body": row.body,
                "account_id": row.account_id,
                "message_id": row.message_id,
            }
        )
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("ab") as log:
                    log.write(line + b"\n")
        except OSError as exc:
            raise SendFailed(f"cannot write {self.path}: {exc}") from exc


def read_log(path: Path, last: int | None = None) -> Iterator[dict[str, Any]]:
    """The deliveries in a :class:`LogSender` file, oldest first (only the ``last`` n)."""
    if not path.exists():
        return iter(())
    lines = path.read_bytes().splitlines()
    if last is not None:
        lines = lines[-last:] if last > 0 else []
    return (orjson.loads(line) for line in lines if line.strip())


@dataclass(frozen=True, slots=True)
class SmtpAddress:
    """Where to hand e-mail over: ``smtp://[user:password@]host[:port]`` (``smtps://`` for TLS)."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> SmtpAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigurationError(
                f"SMARTCITY_SMTP_URL must look like smtp://host:port, got {url!r}"
            )
        tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls else 25),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class SmtpSender:
    """Sends e-mail through an SMTP server with :mod:`smtplib`, one connection per message."""

    def __init__(self, address: SmtpAddress, sender: str, timeout: float = 10.0) -> None:
        self.address = address
        self.sender = sender
        self.timeout = timeout

    def compose(self, row: OutboxRow, now: datetime) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = row.recipient
        message["Subject"] = row.subject
        message["Date"] = format_datetime(now)
        # The idempotency key as Message-ID: a resend after a crash is recognisably the same.
        domain = self.sender.rpartition("@")[2] or "smartcity.local"
        message["Message-ID"] = f"<{row.idempotency_key}@{domain}>"
        message.set_content(row.body)
        return message

    def send(self, row: OutboxRow, now: datetime) -> None:
        message = self.compose(row, now)
        client: smtplib.SMTP
        try:
            if self.address.tls:
                client = smtplib.SMTP_SSL(
                    self.address.host, self.address.port, timeout=self.timeout
                )
            else:
                client = smtplib.SMTP(self.address.host, self.address.port, timeout=self.timeout)
            with client:
                if self.address.username:
                    client.login(self.address.username, self.address.password or "")
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise SendFailed(f"SMTP {self.address.host}:{self.address.port}: {exc}") from exc
