"""How long the target pages take to build on the demo province, cold (empty cache) and warm.

    python bench/targets_render.py [sqlite:///data/bench.db]

Prints seconds and the cold/warm ratio per page; no assertion (speed is not a test).
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dash

from dashboard import cache, figures
from dashboard.bootstrap import prepare_database
from dashboard.database import make_engine


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    engine = make_engine(url)
    prepare_database(engine, load_demo=True)
    figures.set_engine(engine)
    dash.Dash("bench", use_pages=True, pages_folder="")
    from layouts import targets, unit

    pages = [
        ("/targets (zones)", lambda: targets.layout()),
        ("/targets?level=commune", lambda: targets.layout(level="commune")),
        ("/targets?level=facility", lambda: targets.layout(level="facility")),
        ("/targets?period=2025", lambda: targets.layout(period="2025")),
        ("/unit/31 (city)", lambda: unit.layout(code="31")),
        ("/unit/288 (zone)", lambda: unit.layout(code="288")),
        ("/unit/11383 (commune)", lambda: unit.layout(code="11383")),
    ]
    print(f"{'page':28} {'cold s':>8} {'warm s':>8} {'cold/warm':>10}")
    for name, build in pages:
        cache.clear()
        t0 = time.perf_counter()
        build()
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        build()
        warm = time.perf_counter() - t0
        print(f"{name:28} {cold:8.2f} {warm:8.2f} {cold / warm:10.1f}")


if __name__ == "__main__":
    main()
