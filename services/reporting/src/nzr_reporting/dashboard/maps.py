"""The district map: a tile grid of the 13 Saxon districts (one tile each, roughly where the
district lies), or the real outlines from a GeoJSON boundary file the operator supplies
(``DASHBOARD_BOUNDARIES``, e.g. the BKG VG250 districts keyed by AGS or RS), projected to SVG
paths with a simple equirectangular projection."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

TILE_WIDTH, TILE_HEIGHT, TILE_GAP = 120, 76, 4

#: (column, row, short label lines) per AGS; west is left, north is up.
SAXON_TILES: dict[str, tuple[int, int, tuple[str, ...]]] = {
    "14713000": (0, 0, ("Leipzig",)),
    "14730000": (1, 0, ("Nordsachsen",)),
    "14627000": (2, 0, ("Meißen",)),
    "14625000": (3, 0, ("Bautzen",)),
    "14626000": (4, 0, ("Görlitz",)),
    "14729000": (0, 1, ("Landkreis", "Leipzig")),
    "14522000": (1, 1, ("Mittel-", "sachsen")),
    "14612000": (2, 1, ("Dresden",)),
    "14628000": (3, 1, ("Sächs. Schweiz-", "Osterzgebirge")),
    "14524000": (0, 2, ("Zwickau",)),
    "14511000": (1, 2, ("Chemnitz",)),
    "14521000": (2, 2, ("Erzgebirgs-", "kreis")),
    "14523000": (0, 3, ("Vogtland-", "kreis")),
}
COLUMNS = 5
MAP_WIDTH = 600.0
#: Property names that carry a district's key in common boundary files (VG250: AGS, RS).
KEY_PROPERTIES = ("AGS", "RS", "ARS", "ags", "rs", "ars", "AGS_0", "RS_0")


@dataclass(frozen=True)
class Shape:
    """One district on the map: a tile (``rect``) or an outline (``path``), and where its label goes."""

    code: str
    path: str | None
    rect: tuple[float, float, float, float] | None
    label_x: float
    label_y: float
    label_lines: tuple[str, ...]


@dataclass(frozen=True)
class DistrictMap:
    shapes: list[Shape]
    width: float
    height: float
    tiles: bool


def tile_map(codes: list[str], names: dict[str, str]) -> DistrictMap:
    """Tiles for the districts: Saxon ones at their place, any others in rows below."""
    placed: dict[str, tuple[int, int, tuple[str, ...]]] = {}
    extra_row = 1 + max((SAXON_TILES[c][1] for c in codes if c in SAXON_TILES), default=-1)
    others = [c for c in codes if c not in SAXON_TILES]
    for code in codes:
        if code in SAXON_TILES:
            placed[code] = SAXON_TILES[code]
    for index, code in enumerate(others):
        placed[code] = (index % COLUMNS, extra_row + index // COLUMNS, _split(names.get(code, code)))
    shapes = []
    for code, (column, row, lines) in placed.items():
        x, y = column * (TILE_WIDTH + TILE_GAP), row * (TILE_HEIGHT + TILE_GAP)
        shapes.append(Shape(code, None, (x, y, TILE_WIDTH, TILE_HEIGHT), x + TILE_WIDTH / 2, y + 20, lines))
    columns = max((p[0] for p in placed.values()), default=0) + 1
    rows = max((p[1] for p in placed.values()), default=0) + 1
    return DistrictMap(
        shapes,
        columns * (TILE_WIDTH + TILE_GAP) - TILE_GAP,
        rows * (TILE_HEIGHT + TILE_GAP) - TILE_GAP,
        tiles=True,
    )


def _split(name: str) -> tuple[str, ...]:
    name = name.removeprefix("Landkreis ")
    if len(name) <= 15:
        return (name,)
    cut = max(name.rfind(" ", 0, 15), name.rfind("-", 0, 15))
    return (name[: cut + 1].strip(), name[cut + 1 :][:15]) if cut > 0 else (name[:14] + ".",)


def boundary_map(path: Path, codes: list[str]) -> DistrictMap:
    """The districts' outlines from a GeoJSON file (features keyed by AGS/RS; 5-digit district
    keys and 8- or 12-digit ones alike), fitted to the map's width; districts missing in the
    file are left out (the table beside the map still lists them)."""
    rings_by_code = _rings(str(path), path.stat().st_mtime)
    wanted = {code[:5]: code for code in codes}
    chosen = {wanted[key]: rings for key, rings in rings_by_code.items() if key in wanted}
    points = [p for rings in chosen.values() for ring in rings for p in ring]
    if not points:
        return DistrictMap([], MAP_WIDTH, 0, tiles=False)
    geographic = all(abs(x) <= 180 and abs(y) <= 90 for x, y in points)
    factor = math.cos(math.radians(sum(y for _, y in points) / len(points))) if geographic else 1.0
    xs = [x * factor for x, _ in points]
    ys = [y for _, y in points]
    left, top = min(xs), max(ys)
    scale = MAP_WIDTH / ((max(xs) - left) or 1.0)
    height = (top - min(ys)) * scale
    shapes = []
    for code, rings in chosen.items():
        commands = []
        box: list[tuple[float, float]] = []
        for ring in rings:
            projected = [((x * factor - left) * scale, (top - y) * scale) for x, y in ring]
            box.extend(projected)
            thinned = _thin(projected)
            commands.append("M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in thinned) + "Z")
        centre_x = (min(p[0] for p in box) + max(p[0] for p in box)) / 2
        centre_y = (min(p[1] for p in box) + max(p[1] for p in box)) / 2
        shapes.append(Shape(code, "".join(commands), None, centre_x, centre_y, ()))
    return DistrictMap(shapes, MAP_WIDTH, height, tiles=False)


def _thin(points: list[tuple[float, float]], step: float = 0.6) -> list[tuple[float, float]]:
    """Drop points closer than ``step`` map units to the last kept one (a full-resolution VG250
    outline has far more points than a 600-unit-wide map can show)."""
    kept = points[:1]
    for point in points[1:]:
        if abs(point[0] - kept[-1][0]) + abs(point[1] - kept[-1][1]) >= step:
            kept.append(point)
    return kept if len(kept) >= 3 else points


@lru_cache(maxsize=4)
def _rings(path: str, mtime: float) -> dict[str, list[list[tuple[float, float]]]]:
    """Outer rings by 5-digit district key; read once per file version. VG250 lists water areas
    (GF 1, 2) beside land areas (GF 3, 4): only land areas are drawn where the file has them."""
    document: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    features = document.get("features", [])
    has_land = any((f.get("properties") or {}).get("GF") in (3, 4) for f in features)
    rings: dict[str, list[list[tuple[float, float]]]] = {}
    for feature in features:
        properties = feature.get("properties") or {}
        if has_land and properties.get("GF") not in (3, 4):
            continue
        key = next((str(properties[k]) for k in KEY_PROPERTIES if properties.get(k)), None)
        geometry = feature.get("geometry") or {}
        if key is None or geometry.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        for polygon in polygons:
            rings.setdefault(key[:5], []).append([(float(p[0]), float(p[1])) for p in polygon[0]])
    return rings
