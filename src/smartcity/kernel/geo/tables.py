"""Tables of the geography: the area hierarchy and the road network.

Migration: ``storage/migrations/versions/0002_geo.py`` (keep the two in step).
"""

from sqlalchemy import Column, Float, ForeignKey, Integer, String, Table

from smartcity.kernel.storage.schema import metadata
from smartcity.kernel.storage.types import GeometryType

# Every area of every level in one table: the hierarchy is walked through parent_code,
# and the code's own structure (codes.py) names the ancestors without a join.
geo_area = Table(
    "geo_area",
    metadata,
    Column("code", String(15), primary_key=True),
    Column("level", String(16), nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("name_en", String(128), nullable=False),
    Column("parent_code", String(15), ForeignKey("geo_area.code"), nullable=True, index=True),
    Column("centroid_lon", Float, nullable=False),
    Column("centroid_lat", Float, nullable=False),
    Column("area_km2", Float, nullable=False),
    Column("population_weight", Float, nullable=False),
    Column("geometry", GeometryType, nullable=False),
)

geo_road_node = Table(
    "geo_road_node",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
)

# Roads are two-way: one row per segment between two nodes.
geo_road_edge = Table(
    "geo_road_edge",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("from_node", Integer, ForeignKey("geo_road_node.id"), nullable=False),
    Column("to_node", Integer, ForeignKey("geo_road_node.id"), nullable=False),
    Column("length_m", Float, nullable=False),
    Column("road_class", String(16), nullable=False),
    Column("name", String(64), nullable=False),
    Column("geometry", GeometryType, nullable=False),
)
