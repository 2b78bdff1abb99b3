"""Boundary import (GeoJSON, TopoJSON, zipped Shapefile, GeoPackage), matching, repair,
dissolving into zones, and the simplified layers the maps send (size, no overlaps)."""
from __future__ import annotations

import json
import unicodedata
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import Polygon, box

from dashboard import boundaries, figures, maps, sql, store
from dashboard.database import make_engine, upgrade
from tests import world

METRIC = "EPSG:32648"  # UTM 48N, metres
X0, Y0, D = 106.0, 20.0, 0.1  # a 0.1° grid somewhere in the Red River delta

# Four communes of tests/world.py as squares in a row (00004, 00005 in zone 001; 00006, 00008
# in zone 002), plus one feature whose code matches no unit. 00007 (the pre-reform commune)
# has no feature.
SQUARES = {"00004": 0, "00005": 1, "00006": 2, "00008": 3, "99999": 5}
NAMES = {"00004": "Phường Bốn", "00005": "Xã Năm", "00006": "Xã Sáu", "00008": "Xã Tám", "99999": "Xã Lạ"}


def square(i: int) -> Polygon:
    return box(X0 + i * D, Y0, X0 + (i + 1) * D, Y0 + D)


def bowtie(i: int) -> Polygon:
    """An invalid self-intersecting ring over square i (make_valid turns it into two triangles)."""
    x, y = X0 + i * D, Y0
    return Polygon([(x, y), (x + D, y + D), (x + D, y), (x, y + D), (x, y)])


def frame(code_col="ma_xa", name_col="ten_xa", nfd=False, int_codes=False, broken=None) -> gpd.GeoDataFrame:
    codes = list(SQUARES)
    names = [unicodedata.normalize("NFD", NAMES[c]) if nfd else NAMES[c] for c in codes]
    geoms = [bowtie(SQUARES[c]) if c == broken else square(SQUARES[c]) for c in codes]
    values = [int(c) for c in codes] if int_codes else codes
    return gpd.GeoDataFrame({code_col: values, name_col: names, "dan_so": [1000] * len(codes)}, geometry=geoms,
                            crs="EPSG:4326")


def write_geojson(folder: Path) -> Path:
    path = folder / "xa.geojson"
    frame(broken="00005").to_file(path, driver="GeoJSON")
    return path


def write_topojson(folder: Path) -> Path:
    """A hand-written TopoJSON (no quantisation): one arc per square ring."""
    arcs, geometries = [], []
    for code, i in SQUARES.items():
        x0, y0 = X0 + i * D, Y0
        ring = [[x0, y0], [x0 + D, y0], [x0 + D, y0 + D], [x0, y0 + D], [x0, y0]]
        arcs.append(ring)
        geometries.append({"type": "Polygon", "arcs": [[len(arcs) - 1]],
                           "properties": {"code": code, "fullName": NAMES[code]}})
    topo = {"type": "Topology", "objects": {"communes": {"type": "GeometryCollection", "geometries": geometries}},
            "arcs": arcs}
    path = folder / "xa.topojson"
    path.write_text(json.dumps(topo, ensure_ascii=False), encoding="utf-8")
    return path


def write_zipped_shapefile(folder: Path) -> Path:
    """Upper-case DBF field names and a projected CRS (UTM 48N): both must be handled."""
    shp_dir = folder / "shp"
    shp_dir.mkdir()
    frame(code_col="MA_XA", name_col="TEN_XA").to_crs(METRIC).to_file(shp_dir / "xa.shp", driver="ESRI Shapefile",
                                                                      encoding="utf-8")
    path = folder / "xa_shp.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for part in shp_dir.iterdir():
            zf.write(part, arcname=part.name)
    return path


def write_geopackage(folder: Path) -> Path:
    """Codes stored as integers (leading zeros lost) and names in NFD (decomposed) form."""
    path = folder / "xa.gpkg"
    frame(code_col="ma_xa", name_col="ten_xa", nfd=True, int_codes=True).to_file(path, driver="GPKG", layer="xa")
    return path


WRITERS = {"geojson": write_geojson, "topojson": write_topojson, "shapefile": write_zipped_shapefile,
           "geopackage": write_geopackage}


@pytest.fixture
def world_db(use_engine):
    world.load_world(use_engine)
    return use_engine


def stored(engine, level: str) -> gpd.GeoDataFrame:
    with engine.connect() as conn:
        rows = sql.fetch_df(conn, "boundaries_geometry", level=level)
    return gpd.GeoDataFrame({"code": rows["code"].astype(str), "source": rows["source"]},
                            geometry=shapely.from_geojson(rows["geometry"].tolist()), crs="EPSG:4326")


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_import_each_format(world_db, tmp_path, fmt):
    path = WRITERS[fmt](tmp_path)
    with store.write_transaction(world_db) as conn:
        report = boundaries.import_file(conn, path, "commune")
    got = stored(world_db, "commune")
    assert sorted(got["code"]) == ["00004", "00005", "00006", "00008"]
    assert report.stored == 4
    assert report.unmatched_features == [("99999", "Xã Lạ")]
    assert report.units_without_feature == [("00007", "Xã Bảy (cũ)")]
    # Back in lon/lat whatever the file's CRS: each square sits where it was drawn.
    for code, geom in zip(got["code"], got.geometry):
        expected = square(SQUARES[code])
        if fmt == "geojson" and code == "00005":  # written as a bow-tie: repaired to its two triangles
            expected = shapely.make_valid(bowtie(SQUARES[code]))
        assert geom.is_valid
        assert geom.symmetric_difference(expected).area < 1e-5 * expected.area, code
    if fmt == "shapefile":
        assert report.crs and "32648" in report.crs
        assert report.code_field == "MA_XA" and report.name_field == "TEN_XA"
    if fmt == "geopackage":
        assert report.code_field == "ma_xa"  # integers 4, 5, ... padded back to 00004, 00005
    if fmt == "topojson":
        assert report.code_field == "code" and report.name_field == "fullName"


def test_names_are_nfc_and_reported_names_come_from_the_file(world_db, tmp_path):
    path = write_geopackage(tmp_path)
    gdf, _ = boundaries.read_boundary_file(path)
    assert all(unicodedata.is_normalized("NFC", n) for n in gdf["ten_xa"])
    with store.write_transaction(world_db) as conn:
        report = boundaries.import_file(conn, path, "commune")
    (code, name), = report.unmatched_features
    assert code == "99999" and name == "Xã Lạ" and unicodedata.is_normalized("NFC", name)


def test_invalid_geometry_is_repaired(world_db, tmp_path):
    path = write_geojson(tmp_path)  # 00005 is a bow-tie
    assert not shapely.is_valid(bowtie(1))
    with store.write_transaction(world_db) as conn:
        report = boundaries.import_file(conn, path, "commune")
    assert report.repaired == ["00005 Xã Năm"]
    got = stored(world_db, "commune").set_index("code")
    geom = got.loc["00005", "geometry"]
    assert geom.is_valid and geom.geom_type == "MultiPolygon"
    # make_valid keeps both triangles of the bow-tie: half of the square.
    assert geom.area == pytest.approx(D * D / 2, rel=1e-6)


def test_import_reports_unmatched_codes_and_units_without_feature_on_the_command_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    world.load_world(engine)
    path = write_geojson(tmp_path)
    from dashboard.cli import main

    result = CliRunner().invoke(main, ["--database", url, "geodata", "import", str(path), "--level", "commune"])
    assert result.exit_code == 0, result.output
    assert "99999 Xã Lạ" in result.output          # a feature matching no unit
    assert "00007 Xã Bảy (cũ)" in result.output    # a unit with no feature
    assert "stored: 4" in result.output
    steps = [ln.split("]")[0] + "]" for ln in result.stderr.splitlines() if ln.startswith("[")]
    assert steps == [f"[{i}/5]" for i in range(1, 6)], result.stderr
    result = CliRunner().invoke(main, ["--database", url, "geodata", "build-zones"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["--database", url, "geodata", "status"])
    assert "commune" in result.output and "build-zones" in result.output
    engine.dispose()
    figures.set_engine(None)


def test_explicit_fields_and_name_matching(world_db, tmp_path):
    # Codes in a column no heuristic knows, and a file with names only.
    path = tmp_path / "odd.geojson"
    frame(code_col="xyz", name_col="label").to_file(path, driver="GeoJSON")
    with store.write_transaction(world_db) as conn:
        report = boundaries.import_file(conn, path, "commune", code_field="xyz", name_field="label")
    assert report.stored == 4
    names_only = tmp_path / "names.geojson"
    frame(code_col="ma_khac", name_col="ten_xa").drop(columns=["ma_khac"]).to_file(names_only, driver="GeoJSON")
    with store.write_transaction(world_db) as conn:
        report = boundaries.import_file(conn, names_only, "commune")
    assert report.matched_by == "name" and report.stored == 4
    assert [c for c, _ in report.unmatched_features] == ["?"]


def test_bad_inputs_give_bilingual_errors(world_db, tmp_path):
    with store.write_transaction(world_db) as conn:
        with pytest.raises(boundaries.GeodataError, match="không tìm thấy tệp / file not found"):
            boundaries.import_file(conn, tmp_path / "nope.geojson", "commune")
    garbage = tmp_path / "garbage.geojson"
    garbage.write_text("{not json", encoding="utf-8")
    with store.write_transaction(world_db) as conn:
        with pytest.raises(boundaries.GeodataError, match="garbage.geojson.*cannot read"):
            boundaries.import_file(conn, garbage, "commune")
    path = write_geojson(tmp_path)
    with store.write_transaction(world_db) as conn:
        with pytest.raises(boundaries.GeodataError, match="--code-field"):
            boundaries.import_file(conn, path, "commune", code_field="khong_co")
    # Every feature's code misses: nothing is stored, the message names the field.
    with store.write_transaction(world_db) as conn:
        with pytest.raises(boundaries.GeodataError, match="no feature matches a district unit code"):
            boundaries.import_file(conn, path, "district", code_field="ma_xa")
    assert stored(world_db, "district").empty


def test_build_zones_dissolves_by_the_units_parents(world_db, tmp_path):
    path = write_geojson(tmp_path)
    with store.write_transaction(world_db) as conn:
        boundaries.import_file(conn, path, "commune")
        reports = boundaries.build_zones(conn)
    assert reports["district"].stored == 2 and reports["province"].stored == 1
    communes = stored(world_db, "commune").set_index("code").to_crs(METRIC)
    zones = stored(world_db, "district").set_index("code").to_crs(METRIC)
    province = stored(world_db, "province").set_index("code").to_crs(METRIC)
    area = communes.area
    # Zone 001 = 00004 + 00005; zone 002 = 00006 + 00008 (00007 is not current).
    assert zones.area["001"] == pytest.approx(area["00004"] + area["00005"], rel=1e-6)
    assert zones.area["002"] == pytest.approx(area["00006"] + area["00008"], rel=1e-6)
    assert province.area["01"] == pytest.approx(area.sum(), rel=1e-6)
    assert set(zones["source"]) == {boundaries.BUILD_ZONES_SOURCE}


# --- the demo province: stored on first start, simplified without gaps or overlaps --------------

def simplified(engine, level: str, column: str) -> gpd.GeoSeries:
    with engine.connect() as conn:
        rows = sql.fetch_df(conn, "boundaries_simplified", level=level)
    return gpd.GeoSeries(shapely.from_geojson(rows[column].tolist()), index=rows["code"].astype(str),
                         crs="EPSG:4326")


def test_demo_boundaries_are_stored_on_first_start(demo_db, demo_data):
    units = demo_data.units
    for level in ("commune", "district", "province"):
        got = simplified(demo_db, level, "simplified")
        # today's units: the old ones (valid to 2025-06) have no boundaries (none are open data)
        assert sorted(got.index) == sorted(units.loc[(units["level"] == level) & units["valid_to"].isna(), "code"]), level


@pytest.mark.parametrize("level", ["commune", "district"])
@pytest.mark.parametrize("column", ["simplified", "simplified_detail"])
def test_simplified_layers_have_no_overlaps(demo_db, level, column):
    geoms = simplified(demo_db, level, column).to_crs(METRIC)
    assert geoms.is_valid.all()
    left, right = geoms.sindex.query(geoms, predicate="intersects")
    overlap = sum(geoms.iloc[i].intersection(geoms.iloc[j]).area for i, j in zip(left, right) if i < j)
    assert overlap < 1.0  # m², over a province of about 3,000 km²
    # And no gaps opened between neighbours: the holes inside the simplified union are no
    # larger than those inside the full-detail union (the source's own gaps).
    full = stored(demo_db, level).geometry.to_crs(METRIC)
    assert holes(geoms.values) <= holes(full.values) * 1.01 + 1.0


def holes(geoms) -> float:
    union = shapely.union_all(geoms)
    return sum(Polygon(ring).area for part in shapely.get_parts(union) for ring in part.interiors)


def test_simplified_layer_is_close_to_the_full_one(demo_db):
    full = stored(demo_db, "commune").set_index("code").geometry.to_crs(METRIC)
    simple = simplified(demo_db, "commune", "simplified").to_crs(METRIC).reindex(full.index)
    # Each commune keeps its area within a few per cent (tiny islets aside).
    ratio = (simple.area / full.area)
    assert ratio.between(0.9, 1.1).mean() > 0.95


def test_province_wide_commune_layer_fits_in_200_kb(demo_db):
    fig = maps.map_figure("hssk", "2026-10", "commune", None, "status", "vi")
    sent = [tr.geojson for tr in fig.data if getattr(tr, "geojson", None) is not None]
    codes = [f["id"] for gj in sent for f in gj["features"]]
    assert len(codes) == 114 and len(set(codes)) == 114
    size = sum(len(json.dumps(gj, separators=(",", ":"), ensure_ascii=False)) for gj in sent)
    assert size <= 200 * 1024, size
    # Coordinates rounded to about a metre: at most 5 decimals.
    text = json.dumps(sent)
    decimals = pd.Series(text.replace("[", " ").replace("]", " ").replace(",", " ").split())
    decimals = decimals[decimals.str.contains(r"^\d+\.\d+$")].str.split(".").str[1].str.len()
    assert decimals.max() <= 5


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_at_0001(request, tmp_path):
    """A database of each kind migrated only to revision 0001 (before boundaries existed)."""
    from tests.conftest import _drop_schema, _pg_engine_in_new_schema, require_postgres

    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        upgrade(engine, "0001")
        yield engine
        engine.dispose()
    else:
        require_postgres()
        engine, admin, schema = _pg_engine_in_new_schema()
        upgrade(engine, "0001")
        yield engine
        engine.dispose()
        _drop_schema(admin, schema)


def test_a_demo_database_from_before_boundaries_gets_them_on_upgrade(engine_at_0001):
    from unittest import mock

    from dashboard.bootstrap import load_demo_province

    # as loaded before revision 0002 existed (no boundaries then, nor the crosswalk of 0009)
    with mock.patch("dashboard.boundaries.load_demo_boundaries", return_value={}), \
            mock.patch("dashboard.store.upsert_links", return_value=(0, 0)):
        load_demo_province(engine_at_0001)
    upgrade(engine_at_0001)
    summary = boundaries.summary(engine_at_0001).set_index("level")["features"].to_dict()
    assert summary == {"commune": 114, "district": 27, "province": 1}
