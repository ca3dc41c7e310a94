"""The city's geography: city > district > street > community > unit grid, and roads.

Modules (import from them directly; this package imports nothing so that the table
declarations load without the heavier read side):

- ``codes``: area codes (6/9/12/15 digits), parse, build, validate, ancestors.
- ``models``: ``Area`` and ``Location`` records.
- ``tables``: ``geo_area``, ``geo_road_node``, ``geo_road_edge``.
- ``queries``: ``load_areas``, ``get_area``, ``children_of``, ``areas_geojson``.
- ``index``: ``GridIndex``, exact point-to-grid lookup (single and vectorised).
- ``roads``: ``RoadGraph``, nearest junction and shortest routes.
- ``distance``: haversine distances and areas in km².
"""
