"""Storage: one :class:`Store` protocol, two real backends (SQLite, PostgreSQL + PostGIS).

Apps never import a database driver. They describe their tables with SQLAlchemy Core on
:data:`smartcity.kernel.storage.schema.metadata` (the one schema definition), write inside
``store.begin()`` and read inside ``store.connect()``.
"""

from smartcity.kernel.storage.base import Store, open_store
from smartcity.kernel.storage.schema import metadata

__all__ = ["Store", "metadata", "open_store"]
