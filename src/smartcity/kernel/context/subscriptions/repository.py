"""Reading and writing the ``context_subscription`` table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, RowMapping, and_, bindparam, delete, func, select, update

from smartcity.kernel.context.subscriptions.model import (
    NotificationStatus,
    Subscription,
    from_record,
    to_record,
)
from smartcity.kernel.context.subscriptions.tables import context_subscription as table


def insert_subscription(conn: Connection, subscription: Subscription) -> None:
    """Insert a new subscription row (status counters start at zero)."""
    conn.execute(
        table.insert().values(
            tenant=subscription.tenant,
            id=subscription.id,
            times_sent=0,
            times_failed=0,
            created_at=subscription.created_at,
            **_columns(subscription),
        )
    )


def replace_subscription(conn: Connection, subscription: Subscription) -> None:
    """Overwrite a subscription's definition, keeping its notification status."""
    conn.execute(
        update(table)
        .where(_key(subscription.tenant, subscription.id))
        .values(**_columns(subscription))
    )


def delete_subscription(conn: Connection, tenant: str, subscription_id: str) -> bool:
    """Delete a subscription; ``False`` if there was none."""
    result = conn.execute(delete(table).where(_key(tenant, subscription_id)))
    return result.rowcount > 0


def load_subscription(conn: Connection, tenant: str, subscription_id: str) -> Subscription | None:
    """One subscription of ``tenant``, or ``None``."""
    row = conn.execute(select(table).where(_key(tenant, subscription_id))).mappings().first()
    return None if row is None else _subscription(row)


def list_subscriptions(
    conn: Connection, tenant: str, *, limit: int, offset: int
) -> list[Subscription]:
    """A page of ``tenant``'s subscriptions, oldest first."""
    rows = conn.execute(
        select(table)
        .where(table.c.tenant == tenant)
        .order_by(table.c.created_at, table.c.id)
        .limit(limit)
        .offset(offset)
    ).mappings()
    return [_subscription(row) for row in rows]


def count_subscriptions(conn: Connection, tenant: str) -> int:
    """How many subscriptions ``tenant`` has."""
    return int(
        conn.execute(
            select(func.count()).select_from(table).where(table.c.tenant == tenant)
        ).scalar_one()
    )


def load_all_subscriptions(conn: Connection) -> list[Subscription]:
    """Every tenant's subscriptions (the notifier's start-up load)."""
    return [_subscription(row) for row in conn.execute(select(table)).mappings()]


def record_statuses(conn: Connection, changes: Iterable[Mapping[str, Any]]) -> None:
    """Add a batch of notification outcomes to the status columns.

    Each change has ``tenant``, ``id``, the counts ``sent``/``failed`` to add and the
    newest ``notification``/``success``/``failure`` instants (or ``None``).
    """
    statement = (
        update(table)
        .where(and_(table.c.tenant == _bind("b_tenant"), table.c.id == _bind("b_id")))
        .values(
            times_sent=table.c.times_sent + _bind("b_sent"),
            times_failed=table.c.times_failed + _bind("b_failed"),
            last_notification=func.coalesce(_bind("b_notification"), table.c.last_notification),
            last_success=func.coalesce(_bind("b_success"), table.c.last_success),
            last_failure=func.coalesce(_bind("b_failure"), table.c.last_failure),
        )
    )
    parameters = [
        {
            "b_tenant": change["tenant"],
            "b_id": change["id"],
            "b_sent": change["sent"],
            "b_failed": change["failed"],
            "b_notification": change["notification"],
            "b_success": change["success"],
            "b_failure": change["failure"],
        }
        for change in changes
    ]
    if parameters:
        conn.execute(statement, parameters)


def _bind(name: str) -> Any:
    column = {
        "b_tenant": table.c.tenant,
        "b_id": table.c.id,
        "b_sent": table.c.times_sent,
        "b_failed": table.c.times_failed,
        "b_notification": table.c.last_notification,
        "b_success": table.c.last_success,
        "b_failure": table.c.last_failure,
    }[name]
    return bindparam(name, type_=column.type)


def _key(tenant: str, subscription_id: str) -> Any:
    return and_(table.c.tenant == tenant, table.c.id == subscription_id)


def _columns(subscription: Subscription) -> dict[str, Any]:
    return {
        "document": orjson.dumps(to_record(subscription)).decode(),
        "context": orjson.dumps(subscription.context).decode(),
        "is_active": subscription.is_active,
        "expires_at": subscription.expires_at,
        "modified_at": subscription.modified_at,
    }


def _subscription(row: RowMapping) -> Subscription:
    created_at: datetime = row["created_at"]
    return from_record(
        orjson.loads(row["document"]),
        tenant=row["tenant"],
        context=orjson.loads(row["context"]),
        created_at=created_at,
        modified_at=row["modified_at"],
        expires_at=row["expires_at"],
        status=NotificationStatus(
            last_notification=row["last_notification"],
            last_success=row["last_success"],
            last_failure=row["last_failure"],
            times_sent=row["times_sent"],
            times_failed=row["times_failed"],
        ),
    )
