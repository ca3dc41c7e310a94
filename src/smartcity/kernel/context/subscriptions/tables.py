"""Tables of NGSI-LD subscriptions.

``context_subscription`` holds one row per subscription and tenant ('' is the default
tenant). ``document`` is the subscription as the platform understands it: entity types,
attribute names and the geoproperty already **expanded** to IRIs at creation, plus the
``@context`` it was created with (``context``), which notifications are compacted with.
``is_active`` and ``expires_at`` are copied out of the document so the notifier can load
only live subscriptions. The notification status counters are written in batches by the
notifier, never one UPDATE per notification.
"""

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text

from smartcity.kernel.storage.schema import metadata
from smartcity.kernel.storage.types import UtcDateTime

TENANT = 64
SUBSCRIPTION_ID = 256

context_subscription = Table(
    "context_subscription",
    metadata,
    Column("tenant", String(TENANT), primary_key=True),
    Column("id", String(SUBSCRIPTION_ID), primary_key=True),
    Column("document", Text, nullable=False),
    Column("context", Text, nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("modified_at", UtcDateTime, nullable=False),
    Column("last_notification", UtcDateTime, nullable=True),
    Column("last_success", UtcDateTime, nullable=True),
    Column("last_failure", UtcDateTime, nullable=True),
    Column("times_sent", Integer, nullable=False),
    Column("times_failed", Integer, nullable=False),
    Index("ix_context_subscription_created", "tenant", "created_at"),
)
