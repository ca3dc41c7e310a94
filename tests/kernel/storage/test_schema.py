"""The migrations produce exactly the tables declared on the one metadata."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from smartcity.kernel.storage import Store
from smartcity.kernel.storage.schema import load_tables


def _ignore_spatial_internals(diff: object) -> bool:
    # PostGIS owns spatial_ref_sys and its own indexes; they are not ours to declare.
    text = repr(diff)
    return "spatial_ref_sys" in text or ("idx_" in text and "_geometry" in text)


def _declared_for(dialect: str) -> Callable[..., bool]:
    """Alembic's ``include_object``: leave out what is declared for another backend only
    (``Index(...).ddl_if(dialect=...)``), as ``create_all`` and the migrations do."""

    def include(item: object, _name: object, type_: str, reflected: bool, _other: object) -> bool:
        condition = getattr(item, "_ddl_if", None)
        if reflected or type_ != "index" or condition is None or condition.dialect is None:
            return True
        wanted = condition.dialect
        return dialect == wanted if isinstance(wanted, str) else dialect in wanted

    return include


# SQLAlchemy cannot reflect PostGIS's geometry type, so geometry columns are compared by
# name and nullability only; that warning says so and is expected here.
@pytest.mark.filterwarnings("ignore:Did not recognize type 'geometry'")
def test_migrations_match_declared_tables(store: Store) -> None:
    # Every migration always runs, so every table the migrations create must be declared:
    # the kernel's, the gateways' and every installed app's.
    from smartcity.apps import installed_apps
    from smartcity.gateways import GATEWAY_TABLE_MODULES

    app_modules = [module for app in installed_apps() for module in app.table_modules]
    metadata = load_tables([*GATEWAY_TABLE_MODULES, *app_modules])
    with store.connect() as conn:
        options = {"compare_type": True, "include_object": _declared_for(store.dialect)}
        context = MigrationContext.configure(conn, opts=options)
        diffs = [d for d in compare_metadata(context, metadata) if not _ignore_spatial_internals(d)]
    assert diffs == [], f"migrations and declared tables differ: {diffs}"
