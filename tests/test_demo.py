"""The demo data set: structure, plausibility and determinism, checked independently."""
from __future__ import annotations

import csv
import time
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from dashboard import demo, geodata

REPO = Path(__file__).resolve().parent.parent
AREA_CRS = "EPSG:32648"
SRC_003 = "KH CĐS ngành Y tế Hải Phòng 6 tháng cuối năm 2025 (theo KH 215/KH-UBND ngày 25/8/2025)"


@pytest.fixture(scope="module")
def data() -> demo.DemoData:
    return demo.build_demo()


@pytest.fixture(scope="module")
def communes():
    return geodata.read_communes()


@pytest.fixture(scope="module")
def old_districts() -> set[str]:
    with open(REPO / "geodata" / "crosswalk_31_hai_phong.csv", encoding="utf-8", newline="") as f:
        return {r["old_district_code"] for r in csv.DictReader(f)}


def _is_nfc(s) -> bool:
    return isinstance(s, str) and unicodedata.is_normalized("NFC", s)


def _months(start: str, end: str) -> list[str]:
    return [str(p) for p in pd.period_range(start, end, freq="M")]


def _share(values: pd.DataFrame, indicator: str, period: str) -> float:
    rows = values[(values["indicator"] == indicator) & (values["period"] == period)]
    return 100.0 * rows["numerator"].sum() / rows["denominator"].sum()


# --------------------------------------------------------------------------- constants


def test_period_constants():
    assert demo.DEMO_PERIOD_START == "2023-01"
    assert demo.DEMO_PERIOD_END == "2026-10"
    assert demo.demo_periods() == _months("2023-01", "2026-10")


# --------------------------------------------------------------------------- units


def test_units(data, old_districts):
    u = data.units
    assert list(u.columns) == ["code", "name", "level", "parent_code", "valid_from", "valid_to"]
    assert u["code"].is_unique
    assert all(isinstance(c, str) for c in u["code"])
    assert all(_is_nfc(n) for n in u["name"])
    counts = u["level"].value_counts().to_dict()
    assert counts == {"province": 1, "district": 27, "commune": 114}

    prov = u[u["level"] == "province"].iloc[0]
    assert prov["code"] == "31" and prov["name"] == "Thành phố Hải Phòng"
    assert prov["parent_code"] is None and prov["valid_from"] is None and prov["valid_to"] is None

    zones = u[u["level"] == "district"]
    assert (zones["parent_code"] == "31").all()
    assert zones["valid_from"].isna().all() and zones["valid_to"].isna().all()
    assert set(zones["code"]) <= old_districts
    assert all(n.startswith("Khu vực ") for n in zones["name"])

    com = u[u["level"] == "commune"]
    # Every commune has exactly one zone, and it is a zone of this table.
    assert com["code"].is_unique
    assert com["parent_code"].isin(set(zones["code"])).all()
    assert com["valid_from"].isna().all()  # back-cast history: see COMMUNE_VALID_FROM
    assert com["valid_to"].isna().all()
    # Every zone has at least one commune.
    assert set(com["parent_code"]) == set(zones["code"])


def test_communes_match_boundaries(data, communes):
    com = data.units[data.units["level"] == "commune"]
    assert sorted(com["code"]) == sorted(communes["code"])
    assert dict(zip(com["code"], com["name"])) == dict(zip(communes["code"], communes["name"]))


# --------------------------------------------------------------------------- facilities


def test_facilities_structure(data):
    f = data.facilities
    assert list(f.columns) == ["code", "name", "type", "unit_code", "lat", "lon"]
    assert f["code"].is_unique
    assert not set(f["code"]) & set(data.units["code"])
    assert f["type"].value_counts().to_dict() == {"station": 114, "health_centre": 27, "hospital": 18}
    assert all(_is_nfc(n) and n.endswith(" (minh họa)") for n in f["name"])

    u = data.units
    commune_codes = set(u.loc[u["level"] == "commune", "code"])
    zone_codes = set(u.loc[u["level"] == "district", "code"])
    assert f["unit_code"].isin(commune_codes | zone_codes).all()

    hosp = f[f["type"] == "hospital"]
    assert hosp["code"].str.fullmatch(r"BV31\d\d").all()
    assert hosp["unit_code"].isin(commune_codes).all()

    ttyt = f[f["type"] == "health_centre"]
    assert (ttyt["code"] == "TTYT" + ttyt["unit_code"]).all()
    assert set(ttyt["unit_code"]) == zone_codes
    assert all(n.startswith("Trung tâm Y tế khu vực ") for n in ttyt["name"])

    tyt = f[f["type"] == "station"]
    assert (tyt["code"] == "TYT" + tyt["unit_code"]).all()
    assert set(tyt["unit_code"]) == commune_codes
    assert all(n.startswith("Trạm Y tế ") for n in tyt["name"])

    assert any("Việt Tiệp" in n for n in hosp["name"])
    assert any("Hải Dương" in n for n in hosp["name"])


def test_facility_points_inside_their_polygons(data, communes):
    f = data.facilities
    geom = dict(zip(communes["code"], communes.geometry))
    zone_of = dict(zip(data.units["code"], data.units["parent_code"]))
    for row in f.itertuples():
        assert np.isfinite(row.lat) and np.isfinite(row.lon)
        if row.type in ("station", "hospital"):
            assert shapely.contains_xy(geom[row.unit_code], row.lon, row.lat), row.code
        else:  # health centre: in some commune of its own zone
            hosts = [c for c, g in geom.items() if shapely.contains_xy(g, row.lon, row.lat)]
            assert len(hosts) == 1, row.code
            assert zone_of[hosts[0]] == row.unit_code, row.code
    # Hospitals sit in the urban cores: the old Hải Phòng urban districts or Hải Dương city.
    hosp = f[f["type"] == "hospital"]
    assert hosp["unit_code"].map(zone_of).isin({"288", "303", "304", "305", "306", "307", "312"}).all()
    # Health centres are not on top of their host commune's station.
    st = f[f["type"] == "station"][["lat", "lon"]].round(6).apply(tuple, axis=1)
    tt = f[f["type"] == "health_centre"][["lat", "lon"]].round(6).apply(tuple, axis=1)
    assert not set(st) & set(tt)


# --------------------------------------------------------------------------- targets


def test_targets(data):
    t = data.targets
    assert list(t.columns) == ["indicator", "scope_code", "value", "deadline", "source", "note"]
    assert (t["scope_code"] == "31").all()
    got = {(r.indicator, float(r.value), r.deadline) for r in t.itertuples()}
    assert got == {
        ("hssk", 95.0, "2025-12"), ("tthc_online", 80.0, "2025-12"), ("tyt_software", 100.0, "2025-12"),
        ("eprescription", 100.0, "2025-12"), ("work_online", 90.0, "2025-12"),
        ("emr", 100.0, "2025-12"), ("emr", 100.0, "2028-12"),
        ("cashless", 50.0, "2025-12"), ("cashless", 50.0, "2028-12"),
        ("telehealth", 100.0, "2025-12"),
    }
    assert len(t) == len(got)
    for ind in ("hssk", "tthc_online", "tyt_software", "eprescription", "work_online"):
        assert (t.loc[t["indicator"] == ind, "source"] == SRC_003).all()
    src = dict(zip(zip(t["indicator"], t["deadline"]), t["source"]))
    assert "Bà Rịa - Vũng Tàu" in src[("emr", "2025-12")]
    assert "seed 002" in src[("emr", "2028-12")] and "Bình Định" in src[("emr", "2028-12")]
    assert "Bình Định" in src[("cashless", "2028-12")]
    assert "Lai Châu" in src[("telehealth", "2025-12")] and "Bình Định" in src[("telehealth", "2025-12")]
    assert all(_is_nfc(s) for s in t["source"]) and all(_is_nfc(s) for s in t["note"])


# --------------------------------------------------------------------------- values


def test_values_structure(data):
    v = data.values
    assert list(v.columns) == ["indicator", "entity_code", "period", "numerator", "denominator"]
    for col in ("indicator", "entity_code", "period"):
        assert all(isinstance(x, str) for x in v[col])
    assert v["numerator"].dtype == "float64" and v["denominator"].dtype == "float64"
    assert not v.duplicated(["indicator", "entity_code", "period"]).any()
    assert (v["numerator"] >= 0).all()
    assert (v["denominator"] > 0).all()
    assert (v["numerator"] <= v["denominator"]).all()
    assert set(v["period"]) == set(_months("2023-01", "2026-10"))
    assert set(v["indicator"]) == {"emr", "cashless", "hssk", "tthc_online", "tyt_software",
                                   "eprescription", "telehealth", "work_online"}


def test_who_reports_what(data):
    v, f, u = data.values, data.facilities, data.units
    hosp = set(f.loc[f["type"] == "hospital", "code"])
    ttyt = set(f.loc[f["type"] == "health_centre", "code"])
    tyt = set(f.loc[f["type"] == "station", "code"])
    com = set(u.loc[u["level"] == "commune", "code"])
    entities = v.groupby("indicator")["entity_code"].agg(set).to_dict()
    assert entities["emr"] == hosp | ttyt
    assert entities["cashless"] == hosp | ttyt
    assert entities["hssk"] == com
    assert entities["tthc_online"] == {"31"}
    assert entities["work_online"] == {"31"}
    assert entities["tyt_software"] == tyt
    assert entities["eprescription"] == hosp | ttyt | tyt
    assert entities["telehealth"] == hosp
    for ind in ("emr", "tyt_software", "eprescription", "telehealth"):
        rows = v[v["indicator"] == ind]
        assert set(rows["numerator"]) <= {0.0, 1.0} and set(rows["denominator"]) == {1.0}


def test_population(data):
    h = data.values[data.values["indicator"] == "hssk"].sort_values(["entity_code", "period"])
    # Each commune's population, then the city total (independent of missing months).
    per_commune = h.groupby("entity_code")["denominator"].median()
    assert len(per_commune) == 114
    assert 4.3e6 <= per_commune.sum() <= 4.9e6
    # Wards are larger than rural communes on average.
    names = dict(zip(data.units["code"], data.units["name"]))
    ward = per_commune[[names[c].startswith("Phường") for c in per_commune.index]]
    rural = per_commune[[names[c].startswith("Xã") for c in per_commune.index]]
    assert ward.mean() > rural.mean()
    # Stable: never falls, grows slowly (< 1.5 %/yr).
    first = h.groupby("entity_code")["denominator"].first()
    last = h.groupby("entity_code")["denominator"].last()
    assert (h.groupby("entity_code")["denominator"].diff().dropna() >= 0).all()
    assert ((last / first) < 1.015 ** 4).all()


def test_missing_rows(data):
    v = data.values
    n_months = len(_months("2023-01", "2026-10"))
    sizes = {"emr": 45, "cashless": 45, "hssk": 114, "tthc_online": 1, "tyt_software": 114,
             "eprescription": 159, "telehealth": 18, "work_online": 1}
    full = sum(sizes.values()) * n_months
    missing = 1 - len(v) / full
    assert 0.01 < missing < 0.04


def test_last_month_is_incomplete(data):
    v = data.values
    h = v[v["indicator"] == "hssk"]
    sep = h.loc[h["period"] == "2026-09", "entity_code"].nunique()
    oct_ = h.loc[h["period"] == "2026-10", "entity_code"].nunique()
    assert oct_ < sep
    assert 5 <= 114 - oct_ <= 8
    s = v[v["indicator"] == "tyt_software"]
    assert s.loc[s["period"] == "2026-10", "entity_code"].nunique() < 114


def test_adoption_is_monotone(data):
    v = data.values
    for ind in ("emr", "tyt_software", "eprescription", "telehealth"):
        rows = v[v["indicator"] == ind].sort_values(["entity_code", "period"])
        assert (rows.groupby("entity_code")["numerator"].diff().dropna() >= 0).all(), ind


def test_curves_are_plausible(data):
    v = data.values
    assert 35 <= _share(v, "hssk", "2023-01") <= 45
    assert 88 <= _share(v, "hssk", "2026-10") <= 95
    assert _share(v, "emr", "2023-01") <= 20
    assert 82 <= _share(v, "emr", "2026-10") <= 92
    assert 10 <= _share(v, "cashless", "2023-01") <= 25
    assert 45 <= _share(v, "cashless", "2026-10") <= 65
    assert 20 <= _share(v, "tthc_online", "2023-01") <= 40
    assert 75 <= _share(v, "tthc_online", "2026-10") <= 95
    assert 93 <= _share(v, "tyt_software", "2026-10") <= 100
    assert 85 <= _share(v, "eprescription", "2026-10") <= 95
    assert 70 <= _share(v, "telehealth", "2026-10") <= 90
    assert 50 <= _share(v, "work_online", "2023-01") <= 70
    assert 85 <= _share(v, "work_online", "2026-10") <= 97
    # Some health centres still have no EMR at the end.
    emr = v[(v["indicator"] == "emr") & (v["period"] == "2026-09")]
    assert ((emr["numerator"] == 0) & emr["entity_code"].str.startswith("TTYT")).any()
    # Dossiers per month.
    tthc = v[v["indicator"] == "tthc_online"]
    assert tthc["denominator"].between(300, 900).all()
    # Fees: hospitals in the billions, centres smaller.
    c = v[v["indicator"] == "cashless"]
    hosp_mean = c[c["entity_code"].str.startswith("BV")].groupby("entity_code")["denominator"].mean()
    ttyt_mean = c[c["entity_code"].str.startswith("TTYT")].groupby("entity_code")["denominator"].mean()
    assert hosp_mean.between(3e9, 7e10).all() and ttyt_mean.between(3e8, 5e9).all()


def test_spread_and_lagging_zones(data):
    v, u = data.values, data.units
    h = v[(v["indicator"] == "hssk") & (v["period"] == "2026-09")]
    pct = 100 * h["numerator"] / h["denominator"]
    assert (pct < 75).sum() >= 3          # a few communes clearly behind
    assert pct.max() - pct.min() > 15      # a real spread
    zone_of = dict(zip(u["code"], u["parent_code"]))
    by_zone = h.assign(zone=h["entity_code"].map(zone_of)).groupby("zone")[["numerator", "denominator"]].sum()
    zone_pct = 100 * by_zone["numerator"] / by_zone["denominator"]
    assert 3 <= (zone_pct < 80).sum() <= 4


def test_determinism(data):
    again = demo.build_demo()
    other = demo.build_demo(seed=7)
    for name in ("units", "facilities", "targets", "values"):
        a, b = getattr(data, name), getattr(again, name)
        pd.testing.assert_frame_equal(a, b)
        assert a.to_csv(index=False).encode() == b.to_csv(index=False).encode()
    assert not data.values.equals(other.values)
    assert data.units.equals(other.units)


def test_fast_enough():
    geodata._communes.cache_clear()
    geodata._crosswalk.cache_clear()
    t0 = time.perf_counter()
    demo.build_demo(seed=11)
    assert time.perf_counter() - t0 < 3.0
