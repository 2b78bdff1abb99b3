"""Benchmark: what the map's boundaries cost on first start and per request.

* First start of the demo (SQLite, fresh file) with and without the boundary import
  (communes from geodata/, zones and province built from them), 3 runs each.
* The boundary pipeline alone, step by step (read + match, clean coverage, simplify, zones).
* map_figure for the province-wide commune layer, cold and warm, and the size of the GeoJSON
  each prepared layer (per level and parent) sends to the browser.

Prints seconds and ratios; compare ratios across machines, not absolute times.
Run: python bench/map_boundaries.py
"""
from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from unittest import mock

from dashboard import bootstrap, boundaries, cache, figures, maps
from dashboard.database import make_engine


def first_start(with_boundaries: bool) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process): CPU time is steadier on a busy machine."""
    folder = Path(tempfile.mkdtemp())
    engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
    patch = mock.patch("dashboard.boundaries.load_demo_boundaries", return_value={}) if not with_boundaries \
        else mock.patch.object(boundaries, "LEVELS", boundaries.LEVELS)
    with patch:
        started, cpu = time.perf_counter(), time.process_time()
        bootstrap.prepare_database(engine, load_demo=True)
        elapsed = (time.perf_counter() - started, time.process_time() - cpu)
    engine.dispose()
    return elapsed


def main() -> None:
    first_start(True)  # warm imports (geopandas, pyogrio) so both variants pay the same
    runs = {flag: [first_start(flag) for _ in range(3)] for flag in (False, True)}
    for i, what in enumerate(("wall", "CPU")):
        without = statistics.median(r[i] for r in runs[False])
        with_b = statistics.median(r[i] for r in runs[True])
        print(f"first start, {what:4}: without boundaries {without:.2f} s, with {with_b:.2f} s "
              f"(+{with_b - without:.2f} s, x{with_b / without:.2f})")

    folder = Path(tempfile.mkdtemp())
    engine = make_engine(f"sqlite:///{folder / 'map.db'}")
    bootstrap.prepare_database(engine, load_demo=True)
    figures.set_engine(engine)
    cache.clear()
    started = time.perf_counter()
    maps.map_figure("hssk", "2026-10", "commune", None, "status", "vi")
    cold = time.perf_counter() - started
    warm = statistics.median(_timed(lambda: maps.map_figure("hssk", "2026-10", "commune", None, "status", "vi"))
                             for _ in range(5))
    print(f"map_figure, 114 communes: cold {cold * 1000:.0f} ms, warm {warm * 1000:.0f} ms (x{cold / warm:.1f})")
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(text("SELECT level, parent_code, tolerance, features, bytes FROM boundary_layers "
                                 "ORDER BY level, parent_code")).all()
    for level, parent, tol, n, size in rows:
        print(f"prepared layer {level:9} under {parent or '*':6} ({n:3} features, tolerance {tol:.4f}°): "
              f"{size / 1024:6.1f} KB")


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
