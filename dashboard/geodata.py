"""Boundaries of the demo province (Hải Phòng after the 2025-07-01 merger).

Everything here reads the files shipped in the repository's ``geodata/``
folder (see ``geodata/README.md`` for provenance and licences):

* ``vn_2025_communes_31_hai_phong.geojson``: the 114 post-reform communes
  (xã, phường, đặc khu), GSO 5-digit codes.
* ``crosswalk_31_hai_phong.csv``: every pre-reform commune that went into one
  of those 114, with its old district.

Vietnam has had no district level since 2025-07-01, but the health sector
still groups communes into health zones (khu vực y tế, served by a regional
health centre, TTYT khu vực). The dashboard models that middle level as
``district``. A zone here is a former district: each new commune belongs to
the old district most of it came from (see :func:`commune_zones`).

All codes are text (leading zeros kept) and all names are Unicode NFC.
This module has no database code on purpose.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

__all__ = [
    "GEODATA_DIR",
    "COMMUNES_FILE",
    "CROSSWALK_FILE",
    "PROVINCE_CODE",
    "PROVINCE_NAME",
    "ZONE_NAME_PREFIX",
    "AREA_CRS",
    "nfc",
    "strip_district_prefix",
    "read_crosswalk",
    "read_communes",
    "commune_zones",
    "dissolve_zones",
    "province_outline",
]

#: The repository's ``geodata/`` folder (this file is ``<repo>/dashboard/geodata.py``).
GEODATA_DIR: Path = Path(__file__).resolve().parent.parent / "geodata"
COMMUNES_FILE: Path = GEODATA_DIR / "vn_2025_communes_31_hai_phong.geojson"
CROSSWALK_FILE: Path = GEODATA_DIR / "crosswalk_31_hai_phong.csv"

PROVINCE_CODE = "31"
PROVINCE_NAME = "Thành phố Hải Phòng"
ZONE_NAME_PREFIX = "Khu vực "

#: A metric CRS for areas and distances (WGS 84 / UTM zone 48N covers Hải Phòng).
AREA_CRS = "EPSG:32648"

# Longest first, so "Thành phố " is not mistaken for a shorter prefix.
_DISTRICT_PREFIXES = ("Thành phố ", "Thị xã ", "Huyện ", "Quận ")


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC (composed) form."""
    return unicodedata.normalize("NFC", text)


def strip_district_prefix(name: str) -> str:
    """Drop the unit-type word of a pre-reform district name.

    >>> strip_district_prefix("Quận Hồng Bàng")
    'Hồng Bàng'
    >>> strip_district_prefix("Thành phố Thủy Nguyên")
    'Thủy Nguyên'
    """
    name = nfc(name).strip()
    for prefix in _DISTRICT_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):].strip()
    return name


@lru_cache(maxsize=1)
def _crosswalk() -> pd.DataFrame:
    df = pd.read_csv(CROSSWALK_FILE, dtype=str, keep_default_na=False, encoding="utf-8")
    for col in ("old_ward", "old_district", "new_ward"):
        df[col] = df[col].map(nfc)
    return df


def read_crosswalk() -> pd.DataFrame:
    """The old → new commune crosswalk for Hải Phòng, every column as text.

    Columns: old_ward_code, old_ward, old_district_code, old_district,
    old_province_code, new_ward_code, new_ward, new_province_code, divided,
    default. Empty cells are empty strings (one row, Bạch Long Vĩ, has no old
    commune: that island district had none). ``divided``/``default`` are the
    strings "True"/"False"/"".
    """
    return _crosswalk().copy()


@lru_cache(maxsize=1)
def _communes() -> gpd.GeoDataFrame:
    gdf = gpd.read_file(COMMUNES_FILE)
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    else:
        gdf = gdf.to_crs("EPSG:4326")
    gdf["code"] = gdf["code"].astype(str).str.strip()
    # Names: prefer the crosswalk's spelling (the modern tone-mark placement,
    # "Hòa", "Thủy", as in the official resolutions and in the old district
    # names), fall back to the GeoJSON's fullName. Five communes differ only by
    # that placement (e.g. GeoJSON "Phường Việt Hoà" vs "Phường Việt Hòa").
    xw = _crosswalk().drop_duplicates("new_ward_code").set_index("new_ward_code")["new_ward"]
    names = gdf["code"].map(xw)
    names = names.where(names.notna() & (names != ""), gdf["fullName"])
    gdf["name"] = names.astype(str).map(nfc)
    gdf = gdf[["code", "name", "geometry"]].sort_values("code").reset_index(drop=True)
    return gdf


def read_communes() -> gpd.GeoDataFrame:
    """The 114 communes of Hải Phòng (post-2025), in EPSG:4326.

    Columns: ``code`` (str, 5-digit GSO code), ``name`` (str, NFC, with its
    type word: "Xã …", "Phường …", "Đặc khu …"), ``geometry`` (MultiPolygon).
    Sorted by code. A fresh copy on each call (the file is read once).
    """
    return _communes().copy()


def commune_zones() -> pd.DataFrame:
    """Assign each post-reform commune to one health zone (a former district).

    Rule, applied to the crosswalk rows of each ``new_ward_code``:

    1. the ``old_district_code`` with the most rows (old communes, whole or
       split, that went into the new commune) wins;
    2. ties: the district with the most rows flagged ``default == "True"``
       (an old commune that was split counts as mainly going to this new
       commune) wins;
    3. still tied: the smallest district code.

    Returns columns ``commune_code``, ``zone_code`` (the old district code,
    text, e.g. "303"), ``zone_name`` ("Khu vực " + the old district name
    without Quận/Huyện/Thị xã/Thành phố, e.g. "Khu vực Hồng Bàng"), sorted by
    commune_code. In the shipped data one commune needs rule 2 (Phường Việt
    Hòa, 10543: two rows from Thành phố Hải Dương, two from Huyện Cẩm Giàng,
    of which one default → Khu vực Cẩm Giàng).
    """
    xw = _crosswalk()
    counts = (
        xw.assign(is_default=(xw["default"] == "True").astype(int))
        .groupby(["new_ward_code", "old_district_code", "old_district"], as_index=False)
        .agg(n_rows=("is_default", "size"), n_default=("is_default", "sum"))
    )
    # Codes have equal length (3 digits), so a text sort is a numeric sort;
    # sort on the integer anyway to be safe.
    counts["_code_num"] = pd.to_numeric(counts["old_district_code"], errors="coerce")
    counts = counts.sort_values(
        ["new_ward_code", "n_rows", "n_default", "_code_num", "old_district_code"],
        ascending=[True, False, False, True, True],
        kind="mergesort",
    )
    best = counts.drop_duplicates("new_ward_code", keep="first")
    out = pd.DataFrame(
        {
            "commune_code": best["new_ward_code"].astype(str).to_numpy(),
            "zone_code": best["old_district_code"].astype(str).to_numpy(),
            "zone_name": [nfc(ZONE_NAME_PREFIX + strip_district_prefix(n)) for n in best["old_district"]],
        }
    )
    return out.sort_values("commune_code").reset_index(drop=True)


def dissolve_zones(communes_gdf: gpd.GeoDataFrame, zones_df: pd.DataFrame) -> gpd.GeoDataFrame:
    """Merge commune polygons into zone polygons.

    ``communes_gdf`` needs ``code`` and ``geometry`` (as from
    :func:`read_communes`); ``zones_df`` needs ``commune_code``, ``zone_code``,
    ``zone_name`` (as from :func:`commune_zones`). Communes without a zone are
    left out. Returns a GeoDataFrame with ``code``, ``name``, ``geometry`` (in
    the communes' CRS), one row per zone, sorted by code, made with
    ``GeoDataFrame.dissolve``.
    """
    zones = zones_df[["commune_code", "zone_code", "zone_name"]].astype(str)
    merged = communes_gdf[["code", "geometry"]].merge(
        zones, left_on="code", right_on="commune_code", how="inner"
    )
    merged = gpd.GeoDataFrame(merged, geometry="geometry", crs=communes_gdf.crs)
    dissolved = merged[["zone_code", "zone_name", "geometry"]].dissolve(
        by=["zone_code", "zone_name"], as_index=False
    )
    dissolved = dissolved.rename(columns={"zone_code": "code", "zone_name": "name"})
    dissolved = dissolved[["code", "name", "geometry"]].sort_values("code").reset_index(drop=True)
    return gpd.GeoDataFrame(dissolved, geometry="geometry", crs=communes_gdf.crs)


def province_outline(
    communes_gdf: gpd.GeoDataFrame,
    code: str = PROVINCE_CODE,
    name: str = PROVINCE_NAME,
) -> gpd.GeoDataFrame:
    """The province as one (multi)polygon: the union of all commune polygons.

    Returns a one-row GeoDataFrame with ``code``, ``name``, ``geometry`` in the
    communes' CRS (same shape as :func:`dissolve_zones`, so the two can be
    concatenated).
    """
    geom = communes_gdf.geometry.union_all()
    return gpd.GeoDataFrame({"code": [str(code)], "name": [nfc(name)]}, geometry=[geom], crs=communes_gdf.crs)
