"""Deterministic, illustrative demo data for Hải Phòng (after the 2025-07-01 merger).

``build_demo(seed)`` returns a :class:`DemoData` of plain pandas DataFrames:

* ``units``      the city, its 27 health zones (former districts, level
                 ``district``) and its 114 communes (real codes, names and
                 boundaries from ``geodata/``), valid from 2025-07-01; and the
                 units they replaced, valid until 2025-06-30: old Hải Phòng (31)
                 and Hải Dương (30), their 27 districts and 374 communes, keyed
                 ``<code>@2025-06`` (``dashboard/unitkeys.py``), from the
                 national crosswalk ``geodata/vn_commune_crosswalk_pre2025_to_2025.csv.gz``;
* ``links``      the crosswalk between them (:func:`reform_links`);
* ``facilities`` 18 city hospitals, one regional health centre (TTYT khu vực)
                 per zone and one station (TYT) per commune. Names are real
                 kinds of facilities but every row is illustrative and says so
                 (" (minh họa)");
* ``targets``    the plan targets for the headline indicators, with their
                 sources (seed 003 = Hải Phòng's plan for H2 2025);
* ``values``     monthly numerator/denominator per reporting entity,
                 2023-01 … 2026-10: before 2025-07 under the old units, from
                 2025-07 under the new ones (see :func:`_reform_values`).

The numbers are invented. They only have to look plausible: logistic-ish
adoption curves with noise, a real spread between units, four lagging zones,
about 2 % of (entity, month) rows missing at random and a few communes that
have not reported the last month yet. The same seed gives byte-identical
frames. No database code here.

Units of measure: ``cashless`` amounts are in đồng; everything else counts
people, dossiers, documents or facilities (0/1 per facility for adoption
indicators, denominator 1).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from datetime import date
from functools import lru_cache

from . import geodata, unitkeys

__all__ = [
    "DEMO_PERIOD_START",
    "DEMO_PERIOD_END",
    "PROVINCE_CODE",
    "PROVINCE_NAME",
    "COMMUNE_VALID_FROM",
    "REFORM_DATE",
    "REFORM_MONTH",
    "OLD_VALID_TO",
    "OLD_PROVINCE_NAMES",
    "NATIONAL_CROSSWALK_FILE",
    "old_key",
    "reform_links",
    "LAGGING_ZONES",
    "ILLUSTRATIVE_SUFFIX",
    "INDICATORS",
    "DemoData",
    "build_demo",
    "demo_periods",
]

DEMO_PERIOD_START = "2023-01"
DEMO_PERIOD_END = "2026-10"

PROVINCE_CODE = geodata.PROVINCE_CODE  # "31"
PROVINCE_NAME = geodata.PROVINCE_NAME  # "Thành phố Hải Phòng"

#: The two-level local government reform: the new city, its zones and its 114 communes are
#: valid from this day; the old provinces, districts and communes until the day before.
REFORM_DATE = date(2025, 7, 1)
REFORM_MONTH = "2025-07"
OLD_VALID_TO = date(2025, 6, 30)
#: The 114 communes (and the city and its zones) exist since the reform; their history
#: before it is recorded under the units they were made from (an entity is only expected to
#: report while it is valid).
COMMUNE_VALID_FROM = REFORM_DATE

#: The two provinces merged into the new city (the crosswalk has their codes, not their names).
OLD_PROVINCE_NAMES = {"31": "Thành phố Hải Phòng", "30": "Tỉnh Hải Dương"}

#: The national crosswalk shipped with the product (gzip of the shared CSV, byte for byte).
NATIONAL_CROSSWALK_FILE = geodata.GEODATA_DIR / "vn_commune_crosswalk_pre2025_to_2025.csv.gz"

#: Zones made to lag behind on most indicators (islands and far rural areas):
#: Cát Hải, Ninh Giang, Thanh Miện, Tiên Lãng.
LAGGING_ZONES = ("317", "299", "300", "315")

ILLUSTRATIVE_SUFFIX = " (minh họa)"

#: Indicator codes produced, in catalog order.
INDICATORS = ("emr", "cashless", "hssk", "tthc_online", "tyt_software", "eprescription", "telehealth",
              "work_online")

_SRC_003 = "KH CĐS ngành Y tế Hải Phòng 6 tháng cuối năm 2025 (theo KH 215/KH-UBND ngày 25/8/2025)"
# Seed 000 leaves its own number blank ("Kế hoạch số      /KH-SYT ngày   tháng   năm 2022");
# it was signed digitally by the Sở Y tế on 07/9/2022 and implements the province's
# KH 94/KH-UBND ngày 31/5/2022.
_SRC_000 = ("KH CNTT ngành Y tế Bà Rịa - Vũng Tàu đến 2025 (seed 000: KH .../KH-SYT của Sở Y tế, "
            "ký 07/9/2022, triển khai KH 94/KH-UBND ngày 31/5/2022)")
# Seed 002 also leaves its number blank ("Kế hoạch số:      /KH-UBND ngày   /   /2023"):
# cite it by what the text itself says.
_SRC_002 = "KH phát triển nền tảng số y tế đến 2025, tầm nhìn 2030 của UBND tỉnh Bình Định (2023, seed 002)"
# Seed 001 carries no number at all.
_SRC_001 = "KH ứng dụng CNTT, CĐS y tế giai đoạn 2021-2025 của Sở Y tế Lai Châu (seed 001, không ghi số)"

_TARGETS = [
    # indicator, value, deadline, source, note
    ("hssk", 95.0, "2025-12", _SRC_003,
     "Trên 95% người dân có hồ sơ sức khỏe điện tử"),
    ("tthc_online", 80.0, "2025-12", _SRC_003,
     "Tối thiểu 80% hồ sơ TTHC được xử lý trực tuyến toàn trình"),
    ("tyt_software", 100.0, "2025-12", _SRC_003,
     "100% Trạm Y tế xã triển khai phần mềm quản lý trạm y tế đủ chức năng (QĐ 3532/QĐ-BYT)"),
    ("eprescription", 100.0, "2025-12", _SRC_003,
     "100% cơ sở KCB, cơ sở bán buôn, bán lẻ thuốc triển khai đơn thuốc điện tử, liên thông Dược quốc gia"),
    ("work_online", 90.0, "2025-12", _SRC_003,
     "90% hồ sơ công việc xử lý trên môi trường mạng ở cấp thành phố (75% ở cấp xã)"),
    ("emr", 100.0, "2025-12", _SRC_000,
     "Chỉ tiêu mượn từ KH khác (KH Hải Phòng không ghi số): 100% bệnh viện triển khai bệnh án điện tử"),
    ("emr", 100.0, "2028-12", _SRC_002,
     "Chỉ tiêu mượn từ KH khác: mọi cơ sở KCB BHYT dùng bệnh án điện tử, không dùng bệnh án giấy (Quý IV/2028)"),
    ("cashless", 50.0, "2025-12", _SRC_000,
     "Chỉ tiêu mượn từ KH khác: số lượng và giá trị giao dịch không dùng tiền mặt đạt 50%"),
    ("cashless", 50.0, "2028-12", _SRC_002,
     "Chỉ tiêu mượn từ KH khác: cơ sở KCB khu vực đô thị tối thiểu 50% giá trị viện phí (Quý IV/2028)"),
    ("telehealth", 100.0, "2025-12", f"{_SRC_001}; {_SRC_002}",
     "Chỉ tiêu mượn từ KH khác: 100% cơ sở y tế có bộ phận khám chữa bệnh từ xa"),
]

# City hospitals: code suffix, name, commune (ward) code, monthly fee scale in billion đồng.
# Hải Phòng hospitals sit in the old urban districts, Hải Dương's in the old Hải Dương city.
_HOSPITALS = [
    ("01", "Bệnh viện Hữu nghị Việt Tiệp", "11383", 48.0),          # Phường Lê Chân
    ("02", "Bệnh viện Trẻ em Hải Phòng", "11407", 24.0),             # Phường An Biên
    ("03", "Bệnh viện Phụ sản Hải Phòng", "11311", 16.0),            # Phường Hồng Bàng
    ("04", "Bệnh viện Kiến An", "11443", 15.0),                      # Phường Kiến An
    ("05", "Bệnh viện Ung bướu Hải Phòng", "11581", 18.0),           # Phường An Dương
    ("06", "Bệnh viện Mắt Hải Phòng", "11329", 7.0),                 # Phường Ngô Quyền
    ("07", "Bệnh viện Y học cổ truyền Hải Phòng", "11359", 7.5),     # Phường Gia Viên
    ("08", "Bệnh viện Phục hồi chức năng Hải Phòng", "11446", 5.0),  # Phường Phù Liễn
    ("09", "Bệnh viện Tâm thần Hải Phòng", "11443", 5.5),            # Phường Kiến An
    ("10", "Bệnh viện Phổi Hải Phòng", "11446", 6.0),                # Phường Phù Liễn
    ("11", "Bệnh viện Da liễu Hải Phòng", "11383", 5.0),             # Phường Lê Chân
    ("12", "Bệnh viện Đa khoa tỉnh Hải Dương cũ", "10525", 36.0),    # Phường Hải Dương
    ("13", "Bệnh viện Nhi Hải Dương", "10507", 12.0),                # Phường Thành Đông
    ("14", "Bệnh viện Phụ sản Hải Dương", "10532", 10.0),            # Phường Lê Thanh Nghị
    ("15", "Bệnh viện Mắt và Da liễu Hải Dương", "10537", 5.5),      # Phường Tân Hưng
    ("16", "Bệnh viện Y học cổ truyền Hải Dương", "10532", 5.0),     # Phường Lê Thanh Nghị
    ("17", "Bệnh viện Tâm thần Hải Dương", "10660", 5.0),            # Phường Ái Quốc
    ("18", "Bệnh viện Phổi Hải Dương", "10507", 5.0),                # Phường Thành Đông
]

# Approximate population of the two special districts (đặc khu); the rest is
# spread over the other communes and scaled to _TOTAL_POPULATION.
_FIXED_POPULATION = {"11914": 33_000, "11948": 1_000}
_TOTAL_POPULATION = 4_560_000


@dataclass(frozen=True)
class DemoData:
    """The demo data set. Every code column holds str; dates are ``datetime.date``."""

    units: pd.DataFrame       # code, name, level, parent_code, valid_from, valid_to
    facilities: pd.DataFrame  # code, name, type, unit_code, lat, lon
    targets: pd.DataFrame     # indicator, scope_code, value, deadline, source, note
    values: pd.DataFrame      # indicator, entity_code, period, numerator, denominator
    links: pd.DataFrame       # old_code, new_code, effective, share, basis (unit_links)


def demo_periods() -> list[str]:
    """The demo months as 'YYYY-MM', DEMO_PERIOD_START … DEMO_PERIOD_END inclusive."""
    y0, m0 = (int(x) for x in DEMO_PERIOD_START.split("-"))
    y1, m1 = (int(x) for x in DEMO_PERIOD_END.split("-"))
    n = (y1 - y0) * 12 + (m1 - m0) + 1
    return [f"{y0 + (m0 - 1 + i) // 12:04d}-{(m0 - 1 + i) % 12 + 1:02d}" for i in range(n)]


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _illustrative(name: str) -> str:
    return _nfc(name + ILLUSTRATIVE_SUFFIX)


_COMMUNE_TYPE_WORDS = ("Đặc khu", "Phường", "Xã")


def _strip_type_word(commune_name: str) -> str:
    """'Phường Lê Chân' -> 'Lê Chân'."""
    for word in _COMMUNE_TYPE_WORDS:
        if commune_name.startswith(word + " "):
            return commune_name[len(word) + 1:]
    return commune_name


def _lower_type_word(commune_name: str) -> str:
    """'Phường Lê Chân' -> 'phường Lê Chân' (the usual form inside a facility name)."""
    for word in _COMMUNE_TYPE_WORDS:
        if commune_name.startswith(word + " "):
            return word.lower() + commune_name[len(word):]
    return commune_name


# --------------------------------------------------------------------------- curves


def _s_curve(start, end, mid, scale, n_months: int) -> np.ndarray:
    """Rows of a logistic path rescaled to go exactly from ``start`` (month 0) to
    ``end`` (last month). All arguments broadcast to shape (n,); returns (n, n_months)."""
    start, end, mid, scale = (np.asarray(a, dtype=float).reshape(-1, 1) for a in (start, end, mid, scale))
    t = np.arange(n_months, dtype=float).reshape(1, -1)
    sig = 1.0 / (1.0 + np.exp(-(t - mid) / scale))
    s0 = 1.0 / (1.0 + np.exp(-(0.0 - mid) / scale))
    s1 = 1.0 / (1.0 + np.exp(-((n_months - 1) - mid) / scale))
    g = (sig - s0) / (s1 - s0)
    return start + (end - start) * g


def _adoption(score: np.ndarray, p_start: float, p_end: float, mid: float, scale: float,
              n_months: int) -> np.ndarray:
    """0/1 adoption matrix (n, n_months), monotone in time.

    The share of adopters follows a logistic path from ``p_start`` to ``p_end``;
    entities adopt in order of decreasing ``score`` (ties broken by position).
    """
    n = len(score)
    curve = _s_curve(p_start, p_end, mid, scale, n_months)[0]          # (n_months,)
    order = np.argsort(-score, kind="stable")
    rank = np.empty(n, dtype=int)
    rank[order] = np.arange(n)
    q = (rank + 0.5) / n                                                  # adopt once curve >= q
    return (curve.reshape(1, -1) >= q.reshape(-1, 1)).astype(float)


def _seasonality(periods: list[str]) -> np.ndarray:
    """Monthly activity factor: Tết (Jan/Feb) is quiet, December busy."""
    month = np.array([int(p[5:7]) for p in periods])
    factor = {1: 0.95, 2: 0.80, 3: 1.02, 4: 1.0, 5: 1.0, 6: 1.02, 7: 1.03, 8: 1.0, 9: 1.0,
              10: 1.02, 11: 1.03, 12: 1.10}
    return np.array([factor[m] for m in month])


def _frame(indicator: str, codes, periods, numerator: np.ndarray, denominator: np.ndarray) -> pd.DataFrame:
    codes = np.asarray(codes, dtype=object)
    n, t = numerator.shape
    return pd.DataFrame({
        "indicator": np.full(n * t, indicator, dtype=object),
        "entity_code": np.repeat(codes, t),
        "period": np.tile(np.asarray(periods, dtype=object), n),
        "numerator": numerator.reshape(-1).astype("float64"),
        "denominator": denominator.reshape(-1).astype("float64"),
    })


# --------------------------------------------------------------------------- pieces


def _points_inside(geom, n: int, rng: np.random.Generator, anchor, radius: float) -> list[tuple[float, float]]:
    """``n`` deterministic points inside ``geom`` near ``anchor`` (lon/lat degrees)."""
    import shapely

    out = []
    ax, ay = anchor.x, anchor.y
    for _ in range(n):
        point = (ax, ay)
        r = radius
        for _attempt in range(40):
            dx, dy = rng.uniform(-r, r, size=2)
            if shapely.contains_xy(geom, ax + dx, ay + dy):
                point = (ax + dx, ay + dy)
                break
            r *= 0.85
        out.append(point)
    return out


def old_key(code: str) -> str:
    """The key of the old unit of `code` that ended with the reform: ``31150`` → ``31150@2025-06``."""
    return unitkeys.ended_key(code, OLD_VALID_TO)


@lru_cache(maxsize=1)
def _old_crosswalk_cached() -> pd.DataFrame:
    df = pd.read_csv(NATIONAL_CROSSWALK_FILE, dtype=str, keep_default_na=False, encoding="utf-8",
                     compression="gzip")
    df = df[df["new_province_code"] == PROVINCE_CODE].reset_index(drop=True)
    for col in ("old_ward", "old_district", "new_ward"):
        df[col] = df[col].map(_nfc)
    return df


def old_crosswalk() -> pd.DataFrame:
    """The national crosswalk's rows into the demo city (new province 31): every old commune of
    old Hải Phòng (31) and Hải Dương (30) with its old district, and the new commune(s) it went
    into. One row (Huyện Bạch Long Vĩ, an island district without communes) has no old commune."""
    return _old_crosswalk_cached().copy()


def _old_units(xw: pd.DataFrame) -> pd.DataFrame:
    """Old provinces, districts and communes, keyed ``<code>@2025-06``, valid until 2025-06-30."""
    provinces = sorted(set(xw["old_province_code"]))
    districts = (xw[["old_district_code", "old_district", "old_province_code"]].drop_duplicates()
                 .sort_values("old_district_code"))
    if districts["old_district_code"].duplicated().any():  # never with the shipped data
        raise ValueError("an old district in two old provinces in the crosswalk")
    communes = (xw.loc[xw["old_ward_code"] != "", ["old_ward_code", "old_ward", "old_district_code"]]
                .drop_duplicates("old_ward_code").sort_values("old_ward_code"))
    rows = {
        "code": [old_key(p) for p in provinces] + [old_key(d) for d in districts["old_district_code"]]
        + [old_key(c) for c in communes["old_ward_code"]],
        "name": [_nfc(OLD_PROVINCE_NAMES[p]) for p in provinces] + districts["old_district"].tolist()
        + communes["old_ward"].tolist(),
        "level": ["province"] * len(provinces) + ["district"] * len(districts) + ["commune"] * len(communes),
        "parent_code": [None] * len(provinces) + [old_key(p) for p in districts["old_province_code"]]
        + [old_key(d) for d in communes["old_district_code"]],
        "valid_from": [None] * (len(provinces) + len(districts) + len(communes)),
        "valid_to": [OLD_VALID_TO] * (len(provinces) + len(districts) + len(communes)),
    }
    return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in rows.items()})


def _units(communes, zones, xw) -> pd.DataFrame:
    zone_rows = zones[["zone_code", "zone_name"]].drop_duplicates().sort_values("zone_code")
    cz = communes.merge(zones, left_on="code", right_on="commune_code", how="left").sort_values("code")
    n_new = 1 + len(zone_rows) + len(cz)
    rows = {
        "code": [PROVINCE_CODE] + zone_rows["zone_code"].tolist() + cz["code"].tolist(),
        "name": [_nfc(PROVINCE_NAME)] + [_nfc(x) for x in zone_rows["zone_name"]] + [_nfc(x) for x in cz["name"]],
        "level": ["province"] + ["district"] * len(zone_rows) + ["commune"] * len(cz),
        "parent_code": [None] + [PROVINCE_CODE] * len(zone_rows) + cz["zone_code"].tolist(),
        "valid_from": [REFORM_DATE] * n_new,
        "valid_to": [None] * n_new,
    }
    units = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in rows.items()})
    units = pd.concat([units, _old_units(xw)], ignore_index=True)
    for col in ("code", "name", "level"):
        units[col] = units[col].astype(str)
    return units


def _centre_host(zone_communes: pd.DataFrame, zone_name: str, rows_per_commune: pd.Series) -> str:
    """The commune of a zone that hosts its health centre: the one named like the zone
    (Khu vực Hồng Bàng -> Phường Hồng Bàng), else the one made of most old communes."""
    short = zone_name[len(geodata.ZONE_NAME_PREFIX):]
    for code, name in zip(zone_communes["code"], zone_communes["name"]):
        if _strip_type_word(name) == short:
            return code
    ranked = zone_communes.assign(n=zone_communes["code"].map(rows_per_commune).fillna(0))
    ranked = ranked.sort_values(["n", "code"], ascending=[False, True])
    return ranked["code"].iloc[0]


def _facilities(communes, zones, crosswalk, rng: np.random.Generator) -> pd.DataFrame:
    geom = dict(zip(communes["code"], communes.geometry))
    rep = dict(zip(communes["code"], communes.geometry.representative_point()))
    cz = communes.merge(zones, left_on="code", right_on="commune_code")
    rows_per_commune = crosswalk.groupby("new_ward_code").size()

    records = []
    # Hospitals, jittered around the ward's representative point (about ±500 m).
    for suffix, name, commune, _scale in _HOSPITALS:
        (lon, lat), = _points_inside(geom[commune], 1, rng, rep[commune], radius=0.005)
        records.append(("BV" + PROVINCE_CODE + suffix, _illustrative(name), "hospital", commune, lat, lon))
    # One regional health centre per zone; its unit is the zone, its point lies in the
    # host commune (a little away from that commune's station).
    for zone_code, group in cz.sort_values("code").groupby("zone_code", sort=True):
        zone_name = group["zone_name"].iloc[0]
        host = _centre_host(group, zone_name, rows_per_commune)
        (lon, lat), = _points_inside(geom[host], 1, rng, rep[host], radius=0.004)
        short = zone_name[len(geodata.ZONE_NAME_PREFIX):]
        records.append(("TTYT" + zone_code, _illustrative(f"Trung tâm Y tế khu vực {short}"), "health_centre",
                        zone_code, lat, lon))
    # One station per commune, at the commune's representative point.
    for code, name in zip(communes["code"], communes["name"]):
        p = rep[code]
        records.append(("TYT" + code, _illustrative(f"Trạm Y tế {_lower_type_word(name)}"), "station", code,
                        p.y, p.x))

    fac = pd.DataFrame(records, columns=["code", "name", "type", "unit_code", "lat", "lon"])
    fac["lat"] = fac["lat"].astype("float64").round(6)
    fac["lon"] = fac["lon"].astype("float64").round(6)
    for col in ("code", "name", "type", "unit_code"):
        fac[col] = fac[col].astype(str)
    return fac


def target_scopes(deadline: str) -> list[str]:
    """Where a plan target of the city's departments is set: a target due before the merger
    (deadline up to 2025-06) belonged to the plans of the two old provinces and stays on them
    (``31@2025-06``, ``30@2025-06``); a later one is the new city's (``31``). Every target the
    demo ships today is due 2025-12 or later, so all of them are the new city's."""
    if deadline < REFORM_MONTH:
        return [old_key(code) for code in sorted(OLD_PROVINCE_NAMES)]
    return [PROVINCE_CODE]


def _targets() -> pd.DataFrame:
    df = pd.DataFrame(_TARGETS, columns=["indicator", "value", "deadline", "source", "note"])
    df.insert(1, "scope_code", df["deadline"].map(target_scopes))
    df = df.explode("scope_code", ignore_index=True)
    df["value"] = df["value"].astype("float64")
    for col in ("indicator", "scope_code", "deadline", "source", "note"):
        df[col] = df[col].map(_nfc).astype(str)
    return df[["indicator", "scope_code", "value", "deadline", "source", "note"]]


_WHOLE_LINK_BASIS = None
_DISTRICT_LINK_BASIS = "tỷ lệ số xã"


def reform_links(xw: pd.DataFrame | None = None, zones: pd.DataFrame | None = None) -> pd.DataFrame:
    """The demo's crosswalk as ``unit_links`` rows (old_code, new_code as unit keys, effective,
    share, basis), all effective 2025-07-01. The one place that makes them:

    * every old commune → each new commune it went into: share 1 when it went whole, NULL when
      it was divided (the crosswalk gives no shares; the roll-up apportions by its rule);
    * every old district → each health zone its communes went into: share = the fraction of
      its communes (a divided commune counting 1/k towards each of its k new communes' zones),
      basis "tỷ lệ số xã" (share 1, no basis, when all went into one zone); Huyện Bạch Long Vĩ
      (no communes) → the zone of Đặc khu Bạch Long Vĩ, share 1;
    * old Hải Phòng and old Hải Dương → the new city, share 1 (each went there whole).
    """
    xw = old_crosswalk() if xw is None else xw
    zones = geodata.commune_zones() if zones is None else zones
    zone_of = dict(zip(zones["commune_code"], zones["zone_code"]))
    communes = xw[xw["old_ward_code"] != ""]
    commune_links = pd.DataFrame({
        "old_code": communes["old_ward_code"].map(old_key),
        "new_code": communes["new_ward_code"],
        "share": np.where(communes["divided"] == "True", np.nan, 1.0),
        "basis": _WHOLE_LINK_BASIS,
    })
    n_parts = xw.groupby("old_ward_code")["new_ward_code"].transform("size")
    weight = np.where(xw["old_ward_code"] == "", 1.0, 1.0 / n_parts)
    parts = (pd.DataFrame({"district": xw["old_district_code"], "zone": xw["new_ward_code"].map(zone_of),
                           "weight": weight})
             .groupby(["district", "zone"], sort=True)["weight"].sum().reset_index())
    if parts["zone"].isna().any():  # never with the shipped data
        raise ValueError("a new commune of the crosswalk without a zone")
    share = parts["weight"] / parts.groupby("district")["weight"].transform("sum")
    whole = np.isclose(share, 1.0)
    district_links = pd.DataFrame({
        "old_code": parts["district"].map(old_key), "new_code": parts["zone"],
        "share": np.where(whole, 1.0, share.round(6)),
        "basis": np.where(whole, None, _DISTRICT_LINK_BASIS),
    })
    province_links = pd.DataFrame({
        "old_code": [old_key(p) for p in sorted(set(xw["old_province_code"]))],
        "new_code": PROVINCE_CODE, "share": 1.0, "basis": _WHOLE_LINK_BASIS,
    })
    links = pd.concat([province_links, district_links, commune_links], ignore_index=True)
    links.insert(2, "effective", REFORM_DATE)
    links["share"] = links["share"].astype("float64").astype(object).where(links["share"].notna(), None)
    links["basis"] = links["basis"].astype(object).where(links["basis"].notna(), None)
    for col in ("old_code", "new_code"):
        links[col] = links[col].astype(str)
    return links.sort_values(["old_code", "new_code"], kind="mergesort").reset_index(drop=True)


def _populations(communes, crosswalk, rng: np.random.Generator) -> np.ndarray:
    """Commune population at DEMO_PERIOD_START, in the order of ``communes``.

    Each old commune that went into a new one contributes a base size by its type
    (ward > town > rural commune; a split commune counts 0.6 where it mainly went,
    0.4 elsewhere), with log-normal noise; the total is scaled to about 4.6 million.
    """
    xw = crosswalk
    kind = np.select(
        [xw["old_ward"].str.startswith("Phường"), xw["old_ward"].str.startswith("Thị trấn")],
        [13_500.0, 11_000.0], default=8_200.0)
    share = np.where(xw["divided"] == "True", np.where(xw["default"] == "True", 0.6, 0.4), 1.0)
    base = pd.Series(kind * share).groupby(xw["new_ward_code"].to_numpy()).sum()
    raw = communes["code"].map(base).fillna(8_200.0).to_numpy(dtype=float)
    raw = raw * rng.lognormal(0.0, 0.18, size=len(raw))
    fixed = communes["code"].map(_FIXED_POPULATION).to_numpy(dtype=float)
    is_fixed = ~np.isnan(fixed)
    scale = (_TOTAL_POPULATION - np.nansum(fixed)) / raw[~is_fixed].sum()
    pop = np.where(is_fixed, fixed, raw * scale)
    return np.round(pop)


# --------------------------------------------------------------------------- values


def _values(communes, zones, facilities, populations, rng: np.random.Generator):
    periods = demo_periods()
    T = len(periods)
    season = _seasonality(periods)
    streams = dict(zip(
        ["emr", "cashless", "hssk", "tthc", "tyt", "epres", "tele", "work", "missing"],
        rng.spawn(9)))

    zone_of = dict(zip(zones["commune_code"], zones["zone_code"]))
    hosp = facilities[facilities["type"] == "hospital"].reset_index(drop=True)
    ttyt = facilities[facilities["type"] == "health_centre"].reset_index(drop=True)
    tyt = facilities[facilities["type"] == "station"].reset_index(drop=True)
    hosp_scale = np.array([s for *_, s in _HOSPITALS])
    hosp_lag = np.zeros(len(hosp), dtype=bool)
    ttyt_lag = ttyt["unit_code"].isin(LAGGING_ZONES).to_numpy()
    tyt_lag = tyt["unit_code"].map(zone_of).isin(LAGGING_ZONES).to_numpy()
    commune_codes = communes["code"].to_numpy()
    commune_lag = communes["code"].map(zone_of).isin(LAGGING_ZONES).to_numpy()
    commune_ward = communes["name"].str.startswith("Phường").to_numpy()

    frames = []

    # emr — hospitals and health centres, 0/1 (stock). Big hospitals first.
    r = streams["emr"]
    codes = np.concatenate([hosp["code"], ttyt["code"]])
    score = np.concatenate([1.0 + np.log(hosp_scale) / 2.0, np.zeros(len(ttyt))])
    score = score - 1.2 * np.concatenate([hosp_lag, ttyt_lag]) + r.normal(0.0, 0.6, len(codes))
    num = _adoption(score, 0.10, 0.88, mid=27.0, scale=5.0, n_months=T)
    frames.append(_frame("emr", codes, periods, num, np.ones_like(num)))

    # cashless — hospitals and health centres, đồng (flow).
    r = streams["cashless"]
    fee_scale = np.concatenate([hosp_scale, r.uniform(0.5, 3.4, len(ttyt))]) * 1e9
    lag = np.concatenate([hosp_lag, ttyt_lag])
    growth = (1.04 ** (np.arange(T) / 12.0)).reshape(1, -1)
    den = fee_scale.reshape(-1, 1) * season.reshape(1, -1) * growth * r.lognormal(0.0, 0.07, (len(codes), T))
    den = np.round(den / 1e3) * 1e3
    start = r.uniform(0.08, 0.22, len(codes))
    end = np.clip(r.normal(0.57, 0.07, len(codes)) - 0.15 * lag, 0.32, 0.80)
    share = _s_curve(start, end, r.normal(26.0, 5.0, len(codes)), r.uniform(4.0, 8.0, len(codes)), T)
    share = np.clip(share + r.normal(0.0, 0.025, share.shape), 0.0, 1.0)
    frames.append(_frame("cashless", codes, periods, np.round(den * share / 1e3) * 1e3, den))

    # hssk — communes, people (stock). Population grows slowly and steadily.
    r = streams["hssk"]
    n = len(commune_codes)
    rate = np.clip(np.where(commune_ward, 0.007, 0.004) + r.normal(0.0, 0.0015, n), 0.001, 0.012)
    slow = r.choice(n, size=6, replace=False)
    rate[slow] = r.uniform(0.0, 0.0008, 6)                          # a few barely grow
    pop = np.round(populations.reshape(-1, 1) * (1.0 + rate.reshape(-1, 1)) ** (np.arange(T) / 12.0))
    start = np.clip(r.normal(0.40, 0.06, n), 0.22, 0.58)
    end = np.where(commune_lag, np.clip(r.normal(0.70, 0.025, n), 0.62, 0.74),
                   np.clip(r.normal(0.955, 0.018, n), 0.90, 0.99))
    share = _s_curve(start, end, np.clip(r.normal(20.0, 5.0, n), 8.0, 34.0), r.uniform(4.0, 8.0, n), T)
    share = np.maximum.accumulate(share + r.normal(0.0, 0.005, share.shape), axis=1)
    share = np.clip(share, 0.0, 0.995)
    frames.append(_frame("hssk", commune_codes, periods, np.round(pop * share), pop))

    # tthc_online — the department (province) only, dossiers (flow). The merged
    # department receives about twice as many dossiers from 2025-07.
    r = streams["tthc"]
    merged = np.array([p >= "2025-07" for p in periods])
    lam = np.where(merged, 760.0, 390.0) * season
    den = np.clip(r.poisson(lam), 300, 900).astype(float)
    share = _s_curve(0.30, 0.85, 24.0, 6.0, T)[0] + r.normal(0.0, 0.02, T)
    num = r.binomial(den.astype(np.int64), np.clip(share, 0.0, 1.0)).astype(float)
    frames.append(_frame("tthc_online", [PROVINCE_CODE], periods, num.reshape(1, -1), den.reshape(1, -1)))

    # tyt_software — stations, 0/1 (stock).
    r = streams["tyt"]
    codes = tyt["code"].to_numpy()
    score = -1.5 * tyt_lag + r.normal(0.0, 0.7, len(codes))
    num = _adoption(score, 0.45, 0.97, mid=18.0, scale=5.0, n_months=T)
    frames.append(_frame("tyt_software", codes, periods, num, np.ones_like(num)))

    # eprescription — hospitals, health centres and stations, 0/1 (stock).
    r = streams["epres"]
    codes = np.concatenate([hosp["code"], ttyt["code"], tyt["code"]])
    score = np.concatenate([np.full(len(hosp), 1.5), np.full(len(ttyt), 0.8), np.zeros(len(tyt))])
    score = score - 1.0 * np.concatenate([hosp_lag, ttyt_lag, tyt_lag]) + r.normal(0.0, 0.7, len(codes))
    num = _adoption(score, 0.15, 0.90, mid=25.0, scale=5.0, n_months=T)
    frames.append(_frame("eprescription", codes, periods, num, np.ones_like(num)))

    # telehealth — hospitals, 0/1 (stock).
    r = streams["tele"]
    codes = hosp["code"].to_numpy()
    score = np.log(hosp_scale) + r.normal(0.0, 0.8, len(codes))
    num = _adoption(score, 0.20, 0.80, mid=22.0, scale=6.0, n_months=T)
    frames.append(_frame("telehealth", codes, periods, num, np.ones_like(num)))

    # work_online — the department only, documents (flow).
    r = streams["work"]
    lam = np.where(merged, 3_600.0, 1_900.0) * season
    den = r.poisson(lam).astype(float)
    share = _s_curve(0.60, 0.915, 20.0, 6.0, T)[0] + r.normal(0.0, 0.01, T)
    num = r.binomial(den.astype(np.int64), np.clip(share, 0.0, 1.0)).astype(float)
    frames.append(_frame("work_online", [PROVINCE_CODE], periods, num.reshape(1, -1), den.reshape(1, -1)))

    values = pd.concat(frames, ignore_index=True)

    # Missing reports: ~2 % of facility/commune rows before the last month, at random
    # (the department's own province-level rows are complete). In the last month a few
    # communes have not reported yet: neither their HSSK count nor their station's
    # figures are in.
    r = streams["missing"]
    last = values["period"].to_numpy() == DEMO_PERIOD_END
    not_province = values["entity_code"].to_numpy() != PROVINCE_CODE
    drop = (r.random(len(values)) < 0.02) & not_province & ~last
    late = r.choice(commune_codes, size=int(r.integers(5, 9)), replace=False)
    late_entities = set(late) | {"TYT" + c for c in late}
    ind = values["indicator"].to_numpy()
    drop |= last & values["entity_code"].isin(late_entities).to_numpy() & np.isin(
        ind, ["hssk", "tyt_software", "eprescription"])
    full = values
    values = values.loc[~drop]

    values = values.sort_values(["indicator", "entity_code", "period"], kind="mergesort").reset_index(drop=True)
    for col in ("indicator", "entity_code", "period"):
        values[col] = values[col].astype(str)
    return values, full


# --------------------------------------------------------------------------- before the reform


def _old_weights(xw: pd.DataFrame) -> pd.DataFrame:
    """(new commune, old commune, weight): the part of a new commune's people that came from
    each old commune, by the old commune's type (ward > town > rural commune, as in
    :func:`_populations`) and, for a divided one, 0.6 to where it mainly went and 0.4 to each
    other part (normalised over its parts)."""
    rows = xw[xw["old_ward_code"] != ""]
    size = np.select([rows["old_ward"].str.startswith("Phường"), rows["old_ward"].str.startswith("Thị trấn")],
                     [13_500.0, 11_000.0], default=8_200.0)
    part = np.where(rows["divided"] == "True", np.where(rows["default"] == "True", 0.6, 0.4), 1.0)
    part = part / pd.Series(part, index=rows.index).groupby(rows["old_ward_code"]).transform("sum").to_numpy()
    w = pd.DataFrame({"new": rows["new_ward_code"].to_numpy(), "old": rows["old_ward_code"].map(old_key).to_numpy(),
                      "w": size * part})
    w["w"] = w["w"] / w.groupby("new")["w"].transform("sum")
    return w


def _split(frame: pd.DataFrame, column: str) -> pd.Series:
    """Split the integer `column` of each new-commune row among its predecessors by weight,
    largest remainder first, so the parts are integers that add up to the whole exactly."""
    exact = frame[column].to_numpy() * frame["w"].to_numpy()
    floor = np.floor(exact + 1e-9)
    rest = exact - floor
    group = [frame["entity_code"], frame["period"]]
    short = frame[column].to_numpy() - pd.Series(floor, index=frame.index).groupby(group).transform("sum").to_numpy()
    rank = pd.Series(-rest, index=frame.index).groupby(group).rank(method="first").to_numpy()
    return pd.Series(floor + (rank <= np.round(short)), index=frame.index)


def _reform_values(kept: pd.DataFrame, full: pd.DataFrame, xw: pd.DataFrame,
                   rng: np.random.Generator) -> pd.DataFrame:
    """Move the history before 2025-07 onto the units valid then; from 2025-07 nothing changes.

    * Commune rows (HSSK): each new commune's full series (before reports were dropped) is split,
      month by month, among the old communes it was made of (:func:`_old_weights`; a divided old
      commune gets parts from several new communes), numerator and the uncovered rest each
      split to integers that add up exactly; then about 2 % of old-commune rows are dropped at
      random (missing reports). Đặc khu Bạch Long Vĩ had no commune before (an island district
      without communes): its 1,000 people have no pre-reform commune row.
    * The department's own rows (TTHC, documents): today's series before 2025-07 is old Hải
      Phòng's department (``31@2025-06``); old Hải Dương's (``30@2025-06``) is generated beside
      it, a little smaller, so the merged department's volume continues across the date.
    * Facilities (hospitals, health centres, stations) persist across the reform: their rows
      stay as they are, under the same codes, and their unit is today's commune or zone (a
      facility's place in the closure is bounded by its unit's end only, not its start: before
      2025-07 they roll up through today's units; the old units hold no facility figures).
    """
    pre = kept["period"].to_numpy() < REFORM_MONTH
    commune_codes = set(xw["new_ward_code"])
    entity = kept["entity_code"]
    is_commune, is_province = entity.isin(commune_codes).to_numpy(), (entity == PROVINCE_CODE).to_numpy()
    frames = [kept.loc[~pre | ~(is_commune | is_province)]]

    # Communes.
    src = full[(full["period"] < REFORM_MONTH) & full["entity_code"].isin(commune_codes)]
    src = src.merge(_old_weights(xw), left_on="entity_code", right_on="new", how="inner")
    src = src.assign(uncovered=src["denominator"] - src["numerator"])
    num = _split(src, "numerator")
    rest = _split(src, "uncovered")
    old = (pd.DataFrame({"indicator": src["indicator"], "entity_code": src["old"], "period": src["period"],
                         "numerator": num, "denominator": num + rest})
           .groupby(["indicator", "entity_code", "period"], sort=False, as_index=False)[["numerator", "denominator"]]
           .sum())
    missing, hai_duong = rng.spawn(2)
    old = old.loc[missing.random(len(old)) >= 0.02]
    frames.append(old)

    # The department: old Hải Phòng keeps today's rows, old Hải Dương's are generated.
    dept = kept.loc[pre & is_province]
    frames.append(dept.assign(entity_code=old_key(PROVINCE_CODE)))
    periods = [p for p in demo_periods() if p < REFORM_MONTH]
    season = _seasonality(periods)
    t = len(periods)
    for indicator, lam, low, high, start, end, mid, scale, noise in (
            ("tthc_online", 350.0, 300, 900, 0.26, 0.85, 24.0, 6.0, 0.02),
            ("work_online", 1_650.0, 0, None, 0.55, 0.915, 20.0, 6.0, 0.01)):
        if not (dept["indicator"] == indicator).any():
            continue
        den = hai_duong.poisson(lam * season).astype(float)
        den = np.clip(den, low, high if high is not None else np.inf)
        curve = _s_curve(start, end, mid, scale, len(demo_periods()))[0][:t]
        share = np.clip(curve + hai_duong.normal(0.0, noise, t), 0.0, 1.0)
        num = hai_duong.binomial(den.astype(np.int64), share).astype(float)
        frames.append(_frame(indicator, [old_key("30")], periods, num.reshape(1, -1), den.reshape(1, -1)))

    values = pd.concat(frames, ignore_index=True)
    values["numerator"] = values["numerator"].astype("float64")
    values["denominator"] = values["denominator"].astype("float64")
    values = values.sort_values(["indicator", "entity_code", "period"], kind="mergesort").reset_index(drop=True)
    for col in ("indicator", "entity_code", "period"):
        values[col] = values[col].astype(str)
    return values


# --------------------------------------------------------------------------- API


def build_demo(seed: int = 2025) -> DemoData:
    """Build the whole demo data set for Hải Phòng. Deterministic in ``seed``.

    Uses ``numpy.random.default_rng(seed)`` and independent child streams for the
    facility points, the populations and each indicator, so the same seed gives
    byte-identical frames.
    """
    rng = np.random.default_rng(seed)
    geo_rng, pop_rng, val_rng = rng.spawn(3)

    communes = geodata.read_communes()
    zones = geodata.commune_zones()
    crosswalk = geodata.read_crosswalk()
    missing = set(communes["code"]) - set(zones["commune_code"])
    if missing:  # never with the shipped data; fail loudly if the files drift apart
        raise ValueError(f"communes without a zone in the crosswalk: {sorted(missing)}")
    zones = zones[zones["commune_code"].isin(communes["code"])].reset_index(drop=True)

    xw = old_crosswalk()
    units = _units(communes, zones, xw)
    facilities = _facilities(communes, zones, crosswalk, geo_rng)
    populations = _populations(communes, crosswalk, pop_rng)
    kept, full = _values(communes, zones, facilities, populations, val_rng)
    # A stream of its own for the history before the reform (spawned after the others, so
    # the figures from 2025-07 are exactly those of the demo before old units existed).
    (reform_rng,) = rng.spawn(1)
    values = _reform_values(kept, full, xw, reform_rng)
    return DemoData(units=units, facilities=facilities, targets=_targets(), values=values,
                    links=reform_links(xw, zones))
