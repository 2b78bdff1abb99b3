"""Boundaries of Hải Phòng and the commune → health-zone rule, checked against the raw files."""
from __future__ import annotations

import csv
import json
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import shapely

from dashboard import geodata

REPO = Path(__file__).resolve().parent.parent
SHARED_CROSSWALK = Path("/work/shared/geodata/vn_commune_crosswalk_pre2025_to_2025.csv")
AREA_CRS = "EPSG:32648"  # UTM 48N, metres


def _nfc(s: str) -> bool:
    return unicodedata.is_normalized("NFC", s)


@pytest.fixture(scope="module")
def raw_crosswalk() -> list[dict]:
    with open(REPO / "geodata" / "crosswalk_31_hai_phong.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def raw_geojson_codes() -> list[str]:
    with open(REPO / "geodata" / "vn_2025_communes_31_hai_phong.geojson", encoding="utf-8") as f:
        return [feat["properties"]["code"] for feat in json.load(f)["features"]]


@pytest.fixture(scope="module")
def communes():
    return geodata.read_communes()


@pytest.fixture(scope="module")
def zones():
    return geodata.commune_zones()


def test_geodata_dir_and_shipped_files():
    assert geodata.GEODATA_DIR == REPO / "geodata"
    for name in ("vn_2025_communes_31_hai_phong.geojson", "crosswalk_31_hai_phong.csv", "README.md",
                 "LICENSE_vietnamese-provinces-database_MIT.txt", "LICENSE_vietnamadminunits_MIT.txt"):
        assert (geodata.GEODATA_DIR / name).is_file(), name
    readme = (geodata.GEODATA_DIR / "README.md").read_text(encoding="utf-8")
    for credit in ("thanglequoc", "sapnhap.bando.com.vn", "vietnamadminunits", "1.0.4", "MIT"):
        assert credit in readme


def test_crosswalk_copy_is_exactly_province_31(raw_crosswalk):
    assert len(raw_crosswalk) > 0
    assert {r["new_province_code"] for r in raw_crosswalk} == {"31"}
    # Leading zeros / text codes survive: every new code is 5 digits.
    assert all(len(r["new_ward_code"]) == 5 and r["new_ward_code"].isdigit() for r in raw_crosswalk)
    if SHARED_CROSSWALK.exists():
        with open(SHARED_CROSSWALK, encoding="utf-8", newline="") as f:
            source = [r for r in csv.DictReader(f) if r["new_province_code"] == "31"]
        assert source == raw_crosswalk


def test_read_communes(communes, raw_geojson_codes, raw_crosswalk):
    assert len(communes) == 114
    assert list(communes.columns) == ["code", "name", "geometry"]
    assert communes.crs.to_epsg() == 4326
    assert communes["code"].is_unique
    assert sorted(communes["code"]) == sorted(raw_geojson_codes)
    assert all(isinstance(c, str) and len(c) == 5 for c in communes["code"])
    assert all(isinstance(n, str) and _nfc(n) for n in communes["name"])
    assert communes.geometry.is_valid.all()
    # Names follow the crosswalk's spelling.
    xw_name = {r["new_ward_code"]: r["new_ward"] for r in raw_crosswalk}
    assert {c: n for c, n in zip(communes["code"], communes["name"])} == {
        c: unicodedata.normalize("NFC", xw_name[c]) for c in communes["code"]}
    # Roughly where Hải Phòng is.
    minx, miny, maxx, maxy = communes.total_bounds
    assert 105.9 < minx < maxx < 108.0 and 19.9 < miny < maxy < 21.3


def _expected_zones(raw_crosswalk) -> dict[str, str]:
    """The documented rule, recomputed with plain Python."""
    rows = defaultdict(Counter)
    defaults = defaultdict(Counter)
    for r in raw_crosswalk:
        rows[r["new_ward_code"]][r["old_district_code"]] += 1
        defaults[r["new_ward_code"]][r["old_district_code"]] += r["default"] == "True"
    out = {}
    for ward, counter in rows.items():
        out[ward] = min(counter, key=lambda d: (-counter[d], -defaults[ward][d], int(d)))
    return out


def test_every_commune_has_exactly_one_zone(zones, communes, raw_crosswalk):
    assert list(zones.columns) == ["commune_code", "zone_code", "zone_name"]
    assert len(zones) == 114
    assert zones["commune_code"].is_unique
    assert set(zones["commune_code"]) == set(communes["code"])
    old_districts = {r["old_district_code"] for r in raw_crosswalk}
    assert set(zones["zone_code"]) <= old_districts
    assert dict(zip(zones["commune_code"], zones["zone_code"])) == _expected_zones(raw_crosswalk)


def test_zone_names(zones, raw_crosswalk):
    district_name = {r["old_district_code"]: r["old_district"] for r in raw_crosswalk}
    for code, name in zip(zones["zone_code"], zones["zone_name"]):
        assert _nfc(name)
        assert name.startswith("Khu vực ")
        full = district_name[code]
        prefix = next(p for p in ("Thành phố ", "Thị xã ", "Huyện ", "Quận ") if full.startswith(p))
        assert name == "Khu vực " + full[len(prefix):]
    # One zone name per code and vice versa.
    pairs = zones[["zone_code", "zone_name"]].drop_duplicates()
    assert pairs["zone_code"].is_unique and pairs["zone_name"].is_unique
    assert len(pairs) == 27
    assert "Khu vực Hồng Bàng" in set(pairs["zone_name"])


def test_tie_is_broken_by_default_flag(zones, raw_crosswalk):
    # Phường Việt Hòa: 2 rows from 288 (TP Hải Dương), 2 from 295 (Cẩm Giàng, one default).
    counts = Counter(r["old_district_code"] for r in raw_crosswalk if r["new_ward_code"] == "10543")
    assert counts == Counter({"288": 2, "295": 2})
    assert zones.set_index("commune_code").loc["10543", "zone_code"] == "295"


def test_strip_district_prefix():
    assert geodata.strip_district_prefix("Quận Hồng Bàng") == "Hồng Bàng"
    assert geodata.strip_district_prefix("Thành phố Thủy Nguyên") == "Thủy Nguyên"
    assert geodata.strip_district_prefix("Thị xã Kinh Môn") == "Kinh Môn"
    assert geodata.strip_district_prefix("Huyện Bạch Long Vĩ") == "Bạch Long Vĩ"


def test_dissolve_zones_preserves_area(communes, zones):
    dissolved = geodata.dissolve_zones(communes, zones)
    assert list(dissolved.columns) == ["code", "name", "geometry"]
    assert len(dissolved) == zones["zone_code"].nunique() == 27
    assert dissolved["code"].is_unique
    assert dissolved.crs == communes.crs
    assert dissolved.geometry.is_valid.all()
    commune_area = communes.to_crs(AREA_CRS).area.sum()
    zone_area = dissolved.to_crs(AREA_CRS).area.sum()
    assert abs(zone_area - commune_area) / commune_area < 1e-6
    # Each commune lies in its own zone's polygon.
    zgeom = dict(zip(dissolved["code"], dissolved.geometry))
    zone_of = dict(zip(zones["commune_code"], zones["zone_code"]))
    for code, geom in zip(communes["code"], communes.geometry):
        p = geom.representative_point()
        assert shapely.contains(zgeom[zone_of[code]], p), code


def test_province_outline(communes):
    outline = geodata.province_outline(communes)
    assert len(outline) == 1
    assert outline["code"].iloc[0] == "31"
    assert outline["name"].iloc[0] == "Thành phố Hải Phòng"
    commune_area = communes.to_crs(AREA_CRS).area.sum()
    outline_area = outline.to_crs(AREA_CRS).area.iloc[0]
    assert abs(outline_area - commune_area) / commune_area < 1e-6
    # About 3,100 km² (Hải Phòng 1,5xx + Hải Dương 1,6xx).
    assert 2.8e9 < outline_area < 3.4e9


def test_read_communes_returns_copies(communes):
    a = geodata.read_communes()
    a.loc[0, "name"] = "x"
    assert geodata.read_communes().loc[0, "name"] != "x"
