"""Boundary polygons for the maps: import, repair, dissolve, simplify once, store, read back.

Pipeline (``dashboard geodata import`` / ``build-zones`` and the demo's first start all go
through these functions):

1. :func:`read_boundary_file` reads GeoJSON, TopoJSON, a zipped Shapefile or a GeoPackage
   (geopandas/pyogrio), finds the code and name columns, reprojects to EPSG:4326, repairs
   invalid geometries (``shapely.make_valid``), keeps the polygonal parts and normalises
   names to NFC.
2. :func:`match_units` pairs features with the units of a level (by code, padding numeric
   codes that lost their leading zeros; by name if no code matches) and reports the
   features that match no unit and the units that have no feature.
3. :func:`store_boundaries` cleans the features into a proper coverage (every shared edge
   noded once, overlaps given to one side: :func:`clean_coverage`), stores the full-detail
   geometry and simplifies the coverage with topology preserved (``shapely.coverage_simplify``):
   neighbours keep exactly the same edge, so no gaps or overlaps appear. Two forms are
   stored: ``simplified`` for a whole province at once, ``simplified_detail`` for one
   zone's communes. Coordinates are rounded to 1e-5 degrees (about 1 m). This runs once
   per import, never per request.
4. :func:`build_zones` dissolves the stored communes into their parent units (the units
   table's parent links) and the zones into the province outline.
5. :func:`prepare_layers` stores, once per import, the layers the maps send: per level and
   per parent (a country's provinces, one province's communes, one zone's communes), each a
   ready FeatureCollection simplified at a tolerance suited to the parent's extent
   (:func:`layer_tolerance`), with each feature's box and area; it bumps the boundary version.
6. :func:`feature_collection` / :func:`layer` read a prepared layer back, parsed once per
   boundary version in each process (a data load leaves them alone), never per request.

Stored GeoJSON text has its exterior rings **clockwise**, as d3-geo (plotly's ``geo``
traces) wants; MapLibre and geopandas accept either orientation.
"""
from __future__ import annotations

import json
import logging
import math
import threading
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.polygon import orient
from sqlalchemy import Connection, Engine

from . import sql
from .cache import memoized

log = logging.getLogger(__name__)

LEVELS = ("province", "district", "commune")

#: Visvalingam-Whyatt tolerance (degrees, about the side of the largest triangle removed):
#: the province-wide form (the demo's 114 communes fit in well under 200 KB) and the
#: finer form used when one zone's communes fill the map.
SIMPLIFY_TOLERANCE = 0.0015
DETAIL_TOLERANCE = 0.0003
#: Rounding of stored coordinates: 1e-5 degrees is about 1.1 m.
PRECISION = 1e-5
#: Noding grid when cleaning a coverage (about 1 cm): snaps near-identical vertices together.
NODING_GRID = 1e-7

BUILD_ZONES_SOURCE = "build-zones"

# Candidate columns, most specific first. Matching is case-insensitive.
_CODE_FIELDS = {
    "commune": ("ma_xa", "maxa", "ma_phuong_xa", "commune_code", "ward_code", "GID_3", "ADM3_PCODE"),
    "district": ("ma_huyen", "mahuyen", "ma_khu_vuc", "district_code", "zone_code", "GID_2", "ADM2_PCODE"),
    "province": ("ma_tinh", "matinh", "province_code", "GID_1", "ADM1_PCODE"),
}
_GENERIC_CODE_FIELDS = ("code", "ma", "ma_dvhc", "madvhc", "unit_code", "id", "ma_don_vi")
_NAME_FIELDS = {
    "commune": ("ten_xa", "tenxa", "ten_phuong_xa", "commune_name", "ward_name", "NAME_3", "ADM3_VI", "ADM3_EN",
                "VARNAME_3"),
    "district": ("ten_huyen", "tenhuyen", "ten_khu_vuc", "district_name", "zone_name", "NAME_2", "ADM2_VI",
                 "ADM2_EN"),
    "province": ("ten_tinh", "tentinh", "province_name", "NAME_1", "ADM1_VI", "ADM1_EN"),
}
_GENERIC_NAME_FIELDS = ("fullName", "full_name", "name", "ten", "ten_dvhc", "ten_don_vi", "tenDayDu")


class GeodataError(ValueError):
    """A boundary file that cannot be used; the message is bilingual and names the file and field."""


@dataclass
class ImportReport:
    level: str
    source: str
    features: int = 0
    stored: int = 0
    code_field: str | None = None
    name_field: str | None = None
    matched_by: str = "code"
    crs: str | None = None
    repaired: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    unmatched_features: list[tuple[str, str]] = field(default_factory=list)
    units_without_feature: list[tuple[str, str]] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        """A bilingual summary for the command line."""
        out = [
            f"Cấp / level: {self.level}; nguồn / source: {self.source}",
            f"Đối tượng trong tệp / features in file: {self.features}; đã lưu / stored: {self.stored}",
            f"Cột mã / code field: {self.code_field}; cột tên / name field: {self.name_field}; "
            f"ghép theo / matched by: {self.matched_by}",
        ]
        if self.crs:
            out.append(f"Hệ tọa độ gốc / source CRS: {self.crs} -> EPSG:4326")
        if self.repaired:
            out.append(f"Đã sửa hình học không hợp lệ / repaired invalid geometry: {', '.join(self.repaired)}")
        if self.skipped:
            out.append(f"Bỏ qua (không có đa giác) / skipped (no polygon): {', '.join(self.skipped)}")
        if self.duplicates:
            out.append(f"Mã lặp, đã gộp / duplicate codes, merged: {', '.join(self.duplicates)}")
        if self.unmatched_features:
            out.append(f"Đối tượng không khớp đơn vị nào / features matching no unit ({len(self.unmatched_features)}): "
                       + ", ".join(f"{c} {n}".strip() for c, n in self.unmatched_features))
        if self.units_without_feature:
            out.append(f"Đơn vị chưa có ranh giới / units without a boundary ({len(self.units_without_feature)}): "
                       + ", ".join(f"{c} {n}".strip() for c, n in self.units_without_feature))
        for name, size in self.sizes.items():
            out.append(f"GeoJSON rút gọn / simplified GeoJSON {name}: {size / 1024:.0f} KB")
        out.append(f"Thời gian / time: {self.seconds:.2f} s")
        return out


def nfc(value):
    return unicodedata.normalize("NFC", value).strip() if isinstance(value, str) else value


# --- reading ---------------------------------------------------------------------------

def _read_path(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    kwargs = {"layer": layer} if layer else {}
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
        shp = [n for n in names if n.lower().endswith(".shp")]
        inner = shp[0] if shp else next((n for n in names if n.lower().endswith((".gpkg", ".geojson", ".json",
                                                                                 ".topojson"))), None)
        if inner is None:
            raise GeodataError(
                f"{path.name}: tệp zip không chứa .shp, .gpkg hay .geojson / "
                f"the zip holds no .shp, .gpkg or .geojson (found: {', '.join(names) or 'nothing'})")
        return gpd.read_file(f"/vsizip/{path.resolve()}/{inner}", **kwargs)
    if path.suffix.lower() == ".gz":  # a gzipped GeoJSON (geodata/ keeps big files compressed)
        return gpd.read_file(f"/vsigzip/{path.resolve()}", **kwargs)
    return gpd.read_file(path, **kwargs)


def _pick(columns: list[str], candidates: tuple[str, ...]) -> list[str]:
    lower = {c.lower(): c for c in columns}
    return [lower[c.lower()] for c in candidates if c.lower() in lower]


def _polygonal(geom):
    """The polygonal part of a geometry as a MultiPolygon, or None."""
    if geom is None or geom.is_empty:
        return None
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = [q for p in parts for q in shapely.get_parts(p) if not q.is_empty]
    return shapely.MultiPolygon(polys) if polys else None


def read_boundary_file(path: str | Path, layer: str | None = None) -> tuple[gpd.GeoDataFrame, str | None]:
    """The features of a boundary file in EPSG:4326 with valid polygonal geometry.

    Returns (frame, source CRS as text). The frame keeps the file's attribute columns and
    has a ``_repaired`` flag column; features without any polygon are kept with a None
    geometry so they can be reported."""
    path = Path(path)
    if not path.exists():
        raise GeodataError(f"{path}: không tìm thấy tệp / file not found")
    try:
        gdf = _read_path(path, layer)
    except GeodataError:
        raise
    except Exception as exc:  # pyogrio/GDAL errors: name the file, keep the driver's words
        raise GeodataError(f"{path.name}: không đọc được tệp ranh giới / cannot read the boundary file: "
                           f"{str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__}") from None
    if gdf.empty:
        raise GeodataError(f"{path.name}: tệp không có đối tượng nào / the file has no features")
    source_crs = gdf.crs.to_string() if gdf.crs is not None else None
    if gdf.crs is None:
        minx, miny, maxx, maxy = gdf.total_bounds
        if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
            raise GeodataError(
                f"{path.name}: tệp không ghi hệ tọa độ và tọa độ không phải kinh/vĩ độ / "
                f"the file has no CRS and its coordinates are not longitude/latitude (bounds {gdf.total_bounds})")
        gdf = gdf.set_crs("EPSG:4326")
    elif gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs("EPSG:4326")
    invalid = ~gdf.geometry.is_valid & gdf.geometry.notna()
    geoms = gdf.geometry.values.copy()
    if invalid.any():
        geoms[invalid.to_numpy()] = shapely.make_valid(geoms[invalid.to_numpy()])
    gdf = gdf.set_geometry(gpd.GeoSeries([_polygonal(g) for g in geoms], index=gdf.index, crs="EPSG:4326"))
    gdf["_repaired"] = invalid.to_numpy()
    for col in gdf.columns:
        if col != gdf.geometry.name and (gdf[col].dtype == object or pd.api.types.is_string_dtype(gdf[col])):
            gdf[col] = gdf[col].map(nfc)
    return gdf, (source_crs if source_crs and source_crs != "EPSG:4326" else None)


# --- matching --------------------------------------------------------------------------

def _as_code(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _normalise_codes(raw: pd.Series, unit_codes: set[str]) -> pd.Series:
    """Codes as text; numbers that lost their leading zeros get them back when every unit
    code of the level has the same width ("4" -> "00004")."""
    codes = raw.map(_as_code)
    widths = {len(c) for c in unit_codes}
    if len(widths) == 1 and all(c.isdigit() for c in unit_codes):
        width = widths.pop()
        codes = codes.map(lambda c: c.zfill(width) if c is not None and c.isdigit() and len(c) < width else c)
    return codes


def _name_key(name) -> str:
    return nfc(str(name)).casefold() if name is not None and not (isinstance(name, float) and np.isnan(name)) \
        else ""


def match_units(gdf: gpd.GeoDataFrame, units: pd.DataFrame, level: str, *, code_field: str | None = None,
                name_field: str | None = None, filename: str = "") -> tuple[gpd.GeoDataFrame, ImportReport]:
    """Pair features with the units of `level`. Returns (code, name, geometry) rows for the
    matched features (duplicates merged) and a report of everything that did not match."""
    if level not in LEVELS:
        raise GeodataError(f"Cấp không hợp lệ {level!r} (province, district, commune) / invalid level {level!r}")
    report = ImportReport(level=level, source=filename, features=len(gdf))
    columns = [c for c in gdf.columns if c not in (gdf.geometry.name, "_repaired")]
    level_units = units[units["level"] == level]
    unit_codes = set(level_units["code"].astype(str))
    unit_names = dict(zip(level_units["code"].astype(str), level_units["name"]))

    for given, what in ((code_field, "--code-field"), (name_field, "--name-field")):
        if given and given not in columns:
            raise GeodataError(f"{filename}: không có cột {given!r} ({what}); các cột / columns: {', '.join(columns)}")

    code_candidates = [code_field] if code_field else \
        _pick(columns, _CODE_FIELDS[level]) + _pick(columns, _GENERIC_CODE_FIELDS)
    name_candidates = [name_field] if name_field else \
        _pick(columns, _NAME_FIELDS[level]) + _pick(columns, _GENERIC_NAME_FIELDS)
    # Several candidates: the one whose values match the most unit codes wins.
    best, best_hits = None, -1
    for col in dict.fromkeys(code_candidates):
        hits = int(_normalise_codes(gdf[col], unit_codes).isin(unit_codes).sum())
        if hits > best_hits:
            best, best_hits = col, hits
    name_col = name_candidates[0] if name_candidates else None
    report.code_field, report.name_field = best, name_col
    if best is None and name_col is None:
        raise GeodataError(
            f"{filename}: không tìm thấy cột mã hay cột tên (dùng --code-field/--name-field) / "
            f"no code or name column found (use --code-field/--name-field); columns: {', '.join(columns)}")

    names = gdf[name_col].map(lambda v: nfc(str(v)) if v is not None and not pd.isna(v) else "") \
        if name_col else pd.Series("", index=gdf.index)
    codes = _normalise_codes(gdf[best], unit_codes) if best else pd.Series(None, index=gdf.index, dtype=object)
    if best_hits <= 0 and name_col and not code_field:
        # No code matches: try the names (NFC, case-insensitive), unambiguous ones only.
        by_name: dict[str, list[str]] = {}
        for code, name in unit_names.items():
            by_name.setdefault(_name_key(name), []).append(code)
        via_name = names.map(lambda n: by_name.get(_name_key(n), [None, None]))
        via_name = via_name.map(lambda found: found[0] if len(found) == 1 else None)
        if via_name.notna().sum() > 0:
            codes = via_name.where(via_name.notna(), codes)
            report.matched_by = "name"

    frame = gpd.GeoDataFrame({"code": codes.to_numpy(), "file_name": names.to_numpy(),
                              "_repaired": gdf["_repaired"].to_numpy()},
                             geometry=gdf.geometry.values, crs="EPSG:4326")
    label = frame["code"].fillna("?") + " " + frame["file_name"]
    report.repaired = label[frame["_repaired"]].str.strip().tolist()
    no_geom = frame.geometry.isna()
    report.skipped = label[no_geom].str.strip().tolist()
    frame = frame[~no_geom]
    matched = frame["code"].isin(unit_codes)
    report.unmatched_features = sorted(
        {(c if isinstance(c, str) else "?", n) for c, n in zip(frame.loc[~matched, "code"],
                                                             frame.loc[~matched, "file_name"])})
    frame = frame[matched]
    dup = frame["code"][frame["code"].duplicated()].unique().tolist()
    report.duplicates = sorted(dup)
    if dup:
        frame = frame.dissolve(by="code", as_index=False, aggfunc="first")
    report.units_without_feature = sorted((c, unit_names[c]) for c in unit_codes - set(frame["code"]))
    frame = frame.assign(name=frame["code"].map(unit_names))
    return gpd.GeoDataFrame(frame[["code", "name", "geometry"]], geometry="geometry", crs="EPSG:4326") \
        .sort_values("code").reset_index(drop=True), report


# --- geometry --------------------------------------------------------------------------

def clean_coverage(geoms) -> np.ndarray:
    """Make polygons a valid coverage: node every boundary once (on a 1 cm grid), rebuild the
    faces, and give each face to one polygon that contains it (the first, where two overlap).
    Shared edges then have identical vertices on both sides, which is what
    ``coverage_simplify`` needs to keep neighbours gap- and overlap-free. Faces inside no
    polygon (gaps in the source) stay gaps."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return geoms
    if len(geoms) == 1 or shapely.coverage_is_valid(geoms):
        return np.array([shapely.set_precision(g, NODING_GRID) for g in geoms], dtype=object) \
            if len(geoms) > 1 else geoms
    lines = shapely.union_all(shapely.boundary(geoms), grid_size=NODING_GRID)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    points = shapely.point_on_surface(faces)
    tree = shapely.STRtree(geoms)
    face_idx, geom_idx = tree.query(points, predicate="within")
    owner = np.full(len(faces), -1)
    for f, g in zip(face_idx, geom_idx):
        if owner[f] < 0 or g < owner[f]:
            owner[f] = g
    out = []
    for k, original in enumerate(geoms):
        mine = faces[owner == k]
        if len(mine) == 0:  # swallowed entirely by neighbours: keep its own shape
            out.append(shapely.set_precision(original, NODING_GRID))
            continue
        merged = shapely.coverage_union_all(mine)
        out.append(_polygonal(merged) or original)
    return np.array(out, dtype=object)


def _round(geom):
    rounded = shapely.set_precision(geom, PRECISION)
    return _polygonal(rounded) or _polygonal(geom)


def _clockwise(geom):
    """Exterior rings clockwise, holes anticlockwise (d3-geo's convention)."""
    return shapely.MultiPolygon([orient(p, sign=-1.0) for p in shapely.get_parts(geom)])


def geojson_text(geom) -> str:
    return shapely.to_geojson(geom)


def simplify_coverage(geoms, tolerance: float) -> np.ndarray:
    """Topology-preserving simplification of a clean coverage, rounded to ~1 m, clockwise."""
    return _finish(geoms, _coverage_simplify(geoms, tolerance))


def _coverage_simplify(geoms, tolerance: float) -> np.ndarray:
    geoms = np.asarray(geoms, dtype=object)
    return shapely.coverage_simplify(geoms, tolerance) if len(geoms) else geoms


def _finish(originals, simple) -> np.ndarray:
    out = []
    for original, g in zip(originals, simple):
        poly = _polygonal(g)
        if poly is None:  # a tiny island reduced to nothing: keep it, rounded
            poly = _polygonal(original)
        out.append(_clockwise(_round(poly)))
    return np.array(out, dtype=object)


# --- storing ---------------------------------------------------------------------------

def _units(conn: Connection) -> pd.DataFrame:
    frame = sql.fetch_df(conn, "units")
    frame["code"] = frame["code"].astype(str)
    return frame


def resimplify(conn: Connection, level: str, source: str, known: dict | None = None) -> dict[str, int]:
    """Recompute the simplified forms of every boundary of (level, source) as one coverage.
    `known` maps codes to geometries the caller already holds (not read back from the
    database). Returns the GeoJSON sizes in bytes of the two forms for the whole group."""
    rows = sql.fetch_df(conn, "boundaries_of_source", level=level, source=source)
    if rows.empty:
        return {}
    known = known or {}
    codes = rows["code"].astype(str).tolist()
    geoms = [known.get(c) for c in codes]
    todo = [i for i, g in enumerate(geoms) if g is None]
    if todo:
        for i, g in zip(todo, shapely.from_geojson(rows["geometry"].iloc[todo].tolist())):
            geoms[i] = g
    geoms = np.array(geoms, dtype=object)
    # The fine form first; the coarse one from it (fewer vertices to visit, same topology).
    fine = _coverage_simplify(geoms, DETAIL_TOLERANCE)
    detail = _finish(geoms, fine)
    coarse = _finish(geoms, _coverage_simplify(fine, SIMPLIFY_TOLERANCE))
    updates = [{"code": c, "level": level, "simplified": geojson_text(a), "simplified_detail": geojson_text(b)}
               for c, a, b in zip(codes, coarse, detail)]
    conn.execute(sql.statement("boundary_simplified_update"), updates)
    return {"simplified": _collection_size(codes, [u["simplified"] for u in updates]),
            "simplified_detail": _collection_size(codes, [u["simplified_detail"] for u in updates])}


def _collection_size(codes, texts) -> int:
    """Bytes of the FeatureCollection a map would send for these features."""
    parts = [f'{{"type":"Feature","id":{json.dumps(str(c))},"properties":{{}},"geometry":{t}}}'
             for c, t in zip(codes, texts)]
    return len('{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}")


def store_boundaries(conn: Connection, frame: gpd.GeoDataFrame, level: str, source: str) -> dict[str, int]:
    """Clean `frame` (code, geometry in EPSG:4326) into a coverage, upsert it as `level` from
    `source`, and simplify that source's whole coverage. Returns the simplified sizes."""
    if frame.empty:
        return {}
    clean = clean_coverage(frame.geometry.values)
    now = datetime.now(timezone.utc)
    rows = [{"code": str(code), "level": level, "geometry": geojson_text(g),
             "simplified": "{}", "source": source, "imported_at": now}
            for code, g in zip(frame["code"], clean)]
    conn.execute(sql.statement("boundary_upsert"), rows)
    return resimplify(conn, level, source, known=dict(zip((r["code"] for r in rows), clean)))


#: The steps import_file reports to its `progress` callback, in order.
IMPORT_STEPS = ("Đọc tệp / reading {file}", "Khớp {n} đối tượng với mã đơn vị / matching {n} features to unit codes",
                "Sửa, đơn giản hóa và ghi {n} ranh giới / repairing, simplifying and storing {n} boundaries")


def import_file(conn: Connection, path: str | Path, level: str, *, code_field: str | None = None,
                name_field: str | None = None, layer: str | None = None,
                source: str | None = None, prepare: bool = True, progress=None) -> ImportReport:
    """Read, match, repair and store one boundary file inside the caller's transaction, then
    (unless `prepare` is False: the caller prepares after several imports) the map layers.
    `progress(label)` is called as each of :data:`IMPORT_STEPS` starts."""
    say = progress or (lambda label: None)
    started = time.perf_counter()
    path = Path(path)
    if level not in LEVELS:
        raise GeodataError(f"Cấp không hợp lệ {level!r} (province, district, commune) / invalid level {level!r}")
    say(IMPORT_STEPS[0].format(file=path.name))
    gdf, crs = read_boundary_file(path, layer)
    say(IMPORT_STEPS[1].format(n=len(gdf)))
    units = _units(conn)
    if (units["level"] == level).sum() == 0:
        raise GeodataError(f"{path.name}: chưa có đơn vị cấp {level} nào trong cơ sở dữ liệu; nạp danh mục đơn vị "
                           f"trước / no {level} units in the database yet: load the units first")
    matched, report = match_units(gdf, units, level, code_field=code_field, name_field=name_field,
                                  filename=path.name)
    report.crs = crs
    report.source = source or path.name
    if matched.empty:
        sample = ", ".join(f"{c} {n}".strip() for c, n in report.unmatched_features[:5])
        raise GeodataError(
            f"{path.name}: không đối tượng nào khớp mã đơn vị cấp {level} (cột mã {report.code_field!r}) / "
            f"no feature matches a {level} unit code (code field {report.code_field!r}); e.g. {sample}")
    say(IMPORT_STEPS[2].format(n=len(matched)))
    report.sizes = store_boundaries(conn, matched, level, report.source)
    report.stored = len(matched)
    if prepare:
        report.sizes.update({f"layer {lv}/{key or '*'}": size for (lv, key), size in prepare_layers(conn).items()})
    report.seconds = time.perf_counter() - started
    return report


def _parents(units: pd.DataFrame) -> dict[str, str | None]:
    return {c: (p if isinstance(p, str) else None) for c, p in zip(units["code"], units["parent_code"])}


def build_zones(conn: Connection, prepare: bool = True) -> dict[str, ImportReport]:
    """Dissolve the stored current communes into their parent zones (level district) and
    the zones (or, without zones, the communes) into the province outline; then prepare the
    map layers (unless `prepare` is False)."""
    started = time.perf_counter()
    units = _units(conn)
    current = units[units["valid_to"].isna()]
    parent = _parents(units)
    level_of = dict(zip(units["code"], units["level"]))
    communes = sql.fetch_df(conn, "boundaries_geometry", level="commune")
    communes["code"] = communes["code"].astype(str)
    communes = communes[communes["code"].isin(set(current["code"]))]
    if communes.empty:
        raise GeodataError("Chưa có ranh giới xã nào; chạy `dashboard geodata import … --level commune` trước / "
                           "no commune boundaries stored yet: import them first")
    geoms = shapely.from_geojson(communes["geometry"].tolist())
    communes = gpd.GeoDataFrame({"code": communes["code"].to_numpy()}, geometry=geoms, crs="EPSG:4326")

    def ancestor(code: str, level: str) -> str | None:
        seen = set()
        cur = parent.get(code)
        while cur is not None and cur not in seen:
            seen.add(cur)
            if level_of.get(cur) == level:
                return cur
            cur = parent.get(cur)
        return None

    reports: dict[str, ImportReport] = {}
    for level in ("district", "province"):
        owner = communes["code"].map(lambda c, lv=level: ancestor(c, lv))
        groups = communes.assign(owner=owner.to_numpy()).dropna(subset=["owner"])
        report = ImportReport(level=level, source=BUILD_ZONES_SOURCE, features=len(groups))
        if groups.empty:
            reports[level] = report
            continue
        rows = []
        for code, group in groups.groupby("owner", sort=True):
            merged = _dissolve(group.geometry.values)
            rows.append({"code": code, "geometry": merged})
        frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
        level_units = current[current["level"] == level]
        report.units_without_feature = sorted(
            (c, n) for c, n in zip(level_units["code"], level_units["name"]) if c not in set(frame["code"]))
        report.sizes = store_boundaries(conn, frame, level, BUILD_ZONES_SOURCE)
        report.stored = len(frame)
        report.seconds = time.perf_counter() - started
        reports[level] = report
    if prepare:
        prepare_layers(conn)
    return reports


def _dissolve(geoms) -> shapely.MultiPolygon:
    """Union of neighbouring polygons: the fast coverage union when the result is valid
    (a clean coverage), else a full noded union."""
    geoms = np.asarray(geoms, dtype=object)
    merged = shapely.coverage_union_all(geoms)
    if not shapely.is_valid(merged):
        merged = shapely.union_all(geoms, grid_size=NODING_GRID)
    return _polygonal(merged)


def load_demo_boundaries(conn: Connection, prepare: bool = True) -> dict[str, ImportReport]:
    """The demo's communes from geodata/, then its zones and province outline (first start),
    then the map layers (`prepare`; migration 0002 runs before their table exists)."""
    from .geodata import COMMUNES_FILE

    reports = {"commune": import_file(conn, COMMUNES_FILE, "commune", code_field="code", name_field="fullName",
                                      source=f"geodata/{COMMUNES_FILE.name}", prepare=False)}
    reports.update(build_zones(conn, prepare=prepare))  # the layers once, for all three levels
    return reports


# --- layers prepared once per import ---------------------------------------------------

#: A layer's tolerance is the diagonal of its parent's extent over this (a country of ~17°
#: gives 0.017°, about 2 km; a province of ~1.5° gives 0.0015°; one zone of ~0.3° 0.0003°),
#: kept between these bounds.
LAYER_EXTENT_RATIO = 1000.0
LAYER_MIN_TOLERANCE = 0.0002
LAYER_MAX_TOLERANCE = 0.03
#: The key of a level's layer holding every unit of the level, whatever its parent.
WHOLE_LEVEL = ""
BOUNDARY_VERSION_KEY = "boundary_version"


def layer_tolerance(bounds) -> float:
    """The simplification tolerance (degrees) for a map whose extent is `bounds`."""
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    diag = math.hypot(maxx - minx, maxy - miny)
    return min(max(diag / LAYER_EXTENT_RATIO, LAYER_MIN_TOLERANCE), LAYER_MAX_TOLERANCE)


def layer_grid(tolerance: float) -> float:
    """The rounding grid of a layer's coordinates: a tenth of its tolerance, as a power of ten
    between 1e-5 (about 1 m) and 1e-3 (about 110 m)."""
    return min(max(10 ** math.floor(math.log10(tolerance / 10)), PRECISION), 1e-3)


def _finish_on_grid(originals, simple, grid: float) -> list:
    out = []
    for original, g in zip(originals, simple):
        poly = _polygonal(g) or _polygonal(original)
        rounded = _polygonal(shapely.set_precision(poly, grid)) or _polygonal(shapely.set_precision(poly, PRECISION)) \
            or poly
        out.append(_clockwise(rounded))
    return out


def _layer_rows(level: str, key: str, codes: list[str], geoms: np.ndarray, now) -> dict:
    tolerance = layer_tolerance(shapely.total_bounds(geoms))
    grid = layer_grid(tolerance)
    finished = _finish_on_grid(geoms, _coverage_simplify(geoms, tolerance), grid)
    digits = max(0, -int(round(math.log10(grid))))
    text = _collection_text(codes, [geojson_text(g) for g in finished])
    bounds = shapely.bounds(np.array(finished, dtype=object))
    areas = shapely.area(np.array(finished, dtype=object))
    shapes = {c: [round(float(b[0]), digits), round(float(b[1]), digits), round(float(b[2]), digits),
                  round(float(b[3]), digits), float(a)] for c, b, a in zip(codes, bounds, areas)}
    return {"level": level, "parent_code": key, "tolerance": tolerance, "features": len(codes), "geojson": text,
            "shapes": json.dumps(shapes, separators=(",", ":")), "bytes": len(text.encode("utf-8")),
            "prepared_at": now}


def _collection_text(codes, texts) -> str:
    parts = [f'{{"type":"Feature","id":{json.dumps(str(c))},"properties":{{}},"geometry":{t}}}'
             for c, t in zip(codes, texts)]
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


def prepare_layers(conn: Connection) -> dict[tuple[str, str], int]:
    """Prepare every map layer from the stored full-detail boundaries, inside the caller's
    transaction, and bump the boundary version: for each level, one layer per unit above it
    (its units under that parent, the extent of the parent giving the tolerance) and one of
    the whole level. Returns {(level, parent): bytes}. Runs after every boundary import,
    never per request."""
    from .database import get_meta, set_meta

    started = time.perf_counter()
    units = _units(conn)
    parent = _parents(units)
    stored = sql.fetch_df(conn, "boundaries_current")
    sql.run(conn, "boundary_layers_delete")
    now = datetime.now(timezone.utc)
    sizes: dict[tuple[str, str], int] = {}
    for level, rows in stored.groupby("level", sort=True):
        codes = rows["code"].astype(str).tolist()
        geoms = np.array(shapely.from_geojson(rows["geometry"].tolist()), dtype=object)
        groups: dict[str, list[int]] = {WHOLE_LEVEL: list(range(len(codes)))}
        for i, code in enumerate(codes):
            seen: set[str] = set()
            cur = parent.get(code)
            while cur is not None and cur not in seen:
                seen.add(cur)
                groups.setdefault(cur, []).append(i)
                cur = parent.get(cur)
        # The whole level is the root's layer when one root holds every unit: stored once.
        whole = [k for k, idx in groups.items() if k != WHOLE_LEVEL and len(idx) == len(codes)]
        if whole:
            del groups[WHOLE_LEVEL]
        batch = []
        for key, idx in sorted(groups.items()):
            row = _layer_rows(str(level), key, [codes[i] for i in idx], geoms[idx], now)
            sizes[(str(level), key)] = row["bytes"]
            batch.append(row)
        if batch:
            conn.execute(sql.statement("boundary_layer_insert"), batch)
    version = int(get_meta(conn, BOUNDARY_VERSION_KEY, "0") or 0) + 1
    set_meta(conn, BOUNDARY_VERSION_KEY, str(version))
    log.info("prepared %d boundary layers (version %d) in %.1f s", len(sizes), version,
             time.perf_counter() - started)
    return sizes


# --- reading back ----------------------------------------------------------------------

@dataclass(frozen=True)
class PreparedLayer:
    """One stored layer, parsed once per boundary version in each process."""
    level: str
    parent_code: str
    tolerance: float
    features: dict  # code -> GeoJSON Feature (dict), ready for a figure
    shapes: dict    # code -> (minx, miny, maxx, maxy, area)
    bytes: int
    text: str = ""     # the stored FeatureCollection, sent as is by ``/geo/…`` (``url``)
    version: str = ""  # the boundary version it was read under

    @property
    def url(self) -> str:
        """Where a browser fetches this layer (``geo_layer_url``): a screen's map names it
        instead of carrying the coordinates, so a drill-down answer holds only figures and the
        browser keeps each layer until the boundaries change."""
        return geo_layer_url(self.level, self.parent_code, self.version)


def geo_layer_url(level: str, parent_code: str, version: str) -> str:
    from urllib.parse import quote

    return f"/geo/{quote(level, safe='')}/{quote(parent_code or WHOLE_PATH, safe='@')}.json?v={quote(version)}"


#: The path segment of a layer that covers a whole level ('' as a parent code).
WHOLE_PATH = "_"


_MAX_PARSED = 256
_parsed: dict[tuple, PreparedLayer | None] = {}
_boundary_versions: dict[tuple[str, int], str] = {}
_parse_lock = threading.Lock()


def _engine_url() -> str:
    from . import figures

    return figures.engine().url.render_as_string(hide_password=False)


def _data_version() -> int:
    from . import figures

    return figures.version()


@memoized(_data_version, name="boundaries.stored_version")
def _stored_version(url: str) -> str:
    """meta.boundary_version, read through the shared cache: an outage serves the last good one,
    so a worker started during it still knows which layers to draw."""
    from . import figures
    from .database import get_meta

    with figures.engine().connect() as conn:
        return str(get_meta(conn, BOUNDARY_VERSION_KEY, "0") or "0")


@memoized(_data_version, name="boundaries.layer_row")
def _layer_row(url: str, boundary: str, level: str, parent_code: str) -> tuple | None:
    """The stored layer as text (GeoJSON, shapes, tolerance, bytes), through the shared cache
    for the same reason; `boundary` keys it, so a re-import is never served an old layer."""
    from . import figures

    with figures.engine().connect() as conn:
        row = conn.execute(sql.statement("boundary_layer"), {"level": level, "parent_code": parent_code}).first()
    return None if row is None else (row.level, row.parent_code, row.geojson, row.shapes, row.tolerance, row.bytes)


def boundary_version() -> str:
    """The boundary version of the database being read. It is read once per data version in
    each process (a boundary import is a write, so it bumps the data version too) and a data
    load that leaves the boundaries alone finds the same boundary version: nothing re-parsed.
    During an outage the shared cache's last good answer of ``_stored_version`` serves (so a
    worker started during it knows it too); a failed read is never remembered, and with
    nothing to fall back on it is "0" (no prepared layers: the map says it has no outlines)."""
    url = _engine_url()
    try:
        key: tuple | None = (url, _data_version())
    except Exception:  # noqa: BLE001 - no data version at all: the last good answer, if any
        key = None
    known = _boundary_versions.get(key) if key is not None else None
    if known is not None:
        return known
    from .cache import DataUnavailable

    try:
        known = _stored_version(url)
    except DataUnavailable:  # away, with nothing kept (or a strict request): said by the caller
        return "0"
    except Exception:  # noqa: BLE001 - not migrated yet
        log.warning("boundary version unreadable", exc_info=True)
        return "0"
    if key is not None and not _degraded():
        if len(_boundary_versions) > 64:
            _boundary_versions.clear()
        _boundary_versions[key] = known
    return known


def _degraded() -> bool:
    """This request is served from last-good figures: what it read is not remembered as current."""
    from .cache import outage

    return outage() is not None


def _parse_layer(row, version: str = "") -> PreparedLayer:
    level, parent_code, geojson, shapes, tolerance, size = row
    collection = json.loads(geojson)
    shapes = {c: tuple(v) for c, v in json.loads(shapes).items()}
    return PreparedLayer(level=level, parent_code=parent_code, tolerance=float(tolerance),
                         features={str(f["id"]): f for f in collection["features"]}, shapes=shapes,
                         bytes=int(size), text=geojson, version=version)


_UNREADABLE = object()


def _read_layer(boundary: str, level: str, parent_code: str):
    try:
        row = _layer_row(_engine_url(), boundary, level, parent_code)
    except Exception:  # noqa: BLE001 - not migrated to 0007 yet, or the database away with nothing kept
        log.warning("no boundary layer readable for %s/%s", level, parent_code, exc_info=True)
        return _UNREADABLE
    return _parse_layer(row, boundary) if row is not None else None


def prepared(level: str, parent_code: str) -> PreparedLayer | None:
    """The stored layer (level, parent), parsed once per boundary version (None if none).
    A layer that could not be read is not remembered as missing: the next request asks again."""
    boundary = boundary_version()
    key = (_engine_url(), boundary, level, parent_code)
    if key in _parsed:
        return _parsed[key]
    with _parse_lock:
        if key in _parsed:
            return _parsed[key]
        found = _read_layer(boundary, level, parent_code)
        if found is _UNREADABLE:
            return None
        if len(_parsed) >= _MAX_PARSED:
            _parsed.clear()
        _parsed[key] = found
        return found


def layer_for(level: str, parent: str | None = None) -> PreparedLayer | None:
    """The layer a map of `level` under `parent` draws: that parent's own, else the whole
    level's (or the root's, which is the whole level when one root holds every unit)."""
    from . import figures

    keys = [parent] if parent else []
    keys.append(WHOLE_LEVEL)
    try:
        keys.append(figures.root_code())
    except Exception:  # noqa: BLE001 - no units: no layer
        pass
    for key in dict.fromkeys(keys):
        found = prepared(level, key)
        if found is not None:
            return found
    return None


def layer(level: str, parent: str | None = None) -> dict[str, dict]:
    """{code: {"geometry", "bbox", "area"}} of the prepared layer of `level` under `parent`."""
    found = layer_for(level, parent)
    if found is None:
        return {}
    return {c: {"geometry": f["geometry"], "bbox": list(found.shapes[c][:4]), "area": found.shapes[c][4]}
            for c, f in found.features.items()}


def feature_collection(level: str, codes, parent: str | None = None) -> dict:
    """The prepared features of `codes` (in that order) as a GeoJSON FeatureCollection whose
    feature ids are the unit codes, with ``shapes`` (code -> box and area) beside it. Codes
    without a stored boundary are left out. The features are the parsed layer's own dicts:
    nothing is copied or parsed here."""
    found = layer_for(level, parent)
    if found is None:
        return {"type": "FeatureCollection", "features": [], "shapes": {}}
    feats = found.features
    return {"type": "FeatureCollection", "features": [feats[c] for c in codes if c in feats],
            "shapes": found.shapes}


def layers_summary(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return sql.fetch_df(conn, "boundary_layers_summary")


def summary(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return sql.fetch_df(conn, "boundaries_summary")
