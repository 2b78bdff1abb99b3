"""Benchmark: checking and loading a large values file (CSV and .xlsx), SQLite and PostgreSQL.

Builds a province of 5,000 communes, writes 100,000 value rows (5,000 communes x 20 months
of `hssk`) as CSV and as .xlsx, then times through dashboard.importer.import_files:

* a dry run (read + check every row, count what would be added or replaced);
* the first load (every row added) and a second load of the same file (every row replaced).

Prints seconds and rows per second; compare ratios across machines, not absolute times.
Run: python bench/import_speed.py [--rows-per-commune 20] [--pg URL] [--no-xlsx]
"""
from __future__ import annotations

import argparse
import csv
import tempfile
import time
import uuid
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, text

from dashboard import importer, store
from dashboard.database import make_engine, upgrade
from dashboard.periods import add_months

COMMUNES = 5000


def build(engine) -> None:
    units = [("99", "Tỉnh Đo", "province", None)]
    units += [(f"9{z:02d}", f"Khu vực {z}", "district", "99") for z in range(50)]
    units += [(f"{c:05d}", f"Xã {c}", "commune", f"9{c % 50:02d}") for c in range(COMMUNES)]
    with store.write_transaction(engine) as conn:
        store.load_builtin_indicators(conn)
        store.upsert_units(conn, pd.DataFrame(units, columns=["code", "name", "level", "parent_code"]))
        store.rebuild_hierarchy(conn)


def write_files(folder: Path, months: int, xlsx: bool) -> list[Path]:
    rows = [("hssk", f"{c:05d}", add_months("2024-01", m), 500 + m, 1000)
            for m in range(months) for c in range(COMMUNES)]
    header = ["indicator", "unit_code", "period", "numerator", "denominator"]
    out = [folder / "values.csv"]
    with open(out[0], "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    if xlsx:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        ws = book.create_sheet("values")
        ws.append(header)
        for r in rows:
            ws.append(list(r))
        out.append(folder / "values.xlsx")
        book.save(out[1])
    return out


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def run(name: str, engine, files: list[Path]) -> None:
    upgrade(engine)
    build(engine)
    for path in files:
        dry_s, rep = timed(lambda: importer.import_files(engine, "values", [path], user="bench", dry_run=True))
        assert rep.ok, rep.errors[:3]
        first_s, rep1 = timed(lambda: importer.import_files(engine, "values", [path], user="bench"))
        again_s, rep2 = timed(lambda: importer.import_files(engine, "values", [path], user="bench"))
        assert rep1.ok and rep2.ok and rep2.replaced == rep.rows
        n = rep.rows
        print(f"{name:10s} {path.suffix:5s} rows {n:7d}  dry run {dry_s:6.2f} s ({n / dry_s:8.0f} rows/s)  "
              f"first load {first_s:6.2f} s  reload {again_s:6.2f} s  (added {rep1.added}, replaced {rep2.replaced})")
        with engine.begin() as conn:  # the next file starts from an empty values table
            conn.execute(text("DELETE FROM kpi_values"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows-per-commune", type=int, default=20)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-xlsx", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        files = write_files(folder, args.rows_per_commune, not args.no_xlsx)
        print(f"files written in {time.perf_counter() - start:.1f} s: "
              + ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in files))
        sqlite = make_engine(f"sqlite:///{folder / 'bench.db'}")
        run("sqlite", sqlite, files)
        sqlite.dispose()
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg)
        try:
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        except Exception as exc:  # noqa: BLE001
            print(f"postgresql skipped: {exc.__class__.__name__}")
            return
        try:
            pg = make_engine(args.pg, connect_args={"options": f"-csearch_path={schema}"})
            run("postgresql", pg, files)
            pg.dispose()
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
