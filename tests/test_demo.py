"""The demo data set: structure, plausibility and determinism, checked independently."""
from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import time
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from dashboard import demo, figures, geodata

REPO = Path(__file__).resolve().parent.parent
AREA_CRS = "EPSG:32648"
SRC_003 = "KH CĐS ngành Y tế Hải Phòng 6 tháng cuối năm 2025 (theo KH 215/KH-UBND ngày 25/8/2025)"
REFORM = "2025-07"
#: sha256 of the CSV of the demo's values from 2025-07, as generated before old units existed:
#: the history before the reform moved onto the old units, nothing after it changed (other tests
#: hard-code figures of the latest months).
POST_REFORM_SHA256 = "a4fac39d65a80c9cd1caad1572d3302f92ecf876047f2279abc4f2cb6bcddc3a"


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


@pytest.fixture(scope="module")
def crosswalk_rows() -> list[dict]:
    """The product's national crosswalk, read here with the csv module: rows into new Hải Phòng."""
    with gzip.open(REPO / "geodata" / "vn_commune_crosswalk_pre2025_to_2025.csv.gz", "rt", encoding="utf-8",
                   newline="") as f:
        return [r for r in csv.DictReader(f) if r["new_province_code"] == "31"]


def _new(units: pd.DataFrame) -> pd.DataFrame:
    return units[units["valid_to"].isna()]


def _old(units: pd.DataFrame) -> pd.DataFrame:
    return units[units["valid_to"].notna()]


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
    new = _new(u)
    counts = new["level"].value_counts().to_dict()
    assert counts == {"province": 1, "district": 27, "commune": 114}
    # The new city, its zones and its communes exist from the reform on.
    assert (new["valid_from"] == dt.date(2025, 7, 1)).all()

    prov = new[new["level"] == "province"].iloc[0]
    assert prov["code"] == "31" and prov["name"] == "Thành phố Hải Phòng"
    assert prov["parent_code"] is None

    zones = new[new["level"] == "district"]
    assert (zones["parent_code"] == "31").all()
    assert set(zones["code"]) <= old_districts
    assert all(n.startswith("Khu vực ") for n in zones["name"])

    com = new[new["level"] == "commune"]
    # Every commune has exactly one zone, and it is a zone of this table.
    assert com["code"].is_unique
    assert com["parent_code"].isin(set(zones["code"])).all()
    # Every zone has at least one commune.
    assert set(com["parent_code"]) == set(zones["code"])


def test_communes_match_boundaries(data, communes):
    com = _new(data.units)[_new(data.units)["level"] == "commune"]
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

    # Facilities persist across the reform: they belong to today's communes and zones.
    u = _new(data.units)
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
    com = set(u.loc[(u["level"] == "commune") & u["valid_to"].isna(), "code"])
    old_com = set(u.loc[(u["level"] == "commune") & u["valid_to"].notna(), "code"])
    entities = v.groupby("indicator")["entity_code"].agg(set).to_dict()
    after = v[v["period"] >= REFORM].groupby("indicator")["entity_code"].agg(set).to_dict()
    before = v[v["period"] < REFORM].groupby("indicator")["entity_code"].agg(set).to_dict()
    assert entities["emr"] == hosp | ttyt
    assert entities["cashless"] == hosp | ttyt
    assert after["hssk"] == com and before["hssk"] == old_com
    for ind in ("tthc_online", "work_online"):
        assert after[ind] == {"31"} and before[ind] == {"31@2025-06", "30@2025-06"}
    assert entities["tyt_software"] == tyt
    assert entities["eprescription"] == hosp | ttyt | tyt
    assert entities["telehealth"] == hosp
    for ind in ("emr", "tyt_software", "eprescription", "telehealth"):
        rows = v[v["indicator"] == ind]
        assert set(rows["numerator"]) <= {0.0, 1.0} and set(rows["denominator"]) == {1.0}


def test_population(data):
    h = data.values[data.values["indicator"] == "hssk"].sort_values(["entity_code", "period"])
    h = h[h["period"] >= REFORM]
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
    n_before, n_after = len(_months("2023-01", "2025-06")), len(_months("2025-07", "2026-10"))
    facilities = {"emr": 45, "cashless": 45, "tyt_software": 114, "eprescription": 159, "telehealth": 18}
    after = {**facilities, "hssk": 114, "tthc_online": 1, "work_online": 1}
    before = {**facilities, "hssk": 374, "tthc_online": 2, "work_online": 2}  # old communes, old departments
    full = sum(after.values()) * n_after + sum(before.values()) * n_before
    missing = 1 - len(v) / full
    assert 0.01 < missing < 0.04
    # Old communes miss some reports too; the departments never do.
    old_hssk = v[(v["indicator"] == "hssk") & (v["period"] < REFORM)]
    assert 0.01 < 1 - len(old_hssk) / (374 * n_before) < 0.04
    dept = v[v["indicator"].isin(["tthc_online", "work_online"])]
    assert len(dept) == 2 * (2 * n_before + n_after)


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
    for name in ("units", "facilities", "targets", "values", "links"):
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


# --------------------------------------------------------------------------- the 2025 reform


def test_old_units_come_from_the_crosswalk(data, crosswalk_rows):
    """Old Hải Phòng and Hải Dương, their districts and communes, counted from the product's
    crosswalk file with the csv module; keyed <code>@2025-06, valid until 2025-06-30."""
    old = _old(data.units)
    assert (old["valid_to"] == dt.date(2025, 6, 30)).all() and old["valid_from"].isna().all()
    assert old["code"].str.endswith("@2025-06").all()
    communes = {r["old_ward_code"]: r for r in crosswalk_rows if r["old_ward_code"]}
    districts = {r["old_district_code"]: r for r in crosswalk_rows}
    provinces = {r["old_province_code"] for r in crosswalk_rows}
    assert len(communes) == 374  # + Huyện Bạch Long Vĩ, an island district without communes
    assert provinces == {"30", "31"}
    by_level = {lv: set(g["code"]) for lv, g in old.groupby("level")}
    assert by_level["commune"] == {c + "@2025-06" for c in communes}
    assert by_level["district"] == {d + "@2025-06" for d in districts}
    assert len(by_level["district"]) == 27
    assert by_level["province"] == {"31@2025-06", "30@2025-06"}
    name = dict(zip(old["code"], old["name"]))
    parent = dict(zip(old["code"], old["parent_code"]))
    assert name["31@2025-06"] == "Thành phố Hải Phòng" and name["30@2025-06"] == "Tỉnh Hải Dương"
    assert parent["31@2025-06"] is None and parent["30@2025-06"] is None
    for code, r in communes.items():
        assert name[code + "@2025-06"] == unicodedata.normalize("NFC", r["old_ward"])
        assert parent[code + "@2025-06"] == r["old_district_code"] + "@2025-06"
    for code, r in districts.items():
        assert name[code + "@2025-06"] == unicodedata.normalize("NFC", r["old_district"])
        assert parent[code + "@2025-06"] == r["old_province_code"] + "@2025-06"
    assert all(_is_nfc(n) for n in old["name"])


def test_reform_links(data, crosswalk_rows):
    links = data.links
    assert list(links.columns) == ["old_code", "new_code", "effective", "share", "basis"]
    assert not links.duplicated(["old_code", "new_code"]).any()
    assert (links["effective"] == dt.date(2025, 7, 1)).all()
    keys = set(data.units["code"])
    old_keys = set(_old(data.units)["code"])
    assert set(links["old_code"]) == old_keys  # every old unit has a successor
    assert set(links["new_code"]) <= keys - old_keys
    share = {(o, n): s for o, n, s in zip(links["old_code"], links["new_code"], links["share"])}
    # Communes: exactly the crosswalk's pairs, share 1 when whole and none when divided.
    expected = {(r["old_ward_code"] + "@2025-06", r["new_ward_code"]): (1.0 if r["divided"] == "False" else None)
                for r in crosswalk_rows if r["old_ward_code"]}
    communes = {k: v for k, v in share.items() if k[0].split("@")[0] in
                {r["old_ward_code"] for r in crosswalk_rows if r["old_ward_code"]}}
    assert communes == expected
    # Old provinces went whole into the new city.
    assert share[("31@2025-06", "31")] == 1.0 and share[("30@2025-06", "31")] == 1.0
    # Old districts: into zones, shares adding up to 1; the share of communes, recomputed.
    zones = set(_new(data.units).loc[lambda u: u["level"] == "district", "code"])
    zone_of = dict(zip(data.units["code"], data.units["parent_code"]))
    parts: dict[str, int] = {}
    for r in crosswalk_rows:
        parts[r["old_ward_code"]] = parts.get(r["old_ward_code"], 0) + 1
    weight: dict[tuple[str, str], float] = {}
    for r in crosswalk_rows:
        key = (r["old_district_code"] + "@2025-06", zone_of[r["new_ward_code"]])
        weight[key] = weight.get(key, 0.0) + (1.0 / parts[r["old_ward_code"]] if r["old_ward_code"] else 1.0)
    district_links = links[links["old_code"].isin({d for d, _ in weight})]
    assert set(district_links["new_code"]) <= zones
    for (d, z), w in weight.items():
        total = sum(v for (d2, _), v in weight.items() if d2 == d)
        assert share[(d, z)] == pytest.approx(w / total, abs=1e-6)
    partial = district_links[district_links["share"].map(lambda s: s is not None and s < 1.0)]
    assert (partial["basis"] == "tỷ lệ số xã").all() and len(partial) > 0


def test_values_sit_on_the_units_valid_in_their_month(data):
    v, u = data.values, data.units
    old_keys, new_keys = set(_old(u)["code"]), set(_new(u)["code"])
    before, after = v[v["period"] < REFORM], v[v["period"] >= REFORM]
    assert not before["entity_code"].isin(new_keys).any()
    assert not after["entity_code"].isin(old_keys).any()
    # Facilities persist: their rows run through the reform under the same codes.
    fac = set(data.facilities["code"])
    assert set(before.loc[before["entity_code"].isin(fac), "entity_code"]) == fac
    assert v["entity_code"].isin(old_keys | new_keys | fac).all()
    # Integers, as the counts they are.
    assert (v["numerator"] % 1 == 0).all() and (v["denominator"] % 1 == 0).all()


def test_values_from_the_reform_on_are_unchanged(data):
    after = data.values[data.values["period"] >= REFORM].reset_index(drop=True)
    assert hashlib.sha256(after.to_csv(index=False).encode()).hexdigest() == POST_REFORM_SHA256


def test_series_continue_across_the_reform(data):
    """The old communes' sums in the months before the reform continue into the new communes'."""
    v = data.values
    h = v[v["indicator"] == "hssk"].groupby("period")[["numerator", "denominator"]].sum()
    count = v[v["indicator"] == "hssk"].groupby("period").size()
    # People per reporting unit differ (374 old communes, 114 new): compare per full city.
    full = {p: (374 if p < REFORM else 114) for p in h.index}
    people = h["denominator"] / count * pd.Series(full)
    assert abs(people["2025-06"] / people["2025-07"] - 1) < 0.03
    cover = 100 * h["numerator"] / h["denominator"]
    assert abs(cover["2025-06"] - cover["2025-07"]) < 2.5
    assert (cover.diff().dropna().abs() < 3).all()  # no jump anywhere, the reform included
    # The department's dossiers: old Hải Phòng + old Hải Dương before, the city after.
    for ind in ("tthc_online", "work_online"):
        d = v[v["indicator"] == ind].groupby("period")["denominator"].sum()
        before, after = d[d.index < REFORM].tail(6).mean(), d[d.index >= REFORM].head(6).mean()
        assert 0.85 < before / after < 1.15, ind


def test_old_communes_carry_their_successors_people(data, crosswalk_rows):
    """A new commune made only of whole old communes: in 2025-06 its predecessors together
    counted about the people it counts in 2025-07 (the split adds up; population grows slowly)."""
    v = data.values
    h = v[v["indicator"] == "hssk"]
    assert (h["numerator"] <= h["denominator"]).all()
    preds: dict[str, set[str]] = {}
    divided: set[str] = set()
    for r in crosswalk_rows:
        if r["old_ward_code"]:
            preds.setdefault(r["new_ward_code"], set()).add(r["old_ward_code"])
            if r["divided"] == "True":
                divided.add(r["new_ward_code"])
    clean = {n: p for n, p in preds.items() if n not in divided}
    june = h[h["period"] == "2025-06"].set_index("entity_code")["denominator"]
    july = h[h["period"] == "2025-07"].set_index("entity_code")["denominator"]
    checked = 0
    for n, olds in clean.items():
        keys = [o + "@2025-06" for o in olds]
        if n in july.index and all(k in june.index for k in keys):
            assert abs(june[keys].sum() / july[n] - 1) < 0.01, n
            checked += 1
    assert checked >= 20


def test_targets_before_the_merger_stay_on_the_old_provinces():
    assert demo.target_scopes("2025-06") == ["30@2025-06", "31@2025-06"]
    assert demo.target_scopes("2024-12") == ["30@2025-06", "31@2025-06"]
    assert demo.target_scopes("2025-07") == ["31"] and demo.target_scopes("2028-12") == ["31"]


# --------------------------------------------------------------------------- loaded


def test_the_loaded_demo_holds_the_old_units_and_links(demo_db, demo_data):
    from sqlalchemy import text

    with demo_db.connect() as conn:
        links = pd.read_sql(text("SELECT old_code, new_code, share FROM unit_links"), conn)
        units = pd.read_sql(text("SELECT code, valid_from, valid_to FROM units"), conn)
    assert len(links) == len(demo_data.links)
    assert set(zip(links["old_code"], links["new_code"])) == set(zip(demo_data.links["old_code"],
                                                                     demo_data.links["new_code"]))
    assert set(demo_data.units["code"]) <= set(units["code"])
    assert figures.root_code() == "31"


def _stored(engine, indicator: str, codes: list[str]) -> pd.DataFrame:
    from sqlalchemy import bindparam, text

    with engine.connect() as conn:
        return pd.read_sql(text("SELECT entity_code, period, numerator, denominator FROM aggregates "
                                "WHERE indicator_code = :i AND entity_code IN :c AND kind = 'month'")
                           .bindparams(bindparam("c", expanding=True)), conn, params={"i": indicator, "c": codes})


def _old_province_sums(demo_data, indicator: str) -> pd.DataFrame:
    """Per old province and month, the sum of its old communes' (or its department's) raw rows."""
    u = demo_data.units.set_index("code")["parent_code"].to_dict()

    def province(code):
        while u.get(code) is not None:
            code = u[code]
        return code

    v = demo_data.values
    v = v[(v["indicator"] == indicator) & (v["period"] < REFORM) & v["entity_code"].isin(set(u))]
    return (v.assign(province=v["entity_code"].map(province))
            .groupby(["province", "period"])[["numerator", "denominator"]].sum())


@pytest.mark.parametrize("indicator", ["hssk", "tthc_online"])
def test_old_provinces_figures_are_their_old_units_sums(demo_db, demo_data, indicator):
    """The old provinces' stored figures before the reform: the sums of their own raw rows."""
    expected = _old_province_sums(demo_data, indicator)
    got = _stored(demo_db, indicator, ["31@2025-06", "30@2025-06"]).set_index(["entity_code", "period"])
    assert set(got.index) == set(expected.index)
    for key, row in expected.iterrows():
        assert got.loc[key, "numerator"] == pytest.approx(row["numerator"])
        assert got.loc[key, "denominator"] == pytest.approx(row["denominator"])


@pytest.mark.parametrize("indicator,month", [("emr", "2024-06"), ("tyt_software", "2025-06"), ("cashless", "2023-03")])
def test_facilities_count_before_the_reform_under_todays_units(demo_db, demo_data, indicator, month):
    """Facilities persist across the reform: before 2025-07 their rows roll up through today's
    communes and zones to the city (stock: the month itself; flow: the month's sum)."""
    kinds = {"emr": {"hospital", "health_centre"}, "tyt_software": {"station"},
             "cashless": {"hospital", "health_centre"}}[indicator]
    f = demo_data.facilities
    who = set(f.loc[f["type"].isin(kinds), "code"])
    v = demo_data.values
    rows = v[(v["indicator"] == indicator) & (v["period"] == month) & v["entity_code"].isin(who)]
    got = _stored(demo_db, indicator, ["31"]).set_index("period").loc[month]
    assert got["numerator"] == pytest.approx(rows["numerator"].sum())
    assert got["denominator"] == pytest.approx(rows["denominator"].sum())


@pytest.mark.parametrize("indicator", ["hssk", "tthc_online"])
def test_new_city_before_the_reform_is_old_haiphong_plus_old_haiduong(demo_db, demo_data, indicator):
    """Issue 13: the new province's series before the reform equals the sum of old Hải Phòng and
    old Hải Dương, month by month, for a stock (HSSK) and a flow (TTHC) indicator."""
    expected = _old_province_sums(demo_data, indicator).groupby("period").sum()
    got = _stored(demo_db, indicator, ["31"]).set_index("period")
    for period, row in expected.iterrows():
        assert period in got.index, period
        assert got.loc[period, "numerator"] == pytest.approx(row["numerator"])
        assert got.loc[period, "denominator"] == pytest.approx(row["denominator"])
