"""The payment app's runtime state: its settings, the bank gateway and the receipt signer."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from smartcity.apps.payment.bank_gateway import BankClient
from smartcity.apps.payment.bank_protocol import SECRET_NAME
from smartcity.apps.payment.receipts import ReceiptSigner
from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.secrets import secret_bytes

if TYPE_CHECKING:
    from smartcity.apps.payment.expiry_timer import ExpiryTimer
    from smartcity.apps.payment.group_commit import GroupCommitter

BANK_URL_VARIABLE = "SMARTCITY_BANK_URL"
ORDER_TIMEOUT_VARIABLE = "SMARTCITY_PAYMENT_ORDER_TIMEOUT"
RECEIPTS_VARIABLE = "SMARTCITY_PAYMENT_RECEIPTS"
EXPIRE_EVERY_VARIABLE = "SMARTCITY_PAYMENT_EXPIRE_EVERY"
DEFAULT_ORDER_TIMEOUT_SECONDS = 900
# SMARTCITY_PAYMENT_RECEIPTS -> how receipts are issued. "background" is the default:
# a worker process of its own; "thread" signs in the server process (tests, where a
# process per test would be slow); "on_demand" only when a receipt is first asked for.
RECEIPT_MODES = {
    "background": "process",
    "process": "process",
    "thread": "thread",
    "on_demand": "on_demand",
}
DEFAULT_EXPIRE_EVERY_SECONDS = 60


@dataclass(frozen=True)
class PaymentSettings:
    """``SMARTCITY_BANK_URL`` (no bank payments without it), the order timeout in
    seconds (``SMARTCITY_PAYMENT_ORDER_TIMEOUT``, default 15 minutes), how receipts are
    issued (``SMARTCITY_PAYMENT_RECEIPTS``: ``background``, the default, signs them in a
    worker process as bills are paid; ``thread`` in the server process; ``on_demand``
    when first asked for), and how often the server closes bank orders past their
    deadline (``SMARTCITY_PAYMENT_EXPIRE_EVERY`` seconds, default 60; ``0``: never, leave
    it to ``smartcity payment expire``)."""

    bank_url: str | None = None
    order_timeout_seconds: int = DEFAULT_ORDER_TIMEOUT_SECONDS
    receipts: str = "process"
    expire_every_seconds: int = DEFAULT_EXPIRE_EVERY_SECONDS

    @property
    def background_receipts(self) -> bool:
        return self.receipts != "on_demand"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PaymentSettings:
        source = os.environ if env is None else env
        timeout_text = source.get(ORDER_TIMEOUT_VARIABLE, str(DEFAULT_ORDER_TIMEOUT_SECONDS))
        if not timeout_text.isdigit() or not 1 <= int(timeout_text) <= 86_400:
            raise ConfigurationError(f"{ORDER_TIMEOUT_VARIABLE} must be 1..86400 seconds")
        receipts = source.get(RECEIPTS_VARIABLE, "background")
        if receipts not in RECEIPT_MODES:
            raise ConfigurationError(
                f"{RECEIPTS_VARIABLE} must be one of {', '.join(RECEIPT_MODES)}"
            )
        every_text = source.get(EXPIRE_EVERY_VARIABLE, str(DEFAULT_EXPIRE_EVERY_SECONDS))
        if not every_text.isdigit() or int(every_text) > 86_400:
            raise ConfigurationError(f"{EXPIRE_EVERY_VARIABLE} must be 0..86400 seconds")
        return cls(
            bank_url=source.get(BANK_URL_VARIABLE) or None,
            order_timeout_seconds=int(timeout_text),
            receipts=RECEIPT_MODES[receipts],
            expire_every_seconds=int(every_text),
        )


@dataclass
class PaymentRuntime:
    settings: PaymentSettings
    bank_secret: bytes
    gateway: BankClient | None = None
    signer: ReceiptSigner | None = None
    # The writer of grouped wallet payments (the hot path), made by setup.
    committer: GroupCommitter | None = None
    # Closes bank orders past their deadline while the server runs (None: switched off).
    expiry_timer: ExpiryTimer | None = None
    # Held by the app's background writers (payment groups, receipt batches) around each
    # transaction, so they queue here and not in SQLite's busy handler, whose sleeps of
    # up to 100 ms would show as the slowest payments.
    writer_lock: threading.Lock = field(default_factory=threading.Lock)


def bank_secret_of(data_dir: Path) -> bytes:
    """The secret shared with the bank (``SMARTCITY_BANK_SECRET`` or a key file)."""
    return secret_bytes(data_dir, SECRET_NAME)
