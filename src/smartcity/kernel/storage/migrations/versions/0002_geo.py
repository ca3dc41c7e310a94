"""Geography: the area hierarchy (city to unit grid) and the road network.

Revision ID: 0002_geo
Revises: 0001_storage
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from smartcity.kernel.storage.types import GeometryType

revision: str = "0002_geo"
down_revision: str | Sequence[str] | None = "0001_storage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "geo_area",
        sa.Column("code", sa.String(15), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("name_en", sa.String(128), nullable=False),
        sa.Column("parent_code", sa.String(15), nullable=True),
        sa.Column("centroid_lon", sa.Float(), nullable=False),
        sa.Column("centroid_lat", sa.Float(), nullable=False),
        sa.Column("area_km2", sa.Float(), nullable=False),
        sa.Column("population_weight", sa.Float(), nullable=False),
        sa.Column("geometry", GeometryType, nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_geo_area"),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["geo_area.code"], name="fk_geo_area_parent_code_geo_area"
        ),
    )
    op.create_index("ix_geo_area_level", "geo_area", ["level"])
    op.create_index("ix_geo_area_parent_code", "geo_area", ["parent_code"])
    op.create_table(
        "geo_road_node",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_geo_road_node"),
    )
    op.create_table(
        "geo_road_edge",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("from_node", sa.Integer(), nullable=False),
        sa.Column("to_node", sa.Integer(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("road_class", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("geometry", GeometryType, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_geo_road_edge"),
        sa.ForeignKeyConstraint(
            ["from_node"], ["geo_road_node.id"], name="fk_geo_road_edge_from_node_geo_road_node"
        ),
        sa.ForeignKeyConstraint(
            ["to_node"], ["geo_road_node.id"], name="fk_geo_road_edge_to_node_geo_road_node"
        ),
    )


def downgrade() -> None:
    op.drop_table("geo_road_edge")
    op.drop_table("geo_road_node")
    op.drop_index("ix_geo_area_parent_code", table_name="geo_area")
    op.drop_index("ix_geo_area_level", table_name="geo_area")
    op.drop_table("geo_area")
