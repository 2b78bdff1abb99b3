"""The national demo (`dashboard load-demo --national`): a Ministry's deployment, the country at
its root, then the 34 provinces, then the 3,321 communes (levels as data: no health zones), on
the real 2025 boundaries shipped in ``geodata/``, with 12 illustrative indicators reported by
every commune for 60 months (2,391,120 value rows).

The values go through the one importer (`dashboard import values`: streamed, checked
column-wise, one transaction, audited) from a CSV written row by row to a temporary file, so
nothing holds the rows in memory. A sample (a few provinces, a few communes each, a few
months) takes the same path: the tests load one.
"""
from __future__ import annotations

import csv
import gzip
import json
import logging
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import store
from .geodata import GEODATA_DIR, nfc
from .periods import add_months

log = logging.getLogger(__name__)

COMMUNES_FILE = GEODATA_DIR / "vn_2025_communes_national_simplified_0.001.geojson.gz"
PROVINCES_FILE = GEODATA_DIR / "vn_2025_provinces.geojson"
COUNTRY_CODE = "VN"
COUNTRY_NAME = "Việt Nam"
SOURCE = "demo:national-2025"
FIRST_MONTH = "2021-11"
MONTHS = 60
#: The first indicators are the overview's headline cards.
HEADLINES = 4

#: (code, name_vi, name_en, time, target %): illustrative indicators every commune reports.
INDICATORS = [
    ("qg_tiem_chung", "Tỷ lệ trẻ dưới 1 tuổi được tiêm chủng đầy đủ", "Children under 1 fully immunised",
     "stock", 95.0),
    ("qg_hssk", "Tỷ lệ người dân có hồ sơ sức khỏe điện tử", "Population with an electronic health record",
     "stock", 90.0),
    ("qg_bhyt", "Tỷ lệ người dân tham gia bảo hiểm y tế", "Population covered by health insurance", "stock", 95.0),
    ("qg_kham_thai", "Tỷ lệ phụ nữ đẻ được khám thai từ 4 lần trở lên", "Births with four or more antenatal visits",
     "flow", 90.0),
    ("qg_sinh_co_can_bo", "Tỷ lệ ca đẻ có cán bộ y tế đỡ", "Births attended by health staff", "flow", 98.0),
    ("qg_tang_huyet_ap", "Tỷ lệ người tăng huyết áp được quản lý điều trị",
     "People with hypertension under treatment", "stock", 60.0),
    ("qg_dai_thao_duong", "Tỷ lệ người đái tháo đường được quản lý điều trị",
     "People with diabetes under treatment", "stock", 55.0),
    ("qg_lao", "Tỷ lệ bệnh nhân lao điều trị khỏi", "Tuberculosis patients cured", "flow", 90.0),
    ("qg_nuoc_sach", "Tỷ lệ hộ gia đình dùng nước sạch", "Households using clean water", "stock", 95.0),
    ("qg_kham_suc_khoe", "Tỷ lệ người dân được khám sức khỏe định kỳ", "People with a regular health check",
     "flow", 80.0),
    ("qg_don_thuoc_dt", "Tỷ lệ đơn thuốc điện tử tại trạm y tế", "Electronic prescriptions at commune stations",
     "flow", 100.0),
    ("qg_tram_bac_si", "Tỷ lệ trạm y tế xã có bác sĩ làm việc", "Commune stations with a doctor", "stock", 100.0),
]


@dataclass(frozen=True)
class Sample:
    """A national-shaped subset for tests: these provinces, their first communes, few months."""
    provinces: tuple[str, ...]
    communes_per_province: int
    months: int


def _features(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [f["properties"] for f in json.load(handle)["features"]]


def units_frame(sample: Sample | None = None) -> pd.DataFrame:
    """The country, its provinces and communes (codes as text, names NFC) from geodata/."""
    provinces = sorted(_features(PROVINCES_FILE), key=lambda p: p["code"])
    communes = sorted(_features(COMMUNES_FILE), key=lambda p: p["code"])
    if sample is not None:
        keep = set(sample.provinces)
        provinces = [p for p in provinces if p["code"] in keep]
        picked: dict[str, int] = {}
        chosen = []
        for c in communes:
            if c["province_code"] in keep and picked.get(c["province_code"], 0) < sample.communes_per_province:
                picked[c["province_code"]] = picked.get(c["province_code"], 0) + 1
                chosen.append(c)
        communes = chosen
    rows = [(COUNTRY_CODE, COUNTRY_NAME, "country", None)]
    rows += [(str(p["code"]), nfc(p.get("fullName") or p["name"]), "province", COUNTRY_CODE) for p in provinces]
    rows += [(str(c["code"]), nfc(c["fullName"]), "commune", str(c["province_code"])) for c in communes]
    return pd.DataFrame(rows, columns=["code", "name", "level", "parent_code"])


def indicator_rows() -> list[dict]:
    return [{"code": code, "name_vi": vi, "name_en": en, "short_vi": vi.removeprefix("Tỷ lệ ").capitalize(),
             "time": kind, "higher_is_better": True, "display_unit": "%", "decimals": 1,
             "reported_by": ["commune"], "numerator_vi": "Số người", "numerator_en": "People",
             "denominator_vi": "Tổng số", "denominator_en": "Total", "unit_vi": "người", "unit_en": "people",
             "group": "national", **({"headline": n + 1} if n < HEADLINES else {})}
            for n, (code, vi, en, kind, _target) in enumerate(INDICATORS)]


def targets_frame() -> pd.DataFrame:
    return pd.DataFrame([(code, COUNTRY_CODE, target, "2026-12", "Minh họa / illustrative")
                         for code, _vi, _en, _kind, target in INDICATORS],
                        columns=["indicator", "unit_code", "value", "deadline", "source"])


def _seed(*parts: str) -> int:
    return zlib.crc32("|".join(parts).encode("utf-8"))


def write_values(path: Path, communes: list[str], months: int, progress=None) -> int:
    """Write the values CSV row by row (deterministic): each commune has a population, a
    starting rate and a monthly gain per indicator; a few communes skip a month (missing is
    not 0). Returns the number of rows."""
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["indicator", "unit_code", "period", "numerator", "denominator"])
        for code, *_rest in INDICATORS:
            for commune in communes:
                s = _seed(code, commune)
                population = 800 + s % 24000
                start = 35 + (s >> 8) % 50
                gain = ((s >> 16) % 90) / 100
                skip = (s >> 24) % 97  # ~1 in 97 communes misses one month
                for m in range(months):
                    if m == skip:
                        continue
                    rate = min(100.0, start + gain * m + ((s >> (m % 20)) % 7) - 3)
                    numerator = max(0, int(population * rate / 100))
                    writer.writerow((code, commune, add_months(FIRST_MONTH, m), numerator, population))
                    rows += 1
                if progress is not None:
                    progress.update(rows, rows)
    return rows


def _bar(label: str, total: int | None, stream):
    from .cli.progress_bar import ProgressBar

    return ProgressBar(label, total, stream=stream, min_rows=0)


def load_national(engine, *, sample: Sample | None = None, user: str | None = None, stream=None,
                  progress=None) -> dict[str, int]:
    """Load the national demo: units, indicators and targets, boundaries (one transaction),
    then the values through the importer (another). Returns counts. `stream` receives the
    progress lines (stderr in the CLI); `progress` is the importer's (ImportProgress)."""
    import sys

    from . import boundaries
    from .importer import pipeline

    stream = stream if stream is not None else sys.stderr
    started = time.perf_counter()
    units = units_frame(sample)
    months = sample.months if sample else MONTHS
    counts: dict[str, int] = {}
    def stage(words: str) -> None:  # one line per step, terminal or log alike
        stream.write(f"[{time.perf_counter() - started:6.1f} s] {words}\n")
        stream.flush()

    with store.write_transaction(engine) as conn:
        stage(f"Đơn vị, chỉ tiêu, mục tiêu / units, indicators, targets: {len(units)}")
        store.upsert_indicators(conn, indicator_rows())
        counts["units"] = sum(store.upsert_units(conn, units))
        store.rebuild_hierarchy(conn)
        counts["targets"] = sum(store.upsert_targets(conn, targets_frame()))
        stage(f"Ranh giới tỉnh / province boundaries: {PROVINCES_FILE.name}")
        provinces = boundaries.import_file(conn, PROVINCES_FILE, "province", code_field="code", name_field="fullName",
                                           source=f"geodata/{PROVINCES_FILE.name}", prepare=False)
        stage(f"Ranh giới xã / commune boundaries: {COMMUNES_FILE.name}")
        communes = boundaries.import_file(conn, COMMUNES_FILE, "commune", code_field="code", name_field="fullName",
                                          source=f"geodata/{COMMUNES_FILE.name}", prepare=False)
        counts["boundaries"] = provinces.stored + communes.stored
        stage("Lớp bản đồ theo cấp và đơn vị cha / map layers per level and parent")
        counts["layers"] = len(boundaries.prepare_layers(conn))
        stage(f"Đã lưu / stored: {counts['boundaries']} ranh giới / boundaries, {counts['layers']} lớp / layers")
    commune_codes = units.loc[units["level"] == "commune", "code"].tolist()
    with tempfile.TemporaryDirectory(prefix="national-") as folder:
        path = Path(folder) / "national_values.csv"
        total = len(commune_codes) * months * len(INDICATORS)
        bar = _bar("Tạo số liệu minh họa / writing the illustrative values", total, stream)
        counts["rows"] = write_values(path, commune_codes, months, progress=bar)
        bar.finish()
        report = pipeline.import_files(engine, "values", [path], user=user, progress=progress)
    if report.errors:
        raise RuntimeError("national demo values rejected: " + "; ".join(str(i) for i in report.errors[:5]))
    counts["values"] = counts["rows"]
    counts["seconds"] = int(time.perf_counter() - started)
    log.info("national demo loaded: %s", counts)
    return counts
