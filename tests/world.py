"""A tiny hand-made province for aggregation tests, small enough to check by hand."""
from __future__ import annotations

from datetime import date

import pandas as pd

from dashboard import store

UNITS = pd.DataFrame([
    # code, name, level, parent, valid_from, valid_to
    ("01", "Tỉnh Thử", "province", None, None, None),
    ("001", "Khu vực Một", "district", "01", None, None),
    ("002", "Khu vực Hai", "district", "01", None, None),
    ("00004", "Phường Bốn", "commune", "001", None, None),
    ("00005", "Xã Năm", "commune", "001", None, None),
    ("00006", "Xã Sáu", "commune", "002", None, None),
    # A commune that existed only before the 2025 reform (history under an old unit).
    ("00007", "Xã Bảy (cũ)", "commune", "002", None, date(2025, 6, 30)),
    # Its successor, from the reform on.
    ("00008", "Xã Tám", "commune", "002", date(2025, 7, 1), None),
], columns=["code", "name", "level", "parent_code", "valid_from", "valid_to"])

FACILITIES = pd.DataFrame([
    ("BV1", "Bệnh viện Một", "hospital", "00004", 20.9, 106.6),
    ("BV2", "Bệnh viện Hai", "hospital", "00006", 20.8, 106.5),
    ("TYT4", "Trạm Y tế Bốn", "station", "00004", None, None),
    ("TYT5", "Trạm Y tế Năm", "station", "00005", None, None),
    ("TYT6", "Trạm Y tế Sáu", "station", "00006", None, None),
], columns=["code", "name", "type", "unit_code", "lat", "lon"])

INDICATORS = [
    {"code": "stockind", "name_vi": "Chỉ tiêu tồn", "name_en": "Stock indicator", "time": "stock",
     "reported_by": ["commune"], "unit_vi": "người", "gap_vi": "còn {gap} người"},
    {"code": "flowind", "name_vi": "Chỉ tiêu dòng", "name_en": "Flow indicator", "time": "flow",
     "reported_by": ["facility:hospital", "facility:station"], "unit_vi": "đồng"},
]

# indicator, entity, month, numerator, denominator
VALUES = pd.DataFrame([
    ("stockind", "00004", "2025-07", 50, 100), ("stockind", "00004", "2025-08", 60, 100),
    ("stockind", "00004", "2025-09", 70, 100),
    ("stockind", "00005", "2025-07", 10, 200), ("stockind", "00005", "2025-08", 30, 200),
    # 00005 misses 2025-09: the quarter takes its latest month inside it, 2025-08.
    ("stockind", "00006", "2025-07", 900, 1000), ("stockind", "00006", "2025-08", 910, 1000),
    ("stockind", "00006", "2025-09", 920, 1000),
    # 00008 only reports from 2025-09; old 00007 reported before the reform.
    ("stockind", "00008", "2025-09", 5, 50),
    ("stockind", "00007", "2025-05", 40, 60), ("stockind", "00007", "2025-06", 45, 60),
    ("flowind", "BV1", "2025-07", 30, 100), ("flowind", "BV1", "2025-08", 40, 100),
    ("flowind", "BV1", "2025-09", 50, 100),
    ("flowind", "BV2", "2025-07", 1, 10), ("flowind", "BV2", "2025-09", 3, 10),
    ("flowind", "TYT4", "2025-07", 2, 4), ("flowind", "TYT4", "2025-08", 2, 4), ("flowind", "TYT4", "2025-09", 2, 4),
    ("flowind", "TYT6", "2025-08", 0, 5),
    # TYT5 never reports.
], columns=["indicator", "entity_code", "period", "numerator", "denominator"])

TARGETS = pd.DataFrame([
    ("stockind", "01", 80.0, "2025-12", "KH thử 1"),
    ("stockind", "002", 95.0, "2025-12", "KH thử khu vực"),
    ("flowind", "01", 50.0, "2026-06", "KH thử 2"),
], columns=["indicator", "unit_code", "value", "deadline", "source"])


def load_world(engine) -> None:
    with store.write_transaction(engine) as conn:
        store.upsert_indicators(conn, INDICATORS)
        store.upsert_units(conn, UNITS)
        store.upsert_facilities(conn, FACILITIES)
        store.rebuild_hierarchy(conn)
        store.upsert_targets(conn, TARGETS)
        load_id = store.record_load(conn, kind="values", source_file="world.csv", checksum="x")
        added, replaced = store.upsert_values(conn, VALUES, load_id)
        store.finish_load(conn, load_id, added, replaced)
