"""``context_entity``'s secondary indexes leave the primary key alone for a lookup by
tenant and id on PostgreSQL (decision 0014, addendum of session 10).

A new attribute or type row's foreign key is checked by ``SELECT 1 FROM context_entity
WHERE tenant = $1 AND id = $2``, planned once per connection. On a table never analyzed
(a fresh database: the first batch of newly provisioned devices) the planner estimates
one row for the tenant, finds the (tenant, type) index as cheap as the primary key and
smaller, and took it: every entity of the tenant read per check (330–535 µs each).
Dropping that index only moved the choice to a location index. Each of them now holds
only the rows its readers ask for (a type, a cell, a box, a width), so no plan can
read a tenant alone from it; its readers' plans are unchanged (``EXPLAIN`` of the type,
cell, box and widest-box queries with generic plans), and entities without a location
no longer enter the location indexes. SQLite keeps its indexes.

Revision ID: 0026_entity_partial_indexes
Revises: 0025_attribute_fillfactor
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_entity_partial_indexes"
down_revision: str | Sequence[str] | None = "0025_attribute_fillfactor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "context_entity"
BOX = ["tenant", "location_west", "location_east", "location_south", "location_north"]
# Name, columns (SQL), predicate.
INDEXES = (
    ("ix_context_entity_tenant_type", "tenant, type", "type IS NOT NULL"),
    (
        "ix_context_entity_tenant_location_cell",
        "tenant, location_cell",
        "location_cell IS NOT NULL",
    ),
    ("ix_context_entity_tenant_location_west", ", ".join(BOX), "location_west IS NOT NULL"),
    (
        "ix_context_entity_tenant_location_width",
        "tenant, (location_east - location_west)",
        "(location_east - location_west) IS NOT NULL",
    ),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, columns, predicate in INDEXES:
        op.drop_index(name, table_name=TABLE)
        op.execute(sa.text(f"CREATE INDEX {name} ON {TABLE} ({columns}) WHERE {predicate}"))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, columns, _predicate in INDEXES:
        op.drop_index(name, table_name=TABLE)
        op.execute(sa.text(f"CREATE INDEX {name} ON {TABLE} ({columns})"))
