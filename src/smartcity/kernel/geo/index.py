"""Point lookup: which unit grid (and so which community, street, district) holds a point.

A raster of small cells (~50 m) covers the city. A cell that no grid border crosses
stores its grid outright; a cell some border crosses stores a short list of candidate
grids, and a point falling there is tested exactly against each candidate polygon. The
answers are therefore exact, and most lookups cost one array read.

Build: every border segment is cut shorter than a cell, so the cells it can touch are
the (at most 3×3) block between its end points' cells; those blocks mark the border
cells and their candidates. The cells in between are labelled in runs along each raster
row, one exact point-in-polygon query per run — all vectorised with numpy and shapely.
"""

from __future__ import annotations

import array
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.geo.codes import AreaLevel
from smartcity.kernel.geo.distance import METRES_PER_DEGREE, distances_m
from smartcity.kernel.geo.models import Area, Location
from smartcity.kernel.geo.queries import load_areas
from smartcity.kernel.storage import Store

IntArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]

DEFAULT_CELL_M = 50.0
OUTSIDE = -1
# Cell values at or below this mark border cells: value = BORDER - border cell number.
BORDER = -2
# Widen each segment's block by this much (degrees), so a border lying exactly on a
# cell edge still marks the cells on both sides.
EDGE_SLACK = 1e-9

Ring = list[list[float]]


class GridIndex:
    """Exact, fast point-to-unit-grid lookup over every grid of the city."""

    _west: float
    _south: float
    _columns: int
    _rows: int
    _columns_per_degree: float
    _rows_per_degree: float
    _cells: array.array[int]
    _starts: array.array[int]
    _candidates: array.array[int]
    _cell_array: IntArray
    _start_array: npt.NDArray[np.int64]
    _candidate_array: IntArray

    def __init__(
        self,
        codes: Sequence[str],
        geometries: Sequence[BaseGeometry],
        cell_m: float = DEFAULT_CELL_M,
    ) -> None:
        """Index the grids ``codes`` with their lon/lat ``geometries``."""
        if len(codes) != len(geometries):
            raise InvalidInput("every grid code needs exactly one geometry", part="geometries")
        if not codes:
            raise InvalidInput("cannot index an empty set of grids", part="codes")
        if cell_m <= 0:
            raise InvalidInput("cell size must be positive", part="cell_m")
        self._codes = list(codes)
        self._geometries = np.array(list(geometries), dtype=object)
        self._locations = [Location.of_grid(code) for code in self._codes]
        self._rings = _ring_table(self._geometries)
        centroids = shapely.get_coordinates(shapely.centroid(self._geometries))
        self._centroid_lons = centroids[:, 0].copy()
        self._centroid_lats = centroids[:, 1].copy()
        shapely.prepare(self._geometries)
        self._tree = shapely.STRtree(self._geometries)
        self._build_raster(cell_m)

    @classmethod
    def load(cls, store: Store, *, cell_m: float = DEFAULT_CELL_M) -> GridIndex:
        """Build the index from the unit grids in the store."""
        return cls.from_areas(load_areas(store, AreaLevel.GRID), cell_m=cell_m)

    @classmethod
    def from_areas(cls, grids: Sequence[Area], *, cell_m: float = DEFAULT_CELL_M) -> GridIndex:
        """Build the index from already loaded unit grids."""
        return cls([grid.code for grid in grids], [grid.geometry for grid in grids], cell_m)

    def __len__(self) -> int:
        return len(self._codes)

    @property
    def codes(self) -> list[str]:
        """Grid codes; position ``i`` is what :meth:`locate_many` returns as ``i``."""
        return list(self._codes)

    @property
    def cell_count(self) -> int:
        """How many raster cells the index holds."""
        return len(self._cells)

    @property
    def border_cell_count(self) -> int:
        """Raster cells a grid border crosses (these need an exact polygon test)."""
        return len(self._starts) - 1

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of all grids together."""
        west, south, east, north = shapely.total_bounds(self._geometries).tolist()
        return (west, south, east, north)

    def grid_polygons(self) -> npt.NDArray[np.object_]:
        """The grid polygons, in the order of :attr:`codes` (a copy of the array)."""
        return self._geometries.copy()

    def location(self, index: int) -> Location:
        """The location of the grid at position ``index`` of :attr:`codes`."""
        return self._locations[index]

    def geometry(self, index: int) -> BaseGeometry:
        """The polygon of the grid at position ``index``."""
        geometry: BaseGeometry = self._geometries[index]
        return geometry

    def locate(self, lon: float, lat: float) -> Location | None:
        """The grid (and its community, street, district) holding the point, or ``None``."""
        index = self.locate_index(lon, lat)
        return None if index < 0 else self._locations[index]

    def locate_index(self, lon: float, lat: float) -> int:
        """Position in :attr:`codes` of the grid holding the point, or -1 outside the city."""
        column = (lon - self._west) * self._columns_per_degree
        row = (lat - self._south) * self._rows_per_degree
        # The comparisons also turn away NaN.
        if not (0.0 <= column < self._columns and 0.0 <= row < self._rows):
            return OUTSIDE
        value = self._cells[int(row) * self._columns + int(column)]
        if value > BORDER:
            return value
        border = BORDER - value
        candidates = self._candidates
        rings = self._rings
        for position in range(self._starts[border], self._starts[border + 1]):
            grid = candidates[position]
            if _contains(rings[grid], lon, lat):
                return grid
        return OUTSIDE

    def locate_many(self, lons: npt.ArrayLike, lats: npt.ArrayLike) -> IntArray:
        """Vectorised :meth:`locate_index`: grid positions, -1 for points outside."""
        xs = np.asarray(lons, dtype=np.float64).ravel()
        ys = np.asarray(lats, dtype=np.float64).ravel()
        if xs.shape != ys.shape:
            raise InvalidInput("lons and lats must have the same length", part="lats")
        columns = (xs - self._west) * self._columns_per_degree
        rows = (ys - self._south) * self._rows_per_degree
        inside = (columns >= 0) & (columns < self._columns) & (rows >= 0) & (rows < self._rows)
        result = np.full(len(xs), OUTSIDE, dtype=np.int32)
        points = np.flatnonzero(inside)
        cells = rows[points].astype(np.int64) * self._columns + columns[points].astype(np.int64)
        values = self._cell_array[cells]
        result[points] = np.where(values > BORDER, values, OUTSIDE)
        on_border = values <= BORDER
        if not on_border.any():
            return result
        border_points = points[on_border]
        borders = BORDER - values[on_border]
        firsts = self._start_array[borders]
        counts = self._start_array[borders + 1] - firsts
        # One row per (point, candidate) pair; keep the first candidate that holds it.
        pair_point = np.repeat(np.arange(len(border_points)), counts)
        offsets = np.arange(len(pair_point)) - np.repeat(np.cumsum(counts) - counts, counts)
        pair_grid = self._candidate_array[np.repeat(firsts, counts) + offsets]
        hit = shapely.contains_xy(
            self._geometries[pair_grid],
            xs[border_points[pair_point]],
            ys[border_points[pair_point]],
        )
        found = np.full(len(border_points), OUTSIDE, dtype=np.int32)
        hit_pairs = np.flatnonzero(hit)[::-1]
        found[pair_point[hit_pairs]] = pair_grid[hit_pairs]
        result[border_points] = found
        return result

    def nearest(self, lon: float, lat: float, k: int = 1) -> list[tuple[str, float]]:
        """The ``k`` grids whose centroids are nearest the point, with distances in metres."""
        if k < 1:
            raise InvalidInput("k must be at least 1", part="k")
        metres = distances_m(lon, lat, self._centroid_lons, self._centroid_lats)
        k = min(k, len(metres))
        nearest = np.argpartition(metres, k - 1)[:k]
        nearest = nearest[np.argsort(metres[nearest], kind="stable")]
        return [(self._codes[i], float(metres[i])) for i in nearest.tolist()]

    def _build_raster(self, cell_m: float) -> None:
        west, south, east, north = shapely.total_bounds(self._geometries).tolist()
        cell_lat = cell_m / METRES_PER_DEGREE
        cell_lon = cell_lat / math.cos(math.radians((south + north) / 2))
        # Two spare cells on each side keep every border block inside the raster and
        # leave column 0 clear of borders.
        self._west, self._south = west - 2 * cell_lon, south - 2 * cell_lat
        self._columns = math.ceil((east - west) / cell_lon) + 5
        self._rows = math.ceil((north - south) / cell_lat) + 5
        self._columns_per_degree = 1.0 / cell_lon
        self._rows_per_degree = 1.0 / cell_lat

        border_cells, starts, candidates = self._border_candidates(cell_lon, cell_lat)
        cells = np.full(self._rows * self._columns, OUTSIDE, dtype=np.int32)
        cells[border_cells] = BORDER - np.arange(len(border_cells), dtype=np.int32)
        self._start_array = starts
        self._candidate_array = candidates
        self._label_runs(cells)
        # array.array indexing is the fastest read from plain Python (single lookups);
        # the numpy view shares its memory for the vectorised path.
        self._cells = array.array("i", cells.tobytes())
        del cells
        self._cell_array = np.frombuffer(self._cells, dtype=np.int32)
        self._starts = array.array("i", starts.astype(np.int32).tobytes())
        self._candidates = array.array("i", candidates.astype(np.int32).tobytes())

    def _border_candidates(
        self, cell_lon: float, cell_lat: float
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], IntArray]:
        rings, owners = shapely.get_rings(self._geometries, return_index=True)
        rings = shapely.segmentize(rings, 0.9 * min(cell_lon, cell_lat))
        coordinates, ring_of = shapely.get_coordinates(rings, return_index=True)
        same_ring = ring_of[:-1] == ring_of[1:]
        start, end = coordinates[:-1][same_ring], coordinates[1:][same_ring]
        grid_of = owners[ring_of[:-1][same_ring]]
        low = np.minimum(start, end) - EDGE_SLACK
        high = np.maximum(start, end) + EDGE_SLACK
        first_column = np.floor((low[:, 0] - self._west) * self._columns_per_degree).astype(
            np.int64
        )
        last_column = np.floor((high[:, 0] - self._west) * self._columns_per_degree).astype(
            np.int64
        )
        first_row = np.floor((low[:, 1] - self._south) * self._rows_per_degree).astype(np.int64)
        last_row = np.floor((high[:, 1] - self._south) * self._rows_per_degree).astype(np.int64)
        pair_keys: list[npt.NDArray[np.int64]] = []
        grid_count = len(self._codes)
        for column_step in range(3):
            for row_step in range(3):
                column = first_column + column_step
                row = first_row + row_step
                used = (column <= last_column) & (row <= last_row)
                cell = row[used] * self._columns + column[used]
                pair_keys.append(cell * grid_count + grid_of[used])
        keys = _unique(np.concatenate(pair_keys))
        pair_cell, pair_grid = np.divmod(keys, grid_count)
        # Keys are sorted, so pairs of one cell are adjacent.
        new_cell = np.empty(len(pair_cell), dtype=bool)
        new_cell[:1] = True
        np.not_equal(pair_cell[1:], pair_cell[:-1], out=new_cell[1:])
        border_cells = pair_cell[new_cell]
        cell_number = np.cumsum(new_cell) - 1

        # A grid may hold a border cell whole while a neighbour's border only grazes it,
        # so the cell's candidates need the grid holding its centre too; tried first, it
        # is also the likeliest answer.
        rows, columns = np.divmod(border_cells, self._columns)
        centre_x = self._west + (columns + 0.5) / self._columns_per_degree
        centre_y = self._south + (rows + 0.5) / self._rows_per_degree
        holds = shapely.contains_xy(
            self._geometries[pair_grid], centre_x[cell_number], centre_y[cell_number]
        )
        centre_grid = np.full(len(border_cells), OUTSIDE, dtype=np.int64)
        centre_grid[cell_number[holds]] = pair_grid[holds]
        unresolved = np.flatnonzero(centre_grid == OUTSIDE)
        missing = self._grids_at(centre_x[unresolved], centre_y[unresolved])
        added = missing >= 0
        centre_grid[unresolved[added]] = missing[added]
        pair_grid = np.concatenate([pair_grid, missing[added]])
        cell_number = np.concatenate([cell_number, unresolved[added]])
        order = np.lexsort((pair_grid != centre_grid[cell_number], cell_number))
        counts = np.bincount(cell_number, minlength=len(border_cells))
        starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return border_cells, starts, pair_grid[order].astype(np.int32)

    def _grids_at(self, xs: FloatArray, ys: FloatArray) -> npt.NDArray[np.int64]:
        points, grids = self._tree.query(shapely.points(xs, ys), predicate="within")
        owner = np.full(len(xs), OUTSIDE, dtype=np.int64)
        owner[points] = grids
        return owner

    def _label_runs(self, cells: IntArray) -> None:
        # Cells between borders along a row all lie in one grid (or outside). That grid
        # is among the candidates of the border cell just left of the run: its border
        # crosses that cell, or it holds the cell's centre.
        free = (cells == OUTSIDE).reshape(self._rows, self._columns)
        starts = free.copy()
        starts[:, 1:] &= ~free[:, :-1]
        run_starts = np.flatnonzero(starts.ravel())
        # Column 0 is spare, west of every grid: runs from there are outside.
        after_border = run_starts % self._columns != 0
        run_cells = run_starts[after_border]
        borders = BORDER - cells[run_cells - 1].astype(np.int64)
        firsts = self._start_array[borders]
        counts = self._start_array[borders + 1] - firsts
        pair_run = np.repeat(np.arange(len(run_cells)), counts)
        offsets = np.arange(len(pair_run)) - np.repeat(np.cumsum(counts) - counts, counts)
        pair_grid = self._candidate_array[np.repeat(firsts, counts) + offsets]
        rows, columns = np.divmod(run_cells, self._columns)
        centre_x = self._west + (columns + 0.5) / self._columns_per_degree
        centre_y = self._south + (rows + 0.5) / self._rows_per_degree
        holds = shapely.contains_xy(
            self._geometries[pair_grid], centre_x[pair_run], centre_y[pair_run]
        )
        owners = np.full(len(run_starts), OUTSIDE, dtype=np.int32)
        run_owner = np.full(len(run_cells), OUTSIDE, dtype=np.int32)
        run_owner[pair_run[holds]] = pair_grid[holds]
        owners[after_border] = run_owner
        run_number = np.cumsum(starts.ravel()) - 1
        flat_free = free.ravel()
        cells[flat_free] = owners[run_number[flat_free]]


def _unique(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    # Sorting beats np.unique's hashing on millions of int64 keys.
    ordered = np.sort(values)
    keep = np.empty(len(ordered), dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    result: npt.NDArray[np.int64] = ordered[keep]
    return result


def _ring_table(geometries: npt.NDArray[np.object_]) -> list[tuple[Ring, ...]]:
    """Each geometry's rings (exterior and holes) as plain coordinate lists."""
    rings, owners = shapely.get_rings(geometries, return_index=True)
    coordinates, ring_of = shapely.get_coordinates(rings, return_index=True)
    ends = np.flatnonzero(np.diff(ring_of)) + 1
    points = coordinates.tolist()
    bounds = zip([0, *ends.tolist()], [*ends.tolist(), len(points)], strict=True)
    table: list[list[Ring]] = [[] for _ in range(len(geometries))]
    for owner, (start, end) in zip(owners.tolist(), bounds, strict=True):
        table[owner].append(points[start:end])
    return [tuple(rings_of_one) for rings_of_one in table]


def _contains(rings: tuple[Ring, ...], x: float, y: float) -> bool:
    # Even-odd ray casting over every ring (holes included); plain Python beats a shapely
    # call for the few-vertex polygons of unit grids.
    inside = False
    for ring in rings:
        previous_x, previous_y = ring[-1]
        for current_x, current_y in ring:
            if (current_y > y) != (previous_y > y) and x < (previous_x - current_x) * (
                y - current_y
            ) / (previous_y - current_y) + current_x:
                inside = not inside
            previous_x, previous_y = current_x, current_y
    return inside
