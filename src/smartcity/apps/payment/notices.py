"""Telling payers what happened: the payment app's one door to the notifications.

Called inside the caller's transaction, so a notification exists exactly when what it
announces does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection

from smartcity.apps.payment.models import Payer


def notify_payer(
    conn: Connection,
    payer: Payer,
    account_id: int | None,
    template: str,
    params: Mapping[str, object],
    now: dt.datetime,
) -> None:
    """Put a message in the payer's inbox when the payer has a platform account."""
    if account_id is None:
        return
    # Wired to smartcity.kernel.notify once that module is in main.
    return


def notify_payers(
    conn: Connection,
    messages: Sequence[tuple[Payer, int | None, str, Mapping[str, object]]],
    now: dt.datetime,
) -> None:
    """Many notifications in one go (payer, account id, template, params)."""
    for payer, account_id, template, params in messages:
        notify_payer(conn, payer, account_id, template, params, now)
