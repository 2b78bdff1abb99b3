"""Benchmark: roll-up speed on SQLite and PostgreSQL, the covering index, and the cache.

Builds a national-scale synthetic table (3,321 communes x 24 months x 3 indicators, about
240 k values, plus the demo hierarchy shape) in a temporary SQLite file and a throwaway
PostgreSQL schema, then times in one run:

* one indicator x one month over every commune (the map's query), with and without the
  covering index;
* the same through dashboard.figures.figures() cold (cache empty) and warm (cache hit).

Prints medians in milliseconds and ratios; ratios are what to compare across machines.
Run: python bench/queries.py [--pg URL]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text

from dashboard import cache, figures, store
from dashboard.aggregation import rollup
from dashboard.database import make_engine, upgrade
from dashboard.periods import month_range, parse_period

N_COMMUNES, N_ZONES = 3321, 700
MONTHS = month_range("2024-11", "2026-10")
INDICATORS = [
    {"code": "hssk", "name_vi": "HSSK", "time": "stock", "reported_by": ["commune"]},
    {"code": "flowx", "name_vi": "Dòng", "time": "flow", "reported_by": ["commune"]},
    {"code": "stocky", "name_vi": "Tồn", "time": "stock", "reported_by": ["commune"]},
]


def build_frames():
    rng = np.random.default_rng(7)
    units = [("01", "Tỉnh", "province", None)]
    units += [(f"Z{z:04d}", f"Khu vực {z}", "district", "01") for z in range(N_ZONES)]
    units += [(f"{c:05d}", f"Xã {c}", "commune", f"Z{c % N_ZONES:04d}") for c in range(N_COMMUNES)]
    units = pd.DataFrame(units, columns=["code", "name", "level", "parent_code"])
    communes = units[units["level"] == "commune"]["code"].to_numpy()
    grid = pd.MultiIndex.from_product([[i["code"] for i in INDICATORS], communes, MONTHS],
                                      names=["indicator", "entity_code", "period"]).to_frame(index=False)
    den = rng.integers(1_000, 60_000, len(grid)).astype(float)
    grid["denominator"] = den
    grid["numerator"] = np.floor(den * rng.uniform(0.3, 0.99, len(grid)))
    return units, grid


def load(engine, units, values):
    upgrade(engine)
    with store.write_transaction(engine) as conn:
        store.upsert_indicators(conn, INDICATORS)
        store.upsert_units(conn, units)
        store.rebuild_hierarchy(conn)
        load_id = store.record_load(conn, kind="values", source_file="bench", checksum="-")
        store.upsert_values(conn, values, load_id)


def median_ms(fn, repeat=15):
    fn()  # warm the database's own caches
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def bench_engine(label, engine):
    period = parse_period("2026-10")

    def map_query():
        with engine.connect() as conn:
            rollup(conn, "hssk", "stock", period, "commune")

    def quarter_flow():
        with engine.connect() as conn:
            rollup(conn, "flowx", "flow", parse_period("2026-Q3"), "district")

    covered = median_ms(map_query)
    flow = median_ms(quarter_flow)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_kpi_values_covering"))
    uncovered = median_ms(map_query)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("CREATE INDEX ix_kpi_values_covering ON kpi_values (indicator_code, period, "
                              "entity_code) INCLUDE (numerator, denominator)"))
        else:
            conn.execute(text("CREATE INDEX ix_kpi_values_covering ON kpi_values (indicator_code, period, "
                              "entity_code, numerator, denominator)"))

    figures.set_engine(engine)
    cache.clear()

    def cold():
        cache.clear()
        figures.figures("hssk", "2026-10", "commune", None)

    def warm():
        figures.figures("hssk", "2026-10", "commune", None)

    cold_ms = median_ms(cold, repeat=5)
    warm_ms = median_ms(warm)
    figures.set_engine(None)
    print(f"{label:<11} map roll-up {covered:8.1f} ms | without covering index {uncovered:8.1f} ms "
          f"(x{uncovered / covered:.2f}) | zone flow quarter {flow:7.1f} ms")
    print(f"{'':<11} figures() cold {cold_ms:8.1f} ms | cached {warm_ms:6.2f} ms (x{cold_ms / warm_ms:.0f} faster)")
    return covered


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    units, values = build_frames()
    print(f"{len(values):,} values, {N_COMMUNES:,} communes, {len(MONTHS)} months, {len(INDICATORS)} indicators")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        start = time.perf_counter()
        load(engine, units, values)
        print(f"SQLite load {time.perf_counter() - start:.1f} s")
        results["sqlite"] = bench_engine("SQLite", engine)
        engine.dispose()
    try:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = make_engine(args.pg, connect_args={"options": f"-csearch_path={schema}"})
        try:
            start = time.perf_counter()
            load(engine, units, values)
            print(f"PostgreSQL load {time.perf_counter() - start:.1f} s")
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
            results["postgresql"] = bench_engine("PostgreSQL", engine)
        finally:
            engine.dispose()
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    except Exception as exc:  # noqa: BLE001
        print(f"PostgreSQL skipped: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
    if len(results) == 2:
        print(f"PostgreSQL / SQLite map roll-up: x{results['postgresql'] / results['sqlite']:.2f}")


if __name__ == "__main__":
    main()
