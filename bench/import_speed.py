"""Benchmark: `dashboard import values` at national scale, time and peak memory.

Builds a country of 34 provinces and 3,321 communes with 12 indicators reported by
communes, writes 60 months of values for every commune and indicator (3,321 × 60 × 12 =
2,391,120 rows, about 90 MB of CSV), then runs the real command, `dashboard import values`,
in a child process and reads the child's wall time and peak resident memory (``wait4``):

* a dry run (read, check, stage and count every row; nothing written);
* the first load (every row added);
* a second load of the same file (every row replaced, and kept in the history).

On SQLite and on PostgreSQL (a throwaway schema). Goals (issue 10): ≤ 10 min and ≤ 1 GB
peak memory per load. On a shared machine compare ratios, not absolute times.

Run: python bench/import_speed.py [--communes 3321] [--months 60] [--indicators 12]
                                 [--pg URL | --no-pg] [--xlsx-rows 100000]
"""
from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dashboard import store
from dashboard.database import make_engine, upgrade
from dashboard.periods import add_months

ROOT = Path(__file__).resolve().parent.parent
PROVINCES = 34
FIRST_MONTH = "2021-01"


def indicators(n: int) -> list[dict]:
    return [{"code": f"nat{i:02d}", "name_vi": f"Chỉ tiêu quốc gia {i}", "name_en": f"National indicator {i}",
             "time": "stock" if i % 2 else "flow", "higher_is_better": True, "reported_by": ["commune"],
             "numerator_vi": "Số người", "numerator_en": "People"} for i in range(n)]


def build(engine, communes: int, n_indicators: int) -> None:
    units = [(f"P{p:02d}", f"Tỉnh {p}", "province", None) for p in range(PROVINCES)]
    units += [(f"{c:05d}", f"Xã {c}", "commune", f"P{c % PROVINCES:02d}") for c in range(communes)]
    with store.write_transaction(engine) as conn:
        store.upsert_indicators(conn, indicators(n_indicators))
        store.upsert_units(conn, pd.DataFrame(units, columns=["code", "name", "level", "parent_code"]))
        store.rebuild_hierarchy(conn)


def write_csv(path: Path, communes: int, months: int, n_indicators: int) -> int:
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["indicator", "unit_code", "period", "numerator", "denominator"])
        for i in range(n_indicators):
            code = f"nat{i:02d}"
            for m in range(months):
                period = add_months(FIRST_MONTH, m)
                writer.writerows((code, f"{c:05d}", period, 500 + (c + m + i) % 400, 1000)
                                 for c in range(communes))
                rows += communes
    return rows


def write_xlsx(path: Path, source: Path, rows: int) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet("values")
    with open(source, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        ws.append(next(reader))
        for n, r in enumerate(reader):
            if n >= rows:
                break
            ws.append([r[0], r[1], r[2], int(r[3]), int(r[4])])
    book.save(path)


def measure(url: str, path: Path, *extra: str) -> tuple[float, float, str]:
    """Run the command in a child whose own peak RSS is read with wait4."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen([sys.executable, "-m", "dashboard", "--database", url, "import", "values",
                                  str(path), "--user", "bench", *extra], stdout=out, stderr=err, env=env, cwd=ROOT)
        _pid, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"import failed ({code}):\n{stderr[-3000:]}")
    lines = [line for line in stderr.splitlines() if "dòng/rows" in line]
    summary = (stdout.strip().splitlines() or [""])[-1]
    return seconds, usage.ru_maxrss / 1024, summary + "".join(f"\n      {line}" for line in lines[-3:])


def report(name: str, step: str, seconds: float, rss_mb: float, rows: int, detail: str) -> None:
    verdict = "ok" if seconds <= 600 and rss_mb <= 1024 else "GOAL MISSED"
    print(f"{name:10s} {step:11s} {rows:>9,d} rows  {seconds:7.1f} s  {rows / seconds:9,.0f} rows/s  "
          f"peak RSS {rss_mb:6.0f} MB  [{verdict}]")
    if detail:
        print(f"      {detail}")
    sys.stdout.flush()


def run(name: str, url: str, engine, path: Path, rows: int, args) -> None:
    upgrade(engine)
    build(engine, args.communes, args.indicators)
    engine.dispose()
    for step, extra in (("dry run", ("--dry-run",)), ("first load", ()), ("reload", ())):
        seconds, rss, detail = measure(url, path, *extra)
        report(name, step, seconds, rss, rows, detail)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT COUNT(*) FROM kpi_values")).scalar_one()
        kept = conn.execute(text("SELECT COUNT(*) FROM kpi_value_history")).scalar_one()
    assert stored == rows and kept == rows, (stored, kept)
    print(f"      stored {stored:,d} rows, history keeps {kept:,d} replaced rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communes", type=int, default=3321)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--indicators", type=int, default=12)
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--xlsx-rows", type=int, default=0,
                        help="also time an .xlsx of this many rows (openpyxl reads ~50k rows/s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        path = folder / "values.csv"
        rows = write_csv(path, args.communes, args.months, args.indicators)
        print(f"{path.name}: {rows:,d} rows, {path.stat().st_size / 1e6:.0f} MB, written in "
              f"{time.perf_counter() - start:.0f} s")
        if not args.no_sqlite:
            url = f"sqlite:///{folder / 'bench.db'}"
            run("sqlite", url, make_engine(url), path, rows, args)
        if args.xlsx_rows:
            xlsx = folder / "values.xlsx"
            write_xlsx(xlsx, path, args.xlsx_rows)
            url = f"sqlite:///{folder / 'xlsx.db'}"
            engine = make_engine(url)
            upgrade(engine)
            build(engine, args.communes, args.indicators)
            engine.dispose()
            seconds, rss, detail = measure(url, xlsx)
            report("sqlite", "xlsx load", seconds, rss, args.xlsx_rows, detail)
        if args.no_pg:
            return
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg)
        try:
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        except Exception as exc:  # noqa: BLE001
            print(f"postgresql skipped: {exc.__class__.__name__}")
            return
        try:
            url = make_url(args.pg).update_query_dict({"options": f"-csearch_path={schema}"})
            url_text = url.render_as_string(hide_password=False)
            run("postgresql", url_text, make_engine(url_text), path, rows, args)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
