"""Tables of the storage layer itself."""

from sqlalchemy import Column, DateTime, String, Table, Text

from smartcity.kernel.storage.schema import metadata

# Small key/value facts about this database (which city seed it holds, its profile, ...).
platform_meta = Table(
    "platform_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
