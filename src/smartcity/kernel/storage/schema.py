"""The one schema definition: every table of the platform is declared on this metadata.

Alembic migrations under ``migrations/versions`` are generated from it, and a test
checks that migrating an empty database yields exactly this metadata.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from sqlalchemy import MetaData

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Kernel modules that declare tables. Apps list theirs in ``App.table_modules``.
KERNEL_TABLE_MODULES: tuple[str, ...] = (
    "smartcity.kernel.storage.tables",
    "smartcity.kernel.audit.tables",
    "smartcity.kernel.geo.tables",
    "smartcity.kernel.identity.tables",
    "smartcity.kernel.identity.account_tables",
    "smartcity.kernel.identity.certificates.tables",
    "smartcity.kernel.context.tables",
    "smartcity.kernel.context.jsonld_tables",
    "smartcity.kernel.context.subscriptions.tables",
    "smartcity.kernel.notify.tables",
    "smartcity.kernel.ledger.tables",
)


def load_tables(extra_modules: Iterable[str] = ()) -> MetaData:
    """Import every module that declares tables, so :data:`metadata` is complete."""
    for name in (*KERNEL_TABLE_MODULES, *extra_modules):
        importlib.import_module(name)
    return metadata
