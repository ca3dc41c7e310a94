"""Tables of the storage layer itself."""

from sqlalchemy import Column, String, Table, Text

from smartcity.kernel.storage.schema import metadata
from smartcity.kernel.storage.types import UtcDateTime

# Small key/value facts about this database (which city seed it holds, its profile, ...).
platform_meta = Table(
    "platform_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
